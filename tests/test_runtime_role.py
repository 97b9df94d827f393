"""The {runtime} role (_ext/runtime_role.py): measured run times in words, and targets resolved
like {doc}."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "_ext"))

from runtime_role import RUNTIMES, describe, resolve  # noqa: E402

RUNTIME_ROLE = re.compile(r"\{runtime\}`([^`]+)`")
# Pages that open with the "In this chapter" box. Being re-executed by others while the openers were
# written; they get theirs next, and then leave this set.
OPENER_PENDING: set[str] = set()
# Reference pages: looked up, not read in order, so they have no opener.
NO_OPENER = {
    "chapters/references/bibliography",
    "chapters/references/glossary",
    "chapters/references/resources",
}


def toc_chapters() -> list[tuple[str, list[str]]]:
    """Every page of _toc.yml, in order, each with the pages of its ``sections``."""
    found: list[tuple[str, list[str]]] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key in ("root", "file"):
                if key in node:
                    sections = node.get("sections") or []
                    found.append(
                        (str(node[key]), [str(s["file"]) for s in sections if "file" in s])
                    )
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(yaml.safe_load((ROOT / "_toc.yml").read_text()))
    return found


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (0.0, "under a minute"),
        (59.9, "under a minute"),
        (60.0, "about 1 minute"),
        (89.0, "about 1 minute"),
        (91.0, "about 2 minutes"),
        (491.3, "about 8 minutes"),
        (5340.0, "about 89 minutes"),
        (5400.0, "about 1 h 30 min"),
        (7290.0, "about 2 h 02 min"),
    ],
)
def test_times_in_words(seconds: float, words: str) -> None:
    assert describe(seconds) == words


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (59.9, "不到 1 分钟"),
        (60.0, "约 1 分钟"),
        (491.3, "约 8 分钟"),
        (5340.0, "约 89 分钟"),
        (7290.0, "约 2 小时 2 分钟"),
    ],
)
def test_times_in_words_in_the_chinese_edition(seconds: float, words: str) -> None:
    assert describe(seconds, "zh_CN") == words


def test_a_negative_time_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        describe(-1.0)


@pytest.mark.parametrize(
    ("page", "target", "notebook"),
    [
        ("chapters/mnist/index", "cnn", "chapters/mnist/cnn.ipynb"),
        ("chapters/mnist/index", "cnn.ipynb", "chapters/mnist/cnn.ipynb"),
        ("chapters/mnist/cnn", "../tiny_gpt/char_gpt", "chapters/tiny_gpt/char_gpt.ipynb"),
        ("intro", "chapters/mnist/cnn", "chapters/mnist/cnn.ipynb"),
        (
            "chapters/faq/index",
            "/chapters/roadmap/compute_budget",
            "chapters/roadmap/compute_budget.ipynb",
        ),
    ],
)
def test_targets_resolve_like_doc(page: str, target: str, notebook: str) -> None:
    assert resolve(page, target) == notebook


def test_every_runtime_target_in_the_book_is_measured() -> None:
    """Each {runtime} on a page names a notebook that runtimes.json has a time for, and every
    notebook of the book (but the pages still to be given an opener) states its own run time."""
    measured = json.loads((ROOT / RUNTIMES).read_text())
    named: dict[str, set[str]] = {}  # page -> the notebooks its {runtime} roles name
    for page in [
        *ROOT.glob("chapters/*/*.md"),
        *ROOT.glob("chapters/*/*.ipynb"),
        ROOT / "intro.md",
    ]:
        text = page.read_text()
        docname = page.relative_to(ROOT).with_suffix("").as_posix()
        for target in RUNTIME_ROLE.findall(text):
            notebook = resolve(docname, target)
            assert notebook in measured, f"{page.name}: {{runtime}}`{target}`"
            named.setdefault(docname, set()).add(notebook)
    for docname, _ in toc_chapters():
        if (ROOT / f"{docname}.ipynb").is_file() and docname not in OPENER_PENDING:
            assert f"{docname}.ipynb" in named.get(docname, set()), (
                f"{docname}.ipynb does not state its own run time with {{runtime}}"
            )


# ------------------------------------------------------------------------------ the page openers

OPENER = re.compile(
    r"^:::\{admonition\} In this (?:book|chapter|notebook)[ \t]*\n:class: tip[ \t]*\n(.*?)^:::[ \t]*$",
    re.MULTILINE | re.DOTALL,
)
OPENER_PAGES = [
    (page, sections) for page, sections in toc_chapters() if page not in OPENER_PENDING | NO_OPENER
]


def first_block(page: str) -> str:
    """A notebook's first markdown cell; a Markdown page's text before its first ``##`` heading."""
    if (ROOT / f"{page}.ipynb").is_file():
        nb = json.loads((ROOT / f"{page}.ipynb").read_text(encoding="utf-8"))
        first = nb["cells"][0]
        assert first["cell_type"] == "markdown", f"{page}: the first cell is not markdown"
        return "".join(first["source"])
    text = (ROOT / f"{page}.md").read_text(encoding="utf-8")
    return re.split(r"^## ", text, maxsplit=1, flags=re.MULTILINE)[0]


