"""The book's diagrams: Graphviz source in the pages, drawn as SVG by the book's own build.

Fast, no browser. From the sources: every chapter page that should have diagrams has them, each
``{graphviz}`` block has a name, alt text and a caption, a sentence of its page refers to it, its DOT
draws without a warning and keeps to the book's one font and small palette. Two diagrams carry
numbers, and those are checked too: the convolution's feature map is recomputed from its image and
filter, and every number of the backpropagation chapter's worked example (text and diagrams) must be
one that the last cell of ``gradients_checked.ipynb`` recomputes with ``mnist_lib.nn`` and asserts.
From the built book (``make book``): each diagram is a figure with its caption, an SVG that exists
and has text, and its alt text as the accessible name (``_ext/graphviz_a11y.py``).
``tests/test_browser.py`` checks in Chromium that they render.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import nbformat
import numpy as np
import pytest
from nbtools import ROOT

HTML = ROOT / "_build" / "html"
# page -> how many diagrams it has (at least)
EXPECTED = {
    "chapters/backprop/index": 2,
    "chapters/mnist/index": 1,
    "chapters/tiny_gpt/index": 2,
    "chapters/prompting/index": 1,
    "chapters/roadmap/index": 1,
}
FONT = "Helvetica,Arial,sans-serif"
PALETTE = {  # text, lines, fills, forward (blue), backward (orange), highlight (amber), ink (slate)
    "white", "#1a202c", "#4a5568", "#eef2f7", "#1f5fa8", "#c2410c", "#fef3c7", "#f59e0b", "#94a3b8",
}  # fmt: skip
WORKED_EXAMPLE_LABEL = "(backprop-worked-example)="
GRADIENTS_NOTEBOOK = ROOT / "chapters" / "backprop" / "gradients_checked.ipynb"
BLOCK = re.compile(r"^```\{graphviz\}[ \t]*\n(.*?)^```[ \t]*$", re.S | re.M)
OPTION = re.compile(r"^:(\w+):[ \t]*(.*)$")


def graphviz_blocks(page: str) -> list[dict[str, str]]:
    """The ``{graphviz}`` blocks of a page: their options and their DOT source (``dot``)."""
    blocks = []
    for match in BLOCK.finditer((ROOT / f"{page}.md").read_text(encoding="utf-8")):
        options, lines = {}, match.group(1).splitlines()
        while lines and (option := OPTION.match(lines[0])):
            options[option.group(1)] = option.group(2).strip()
            lines.pop(0)
        blocks.append({**options, "dot": "\n".join(lines).strip()})
    return blocks


ALL_BLOCKS = [(page, block) for page in EXPECTED for block in graphviz_blocks(page)]
BLOCK_IDS = [f"{page}:{block.get('name', '?')}" for page, block in ALL_BLOCKS]


def test_every_page_has_its_diagrams() -> None:
    counts = {page: len(graphviz_blocks(page)) for page in EXPECTED}
    for page, expected in EXPECTED.items():
        assert counts[page] >= expected, f"{page} has {counts[page]} diagrams, expected {expected}"
    assert sum(counts.values()) >= 7


@pytest.mark.parametrize(("page", "block"), ALL_BLOCKS, ids=BLOCK_IDS)
def test_each_diagram_has_a_name_alt_text_a_caption_and_a_reference(
    page: str, block: dict[str, str]
) -> None:
    assert block.get("name", "").startswith("fig-"), "give it :name: fig-..."
    assert len(block.get("alt", "")) >= 80, (
        "alt text must describe the diagram to a reader who cannot see it"
    )
    assert len(block.get("caption", "")) >= 20, "a caption says what the diagram shows"
    source = (ROOT / f"{page}.md").read_text(encoding="utf-8")
    assert f"{{numref}}`{block['name']}`" in source, "one sentence of the page must refer to it"


@pytest.mark.parametrize(("page", "block"), ALL_BLOCKS, ids=BLOCK_IDS)
def test_each_diagram_keeps_to_the_style(page: str, block: dict[str, str]) -> None:
    dot = block["dot"]
    fonts = set(re.findall(r'fontname="([^"]*)"', dot))
    assert fonts == {FONT}, f"one font for every diagram: {fonts}"
    colours = {
        c.lower() for c in re.findall(r'(?:color|bgcolor|fillcolor|fontcolor)="([^"]*)"', dot, re.I)
    }
    assert colours <= PALETTE, f"colours outside the palette: {sorted(colours - PALETTE)}"


@pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz (make graphviz)")
@pytest.mark.parametrize(("page", "block"), ALL_BLOCKS, ids=BLOCK_IDS)
def test_each_diagram_draws_without_warnings(page: str, block: dict[str, str]) -> None:
    result = subprocess.run(
        ["dot", "-Tsvg"], input=block["dot"].encode(), capture_output=True, check=False
    )
    assert result.returncode == 0 and not result.stderr, result.stderr.decode()
    svg = ET.fromstring(result.stdout)
    assert float(svg.get("width", "0pt").removesuffix("pt")) <= 700, "too wide for the page"
    for text in (t for t in svg.iter() if t.tag.endswith("text")):
        # A line of several styles is drawn as one <text> per piece, each placed by Graphviz;
        # a browser drops a plain space at either end of one, gluing the words (use &#160;).
        if text.get("text-anchor") == "start" and text.text and text.text != text.text.strip(" "):
            pytest.fail(f"a space at the edge of a styled piece of text: {text.text!r}")
        if text.get("baseline-shift"):  # <sub>, <sup>: smaller than the text, or it overlaps
            assert float(text.get("font-size", "14")) < 11, f"{text.text!r}: give it point-size=9"


# ------------------------------------------------------------------------------ numbers in diagrams


def table(dot: str, node: str) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """The numbers of an HTML-like table label (its header row left out), and the cells shaded
    amber (``#fef3c7`` or ``#f59e0b``), as (row, column)."""
    label = re.search(rf"^\s*{node} \[label=<(.*?)</TABLE>>\];", dot, re.S | re.M)
    assert label, f"no table node {node!r}"
    rows, amber = [], []
    for tr in re.findall(r"<TR>(.*?)</TR>", label.group(1), re.S):
        cells = re.findall(r"<TD([^>]*)>(.*?)</TD>", tr)
        if len(cells) == 1 and "COLSPAN" in cells[0][0]:
            continue  # the title row
        for j, (attributes, _) in enumerate(cells):
            if re.search(r'BGCOLOR="#(fef3c7|f59e0b)"', attributes, re.I):
                amber.append((len(rows), j))
        rows.append([int(re.sub(r"<[^>]+>", "", text).replace("−", "-")) for _, text in cells])
    return np.array(rows), amber


def test_the_convolution_diagram_computes_what_it_shows() -> None:
    (block,) = [
        b for b in graphviz_blocks("chapters/mnist/index") if b["name"] == "fig-mnist-convolution"
    ]
    image, window = table(block["dot"], "image")
    kernel, _ = table(block["dot"], "filter")
    feature_map, cell = table(block["dot"], "fmap")
    padded = np.pad(image, 1)  # padding="same": zeros around the border
    expected = np.array(
        [[(padded[i : i + 3, j : j + 3] * kernel).sum() for j in range(6)] for i in range(6)]
    )
    np.testing.assert_array_equal(feature_map, expected)  # cross-correlation, as Keras' Conv2D
    (r, c) = cell[0]
    assert len(cell) == 1 and sorted(window) == [
        (r + i, c + j) for i in (-1, 0, 1) for j in (-1, 0, 1)
    ]
    source = (ROOT / "chapters" / "mnist" / "index.md").read_text(encoding="utf-8")
    assert f"= {feature_map[r, c]},\n" in source, (
        "the arithmetic on the page ends with the amber cell"
    )
    assert f"rows {r} to {r + 2}, columns {c} to {c + 2} of the image" in source  # 1-based


def worked_example_check() -> tuple[set[float], str]:
    """The numbers the notebook's last cell asserts (its ON_PAGE table and the given weights,
    inputs, target and step size), and the cell's stored output."""
    nb = nbformat.read(GRADIENTS_NOTEBOOK, as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "code" and "ON_PAGE = {" in c.source)
    checked: set[float] = set()
    for statement in ast.walk(ast.parse(cell.source)):
        if not isinstance(statement, ast.Assign):
            continue
        target = ast.unparse(statement.targets[0])
        if target == "ON_PAGE" or "params" in target or target in ("x_ex", "(t, alpha)"):
            for node in ast.walk(statement.value):
                if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
                    checked.add(round(abs(float(node.value)), 3))
    output = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
    return checked, output


def decimals(text: str) -> set[float]:
    """The numbers with a decimal point in ``text``, leaving out DOT's layout attributes."""
    text = re.sub(r'\b\w+=("?)[\d.,]+\1', "", text)  # ranksep=1.1, margin="0.12,0.06", ...
    return {round(float(m), 3) for m in re.findall(r"(?<![\w.])\d+\.\d+", text)}


def test_every_number_of_the_worked_example_is_checked_by_the_notebook() -> None:
    checked, output = worked_example_check()
    assert "agrees with mnist_lib.nn to three decimals" in output, (
        "run make execute NB=...gradients_checked"
    )
    source = (ROOT / "chapters" / "backprop" / "index.md").read_text(encoding="utf-8")
    start = source.index(WORKED_EXAMPLE_LABEL)
    end = source.index("\n## ", source.index("\n## ", start) + 1)  # up to the next section
    shown = decimals(source[start:end])
    for block in graphviz_blocks("chapters/backprop/index"):
        shown |= decimals(block["alt"] + block["dot"])  # both diagrams carry its numbers
    assert len(shown) >= 15
    unchecked = shown - checked
    assert not unchecked, (
        f"numbers on the page that the notebook does not check: {sorted(unchecked)}"
    )


# -------------------------------------------------------------------------------- the built pages


class FigureParser(HTMLParser):
    """The graphviz figures of a built page: each one's <object> attributes and caption text."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: list[dict] = []
        self._in_figure = 0
        self._in_caption = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "figure":
            self._in_figure += 1
            self.figures.append({"objects": [], "caption": ""})
        elif tag == "object" and "graphviz" in (values.get("class") or "").split():
            if self._in_figure:
                self.figures[-1]["objects"].append(values)
            else:
                self.figures.append({"objects": [values], "caption": "", "outside": True})
        elif tag == "figcaption" and self._in_figure:
            self._in_caption = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "figure":
            self._in_figure -= 1
        elif tag == "figcaption":
            self._in_caption = False

    def handle_data(self, data: str) -> None:
        if self._in_caption:
            self.figures[-1]["caption"] += data


@pytest.mark.skipif(not (HTML / "intro.html").exists(), reason="needs the built book (make book)")
@pytest.mark.parametrize("page", list(EXPECTED))
def test_built_pages_show_each_diagram_as_a_captioned_svg(page: str) -> None:
    parser = FigureParser()
    parser.feed((HTML / f"{page}.html").read_text(encoding="utf-8"))
    diagrams = [f for f in parser.figures if f["objects"]]
    assert not [f for f in diagrams if f.get("outside")], "a diagram without a figure and caption"
    assert len(diagrams) >= EXPECTED[page]
    for figure in diagrams:
        (obj,) = figure["objects"]
        assert figure["caption"].strip(), "a diagram without a caption"
        assert obj.get("type") == "image/svg+xml" and obj.get("role") == "img"
        assert len(obj.get("aria-label") or "") >= 80, "the alt text is the accessible name"
        svg_path = (HTML / page).parent / obj["data"]
        svg = ET.parse(svg_path).getroot()
        assert svg.tag.endswith("svg") and float(svg.get("width", "0pt").removesuffix("pt")) > 50
        texts = [t.text for t in svg.iter() if t.tag.endswith("text") and t.text]
        assert len(texts) >= 3, f"{svg_path.name}: an SVG with its text as text"
