"""The claims audit (see tests/test_claims.py): where the audit files are, and the typed numbers.

Every page of the book has a ``.claims.yml`` beside it (``chapters/mnist/cnn.ipynb`` ->
``chapters/mnist/cnn.claims.yml``) that lists the claims of its prose with their evidence and, for
a notebook, every number typed by hand in its markdown cells (``typed_numbers``). This module finds
those numbers the way tests/test_claims.py checks them. Run it on a notebook to see them, with the
words around each, when a list has to be brought up to date::

    python tests/claims_audit.py chapters/mnist/cnn.ipynb          # the numbers, with context
    python tests/claims_audit.py chapters/mnist/cnn.ipynb --diff   # only what the list lacks or no longer needs
    python tests/claims_audit.py chapters/mnist/cnn.ipynb --yaml   # a typed_numbers list to fill in

What counts as a typed number: strip the markdown of fenced code blocks (but keep the prose of
``{exercise}`` and ``{solution}`` directives), MyST roles with their targets (``{glue:text}`...```,
``{doc}`...```, ``{cite}`...```), inline code, math (``$...$``, ``$$...$$``), link targets
``](...)`` and bare URLs; every match of :data:`NUMBER` in what is left is one. A number glued to a
letter, dot or hyphen (135M, fp16, GPT-3, H100, v0.2) is a name, not a number.

The file's format::

    page: chapters/mnist/cnn.ipynb       # the page, from the repository root
    checked: 2026-12-05                  # the date of the audit
    claims:                              # every number, comparison, cause or fact the prose states
      - claim: "a short quote or paraphrase"
        kind: number                     # number | comparison | cause | fact
        evidence:                        # one or more of:
          - glue: cnn_mean               #   glued in this notebook (../mnist/fast_mlp::key: in another)
          - cell: 12                     #   a code cell of this notebook (fast_mlp::10: of another)
          - cite: lecun1998gradient      #   a key of references.bib
          - test: tests/test_models.py::test_cnn_shapes_and_options
          - calc: "421,642 = 320 + 18,496 + 401,536 + 1,290"
          - source: "mnist_lib/recipes.py: what it shows"   # the file comes before the first colon
        status: ok                       # ok | fixed | wrong | unmeasured (fixed and wrong need a note)
        note: "optional, one line"
    typed_numbers:                       # notebooks only: every typed number, as typed, once
      - number: "99.4"
        why: goal                        # goal | year | paper | unit | data | design | label | example
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))  # also when run as a script, outside pytest

from nbtools import toc_files  # noqa: E402  (the one reader of _toc.yml)

BIB = ROOT / "references.bib"
SUFFIX = ".claims.yml"

NUMBER = re.compile(r"(?<![\w.\-])\d+(?:,\d{3})*(?:\.\d+)?(?![\w])")
KINDS = ("number", "comparison", "cause", "fact")
STATUSES = ("ok", "fixed", "wrong", "unmeasured")
EVIDENCE = ("glue", "cell", "cite", "test", "calc", "source")
WHYS = ("goal", "year", "paper", "unit", "data", "design", "label", "example")
# Directives whose content is prose, not code: their numbers count.
PROSE_DIRECTIVES = ("exercise", "solution")

_FENCE_OPEN = re.compile(r"^ {0,3}(`{3,}|~{3,}|:{3,})(.*)$")
_OPTION = re.compile(r"^\s*:[\w-]+:")
_ROLE = re.compile(r"\{[^{}\s`]+\}(`+).*?\1", re.DOTALL)
_CODE = re.compile(r"(`+).+?\1", re.DOTALL)
_DISPLAY_MATH = re.compile(r"(?<!\\)\$\$.*?(?<!\\)\$\$", re.DOTALL)
_LINK_TARGET = re.compile(r"\]\([^)]*\)")
_LINK_DEFINITION = re.compile(r"^ {0,3}\[[^\]]+\]:\s*\S+.*$", re.MULTILINE)
_AUTOLINK = re.compile(r"<(?:https?|ftp|mailto):[^>]*>")
_URL = re.compile(r"(?:https?://|ftp://|www\.)[^\s<>]*")


# ------------------------------------------------------------------------------ typed numbers


def _strip_fences(lines: list[str]) -> list[str]:
    """Drop fenced blocks; of an {exercise} or {solution} directive keep the content, not the
    opening line, its options or the closing fence (its content may hold fences of its own)."""
    kept: list[str] = []
    i = 0
    while i < len(lines):
        opening = _FENCE_OPEN.match(lines[i])
        if not opening:
            kept.append(lines[i])
            i += 1
            continue
        fence, info = opening.group(1), opening.group(2).strip()
        close = re.compile(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}\s*$")
        end = i + 1
        while end < len(lines) and not close.match(lines[end]):
            end += 1  # an unclosed fence runs to the end of the cell, as in CommonMark
        name = re.match(r"\{([\w:-]+)\}", info)
        if name and name.group(1) in PROSE_DIRECTIVES:
            body = lines[i + 1 : end]
            while body and _OPTION.match(body[0]):
                body = body[1:]
            kept.append("")
            kept.extend(_strip_fences(body))
            kept.append("")
        i = end + 1
    return kept


def _strip_inline_math(paragraph: str) -> str:
    """Remove ``$...$`` as MyST's dollarmath parses it: an unescaped ``$`` up to the next unescaped
    ``$`` of the same paragraph; a ``$`` with no partner stays (a price, say)."""
    out: list[str] = []
    pos = 0
    while True:
        start = _unescaped_dollar(paragraph, pos)
        end = _unescaped_dollar(paragraph, start + 1) if start >= 0 else -1
        if start < 0 or end < 0:
            out.append(paragraph[pos:])
            return "".join(out)
        out.append(paragraph[pos:start] + " ")
        pos = end + 1


def _unescaped_dollar(text: str, pos: int) -> int:
    while True:
        found = text.find("$", pos)
        if found < 0:
            return -1
        backslashes = len(text[:found]) - len(text[:found].rstrip("\\"))
        if backslashes % 2 == 0:
            return found
        pos = found + 1


def strip_markdown(markdown: str) -> str:
    """The prose of one markdown cell, without the parts whose numbers are not typed by hand."""
    text = "\n".join(_strip_fences(markdown.split("\n")))
    text = _DISPLAY_MATH.sub(" ", text)
    paragraphs = []
    for paragraph in re.split(r"\n[ \t]*\n", text):
        paragraph = _ROLE.sub(" ", paragraph)
        paragraph = _CODE.sub(" ", paragraph)
        paragraph = _strip_inline_math(paragraph)
        paragraph = _LINK_TARGET.sub("]", paragraph)
        paragraph = _LINK_DEFINITION.sub(" ", paragraph)
        paragraph = _AUTOLINK.sub(" ", paragraph)
        paragraph = _URL.sub(" ", paragraph)
        paragraphs.append(paragraph)
    return "\n\n".join(paragraphs)


def typed_numbers(markdown: str, width: int = 40) -> list[tuple[str, str]]:
    """Every typed number of a markdown text, in order, with the words around it."""
    prose = strip_markdown(markdown)
    found = []
    for match in NUMBER.finditer(prose):
        before = " ".join(prose[max(0, match.start() - width) : match.start()].split())
        after = " ".join(prose[match.end() : match.end() + width].split())
        found.append((match.group(0), f"...{before} [{match.group(0)}] {after}..."))
    return found


@cache
def load_notebook(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def markdown_cells(notebook: Path) -> Iterator[tuple[int, str]]:
    for index, cell in enumerate(load_notebook(notebook)["cells"]):
        if cell["cell_type"] == "markdown":
            source = cell["source"]
            yield index, source if isinstance(source, str) else "".join(source)


def notebook_typed_numbers(notebook: Path) -> dict[str, list[str]]:
    """number -> where it is typed (``cell N: ...context...``), over the notebook's markdown."""
    found: dict[str, list[str]] = {}
    for index, source in markdown_cells(notebook):
        for number, context in typed_numbers(source):
            found.setdefault(number, []).append(f"markdown cell {index}: {context}")
    return found


