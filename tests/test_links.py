"""Links in the built book: every internal link and anchor resolves; external links are listed.

Sphinx's ``-n`` (nitpicky) build already fails on unresolved cross-references; this checks the HTML
that readers click, anchors included. External links cannot be fetched here (no internet), so they
are written to ``artifacts/external_links.txt`` for a person or an online job to check, never failed.
"""

from __future__ import annotations

from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from nbtools import ROOT

HTML = ROOT / "_build" / "html"
ARTIFACTS = ROOT / "artifacts"

pytestmark = pytest.mark.skipif(
    not (HTML / "intro.html").exists(), reason="needs the built book (make book)"
)


class LinkParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for key in ("id", "name"):
            if values.get(key):
                self.ids.add(values[key])  # type: ignore[arg-type]
        if tag == "a" and values.get("href"):
            self.links.append(values["href"])  # type: ignore[arg-type]


def parse_site() -> dict[Path, LinkParser]:
    pages = {}
    for path in HTML.rglob("*.html"):
        if path.relative_to(HTML).parts[0] in {"_static", "mathjax", "_sources"}:
            continue
        parser = LinkParser()
        parser.feed(path.read_text(encoding="utf-8"))
        pages[path.resolve()] = parser
    return pages


def test_internal_links_and_anchors_resolve() -> None:
    pages = parse_site()
    broken: list[str] = []
    external: dict[str, set[str]] = defaultdict(set)
    for page, parsed in pages.items():
        for href in parsed.links:
            parts = urlsplit(href)
            if parts.scheme in ("http", "https"):
                external[href].add(page.relative_to(HTML).as_posix())
                continue
            if parts.scheme or href.startswith("#") and not parts.fragment:
                continue  # mailto:, javascript:, bare "#"
            target = page if not parts.path else (page.parent / unquote(parts.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            where = f"{page.relative_to(HTML)} -> {href}"
            if not target.exists():
                broken.append(f"{where}: no such file")
                continue
            if parts.fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else LinkParser().ids
                if unquote(parts.fragment) not in ids:
                    broken.append(f"{where}: no anchor #{parts.fragment}")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "external_links.txt").write_text(
        "".join(f"{url}\t{', '.join(sorted(on))}\n" for url, on in sorted(external.items()))
    )
    assert not broken, "broken internal links:\n" + "\n".join(sorted(broken))
    assert len(pages) > 10
