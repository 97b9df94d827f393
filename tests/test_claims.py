"""The claims audit: every page of the book has a ``.claims.yml`` beside it listing the claims of
its prose (numbers, comparisons, causes, facts about papers and libraries) with the evidence for
each, and, for a notebook, every number typed by hand in its markdown.

These tests check, on the stored files only (nothing is executed):

- every page of _toc.yml has its audit file, naming it, and no audit file is left without a page;
- each file keeps the format (keys, kinds, statuses, evidence forms, a date in ``checked``);
- the evidence exists: glued values, notebook cells, references.bib keys, test functions, files;
- no claim is recorded as ``wrong`` (a wrong sentence is a bug of the book: fix it, then mark the
  claim ``fixed`` with a note);
- the numbers typed in a notebook's markdown are exactly those its ``typed_numbers`` lists, so a
  hand-typed number cannot slip into the prose unaudited (``python tests/claims_audit.py NOTEBOOK``
  shows them with their context).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import yaml
from claims_audit import (
    EVIDENCE,
    KINDS,
    ROOT,
    STATUSES,
    SUFFIX,
    WHYS,
    all_claims_files,
    bib_keys,
    claims_file,
    glued,
    load_claims,
    load_notebook,
    notebook_typed_numbers,
    other_notebook,
    strip_markdown,
    toc_pages,
    typed_numbers,
)

PAGES = toc_pages()
NOTEBOOKS = [p for p in PAGES if p.endswith(".ipynb")]
HOW = (
    "the format is described in the docstring of tests/claims_audit.py and in tests/test_claims.py"
)


def load(page: str) -> dict:
    path = claims_file(page)
    if not path.is_file():
        pytest.fail(f"{page} has no audit file: create {path.relative_to(ROOT)} ({HOW})")
    try:
        data = load_claims(path)
    except yaml.YAMLError as error:
        pytest.fail(
            f"{path.relative_to(ROOT)} is not valid YAML (quote strings with ': ' or '#'): {error}"
        )
    if not isinstance(data, dict):
        pytest.fail(f"{path.relative_to(ROOT)} must be a mapping with page, checked and claims")
    return data


def claims(page: str) -> list[dict]:
    found = load(page).get("claims")
    return found if isinstance(found, list) else []


# ------------------------------------------------------------------------------ the extractor


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        ("MNIST has 70,000 digits; 60,000 are for training.", ["70,000", "60,000"]),
        ("a mean of 99.4% over 5 seeds, 2.8 pixels", ["99.4", "5", "2.8"]),
        ("each 28 × 28 = {glue:text}`n_pixels` pixels", ["28", "28"]),
        ("scores {glue:text}`acc:.2f`% against {glue:}`base` and {glue:text}`n:,` runs", []),
        ("see {doc}`the 3rd notebook <cnn>` and {cite}`lecun1998gradient` and {term}`MNIST`", []),
        ("run `train(epochs=18)` or ``x = `5` `` then", []),
        ("loss $\\ln(V-2)$ with $d_k = 4$ heads", []),
        ("$$\nL = \\sum_{i=1}^{10} x_i\n$$\n\nafter 3 steps", ["3"]),
        ("a price of \\$2.50, or $3 when the dollar has no partner", ["2.50", "3"]),
        (
            "the [2019 paper](https://arxiv.org/abs/1910.10683) and https://example.com/v2/10",
            ["2019"],
        ),
        ("<https://example.com/2024> and www.example.org/7", []),
        ("GPT-3, GPT-3.5, H100, fp16, 135M, 3B, v0.2, 1e-4, 2x, x86 and a 3x3 filter", []),
        ("in 1998. Then 12, 13; (10, 12) and 4/9", ["1998", "12", "13", "10", "12", "4", "9"]),
        ("## 2. Training\n\n1. first\n2. second", ["2", "1", "2"]),
        ("```python\nmodel.fit(x, epochs=5)\n```\n\nthen 7 more", ["7"]),
        ("~~~\n42\n~~~\n\n````\n```\n43\n```\n````\n44", ["44"]),
        (
            "```{exercise}\n:label: ex-1\n:class: dropdown\n\nTrain for 20 epochs.\n```\n",
            ["20"],
        ),
        (
            "```{solution} ex-1\n:class: dropdown\n\nIt reaches 98.1% in 12 s.\n\n"
            "    ```python\n    train(epochs=20)\n    ```\n```",
            ["98.1", "12"],
        ),
        ("```{note}\nA note of 7 words\n```\n8", ["8"]),
        ("1,000,000 parameters and 1,00 is not a thousands group", ["1,000,000", "1", "00"]),
        ("the 2026-12-05 run and version 0.2.0", ["2026", "0.2"]),
    ],
)
def test_typed_numbers(markdown: str, expected: list[str]) -> None:
    assert [number for number, _ in typed_numbers(markdown)] == expected, strip_markdown(markdown)


def test_typed_numbers_give_their_context() -> None:
    ((number, context),) = typed_numbers("The CNN aims at 99.4% test accuracy on average.")
    assert number == "99.4"
    assert "aims at [99.4] % test accuracy" in context


def test_a_math_dollar_pairs_only_within_a_paragraph() -> None:
    assert [n for n, _ in typed_numbers("costs $5\n\nand $6")] == ["5", "6"]
    assert [n for n, _ in typed_numbers("costs $5\nand $6")] == ["6"]


# ------------------------------------------------------------------------------ the files exist


def test_the_toc_has_pages() -> None:
    assert PAGES[0] == "intro.md"
    assert len(NOTEBOOKS) > 5
    missing = [p for p in PAGES if not (ROOT / p).is_file()]
    assert not missing, f"_toc.yml names pages with no .md or .ipynb file: {missing}"


@pytest.mark.parametrize("page", PAGES)
def test_every_page_has_its_audit(page: str) -> None:
    data = load(page)
    assert data.get("page") == page, (
        f"{claims_file(page).relative_to(ROOT)}: `page:` is {data.get('page')!r}, but the file is "
        f"beside {page}: write `page: {page}`"
    )


def test_no_audit_without_a_page() -> None:
    expected = {claims_file(page) for page in PAGES}
    stray = [p.relative_to(ROOT).as_posix() for p in all_claims_files() if p not in expected]
    assert not stray, (
        f"audit files beside no page of _toc.yml (a page was renamed or removed? move or delete "
        f"them; a page is audited in <name>{SUFFIX} beside it): {stray}"
    )


# ------------------------------------------------------------------------------ the format


def format_problems(page: str, data: dict) -> list[str]:
    problems = []
    notebook = page.endswith(".ipynb")
    allowed = {"page", "checked", "claims"} | ({"typed_numbers"} if notebook else set())
    for key in sorted(set(data) - allowed):
        problems.append(
            f"unknown top-level key {key!r} (allowed: {sorted(allowed)}"
            + ("; typed_numbers only for notebooks)" if key == "typed_numbers" else ")")
        )
    for key in sorted(allowed - set(data)):
        problems.append(f"missing top-level key {key!r}")
    checked = data.get("checked")
    if isinstance(checked, str):
        try:
            checked = dt.date.fromisoformat(checked)
        except ValueError:
            pass
    if "checked" in data and not isinstance(checked, dt.date):
        problems.append(f"checked: {data['checked']!r} is not a date (write it as 2026-12-05)")
    if not isinstance(data.get("claims", []), list):
        problems.append("claims: must be a list (an empty list [] when the page states nothing)")
    for i, claim in enumerate(data.get("claims") or []):
        problems += [f"claims[{i}]: {p}" for p in claim_problems(claim)]
    if notebook:
        if not isinstance(data.get("typed_numbers", []), list):
            problems.append("typed_numbers: must be a list ([] when there are none)")
        seen = set()
        for i, entry in enumerate(data.get("typed_numbers") or []):
            where = f"typed_numbers[{i}]"
            if not isinstance(entry, dict):
                problems.append(f"{where}: must be a mapping with number and why")
                continue
            for key in sorted(set(entry) - {"number", "why"}):
                problems.append(f"{where}: unknown key {key!r} (allowed: number, why)")
            number = entry.get("number")
            if not isinstance(number, str | int) or isinstance(number, bool):
                problems.append(
                    f"{where}: number {number!r} must be the number as typed, quoted: "
                    f'number: "{number}"'
                )
            elif str(number) in seen:
                problems.append(f"{where}: {number!r} is listed twice")
            seen.add(str(number))
            if entry.get("why") not in WHYS:
                problems.append(f"{where}: why {entry.get('why')!r} is not one of {list(WHYS)}")
    return problems


def claim_problems(claim: object) -> list[str]:
    if not isinstance(claim, dict):
        return ["must be a mapping with claim, kind, evidence, status (and note)"]
    problems = []
    allowed = {"claim", "kind", "evidence", "status", "note"}
    for key in sorted(set(claim) - allowed):
        problems.append(f"unknown key {key!r} (allowed: {sorted(allowed)})")
    text = claim.get("claim")
    if not isinstance(text, str) or not text.strip():
        problems.append("claim: must be a non-empty string (a short quote or paraphrase)")
    label = repr(text)[:60]
    if claim.get("kind") not in KINDS:
        problems.append(f"{label}: kind {claim.get('kind')!r} is not one of {list(KINDS)}")
    status = claim.get("status")
    if status not in STATUSES:
        problems.append(f"{label}: status {status!r} is not one of {list(STATUSES)}")
    if status in ("fixed", "wrong") and not str(claim.get("note") or "").strip():
        problems.append(f"{label}: status {status} needs a note saying what was/is wrong")
    if "note" in claim and not isinstance(claim["note"], str):
        problems.append(f"{label}: note must be a string (quote it)")
    evidence = claim.get("evidence")
    if not isinstance(evidence, list) or not evidence:
        problems.append(f"{label}: evidence must be a list of at least one entry")
        return problems
    for entry in evidence:
        if not isinstance(entry, dict) or len(entry) != 1 or next(iter(entry)) not in EVIDENCE:
            problems.append(
                f"{label}: evidence entry {entry!r} must be one of {list(EVIDENCE)}: VALUE"
            )
            continue
        ((form, value),) = entry.items()
        if form == "cell":
            if not (isinstance(value, int) and not isinstance(value, bool)) and not (
                isinstance(value, str) and re.fullmatch(r"[^:]+::\d+", value)
            ):
                problems.append(f"{label}: cell: {value!r} must be a cell index (or doc::index)")
        elif not isinstance(value, str) or not value.strip():
            problems.append(f"{label}: {form}: {value!r} must be a non-empty string")
        elif form == "test" and "::" not in value:
            problems.append(f"{label}: test: {value!r} must be tests/FILE.py::FUNCTION")
    return problems


@pytest.mark.parametrize("page", PAGES)
def test_audit_format(page: str) -> None:
    problems = format_problems(page, load(page))
    assert not problems, f"{claims_file(page).relative_to(ROOT)} ({HOW}):\n  " + "\n  ".join(
        problems
    )


# ------------------------------------------------------------------------------ the evidence


def evidence_problems(page: str, form: str, value: object) -> str | None:
    notebook = ROOT / page if page.endswith(".ipynb") else None
    if form in ("glue", "cell") and isinstance(value, str) and "::" in value:
        reference, value = value.rsplit("::", 1)
        notebook = other_notebook(page, reference)
        if not notebook.is_file():
            return f"{form}: {reference}::... names no notebook ({notebook.relative_to(ROOT)} is missing)"
        if form == "cell":
            value = int(value)
    if form == "glue":
        if notebook is None:
            return (
                f"glue: {value} on a markdown page: name the notebook, glue: path/notebook::{value}"
            )
        if value not in glued(notebook):
            return (
                f"glue: {value} is not glued in the stored outputs of "
                f"{notebook.relative_to(ROOT)} (is the key misspelt, or the notebook not re-executed?)"
            )
    elif form == "cell":
        if notebook is None:
            return (
                f"cell: {value} on a markdown page: name the notebook, cell: path/notebook::{value}"
            )
        cells = load_notebook(notebook)["cells"]
        if not isinstance(value, int) or not 0 <= value < len(cells):
            return f"cell: {value} is out of range: {notebook.relative_to(ROOT)} has {len(cells)} cells"
        if cells[value]["cell_type"] != "code":
            return f"cell: {value} of {notebook.relative_to(ROOT)} is a {cells[value]['cell_type']} cell, not code"
    elif form == "cite":
        if value not in bib_keys():
            return f"cite: {value} is not a key of references.bib"
    elif form == "test":
        file, _, function = str(value).partition("::")
        path = ROOT / file
        function = function.split("::")[-1].split("[")[0]
        if not path.is_file():
            return f"test: {file} does not exist"
        if not re.search(rf"^\s*(?:async\s+)?def {re.escape(function)}\b", path.read_text(), re.M):
            return f"test: {file} defines no function {function}"
    elif form == "source":
        file = str(value).split(":", 1)[0].strip()
        if not (ROOT / file).exists():
            first = re.split(r"[\s,;]", str(value).strip(), maxsplit=1)[0]
            if (ROOT / first).exists() and ":" not in first:
                rest = str(value).strip()[len(first) :].lstrip(" ,;")
                return (
                    f"source: the file comes before the first colon; write "
                    f'source: "{first}: {rest}"'
                )
            return (
                f'source: {file} does not exist (write `source: "path/from/root: what it shows"`)'
            )
    return None


@pytest.mark.parametrize("page", PAGES)
def test_evidence_exists(page: str) -> None:
    problems = []
    for claim in claims(page):
        for entry in claim.get("evidence") or [] if isinstance(claim, dict) else []:
            if isinstance(entry, dict) and len(entry) == 1:
                ((form, value),) = entry.items()
                problem = evidence_problems(page, form, value)
                if problem:
                    problems.append(f"{str(claim.get('claim'))[:70]!r}: {problem}")
    assert not problems, f"{claims_file(page).relative_to(ROOT)}:\n  " + "\n  ".join(problems)


# ------------------------------------------------------------------------------ the book is right


@pytest.mark.parametrize("page", PAGES)
def test_no_claim_is_wrong(page: str) -> None:
    wrong = [c for c in claims(page) if isinstance(c, dict) and c.get("status") == "wrong"]
    assert not wrong, (
        f"{page} states {len(wrong)} thing(s) its evidence contradicts; correct the page, then mark "
        f"each claim `status: fixed` with a note in {claims_file(page).relative_to(ROOT)}:\n  "
        + "\n  ".join(f"{c.get('claim')!r}: {c.get('note')}" for c in wrong)
    )


@pytest.mark.parametrize("page", NOTEBOOKS)
def test_typed_numbers_are_listed(page: str) -> None:
    """A number typed into a notebook's markdown is either glued from the code or listed, with why."""
    entries = load(page).get("typed_numbers") or []
    listed = {str(e.get("number")) for e in entries if isinstance(e, dict)}
    found = notebook_typed_numbers(ROOT / page)
    audit = claims_file(page).relative_to(ROOT)
    problems = []
    for number in sorted(set(found) - listed, key=lambda n: list(found).index(n)):
        places = "\n      ".join(found[number])
        problems.append(
            f"{number!r} is typed in the markdown but not listed in {audit}:\n      {places}\n"
            f"    glue it from the code that computes it, or add it to typed_numbers with why: "
            f"{'|'.join(WHYS)}"
        )
    for number in sorted(listed - set(found)):
        problems.append(
            f"{number!r} is listed in {audit} typed_numbers but typed nowhere in the markdown "
            f"(stale: remove it, or fix the spelling, e.g. 60,000 vs 60000)"
        )
    assert not problems, (
        f"{page} (see them all: python tests/claims_audit.py {page} --diff):\n  "
        + "\n  ".join(problems)
    )


def test_the_cli_lists_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    from claims_audit import main

    assert main([NOTEBOOKS[0]]) == 0
    out = capsys.readouterr().out
    found = notebook_typed_numbers(Path(ROOT / NOTEBOOKS[0]))
    for number in found:
        assert number in out
