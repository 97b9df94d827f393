"""The one output comparison of both passes (scripts/nbcompare.py): what it lets through and what
it catches, on hand-made outputs and on the stored CNN notebook, through nbval (pass a) and through
the Colab emulation's comparison step (pass b)."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import colab_check
import nbformat
import pytest
from nbcompare import (
    SKIP,
    cell_mode,
    coalesce_streams,
    compare_notebooks,
    compare_outputs,
    read_sanitize,
)
from nbtools import ROOT

CNN = ROOT / "chapters" / "mnist" / "cnn.ipynb"


def stream(text: str, name: str = "stdout") -> nbformat.NotebookNode:
    return nbformat.v4.new_output("stream", name=name, text=text)


def result(plain: str, **more: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_output("execute_result", data={"text/plain": plain, **more})


# ----------------------------------------------------------------------------- hand-made outputs


def test_identical_outputs_agree_and_a_changed_word_does_not() -> None:
    stored = [stream("loss: 0.25\n"), result("array([1, 2])")]
    assert compare_outputs(stored, copy.deepcopy(stored)) == []
    problems = compare_outputs(stored, [stream("los: 0.25\n"), result("array([1, 2])")])
    assert len(problems) == 1 and "stdout differs" in problems[0]
    assert "-loss: 0.25" in problems[0] and "+los: 0.25" in problems[0]


def test_a_number_without_a_declaration_is_exact() -> None:
    stored = [stream("parameters: 421,930\n")]
    assert compare_outputs(stored, [stream("parameters: 421,931\n")]) != []


def test_a_declared_tolerance_admits_a_small_move_and_not_a_large_one() -> None:
    stored, spec = [stream("test accuracy: 0.9945\n")], {"test accuracy": 0.002}
    assert compare_outputs(stored, [stream("test accuracy: 0.9930\n")], spec) == []
    assert compare_outputs(stored, [stream("test accuracy: 0.9995\n")], spec) != []


def test_stderr_and_images_are_not_compared_but_their_absence_of_stdout_is() -> None:
    stored = [stream("ok\n"), stream("Epoch 1/3 ... 12 s\n", "stderr")]
    fresh = [stream("ok\n"), stream("Epoch 1/3 ... 14 s\n", "stderr")]
    assert compare_outputs(stored, fresh) == []
    plot = nbformat.v4.new_output("display_data", data={"image/png": "AAAA", "text/plain": "F"})
    other = nbformat.v4.new_output("display_data", data={"image/png": "BBBB", "text/plain": "F"})
    assert compare_outputs([plot], [other]) == []
    assert "image/png" in SKIP and "stderr" in SKIP
    problems = compare_outputs(stored, [stream("Epoch 1/3\n", "stderr")])
    assert problems and "stdout" in problems[0]  # the missing stdout is reported


def test_a_missing_or_extra_output_is_reported() -> None:
    stored = [stream("a\n"), result("1")]
    assert compare_outputs(stored, [stream("a\n")]) != []
    assert compare_outputs(stored, [*stored, result("2")]) != []


def test_streams_are_joined_and_carriage_returns_applied() -> None:
    pieces = [stream("10%\r50%\r100%\n"), stream("done\n")]
    assert coalesce_streams(pieces) == [
        {"output_type": "stream", "name": "stdout", "text": "100%\ndone\n"}
    ]
    assert pieces[0]["text"] == "10%\r50%\r100%\n"  # the caller's outputs are left alone
    assert compare_outputs([stream("100%\ndone\n")], pieces) == []
    assert coalesce_streams([stream("ab\x08c words\n")])[0]["text"] == "ac words\n"


def test_sanitize_rules_apply_to_both_sides() -> None:
    rules = read_sanitize()
    assert ("0x[0-9a-fA-F]{6,}", "0xADDRESS") in rules
    stored, fresh = [result("<obj at 0x7f3a2b1c9d00>")], [result("<obj at 0x7f00deadbeef>")]
    assert compare_outputs(stored, fresh) != []
    assert compare_outputs(stored, fresh, sanitize=rules) == []
    with pytest.raises(FileNotFoundError, match="no sanitize file"):
        read_sanitize(ROOT / "tests" / "no_such.cfg")


def test_an_invalid_declaration_fails_the_cell() -> None:
    stored = [stream("acc: 0.5\n")]
    assert "invalid tolerance" in compare_outputs(stored, stored, {"acc": -1})[0]
    assert "no stored output has it" in compare_outputs(stored, stored, {"loss": 0.1})[0]


def test_cell_markers() -> None:
    assert cell_mode({"source": "x = 1"}) == "compare"
    assert cell_mode({"source": "# NBVAL_IGNORE_OUTPUT\nx = 1"}) == "ignore"
    assert cell_mode({"source": "# NBVAL_SKIP\nx = 1"}) == "skip"
    with pytest.raises(ValueError, match="NBVAL_RAISES_EXCEPTION is not supported"):
        cell_mode({"source": "# NBVAL_RAISES_EXCEPTION\n1/0"})


def test_notebooks_compare_cell_by_cell_and_errors_always_count() -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# title"),
        nbformat.v4.new_code_cell("print(1)", outputs=[stream("1\n")]),
        nbformat.v4.new_code_cell("# NBVAL_IGNORE_OUTPUT\nprint(t)", outputs=[stream("3 s\n")]),
    ]
    fresh = copy.deepcopy(nb)
    fresh.cells[2].outputs = [stream("4 s\n")]
    assert compare_notebooks(nb, fresh) == []
    fresh.cells[1].outputs = [stream("2\n")]
    (difference,) = compare_notebooks(nb, fresh)
    assert difference.index == 1
    fresh.cells[1].outputs = [stream("1\n")]
    fresh.cells[2].outputs = [nbformat.v4.new_output("error", ename="NameError", evalue="t")]
    (difference,) = compare_notebooks(nb, fresh)
    assert difference.index == 2 and "NameError" in difference.problems[0]
    fresh.cells[1].source = "print(2)"
    assert "not have the same code cells" in str(compare_notebooks(nb, fresh)[0])


# ----------------------------------------------------------------------------- the CNN notebook


def prints_accuracy(output: dict) -> bool:
    return any(line.startswith("test accuracy: ") for line in output.get("text", "").splitlines())


def accuracy_cell(nb: nbformat.NotebookNode) -> int:
    """The cell that prints the CNN's test accuracy."""
    (index,) = [
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and any(prints_accuracy(o) for o in c.outputs)
    ]
    return index


