"""An nbval extension: numbers that come out of training are compared within a declared tolerance.

nbval compares every stored output of a notebook with a fresh run, exactly. That is right for
everything deterministic, and the book pins its numerical configuration (``mnist_lib.runtime``) so
that most outputs are bit for bit the same on any x86-64 CPU. Results that pass through training
(accuracies, losses, probabilities, counts of errors) still move on a GPU or an Arm CPU, by about as
much as they move between seeds. For those, and only those, a cell declares a tolerance in its
metadata, next to the value it covers::

    "tolerance": {
        "test accuracy": 0.0045,                 # the line "test accuracy: 0.993"
        "no remedy": [null, 0.0, 0.031, 0.031],  # a table row: one entry per number on the line
        "glue:test_acc_pct": 0.45                # a glued value, by its glue name
    }

A key names a line of a text output (stdout, ``text/plain``) by its *label*: the text before the
line's first number, without surrounding spaces and a trailing ``:`` or ``=``. Where several lines
share a label (the rows of a table), ``label@2`` names the second of them, ``label@3`` the third,
and so on; a numbered key takes precedence over the plain one, which covers the rest. A single number
covers a line that holds exactly one number; a list gives one tolerance per number on the line
(``null``: exact). Two numbers agree when ``|stored - fresh| <= tolerance + one unit in the last
printed digit`` (rounding to the printed digits alone can move a value by that much).

Everything else stays exact: every number without a declared tolerance, every word and symbol of
a toleranced output, and the number of numbers. Only runs of spaces are not compared in a cell
that declares tolerances, since a table's column widths follow the values in it. A declaration
that matches no line of the stored output, or a single tolerance for a line with several numbers,
fails the cell, so a tolerance cannot silently cover a value it was not declared for. In a cell
that declares tolerances, a table shown as both ``text/plain`` and ``text/html`` is compared
through its ``text/plain`` form.

The tolerances are 5 standard deviations of the seed-to-seed spread measured by
``benchmarks/seed_spread.py`` (written into the metadata by ``scripts/tolerances.py``).
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pytest

METADATA_KEY = "tolerance"
GLUE_PREFIX = "application/papermill.record/"
TEXT_KEYS = ("text/plain", GLUE_PREFIX + "text/plain")
# A number: digits with optional thousands separators, decimals and exponent; not part of a word
# (the 0 of "dense0") and not a minus that is really a dash ("epochs 2-5").
NUMBER = re.compile(
    r"(?<![\w.])(?:(?<=[\s(\[=:,/])-|^-)?"
    r"(?:\d{1,3}(?:,\d{3})+(?![\d,])|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w])"
)
Tolerance = float | None


@dataclass(frozen=True)
class Number:
    start: int
    end: int
    text: str

    @property
    def value(self) -> float:
        return float(self.text.replace(",", ""))

    @property
    def last_digit(self) -> float:
        """One unit in the last printed digit: 0.001 for "0.993", 100 for "1.2e3", 1 for "7"."""
        mantissa, _, exponent = self.text.replace(",", "").lower().partition("e")
        decimals = len(mantissa.partition(".")[2])
        return 10.0 ** (int(exponent or 0) - decimals)


def numbers_in(line: str) -> list[Number]:
    return [Number(m.start(), m.end(), m.group()) for m in NUMBER.finditer(line)]


def line_label(line: str, found: Sequence[Number]) -> str:
    """The text before the line's first number, stripped of spaces and a trailing ':' or '='."""
    head = line[: found[0].start] if found else line
    return head.strip().rstrip(":=").strip()


def parse_spec(raw: Mapping[str, Any]) -> dict[str, Tolerance | list[Tolerance]]:
    """Check a cell's ``tolerance`` metadata; raise ``ValueError`` saying what is wrong."""
    if not isinstance(raw, Mapping):
        raise ValueError(f"'{METADATA_KEY}' metadata must be a mapping, got {type(raw).__name__}")
    spec: dict[str, Tolerance | list[Tolerance]] = {}
    for key, value in raw.items():
        if not str(key).strip():
            raise ValueError("a tolerance key must name a label or 'glue:<name>', not ''")
        values = value if isinstance(value, list) else [value]
        for v in values:
            if v is not None and (not isinstance(v, (int, float)) or v < 0 or math.isnan(v)):
                raise ValueError(f"tolerance for {key!r} must be a number >= 0 or null, got {v!r}")
        spec[str(key)] = value
    return spec


