"""The conventions every notebook of the book keeps (see README.md and scripts/nbtools.py).

These run on the stored notebooks, without executing them; nbval (``make test``) executes them.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest
import yaml
from nbtools import (
    KERNELSPEC,
    ROOT,
    SETUP_CELL_METADATA,
    TENSORFLOW_CELL,
    colab_url,
    normalise,
    repository_url,
    setup_cell_source,
    toc_files,
)

ALL_NOTEBOOKS = sorted(
    p for p in (ROOT / "chapters").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts
)
IDS = [p.relative_to(ROOT).as_posix() for p in ALL_NOTEBOOKS]
# Things that must never appear in a stored output: machine-specific paths and user names.
LEAKS = re.compile(r"(/work/|/root\b|/home/|/Users/|/tmp/|site-packages|\\Users\\|C:\\)")
# Code that trains networks: such notebooks ask Colab for a GPU. The book trains with Keras'
# `.fit(`, `mnist_lib.training.train(` and `mnist_lib.nn.train(`.
TRAINS = re.compile(r"\.fit\(|(?<![\w.])train\(|\bnn\.train\(")
# Code that loads TensorFlow: Keras or TensorFlow themselves, or the library modules built on them.
USES_TENSORFLOW = re.compile(
    r"^\s*(?:import|from)\s+(?:keras|tensorflow)\b"
    r"|^\s*from\s+(?:mnist_lib\.(?:training|models|recipes)|tiny_gpt\.model)\s+import"
    r"|^\s*from\s+mnist_lib\s+import\s+.*\b(?:training|models|recipes)\b"
    r"|^\s*from\s+tiny_gpt\s+import\s+.*\bmodel\b",
    re.M,
)


def load(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def code_cells(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [c for c in nb.cells if c.cell_type == "code"]


def output_text(output: dict) -> str:
    if output.get("output_type") == "stream":
        return output.get("text", "")
    if output.get("output_type") == "error":
        return "\n".join(output.get("traceback", []))
    data = output.get("data", {})
    return "\n".join(v for k, v in data.items() if k.startswith("text/") and isinstance(v, str))


def test_there_are_notebooks() -> None:
    assert ALL_NOTEBOOKS, "no notebooks found under chapters/"


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=IDS)
def test_kernelspec_and_metadata_are_normalised(path: Path) -> None:
    nb = load(path)
    assert nb.metadata.get("kernelspec") == KERNELSPEC
    expected = normalise(load(path))
    assert nb.metadata == expected.metadata, "run `make execute NB=...` to normalise the metadata"
    for i, cell in enumerate(nb.cells):
        assert set(cell.metadata) <= {"tags", "tolerance", "mystnb"}, (
            f"cell {i} carries editor metadata {sorted(cell.metadata)}"
        )


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=IDS)
def test_first_code_cell_is_the_setup_cell(path: Path) -> None:
    nb = load(path)
    cells = code_cells(nb)
    assert cells, "a notebook without code"
    assert cells[0].source == setup_cell_source(), (
        "the first code cell must be the shared setup cell, byte for byte (scripts/nbtools.py)"
    )
    assert sum(c.source == setup_cell_source() for c in cells) == 1
    assert cells[0].metadata == SETUP_CELL_METADATA, (
        "the setup cell is collapsed on the page behind one line (scripts/nbtools.py "
        "SETUP_CELL_METADATA): run `make execute NB=...` to normalise it"
    )
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# "), (
        "open with a markdown title cell that says what the notebook does and why"
    )


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=IDS)
def test_executed_in_order_without_errors(path: Path) -> None:
    cells = code_cells(load(path))
    counts = [c.execution_count for c in cells]
    assert counts == list(range(1, len(cells) + 1)), (
        f"execution counts {counts}: re-execute top to bottom with `make execute NB={path.relative_to(ROOT)}`"
    )
    for i, cell in enumerate(cells):
        for output in cell.outputs:
            assert output.output_type != "error", f"code cell {i} stored an error output"


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=IDS)
def test_no_machine_paths_or_user_names_in_outputs(path: Path) -> None:
    for i, cell in enumerate(code_cells(load(path))):
        for output in cell.outputs:
            match = LEAKS.search(output_text(output))
            assert match is None, f"code cell {i} output contains {match.group(0)!r}"


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=IDS)
def test_figures_are_shown_with_plt_show(path: Path) -> None:
    for i, cell in enumerate(code_cells(load(path))):
        last = cell.source.rstrip().splitlines()[-1] if cell.source.strip() else ""
        assert not (last.endswith(";") and "plt" in cell.source), (
            f"code cell {i} ends with ';' to hide a figure's repr: use plt.show() (nbval runs cells without history)"
        )


def check_gpu_metadata(nb: nbformat.NotebookNode) -> bool:
    """Fail if the notebook trains without asking Colab for a GPU; return whether it trains."""
    trains = any(TRAINS.search(c.source) for c in code_cells(nb))
    if trains:
        assert nb.metadata.get("accelerator") == "GPU", (
            "a training notebook needs Colab GPU metadata"
        )
    return trains


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=IDS)
def test_notebooks_ask_for_the_gpu_and_the_tensorflow_they_use(path: Path) -> None:
    """A training notebook asks Colab for a GPU; a TensorFlow notebook sets TensorFlow up first
    (and only such a notebook does)."""
    nb = load(path)
    check_gpu_metadata(nb)
    check_tensorflow_is_asked_for(nb)


@pytest.mark.parametrize(
    "code",
    [
        "result = train(models.baseline_mlp, x, y, config)",
        "history = nn.train(model, x, y, epochs=10, seed=SEED)",
        "model.fit(x, y, epochs=5)",
    ],
)
def test_the_gpu_check_sees_real_training_calls(code: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(code)]
    with pytest.raises(AssertionError, match="GPU metadata"):
        check_gpu_metadata(nb)
    normalise(nb, gpu=True)
    assert check_gpu_metadata(nb)
    nb.cells = [nbformat.v4.new_code_cell("config = TrainConfig(epochs=5)  # no training here")]
    normalise(nb, gpu=False)
    assert not check_gpu_metadata(nb)


def test_every_training_notebook_is_recognised() -> None:
    trainers = {p.name for p in ALL_NOTEBOOKS if check_gpu_metadata(load(p))}
    assert {
        "baseline.ipynb",
        "cnn.ipynb",
        "numpy_mlp_mnist.ipynb",
        "data_quality.ipynb",
    } <= trainers


def test_every_notebook_is_in_the_toc_and_every_toc_entry_exists() -> None:
    entries = toc_files()
    assert len(entries) == len(set(entries)), "duplicate _toc.yml entries"
    for entry in entries:
        matches = [
            ROOT / f"{entry}{ext}" for ext in (".md", ".ipynb") if (ROOT / f"{entry}{ext}").exists()
        ]
        assert len(matches) == 1, (
            f"_toc.yml entry {entry!r} must match exactly one .md or .ipynb file"
        )
    listed = {ROOT / f"{e}.ipynb" for e in entries}
    missing = [p.relative_to(ROOT).as_posix() for p in ALL_NOTEBOOKS if p not in listed]
    assert not missing, f"notebooks not in _toc.yml: {missing}"


def test_colab_url_is_the_notebook_on_github_at_the_configured_branch() -> None:
    """One notebook's URL, written out by hand; the built pages are checked against colab_url by
    tests/test_browser.py and tests/test_colab_readiness.py."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    expected = (
        "https://colab.research.google.com/github/"
        + repository_url().removeprefix("https://github.com/")
        + f"/blob/{config['repository']['branch']}/chapters/mnist/cnn.ipynb"
    )
    assert colab_url(ROOT / "chapters" / "mnist" / "cnn.ipynb") == expected
    assert colab_url("chapters/mnist/cnn.html") == expected
    assert colab_url("chapters/mnist/cnn") == expected


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=IDS)
def test_glued_numbers_render_as_plain_numbers(path: Path) -> None:
    """myst-nb formats glued values from their text repr; NumPy 2 scalars repr as ``np.float64(...)``,
    which it cannot format. Glue ``float(x)`` / ``int(x)`` instead."""
    for i, cell in enumerate(code_cells(load(path))):
        for output in cell.outputs:
            if "scrapbook" not in output.get("metadata", {}):
                continue
            for key, value in output.get("data", {}).items():
                if key.endswith("text/plain"):
                    assert not str(value).startswith("np."), (
                        f"code cell {i} glues {output.metadata['scrapbook']['name']!r} as {value!r}"
                    )