def moved(nb: nbformat.NotebookNode, change: str) -> nbformat.NotebookNode:
    """A copy of the stored CNN notebook as if a fresh run had printed something else:
    ``"accuracy"``: the test accuracy 0.005 higher; ``"within"``: 0.001 higher (inside its
    declared tolerance of 0.0013); ``"word"``: one word changed."""
    fresh = copy.deepcopy(nb)
    cell = fresh.cells[accuracy_cell(fresh)]
    out = next(o for o in cell.outputs if prints_accuracy(o))
    head, _, value = out.text.rstrip("\n").rpartition("test accuracy: ")
    if change in ("accuracy", "within"):
        step = 0.005 if change == "accuracy" else 0.001
        out.text = f"{head}test accuracy: {float(value) + step:.4f}\n"
    else:
        out.text = out.text.replace("training accuracy", "training acuracy")
        assert out.text != next(o for o in nb.cells[accuracy_cell(nb)].outputs if "text" in o).text
    return fresh


@pytest.mark.parametrize("change", ["accuracy", "word"])
def test_pass_b_fails_when_the_cnn_accuracy_moves_or_a_word_changes(change: str) -> None:
    stored = nbformat.read(CNN, as_version=4)
    assert colab_check.compare_with_stored(CNN, copy.deepcopy(stored)) == []
    assert colab_check.compare_with_stored(CNN, moved(stored, "within")) == []
    (difference,) = colab_check.compare_with_stored(CNN, moved(stored, change))
    assert difference.index == accuracy_cell(stored)


def replaying_notebook(cell: nbformat.NotebookNode, path: Path) -> Path:
    """A one-cell notebook that stores ``cell``'s outputs and, run, prints the stored CNN cell's
    outputs again (so that a fresh run equals the stored one exactly)."""
    code = textwrap.dedent(
        f"""
        import json
        from IPython.display import display
        for out in json.loads({json.dumps(json.dumps(cell.outputs))}):
            if out["output_type"] == "stream":
                print(out["text"], end="")
            else:
                display(out["data"], raw=True, metadata=out.get("metadata", {{}}))
        """
    )
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    stored_cell = nbformat.v4.new_code_cell(code, metadata=copy.deepcopy(cell.metadata))
    stored_cell.outputs, stored_cell.execution_count = copy.deepcopy(cell.outputs), 1
    nb.cells = [stored_cell]
    nbformat.write(nb, path)
    return path