def _text_fields(outputs: Sequence[Any]) -> Iterator[tuple[Any, str, str | None]]:
    """(container, field, glue name) for every text field a tolerance may apply to, in order."""
    for out in outputs:
        if out.get("output_type") == "stream":
            if out.get("name") == "stdout":
                yield out, "text", None
        elif "data" in out:
            glue = (out.get("metadata") or {}).get("scrapbook", {}).get("name")
            for key in TEXT_KEYS:
                if key in out["data"]:
                    yield out["data"], key, glue if key.startswith(GLUE_PREFIX) else None


def reconcile(
    reference: Sequence[Any], fresh: Sequence[Any], spec: Mapping[str, Any]
) -> tuple[list[str], set[str]]:
    """Where a fresh number is within its declared tolerance of the stored one, write the stored
    text into ``fresh`` (in place), so that nbval's exact comparison then passes on it.

    Returns the problems with the declaration itself (which fail the cell) and the keys used.
    Numbers out of tolerance are left alone: nbval then reports them as a difference.
    """
    spec = parse_spec(spec)
    problems: list[str] = []
    used: set[str] = set()
    seen: dict[str, int] = {}
    ref_fields = list(_text_fields(reference))
    new_fields = list(_text_fields(fresh))
    if len(ref_fields) != len(new_fields):
        return problems, used  # a different set of outputs: nbval reports it
    for (ref_box, ref_key, glue), (new_box, new_key, _) in zip(ref_fields, new_fields, strict=True):
        if ref_key != new_key:
            continue
        ref_text, new_text = ref_box[ref_key], new_box[new_key]
        if glue is not None:
            key = f"glue:{glue}"
            if key in spec:
                used.add(key)
                tolerance = spec[key]
                if isinstance(tolerance, list):
                    problems.append(f"{key!r}: a glued value takes one tolerance, not a list")
                    continue
                new_box[new_key] = _merge_line(ref_text, new_text, [tolerance])
            continue
        ref_lines = ref_text.split("\n")
        new_lines = new_text.split("\n")
        if len(ref_lines) != len(new_lines):
            continue
        merged = []
        for ref_line, new_line in zip(ref_lines, new_lines, strict=True):
            found = numbers_in(ref_line)
            label = _line_key(ref_line, found, seen, spec)
            if label not in spec or not found:
                merged.append(ref_line if ref_line.split() == new_line.split() else new_line)
                continue
            used.add(label)
            declared = spec[label]
            if not isinstance(declared, list):
                if len(found) != 1:
                    problems.append(
                        f"{label!r}: one tolerance declared, but the line holds {len(found)} "
                        f"numbers ({ref_line.strip()!r}); give a list, one entry per number"
                    )
                    merged.append(new_line)
                    continue
                declared = [declared]
            if len(declared) != len(found):
                problems.append(
                    f"{label!r}: {len(declared)} tolerances declared for a line with "
                    f"{len(found)} numbers ({ref_line.strip()!r})"
                )
                merged.append(new_line)
                continue
            merged.append(_merge_line(ref_line, new_line, declared))
        new_box[new_key] = "\n".join(merged)
    return problems, used


def _merge_line(ref_line: str, new_line: str, tolerances: Sequence[Tolerance]) -> str:
    """The stored line if ``new_line`` agrees with it: the same words and symbols (runs of spaces
    aside, since a table's column widths follow its values), each number within its tolerance
    (``None``: the same digits). Otherwise ``new_line``, for nbval to report."""
    ref_nums, new_nums = numbers_in(ref_line), numbers_in(new_line)
    if len(ref_nums) != len(new_nums) or len(ref_nums) != len(tolerances):
        return new_line  # a different shape: nbval reports the difference
    ref_words = _between_numbers(ref_line, ref_nums)
    new_words = _between_numbers(new_line, new_nums)
    if [w.split() for w in ref_words] != [w.split() for w in new_words]:
        return new_line
    for ref, new, tolerance in zip(ref_nums, new_nums, tolerances, strict=True):
        if tolerance is None:
            if ref.text != new.text:
                return new_line
            continue
        slack = max(ref.last_digit, new.last_digit)
        if abs(ref.value - new.value) > tolerance + slack * 1.000001:
            return new_line
    return ref_line