# ------------------------------------------------------------------------------ pages and evidence


def toc_pages() -> list[str]:
    """Every page of _toc.yml (the root first), as a path from the repository root with its
    extension; a page whose file is missing keeps the name the toc gives it."""
    return [resolve_page(name) for name in toc_files()]


def resolve_page(name: str) -> str:
    for suffix in ("", ".md", ".ipynb"):
        if (ROOT / (name + suffix)).is_file() and (suffix or Path(name).suffix):
            return name + suffix
    return name


def claims_file(page: str) -> Path:
    path = ROOT / page
    return path.with_name(path.name.removesuffix(path.suffix) + SUFFIX)


def all_claims_files() -> list[Path]:
    """Every ``.claims.yml`` of the repository, outside build, cache and environment folders."""
    skip = {".git", ".venv", "_build", "build", "node_modules", "_mathjax", "artifacts"}
    found = []
    for folder, subfolders, files in os.walk(ROOT):
        subfolders[:] = [d for d in subfolders if d not in skip and not d.startswith(".")]
        found += [Path(folder) / f for f in files if f.endswith(SUFFIX)]
    return sorted(found)


@cache
def load_claims(path: Path) -> object:
    """The parsed audit file (C loader when PyYAML has it); raises yaml.YAMLError."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(path.read_text(encoding="utf-8"), Loader=loader)


@cache
def glued(notebook: Path) -> frozenset[str]:
    """The names glued in a notebook's stored outputs."""
    names = set()
    for cell in load_notebook(notebook)["cells"]:
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            if name is not None:
                names.add(name)
    return frozenset(names)