def check_tensorflow_is_asked_for(nb: nbformat.NotebookNode) -> bool:
    """Fail unless a notebook that loads TensorFlow sets it up first, in the cell right after the
    setup cell, and a notebook that does not load it leaves it alone; return whether it loads it."""
    cells = code_cells(nb)
    uses = any(USES_TENSORFLOW.search(c.source) for c in cells[1:])
    asks = len(cells) > 1 and cells[1].source == TENSORFLOW_CELL
    if uses:
        assert asks, (
            "a notebook that uses TensorFlow runs nbtools.TENSORFLOW_CELL right after the setup cell"
        )
    else:
        assert not any("use_tensorflow" in c.source for c in cells), (
            "use_tensorflow in a notebook that does not use TensorFlow: a side effect nobody needs"
        )
    return uses


@pytest.mark.parametrize(
    ("cells", "problem"),
    [
        (["import keras"], "TENSORFLOW_CELL"),
        (["import tensorflow as tf"], "TENSORFLOW_CELL"),
        (["from mnist_lib.training import TrainConfig, train"], "TENSORFLOW_CELL"),
        (["from mnist_lib import load_mnist, models"], "TENSORFLOW_CELL"),
        (["from mnist_lib.recipes import TUNED_MLP"], "TENSORFLOW_CELL"),
        (["from tiny_gpt.model import GPTConfig, build_gpt"], "TENSORFLOW_CELL"),
        (["import numpy as np", TENSORFLOW_CELL, "import keras"], "TENSORFLOW_CELL"),  # too late
        ([TENSORFLOW_CELL, "import numpy as np"], "side effect"),
        ([TENSORFLOW_CELL, "import keras"], None),
        (["import numpy as np"], None),
    ],
)
def test_the_tensorflow_check_judges_real_cells(cells: list[str], problem: str | None) -> None:
    """Real imports that load TensorFlow need the set-up cell first; other notebooks must not run it."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in (setup_cell_source(), *cells)]
    if problem is None:
        check_tensorflow_is_asked_for(nb)
    else:
        with pytest.raises(AssertionError, match=problem):
            check_tensorflow_is_asked_for(nb)


# ------------------------------------------------------------------ bookkeeping out of sight

HIDDEN_INPUT = {"remove-input", "hide-input", "hide-cell", "remove-cell"}


def _bookkeeping(node: ast.stmt) -> bool:
    """A top-level statement that records or checks rather than teaches: a ``glue(...)`` or
    ``report(...)`` call, an ``assert``, or a loop that records (glue or report) and does nothing
    else than name values for it. A loop of checks alone can be the lesson (a worked example's
    gradients, checked), so it may stay in sight."""
    if isinstance(node, ast.Assert):
        return True
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        return getattr(node.value.func, "id", None) in ("glue", "report")
    if isinstance(node, ast.For):
        records = any(
            isinstance(b, ast.Expr) and isinstance(b.value, ast.Call) and _bookkeeping(b)
            for b in node.body
        )
        naming = all(
            _bookkeeping(b)
            or (isinstance(b, ast.Assign) and all(isinstance(t, ast.Name) for t in b.targets))
            for b in node.body
        )
        return records and naming
    return False


def visible_bookkeeping(nb: nbformat.NotebookNode) -> list[str]:
    """The bookkeeping statements of the code cells whose input the page shows."""
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or HIDDEN_INPUT & set(cell.metadata.get("tags", [])):
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:  # IPython magics: nothing to judge
            continue
        found += [
            f"cell {index}: {ast.get_source_segment(cell.source, node).splitlines()[0]}"
            for node in tree.body
            if _bookkeeping(node)
        ]
    return found


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=IDS)
def test_bookkeeping_is_out_of_the_readers_way(path: Path) -> None:
    """``glue``, result records and threshold ``assert``s run in a cell of their own, tagged
    ``remove-input``, right after the cell whose results they record: nbval still runs and
    compares it, and the page shows only the code it teaches. (An assert inside a loop that is
    part of the lesson, such as a worked example's check, stays where it is.)"""
    found = visible_bookkeeping(load(path))
    assert not found, (
        "move these into a cell tagged remove-input after the cell that computes them:\n  "
        + "\n  ".join(found)
    )


def test_the_bookkeeping_check_sees_bookkeeping() -> None:
    shown = nbformat.v4.new_code_cell(
        'acc = 0.9\nprint(acc)\nglue("acc", acc, display=False)\nassert acc > 0.5\n'
        'for k in ("a",):\n    glue(k, 1, display=False)\nfor k in ("a",):\n    print(k)'
    )
    hidden = nbformat.v4.new_code_cell('glue("acc", 1)', metadata={"tags": ["remove-input"]})
    found = visible_bookkeeping(nbformat.v4.new_notebook(cells=[shown, hidden]))
    assert found == [
        'cell 0: glue("acc", acc, display=False)',
        "cell 0: assert acc > 0.5",
        'cell 0: for k in ("a",):',
    ]
