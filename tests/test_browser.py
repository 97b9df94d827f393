"""The built book, tested in a real browser the way a reader uses it.

Headless Chromium (Debian's ``chromium``, driven by Playwright) loads every page of
``_build/html`` served on 127.0.0.1 and checks: no console errors and no failed requests for the
book's own files; math rendered by the book's own MathJax; every image loaded; notebook pages carry a
Colab button with the right URL; search finds a chapter's words; dark mode toggles. A screenshot of
each chapter's first page is saved under ``artifacts/screenshots/`` for a person to look at.

``make test`` builds the book first; run ``make book`` before running this file on its own.
"""

from __future__ import annotations

import functools
import http.server
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from i18n import EDITION_DIR
from nbtools import ROOT, colab_url, toc_files
from test_diagrams import EXPECTED as DIAGRAMS  # page -> how many Graphviz diagrams it has

from prompt_lab.server import serve_on_thread

HTML = ROOT / "_build" / "html"
SHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SKIP = {"genindex.html", "search.html", "index.html"}  # index.html only redirects to intro.html
EDITION = EDITION_DIR  # the Chinese edition's folder (scripts/i18n.py build)
PAGES = (
    sorted(
        p.relative_to(HTML).as_posix()
        for p in HTML.rglob("*.html")
        if not any(part.startswith(("_", "mathjax")) for part in p.relative_to(HTML).parts)
        and p.relative_to(HTML).parts[0] != EDITION
        and p.name not in SKIP
    )
    if HTML.exists()
    else []
)

pytestmark = pytest.mark.skipif(
    not (HTML / "intro.html").exists() or not Path(CHROMIUM).exists(),
    reason="needs the built book (make book) and chromium (make test installs both)",
)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with serve_on_thread(functools.partial(QuietHandler, directory=str(HTML))) as root:
        yield root


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, base_url):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    # The book links to outside pages (Colab, GitHub, fonts of extensions); none may be needed to
    # render it, so requests that leave 127.0.0.1 are answered with an empty 204 right here.
    context.route(
        re.compile(r"^(?!http://127\.0\.0\.1)"),
        lambda route: route.fulfill(status=204, body=""),
    )
    page = context.new_page()
    page.problems = []  # type: ignore[attr-defined]
    page.on("console", lambda m: m.type == "error" and page.problems.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: page.problems.append(f"page error: {e}"))
    page.on(
        "requestfailed",
        lambda r: (
            r.url.startswith(base_url) and page.problems.append(f"failed: {r.url} {r.failure}")
        ),
    )
    page.on(
        "response",
        lambda r: (
            r.url.startswith(base_url)
            and r.status >= 400
            and page.problems.append(f"{r.status}: {r.url}")
        ),
    )
    yield page
    context.close()


def test_every_toc_page_was_built() -> None:
    for entry in toc_files():
        assert (HTML / f"{entry}.html").exists(), f"{entry} is in _toc.yml but was not built"


@pytest.mark.parametrize("html_page", PAGES)
def test_page(page, base_url, html_page) -> None:
    check_page(page, base_url, html_page)
    entry = html_page.removesuffix(".html")
    if (
        entry in toc_files()
    ):  # each chapter's page, as a reader first sees it, for a person to look at
        SHOTS.mkdir(parents=True, exist_ok=True)
        out = SHOTS / (entry.replace("/", "__") + ".png")
        page.evaluate("() => window.scrollTo(0, 0)")
        page.screenshot(path=str(out))
        assert out.stat().st_size > 10_000, "suspiciously small screenshot (blank page?)"


@pytest.mark.parametrize("html_page", PAGES)
def test_chinese_page(page, base_url, html_page) -> None:
    """The Chinese edition's page: the same checks, and its Colab button opens the same notebook."""
    check_page(page, base_url, html_page, edition=f"{EDITION}/")
    assert page.evaluate("() => document.documentElement.lang") == "zh-CN"