@cache
def bib_keys() -> frozenset[str]:
    return frozenset(
        re.findall(r"^\s*@\w+\s*\{\s*([^,\s]+)\s*,", BIB.read_text(encoding="utf-8"), re.M)
    )


def other_notebook(page: str, reference: str) -> Path:
    """``../mnist/fast_mlp`` seen from ``page`` -> the notebook's path."""
    return (ROOT / page).parent.joinpath(reference + ".ipynb").resolve()


# ------------------------------------------------------------------------------ command line


def main(argv: list[str]) -> int:
    args = [a for a in argv if not a.startswith("--")]
    if len(args) != 1 or not args[0].endswith(".ipynb"):
        print(__doc__)
        return 2
    notebook = Path(args[0]).resolve()
    if not notebook.is_file():
        notebook = (ROOT / args[0]).resolve()
    page = notebook.relative_to(ROOT).as_posix()
    found = notebook_typed_numbers(notebook)
    listed: dict[str, str] = {}
    audit = claims_file(page)
    if audit.is_file():
        for entry in (yaml.safe_load(audit.read_text(encoding="utf-8")) or {}).get(
            "typed_numbers"
        ) or []:
            listed[str(entry.get("number"))] = str(entry.get("why"))
    if "--yaml" in argv:
        print("typed_numbers:")
        for number in found:
            why = listed.get(number, "FILL IN")
            print(f'  - number: "{number}"\n    why: {why}  # {found[number][0]}')
        return 0
    for number, places in found.items():
        state = f"listed ({listed[number]})" if number in listed else "NOT LISTED"
        if "--diff" in argv and number in listed:
            continue
        print(f"{number:>10}  {state}")
        for place in places:
            print(f"{'':>12}{place}")
    for number in sorted(set(listed) - set(found)):
        print(f"{number:>10}  STALE: listed in {audit.relative_to(ROOT)} but typed nowhere")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
