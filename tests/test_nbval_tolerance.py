"""The tolerance rules of the output comparison (scripts/nbcompare.py): a number declared with a
tolerance passes within it and nothing else; the stored declarations are valid and measured.
End to end through nbval and the Colab emulation: tests/test_nbcompare.py."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import nbformat
import pytest
from nbcompare import (
    METADATA_KEY,
    cell_numbers,
    declared_keys_missing,
    line_label,
    numbers_in,
    parse_spec,
    reconcile,
)
from nbtools import ROOT, notebooks


def stream(text: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_output("stream", name="stdout", text=text)


def glued(name: str, text: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_output(
        "display_data",
        data={"application/papermill.record/text/plain": text},
        metadata={"scrapbook": {"name": name, "mime_prefix": "application/papermill.record/"}},
    )


def merged(ref_text: str, new_text: str, spec: dict) -> str:
    fresh = [stream(new_text)]
    problems, _ = reconcile([stream(ref_text)], fresh, spec)
    assert not problems, problems
    return fresh[0]["text"]


def test_numbers_and_labels() -> None:
    line = "median of epochs 2-5: 5.6 s (10,637 images per second)"
    found = numbers_in(line)
    assert [n.text for n in found] == ["2", "5", "5.6", "10,637"]  # "2-5" is a range, not -5
    assert found[3].value == 10637.0
    assert line_label(line, found) == "median of epochs"
    assert [n.text for n in numbers_in("dense0.W  x = -0.25, 1e-09")] == ["-0.25", "1e-09"]
    assert numbers_in("4e+04")[0].last_digit == 1e4
    assert numbers_in("0.993")[0].last_digit == pytest.approx(1e-3)


def test_a_value_within_its_tolerance_passes() -> None:
    assert merged("test accuracy: 0.993\n", "test accuracy: 0.991\n", {"test accuracy": 0.001}) == (
        "test accuracy: 0.993\n"  # 0.002 <= 0.001 + one unit in the last digit
    )


def test_a_value_moved_past_its_tolerance_fails() -> None:
    out = merged("test accuracy: 0.993\n", "test accuracy: 0.983\n", {"test accuracy": 0.0045})
    assert out == "test accuracy: 0.983\n"  # left as it is, so nbval's exact comparison fails


def test_a_changed_word_still_fails() -> None:
    out = merged("test accuracy: 0.993\n", "test accurcy: 0.992\n", {"test accuracy": 0.0045})
    assert out != "test accuracy: 0.993\n"
    out = merged(
        "top pair: 7 -> 2, 0.993\n", "top pair: 4 -> 9, 0.993\n", {"top pair": [0, 0, 0.1]}
    )
    assert out == "top pair: 4 -> 9, 0.993\n"  # categories under a zero tolerance stay exact


def test_numbers_without_a_declaration_stay_exact() -> None:
    ref = "test accuracy: 0.993\nparameters: 421,930\n"
    new = "test accuracy: 0.992\nparameters: 421,931\n"
    assert (
        merged(ref, new, {"test accuracy": 0.0045}) == "test accuracy: 0.993\nparameters: 421,931\n"
    )


def test_table_layout_may_shift_but_words_may_not() -> None:
    ref = "       p_label  margin\nimage 2654   0.00    1.00\n"
    new = "       p_label margin\nimage 2654    0.0     1.0\n"
    spec = {"image": [None, 0.02, 0.02]}
    assert merged(ref, new, spec) == ref
    assert merged(ref, new.replace("margin", "margins"), spec) != ref
    assert merged(ref, new.replace("2654", "2655"), spec) != ref


def test_numbered_keys_give_rows_with_one_label_their_own_tolerance() -> None:
    ref = "digit 0  0.990\ndigit 1  0.980\ndigit 2  0.970\n"
    spec = {"digit": [None, 0.001], "digit@2": [None, 0.02]}
    # the second row has its own, wider tolerance; the first and third fall back to "digit"
    assert merged(ref, "digit 0  0.991\ndigit 1  0.995\ndigit 2  0.971\n", spec) == ref
    assert merged(ref, "digit 0  0.991\ndigit 1  0.980\ndigit 2  0.960\n", spec) != ref
    assert declared_keys_missing([stream(ref)], {**spec, "digit@3": 0.1}) == []
    assert declared_keys_missing([stream(ref)], {"digit@4": 0.1}) == ["digit@4"]


def test_a_list_gives_one_tolerance_per_number_and_null_is_exact() -> None:
    ref = "no remedy   60   1.000   0.895\n"
    assert (
        merged(ref, "no remedy   60   0.999   0.899\n", {"no remedy": [None, 0.002, 0.01]}) == ref
    )
    moved = "no remedy   61   0.999   0.899\n"  # 60 -> 61 under a null (exact) entry
    assert merged(ref, moved, {"no remedy": [None, 0.002, 0.01]}) == moved
    moved = "no remedy   60   0.990   0.899\n"  # 1.000 -> 0.990, past 0.002
    assert merged(ref, moved, {"no remedy": [None, 0.002, 0.01]}) == moved


def test_a_single_tolerance_cannot_cover_a_line_of_several_numbers() -> None:
    fresh = [stream("no remedy   60   1.000   0.899\n")]
    problems, _ = reconcile(
        [stream("no remedy   60   1.000   0.895\n")], fresh, {"no remedy": 0.01}
    )
    assert problems and "3 numbers" in problems[0]
    assert fresh[0]["text"].endswith("0.899\n")


def test_a_declaration_that_names_nothing_is_reported() -> None:
    ref = [stream("test accuracy: 0.993\n"), glued("acc", "99.3")]
    assert declared_keys_missing(ref, {"test accuracy": 0.1, "glue:acc": 0.4}) == []
    assert declared_keys_missing(ref, {"validation accuracy": 0.1}) == ["validation accuracy"]
    assert declared_keys_missing(ref, {"glue:other": 0.1}) == ["glue:other"]


def test_glued_values_by_name() -> None:
    ref, fresh = [glued("acc", "99.3")], [glued("acc", "99.1")]
    reconcile(ref, fresh, {"glue:acc": 0.2})
    assert fresh[0]["data"]["application/papermill.record/text/plain"] == "99.3"
    fresh = [glued("acc", "98.3")]
    reconcile(ref, fresh, {"glue:acc": 0.2})
    assert fresh[0]["data"]["application/papermill.record/text/plain"] == "98.3"
    other = [glued("other", "99.1")]
    reconcile([glued("other", "99.3")], other, {"glue:acc": 0.2})
    assert other[0]["data"]["application/papermill.record/text/plain"] == "99.1"


def test_bad_metadata_is_rejected() -> None:
    for bad in ({"x": -1}, {"x": "0.1"}, {"": 0.1}, {"x": [0.1, "a"]}):
        with pytest.raises(ValueError):
            parse_spec(bad)


def test_cell_numbers_keys_match_the_plugin() -> None:
    cell = nbformat.v4.new_code_cell("")
    cell.outputs = [stream("acc: 0.5\nacc: 0.6\nrow  1  2\n"), glued("g", "3.5")]
    assert cell_numbers(cell) == {
        "acc#0": 0.5,
        "acc@2#0": 0.6,
        "row#0": 1.0,
        "row#1": 2.0,
        "glue:g": 3.5,
    }


# The stored notebooks: every declaration is well formed and names a value the cell prints, and
# matches what benchmarks/seed_spread.py measured.
DECLARING = [
    (path, i)
    for path in notebooks()
    for i, cell in enumerate(nbformat.read(path, as_version=4).cells)
    if cell.cell_type == "code" and cell.metadata.get(METADATA_KEY)
]


@pytest.mark.parametrize(
    "path,index", DECLARING, ids=[f"{p.relative_to(ROOT).as_posix()}:{i}" for p, i in DECLARING]
)
def test_stored_declarations_are_valid_and_measured(path: Path, index: int) -> None:
    cell = nbformat.read(path, as_version=4).cells[index]
    spec = parse_spec(cell.metadata[METADATA_KEY])
    assert declared_keys_missing(cell.outputs, spec) == []
    problems, used = reconcile(cell.outputs, copy.deepcopy(cell.outputs), spec)
    assert problems == [] and used == set(spec)
    spread = json.loads((ROOT / "benchmarks" / "seed_spread.json").read_text())
    measured = spread[path.relative_to(ROOT).as_posix()]["cells"].get(cell.id)
    assert measured, "a tolerance without a seed-spread measurement: run benchmarks/seed_spread.py"
    assert len(spread[path.relative_to(ROOT).as_posix()]["seeds"]) >= 5


def test_a_one_point_move_in_a_headline_accuracy_fails() -> None:
    """The four headline accuracies: a move of one percentage point must fail the comparison."""
    headlines = {
        "chapters/mnist/baseline.ipynb": "glue:test_acc_pct",
        "chapters/mnist/fast_mlp.ipynb": "glue:tuned_acc_pct",
        "chapters/mnist/cnn.ipynb": "glue:test_acc_pct",
        "chapters/backprop/numpy_mlp_mnist.ipynb": "glue:numpy_test_accuracy",
    }
    for rel, key in headlines.items():
        nb = nbformat.read(ROOT / rel, as_version=4)
        cells = [c for c in nb.cells if key in c.metadata.get(METADATA_KEY, {})]
        assert len(cells) == 1, f"{rel}: {key} has no declared tolerance"
        (cell,) = cells
        name = key.removeprefix("glue:")
        (out,) = [
            o
            for o in cell.outputs
            if o.get("metadata", {}).get("scrapbook", {}).get("name") == name
        ]
        text = out["data"]["application/papermill.record/text/plain"]
        decimals = len(text.partition(".")[2])
        moved = f"{float(text) - 1.0:.{decimals}f}"  # one point lower, printed the same way
        fresh = [copy.deepcopy(out)]
        fresh[0]["data"]["application/papermill.record/text/plain"] = moved
        reconcile([out], fresh, cell.metadata[METADATA_KEY])
        assert fresh[0]["data"]["application/papermill.record/text/plain"] == moved, (
            f"{rel}: a one-point move of {key} would pass its tolerance"
        )