def check_page(page, base_url: str, html_page: str, edition: str = "") -> None:
    """No errors, math typeset, images loaded, the right Colab button, for ``edition + html_page``."""
    page.goto(f"{base_url}/{edition}{html_page}", wait_until="networkidle")
    # Math: pages with math load the book's own MathJax, which typesets every formula.
    if page.locator(".math").count():
        page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
        page.evaluate("() => MathJax.startup.promise")
        assert page.locator("mjx-container").count() >= page.locator(".math").count()
        raw = page.locator(".math").evaluate_all(
            "els => els.filter(e => /\\\\\\(|\\\\\\[|\\$\\$/.test(e.innerText)).length"
        )
        assert raw == 0, "raw TeX left on the page: MathJax did not typeset it"
    # Images: every one must have loaded.
    broken = page.evaluate(
        "() => Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)"
    )
    assert broken == [], f"images that did not load: {broken}"
    # Notebook pages: the Colab launch button points at this notebook on the configured branch;
    # pages listed as not for Colab (_config.yml, no_launch_buttons) have none.
    source = ROOT / Path(html_page).with_suffix(".ipynb")
    if source.exists():
        hrefs = page.locator("a[href^='https://colab.research.google.com/']").evaluate_all(
            "els => els.map(e => e.href)"
        )
        config = yaml.safe_load((ROOT / "_config.yml").read_text())
        not_for_colab = (
            Path(html_page).with_suffix("").as_posix()
            in config["sphinx"]["config"]["no_launch_buttons"]
        )
        assert hrefs == ([] if not_for_colab else [colab_url(html_page)]), hrefs
    assert page.problems == [], "\n".join(page.problems)


def test_search_finds_a_chapter(page, base_url) -> None:
    page.goto(f"{base_url}/search.html?q=backpropagation", wait_until="networkidle")
    page.wait_for_selector("#search-results ul.search li", timeout=20_000)
    hits = page.locator("#search-results ul.search li a").evaluate_all(
        "els => els.map(e => e.href)"
    )
    assert any("backprop" in h for h in hits), hits
    assert page.problems == [], "\n".join(page.problems)


def test_search_finds_a_chapter_in_chinese(page, base_url) -> None:
    page.goto(f"{base_url}/{EDITION}/search.html?q=反向传播", wait_until="networkidle")
    page.wait_for_selector("#search-results ul.search li", timeout=20_000)
    hits = page.locator("#search-results ul.search li a").evaluate_all(
        "els => els.map(e => e.href)"
    )
    assert any(f"/{EDITION}/chapters/backprop/" in h for h in hits), hits
    assert page.problems == [], "\n".join(page.problems)


def test_chinese_text_is_drawn_with_a_cjk_font(page, base_url) -> None:
    """The heading's own font draws Chinese characters as distinct glyphs. Without a CJK font,
    Chromium draws every character it cannot render as the same box, as it does a
    private-use character that no font has."""
    page.goto(f"{base_url}/{EDITION}/chapters/backprop/index.html", wait_until="networkidle")
    heading = page.locator("h1").first
    assert re.search(r"[\u4e00-\u9fff]", heading.inner_text())
    family = heading.evaluate("h => getComputedStyle(h).fontFamily")
    glyphs = page.evaluate(
        """family => ['中', '国', '\\uE000'].map(ch => {
            const canvas = document.createElement('canvas');
            canvas.width = canvas.height = 64;
            const g = canvas.getContext('2d');
            g.font = `48px ${family}`;
            g.fillText(ch, 4, 52);
            return g.getImageData(0, 0, 64, 64).data.join(',');
        })""",
        family,
    )
    zhong, guo, missing = glyphs
    assert zhong != guo and zhong != missing, f"no CJK font draws {family}"


def test_the_language_links_lead_to_the_same_page(page, base_url) -> None:
    page.goto(f"{base_url}/chapters/mnist/cnn.html", wait_until="networkidle")
    page.locator("p.language-switch a").click()
    page.wait_for_load_state("networkidle")
    assert page.url == f"{base_url}/{EDITION}/chapters/mnist/cnn.html"
    page.locator("p.language-switch a").click()
    page.wait_for_load_state("networkidle")
    assert page.url == f"{base_url}/chapters/mnist/cnn.html"
    assert page.problems == [], "\n".join(page.problems)


