"""A page shows the code it teaches, and the library holds the same definition (d2l's pattern).

Where a notebook defines, in a visible cell, a function that the package also provides for later
chapters and for the unit tests, the two must be the same code: this test compares the function's
source in the notebook's cells with ``inspect.getsource`` of the library's, so that neither can
drift from the other. Constants shared the same way must have the same value.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import textwrap
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]

# notebook: (module, functions defined on the page, constants defined on the page)
SHARED = {
    "chapters/roadmap/unit_economics.ipynb": (
        "compute_budget.economics",
        ("api_cost", "fleet_cost", "labelling_cost", "error_cost", "gross_margin"),
        ("HOURS_PER_MONTH",),
    ),
}


def page_definitions(notebook: Path) -> tuple[dict[str, str], dict[str, object]]:
    """The source of each top-level function, and the value of each literal constant, that the
    notebook's code cells define."""
    functions, constants = {}, {}
    for cell in nbformat.read(notebook, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:  # a cell with IPython magics defines nothing shared
            continue
        for node in tree.body:
            if isinstance(node, ast.FunctionDef):
                functions[node.name] = ast.get_source_segment(cell.source, node)
            elif isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
                if isinstance(target, ast.Name):
                    try:
                        constants[target.id] = ast.literal_eval(node.value)
                    except ValueError:
                        pass
    return functions, constants


CASES = [(nb, fn) for nb, (_, fns, _) in SHARED.items() for fn in fns]


@pytest.mark.parametrize("notebook,name", CASES)
def test_the_page_and_the_library_define_the_same_function(notebook: str, name: str) -> None:
    module_name, _, _ = SHARED[notebook]
    functions, _ = page_definitions(ROOT / notebook)
    assert name in functions, f"{notebook} no longer defines {name}(): update SHARED or the page"
    library = textwrap.dedent(
        inspect.getsource(getattr(importlib.import_module(module_name), name))
    )
    assert functions[name].strip() == library.strip(), (
        f"{name}() differs between {notebook} and {module_name}: copy the changed definition to "
        "the other place, so the page teaches the code the library runs"
    )


@pytest.mark.parametrize("notebook", list(SHARED))
def test_the_page_and_the_library_share_constants(notebook: str) -> None:
    module_name, _, names = SHARED[notebook]
    _, constants = page_definitions(ROOT / notebook)
    module = importlib.import_module(module_name)
    for name in names:
        assert constants.get(name) == getattr(module, name), f"{name} differs from {module_name}"


def test_a_changed_body_is_caught(tmp_path: Path) -> None:
    """The comparison is of the code, not just of the name: one changed character fails it."""
    source = inspect.getsource(importlib.import_module("compute_budget.economics").error_cost)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source.replace("1 -", "2 -"))])
    path = tmp_path / "page.ipynb"
    nbformat.write(nb, path)
    functions, _ = page_definitions(path)
    assert functions["error_cost"].strip() != textwrap.dedent(source).strip()


# notebook: (the function that builds the page's Keras model, the library's recipe that keeps it)
KERAS_MODELS = {
    "chapters/mnist/cnn.ipynb": ("build_cnn", "CNN"),
}


def _without_names(config: object) -> object:
    """A Keras config with every ``name`` left out: Keras numbers the names of the layers it
    creates (``conv2d``, ``conv2d_1``, ...), so two builds of one network differ only there."""
    if isinstance(config, dict):
        return {k: _without_names(v) for k, v in config.items() if k != "name"}
    if isinstance(config, list):
        return [_without_names(v) for v in config]
    return config


@pytest.mark.parametrize("notebook", list(KERAS_MODELS))
def test_the_page_builds_the_same_keras_model_as_the_library(notebook: str) -> None:
    """The page defines its model in a visible cell; the library's recipe must build the same
    network: the same layers, in the same order, with the same settings (not the same weights,
    which each build draws afresh)."""
    pytest.importorskip("tensorflow")
    from book_core.runtime import DEFAULT_SEED, quiet_tensorflow

    quiet_tensorflow()
    from mnist_lib import recipes

    function, recipe = KERAS_MODELS[notebook]
    cells = [
        c.source
        for c in nbformat.read(ROOT / notebook, as_version=4).cells
        if c.cell_type == "code" and f"def {function}(" in c.source
    ]
    assert len(cells) == 1, f"{notebook}: expected one cell that defines {function}()"
    namespace: dict[str, object] = {"SEED": DEFAULT_SEED}
    exec(cells[0], namespace)  # noqa: S102 (the book's own notebook)
    page = namespace[function]()
    library = getattr(recipes, recipe).build()
    assert [type(layer).__name__ for layer in page.layers] == [
        type(layer).__name__ for layer in library.layers
    ]
    assert _without_names(page.get_config()) == _without_names(library.get_config()), (
        f"{notebook}'s {function}() and mnist_lib.recipes.{recipe} build different networks: "
        "change both, so the page teaches the model the library keeps"
    )
    assert page.count_params() == library.count_params()