def test_the_opener_check_sees_every_page() -> None:
    pages = [page for page, _ in OPENER_PAGES]
    assert "intro" in pages and "chapters/mnist/cnn" in pages and "chapters/mnist/index" in pages
    assert len(pages) == len(toc_chapters()) - len(OPENER_PENDING | NO_OPENER)


@pytest.mark.parametrize(("page", "sections"), OPENER_PAGES, ids=[p for p, _ in OPENER_PAGES])
def test_every_page_opens_with_what_it_teaches_needs_and_takes(
    page: str, sections: list[str]
) -> None:
    """Every page opens the same way (#26): right after its title and first paragraph, a tip box
    "In this book/chapter/notebook" with what the reader will learn (three to five items), what
    they need first, and how long the page's notebooks run, from ``{runtime}`` (never typed): a
    notebook its own, a chapter's index page each notebook of the chapter in _toc.yml; a page with no
    notebook says it has no code."""
    block = first_block(page)
    assert block.startswith("# "), f"{page}: the page must start with its title"
    boxes = OPENER.findall(block)
    assert len(boxes) == 1, (
        f"{page}: open with one ':::{{admonition}} In this chapter' box (':class: tip') in the "
        "first markdown block, after the title and the first paragraph"
    )
    box = boxes[0]
    assert block.index(":::{admonition}") > block.index("\n\n"), (
        f"{page}: the box comes after the first paragraph"
    )

    learn = re.search(r"\*\*You will learn\*\*(.*?)\*\*You need first\*\*", box, re.DOTALL)
    assert learn, f"{page}: '**You will learn**' (a list), then '**You need first**'"
    items = re.findall(r"^- \S", learn.group(1), re.MULTILINE)
    assert 3 <= len(items) <= 5, f"{page}: {len(items)} things to learn; list three to five"
    need = box.split("**You need first**", 1)[1].split("**Run time**", 1)[0]
    assert need.strip(": \n"), f"{page}: say what the reader needs first"
    assert "**Run time**" in box, f"{page}: say how long the page's notebooks run"

    notebooks = [f"{p}.ipynb" for p in (page, *sections) if (ROOT / f"{p}.ipynb").is_file()]
    named = [resolve(page, target) for target in RUNTIME_ROLE.findall(box)]
    if notebooks:
        assert sorted(named) == sorted(notebooks), (
            f"{page}: one {{runtime}} per notebook ({notebooks}), got {named}"
        )
        assert "GPU" in box, (
            f"{page}: say whether a GPU time was measured ('not yet timed on a GPU')"
        )
    else:
        assert not named and "no code" in box, (
            f"{page}: a page without notebooks says it has no code"
        )

    # Numbers in openers come from measurement ({runtime}) or are names of pages ({doc}); a number
    # typed in a notebook's prose would also need an entry in its audit file (tests/test_claims.py).
    prose = re.sub(r"\{(?:runtime|doc)\}`[^`]*`", "", box)
    typed = re.findall(r".{0,20}\d.{0,20}", prose)
    assert not typed, f"{page}: type no digits in the opener (write 'three', not '3'): {typed}"