def nbval(path: Path) -> subprocess.CompletedProcess:
    (path.parent / "conftest.py").write_text(
        textwrap.dedent(
            f"""
            import sys
            sys.path[:0] = [{str(ROOT / "scripts")!r}, {str(ROOT / "tests")!r}]
            pytest_plugins = ["nbval_tolerance"]
            """
        )
    )
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    command += ["--nbval", "--nbval-current-env", str(path)]
    return subprocess.run(command, cwd=path.parent, capture_output=True, text=True)


def test_pass_a_fails_when_the_cnn_accuracy_moves_or_a_word_changes(tmp_path: Path) -> None:
    """nbval with the plugin, on the CNN's accuracy cell: the stored outputs replayed pass, and so
    does a move within the declared tolerance; with the accuracy 0.005 higher, or a word changed,
    it fails."""
    stored = nbformat.read(CNN, as_version=4)
    index = accuracy_cell(stored)
    same = nbval(replaying_notebook(stored.cells[index], tmp_path / "same.ipynb"))
    assert same.returncode == 0, same.stdout[-2000:]
    for change, expected in (("within", 0), ("accuracy", 1), ("word", 1)):
        # the fresh run prints the stored outputs; the notebook stores the moved ones
        fresh = moved(stored, change).cells[index]
        path = replaying_notebook(stored.cells[index], tmp_path / f"{change}.ipynb")
        nb = nbformat.read(path, as_version=4)
        nb.cells[0].outputs = fresh.outputs
        nbformat.write(nb, path)
        run = nbval(path)
        assert run.returncode == expected, f"{change}: {run.stdout[-2000:]}"
        assert ("stdout differs" in run.stdout) == bool(expected)


def test_colab_rules_normalise_only_what_they_name() -> None:
    rules = colab_check.sanitize_rules()
    notice = stream("Downloading data from https://example.org/mnist.npz\n")
    # the download notice alone: the fresh run's extra stdout counts as none
    assert compare_outputs([], [notice], sanitize=rules) == []
    assert compare_outputs([], [notice]) != []  # not without the rules
    # beside other output only the notice goes; the rest is still compared
    assert compare_outputs([stream("ok\n")], [stream(notice.text + "ok\n")], sanitize=rules) == []
    assert compare_outputs([stream("ok\n")], [stream(notice.text + "OK\n")], sanitize=rules) != []
    series = "a    x\nName: kind, dtype: {}"
    stored, fresh = [result(series.format("str"))], [result(series.format("object"))]
    assert compare_outputs(stored, fresh, sanitize=rules) == []
    assert compare_outputs(stored, [result(series.format("int64"))], sanitize=rules) != []


def record(value: float, low: float, high: float, interval: str = "95% bootstrap interval") -> dict:
    text = json.dumps(
        {
            "name": "margin",
            "label": "GPT margin",
            "value": value,
            "low": low,
            "high": high,
            "n": 345,
            "unit": "",
            "interval": interval,
        }
    )
    return nbformat.v4.new_output(
        "display_data",
        data={"application/papermill.record/text/plain": text},
        metadata={"scrapbook": {"name": "result_margin"}},
    )


def test_a_result_record_is_compared_with_the_tolerances_of_its_printed_line() -> None:
    """value, low and high within the tolerances of the line `report` prints; the rest exact."""
    spec = {"GPT margin": [0.088, 0.089, 0.089, None, None]}
    line = stream("GPT margin: 0.399 [0.363, 0.433] (95% bootstrap interval, n = 345 items)\n")
    moved = stream("GPT margin: 0.441 [0.407, 0.475] (95% bootstrap interval, n = 345 items)\n")
    stored = [line, record(0.399, 0.363, 0.433)]
    assert compare_outputs(stored, [moved, record(0.441, 0.407, 0.475)], spec) == []
    assert (
        compare_outputs(stored, [moved, record(0.441, 0.407, 0.575)], spec) != []
    )  # high moved 0.142
    changed = record(0.441, 0.407, 0.475, "95% Wilson interval")
    assert compare_outputs(stored, [moved, changed], spec) != []  # a word of the record
    assert compare_outputs(stored, [moved, record(0.441, 0.407, 0.475)]) != []  # no declaration