def _between_numbers(line: str, found: Sequence[Number]) -> list[str]:
    cuts = [0, *(x for n in found for x in (n.start, n.end)), len(line)]
    return [line[cuts[i] : cuts[i + 1]] for i in range(0, len(cuts), 2)]


def _line_key(line: str, found: Sequence[Number], seen: dict[str, int], spec: Mapping) -> str:
    """The key a line answers to: ``label@k`` for the k-th line with that label if declared so,
    else its label. ``seen`` counts the lines of each label so far (in the cell's output order)."""
    label = line_label(line, found)
    if not found:
        return label
    seen[label] = seen.get(label, 0) + 1
    numbered = f"{label}@{seen[label]}"
    return numbered if numbered in spec else label


def declared_keys_missing(reference: Sequence[Any], spec: Mapping[str, Any]) -> list[str]:
    """Declared keys that name no line or glued value of the stored outputs (stale declarations)."""
    present: set[str] = set()
    seen: dict[str, int] = {}
    for box, key, glue in _text_fields(reference):
        if glue is not None:
            present.add(f"glue:{glue}")
            continue
        for line in box[key].split("\n"):
            found = numbers_in(line)
            if found:
                label = line_label(line, found)
                seen[label] = seen.get(label, 0) + 1
                present.update((label, f"{label}@{seen[label]}"))
    return sorted(set(spec) - present)


def cell_numbers(cell: Any) -> dict[str, float]:
    """Every number of a cell's text outputs, keyed ``label#position`` (``glue:name`` for glued
    values); a label's second line is keyed ``label@2#position``. Used to measure seed spread."""
    result: dict[str, float] = {}
    seen: dict[str, int] = {}
    for box, key, glue in _text_fields(cell.get("outputs", [])):
        if glue is not None:
            found = numbers_in(box[key])
            if len(found) == 1:
                result[f"glue:{glue}"] = found[0].value
            continue
        for line in box[key].split("\n"):
            found = numbers_in(line)
            if not found:
                continue
            label = line_label(line, found)
            seen[label] = seen.get(label, 0) + 1
            name = label if seen[label] == 1 else f"{label}@{seen[label]}"
            for position, number in enumerate(found):
                result[f"{name}#{position}"] = number.value
    return result


def _drop_html_twins(outputs: Sequence[Any]) -> None:
    for out in outputs:
        data = out.get("data")
        if data and "text/plain" in data and "text/html" in data:
            del data["text/html"]


def make_tolerant(cell_class: type) -> type:
    """A subclass of nbval's cell item whose comparison honours the cell's declared tolerances."""

    class TolerantCell(cell_class):  # type: ignore[misc, valid-type]
        def compare_outputs(self, test, ref, skip_compare=None):  # noqa: D102 (nbval's hook)
            spec = self.cell.metadata.get(METADATA_KEY)
            if not spec:
                return super().compare_outputs(test, ref, skip_compare)
            try:
                parse_spec(spec)
            except ValueError as err:
                self.comparison_traceback = [f"invalid tolerance metadata: {err}"]
                return False
            _drop_html_twins(test)
            _drop_html_twins(ref)
            before = [copy.deepcopy(o) for o in test]
            problems, _ = reconcile(ref, test, spec)
            if test != before:  # a number differed and its tolerance admitted it
                ADMITTED.append(self.nodeid)
            missing = declared_keys_missing(ref, spec)
            problems += [f"{k!r}: declared, but no stored output has it" for k in missing]
            if problems:
                self.comparison_traceback = ["tolerance declaration problems:", *problems]
                return False
            return super().compare_outputs(test, ref, skip_compare)

    TolerantCell.__name__ = TolerantCell.__qualname__ = "TolerantCell"
    return TolerantCell


# Cells whose fresh numbers differed from the stored ones, within their tolerance.
ADMITTED: list[str] = []


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say how often a tolerance was needed: with the pinned numerics, on x86-64, never."""
    if ADMITTED:
        terminalreporter.write_line(
            f"nbval tolerances: {len(ADMITTED)} cell(s) matched only within their declared "
            "tolerance: " + ", ".join(ADMITTED)
        )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    try:
        from nbval.plugin import IPyNbCell
    except ImportError:  # nbval not installed: nothing to extend
        return
    tolerant = make_tolerant(IPyNbCell)
    for item in items:
        if type(item) is IPyNbCell and item.cell.metadata.get(METADATA_KEY):
            item.__class__ = tolerant
