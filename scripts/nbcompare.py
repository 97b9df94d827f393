"""Is a fresh run of a notebook the same as the one stored? The one comparison the book uses.

Both checks of the stored outputs call this module: nbval on the project's pinned stack
(``make test``; ``tests/nbval_tolerance.py`` is a thin layer that hands nbval's comparison to
:func:`compare_outputs`) and the run on an emulated Colab (``make colab``,
``scripts/colab_check.py``, which calls :func:`compare_notebooks`). It imports neither pytest nor
nbval, so the rules are the same wherever they are applied:

- **What is compared** (as nbval does): every output of a code cell, stream by stream and MIME
  type by MIME type, in order, after the regex replacements of ``tests/nbval_sanitize.cfg``.
  stderr is not compared (TensorFlow and tqdm write logs and progress bars there), nor are
  images (a plot's pixels follow the font and the matplotlib version; the numbers plotted are
  printed or glued elsewhere), metadata, tracebacks and execution counts. A cell whose source
  has ``# NBVAL_IGNORE_OUTPUT`` is run but not compared; ``# NBVAL_SKIP`` is not run at all.
- **Exact**, for everything deterministic: every word, and every number without a declared
  tolerance.
- **Within a declared tolerance**, for numbers that pass through training. A cell declares them
  in its metadata, next to the value it covers::

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

A result record (``uncertainty.report``, glued as JSON for the About page) is compared field by
field: its ``value``, ``low`` and ``high`` within the tolerances declared for the line that
``report`` prints (the record's label), everything else exactly.

The tolerances are 5 standard deviations of the seed-to-seed spread measured by
``benchmarks/seed_spread.py``, which writes them into the metadata.

Used by ``tests/nbval_tolerance.py`` (pass a, ``make test``) and ``scripts/colab_check.py``
(pass b, ``make colab``); not part of the readers' library.
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

METADATA_KEY = "tolerance"
RECORD_PREFIX = "result_"  # the glue names of result records (uncertainty.results.RESULT_PREFIX)
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
            elif glue.startswith(RECORD_PREFIX):
                new_box[new_key] = _merge_record(ref_text, new_text, spec)
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


def _merge_record(ref_text: str, new_text: str, spec: Mapping[str, Any]) -> str:
    """A result record (``uncertainty.report``, glued as JSON) compared field by field: its
    ``value``, ``low`` and ``high`` within the tolerances declared for the line that ``report``
    prints (the record's label: its first three numbers), everything else exactly. The stored
    text if they agree, else ``new_text`` (for the exact comparison to report)."""
    try:
        ref, new = json.loads(ref_text), json.loads(new_text)
    except ValueError:
        return new_text
    if not (isinstance(ref, dict) and isinstance(new, dict)) or set(ref) != set(new):
        return new_text
    declared = spec.get(str(ref.get("label")))
    if declared is None:
        return new_text
    tolerances = declared if isinstance(declared, list) else [declared]
    fields = [f for f in ("value", "low", "high") if f in ref][: len(tolerances)]
    if any(ref[k] != new[k] for k in ref if k not in fields):
        return new_text
    for field, tolerance in zip(fields, tolerances, strict=False):
        if tolerance is None:
            if ref[field] != new[field]:
                return new_text
            continue
        if not all(isinstance(x, (int, float)) for x in (ref[field], new[field])):
            return new_text
        slack = max(_last_digit(ref[field]), _last_digit(new[field]))
        if abs(ref[field] - new[field]) > tolerance + slack * 1.000001:
            return new_text
    return ref_text


def _last_digit(value: float) -> float:
    found = numbers_in(str(value))
    return found[0].last_digit if found else 0.0


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


# ----------------------------------------------------------------------------- the comparison

SANITIZE_FILE = Path(__file__).resolve().parent.parent / "tests" / "nbval_sanitize.cfg"
#: Output fields never compared: nbval's defaults (metadata, tracebacks, counts, widget ids,
#: images), and stderr (logs and progress bars; see the module docstring).
SKIP = (
    "metadata",
    "traceback",
    "prompt_number",
    "output_type",
    "name",
    "execution_count",
    "application/vnd.jupyter.widget-view+json",
    "image/png",
    "image/jpeg",
    "stderr",
)
IGNORE_OUTPUT = re.compile(r"^\s*#\s*NBVAL_IGNORE_OUTPUT\b", re.MULTILINE)
SKIP_CELL = re.compile(r"^\s*#\s*NBVAL_SKIP\b", re.MULTILINE)
OTHER_MARKER = re.compile(r"^\s*#\s*(NBVAL_[A-Z_]+)", re.MULTILINE)


def read_sanitize(path: Path = SANITIZE_FILE) -> list[tuple[str, str]]:
    """The ``regex:``/``replace:`` pairs of a sanitize file (nbval's format)."""
    if not path.is_file():
        raise FileNotFoundError(f"no sanitize file at {path}")
    return re.findall(r"^regex: (.*)$\n^replace: (.*)$", path.read_text(), flags=re.MULTILINE)


def cell_mode(cell: Any) -> str:
    """``"compare"``, ``"ignore"`` (run, outputs not compared) or ``"skip"`` (not run), from the
    cell's nbval marker comment. A marker this module does not know raises ``ValueError``, so a
    notebook cannot ask for a check that one of the two passes would not make."""
    source = cell.get("source", "")
    for marker in OTHER_MARKER.findall(source):
        if marker not in ("NBVAL_IGNORE_OUTPUT", "NBVAL_SKIP"):
            raise ValueError(f"{marker} is not supported by scripts/nbcompare.py")
    if SKIP_CELL.search(source):
        return "skip"
    return "ignore" if IGNORE_OUTPUT.search(source) else "compare"


_CARRIAGE_RETURN = re.compile(r"^.*\r(?=[^\n])", re.MULTILINE)
_BACKSPACE = re.compile("[^\n]\x08")  # a character and the backspace after it


def coalesce_streams(outputs: Sequence[Any]) -> list[dict]:
    """Copies of ``outputs`` with each stream's pieces joined into one (the way a kernel splits
    a stream into messages varies) and carriage returns and backspaces applied, as a terminal
    would show them (progress bars)."""
    merged: list[dict] = []
    streams: dict[str, dict] = {}
    for out in outputs:
        out = copy.deepcopy(dict(out))
        if out.get("output_type") == "stream":
            text = out.get("text", "")
            text = "".join(text) if isinstance(text, list) else text
            if out.get("name") in streams:
                streams[out["name"]]["text"] += text
                continue
            out["text"] = text
            streams[out.get("name")] = out
        merged.append(out)
    for out in streams.values():
        text = out["text"]
        while True:
            shorter = _BACKSPACE.sub("", text)
            if shorter == text:
                break
            text = shorter
        out["text"] = _CARRIAGE_RETURN.sub("", text)
    return merged


def _flatten(
    outputs: Sequence[Any], sanitize: Sequence[tuple[str, str]], skip: Sequence[str]
) -> dict[str, list[Any]]:
    """Every compared field of ``outputs``, keyed by MIME type or stream name, in order."""

    def clean(value: Any) -> Any:
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            value = "".join(value)
        if isinstance(value, str):
            for regex, replace in sanitize:
                value = re.sub(regex, replace, value)
        return value

    fields: dict[str, list[Any]] = {}
    for out in outputs:
        if out.get("output_type") == "stream":
            key, text = out.get("name", "stdout"), clean(out.get("text", ""))
            if key not in skip and text:  # a stream the sanitizing emptied counts as none
                fields.setdefault(key, []).append(text)
            continue
        for key, value in out.items():
            if key in skip:
                continue
            if key == "data":
                for mime, content in value.items():
                    if mime not in skip:
                        fields.setdefault(mime, []).append(clean(content))
            else:
                fields.setdefault(key, []).append(clean(value))
    return fields


def compare_outputs(
    stored: Sequence[Any],
    fresh: Sequence[Any],
    tolerance: Mapping[str, Any] | None = None,
    *,
    sanitize: Sequence[tuple[str, str]] = (),
    skip: Sequence[str] = SKIP,
) -> list[str]:
    """What differs between a cell's stored and fresh outputs; ``[]`` when they agree.

    ``tolerance``: the cell's declaration (its ``"tolerance"`` metadata), or None. ``sanitize``:
    regex replacements applied to both sides first (:func:`read_sanitize`). Neither argument list
    is changed. Each problem is a short text that says what differs, with both values.
    """
    stored, fresh = coalesce_streams(stored), coalesce_streams(fresh)
    problems: list[str] = []
    if tolerance:
        try:
            parse_spec(tolerance)
        except ValueError as err:
            return [f"invalid tolerance metadata: {err}"]
        _drop_html_twins(stored)
        _drop_html_twins(fresh)
        declaration, _ = reconcile(stored, fresh, tolerance)
        problems += declaration
        problems += [
            f"tolerance {k!r}: declared, but no stored output has it"
            for k in declared_keys_missing(stored, tolerance)
        ]
    ref, new = _flatten(stored, sanitize, skip), _flatten(fresh, sanitize, skip)
    if set(ref) - set(new):
        problems.append(f"missing output fields from the fresh run: {sorted(set(ref) - set(new))}")
    if set(new) - set(ref):
        problems.append(f"unexpected output fields in the fresh run: {sorted(set(new) - set(ref))}")
    for key in (k for k in ref if k in new):
        if len(ref[key]) != len(new[key]):
            problems.append(
                f"{key}: {len(ref[key])} stored output(s), {len(new[key])} in the fresh run"
            )
            continue
        for a, b in zip(ref[key], new[key], strict=True):
            if a != b:
                problems.append(f"{key} differs:\n{_diff(a, b)}")
                break
    return problems


def _diff(stored: Any, fresh: Any, context: int = 1, limit: int = 40) -> str:
    """The lines that differ (``-`` stored, ``+`` fresh), cut to ``limit`` lines."""
    import difflib

    if not (isinstance(stored, str) and isinstance(fresh, str)):
        return f"- {stored!r}\n+ {fresh!r}"
    lines = list(
        difflib.unified_diff(
            stored.splitlines(), fresh.splitlines(), "stored", "fresh", n=context, lineterm=""
        )
    )[2:]
    if len(lines) > limit:
        lines = [*lines[:limit], f"... ({len(lines) - limit} more diff lines)"]
    return "\n".join(lines)


@dataclass(frozen=True)
class CellDifference:
    index: int  # the cell's position in the notebook
    cell_id: str
    problems: tuple[str, ...]

    def __str__(self) -> str:
        return f"cell {self.index} ({self.cell_id}): " + "\n".join(self.problems)


def compare_notebooks(
    stored: Any,
    fresh: Any,
    *,
    sanitize: Sequence[tuple[str, str]] = (),
    skip: Sequence[str] = SKIP,
) -> list[CellDifference]:
    """Compare every code cell of a freshly executed notebook with the stored one (both
    ``nbformat`` notebooks with the same cells, in the same order): ``[]`` when all agree.

    A cell that raised in the fresh run is reported whatever its marker.
    """
    stored_cells = [c for c in stored.cells if c.cell_type == "code"]
    fresh_cells = [c for c in fresh.cells if c.cell_type == "code"]
    if [c.source for c in stored_cells] != [c.source for c in fresh_cells]:
        return [CellDifference(-1, "-", ("the two notebooks do not have the same code cells",))]
    positions = {id(c): i for i, c in enumerate(stored.cells)}
    found: list[CellDifference] = []
    for ref, new in zip(stored_cells, fresh_cells, strict=True):
        errors = [o for o in new.get("outputs", []) if o.get("output_type") == "error"]
        mode = cell_mode(ref)
        if errors:
            problems: list[str] = [f"raised {e.get('ename')}: {e.get('evalue')}" for e in errors]
        elif mode != "compare":
            continue
        else:
            problems = compare_outputs(
                ref.get("outputs", []),
                new.get("outputs", []),
                ref.get("metadata", {}).get(METADATA_KEY),
                sanitize=sanitize,
                skip=skip,
            )
        if problems:
            found.append(CellDifference(positions[id(ref)], ref.get("id", "?"), tuple(problems)))
    return found