@pytest.mark.parametrize("edition", ["", f"{EDITION}/"])
def test_an_exercise_solution_opens(page, base_url, edition) -> None:
    page.goto(f"{base_url}/{edition}chapters/backprop/index.html", wait_until="networkidle")
    solution = page.locator(".solution.dropdown").first  # sphinx-togglebutton folds it
    body = solution.locator("section").first
    assert not body.is_visible()
    solution.locator("button.toggle-button").click()
    body.wait_for(state="visible", timeout=5_000)
    assert page.problems == [], "\n".join(page.problems)


def test_dark_mode_toggles(page, base_url) -> None:
    page.goto(f"{base_url}/intro.html", wait_until="networkidle")
    themes = []
    for _ in range(3):
        page.locator("button.theme-switch-button").first.click()
        themes.append(page.evaluate("() => document.documentElement.dataset.theme"))
    assert "dark" in themes and "light" in themes, themes
    page.evaluate("() => { document.documentElement.dataset.theme = 'dark'; }")
    dark_bg = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    page.evaluate("() => { document.documentElement.dataset.theme = 'light'; }")
    light_bg = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    assert dark_bg != light_bg


def test_tiny_gpt_pages_show_the_library_code_and_the_poems(page, base_url) -> None:
    # The part's page pulls attention's code from tiny_gpt/attention.py (literalinclude), so the
    # functions must be there as code; the notebooks' Chinese text and glued numbers must render.
    page.goto(f"{base_url}/chapters/tiny_gpt/index.html", wait_until="networkidle")
    code = "\n".join(page.locator("div.highlight pre").all_inner_texts())
    for name in ("def attention(", "def attention_backward(", "def causal_mask("):
        assert name in code, f"{name} missing from the page's code blocks"
    page.goto(f"{base_url}/chapters/tiny_gpt/char_gpt.html", wait_until="networkidle")
    text = page.locator("main").inner_text()
    assert "五言绝句" in text and "白日依山盡" in text
    assert "{glue" not in text, "a glued number was not pasted"
    # the CJK font is installed (make browser): a Chinese character is as wide as it is tall
    box = page.evaluate(
        "() => { const s = document.createElement('span'); s.textContent = '詩';"
        " s.style.fontSize = '40px'; document.body.appendChild(s);"
        " const r = s.getBoundingClientRect(); s.remove(); return [r.width, r.height]; }"
    )
    assert box[0] > 30, f"the Chinese character has no glyph: {box}"
    assert page.problems == [], "\n".join(page.problems)


@pytest.mark.parametrize(("entry", "count"), DIAGRAMS.items())
def test_diagrams_render_as_labelled_svg(page, base_url, entry, count) -> None:
    # The Graphviz diagrams (sphinx.ext.graphviz, SVG in an <object>): each loads, has its text,
    # fits the column, keeps its caption, and is named for a screen reader by its alt text
    # (_ext/graphviz_a11y.py). tests/test_diagrams.py checks their sources and the built HTML.
    page.goto(f"{base_url}/{entry}.html", wait_until="networkidle")
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll('object.graphviz')).every("
        "o => o.contentDocument && o.contentDocument.querySelector('svg text'))",
        timeout=20_000,
    )
    diagrams = page.locator("object.graphviz").evaluate_all(
        """els => els.map(o => {
            o.scrollIntoView();
            const box = o.getBoundingClientRect();
            const figure = o.closest('figure');
            const caption = figure && figure.querySelector('figcaption');
            return {
                role: o.getAttribute('role'),
                label: o.getAttribute('aria-label') || '',
                visible: o.checkVisibility(),
                width: box.width,
                height: box.height,
                column: o.closest('article').getBoundingClientRect().width,
                text: o.contentDocument.querySelector('svg').textContent.trim().length,
                caption: caption ? caption.innerText.trim() : '',
            };
        })"""
    )
    assert len(diagrams) >= count, diagrams
    for d in diagrams:
        assert d["role"] == "img" and len(d["label"]) >= 80, d
        assert d["visible"] and d["width"] > 150 and d["height"] > 100, d
        assert d["width"] <= d["column"] + 1, f"wider than the text column: {d}"
        assert d["text"] > 20 and d["caption"], d
    assert page.problems == [], "\n".join(page.problems)
