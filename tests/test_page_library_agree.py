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
import numpy as np
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


# The Keras models defined on the pages: (notebook, the page's builder, its arguments, the
# library's model that must be the same network, as an expression over ``models`` and ``recipes``).
KERAS_MODELS = [
    ("chapters/mnist/cnn.ipynb", "build_cnn", {}, "recipes.CNN.build()"),
    ("chapters/mnist/fast_mlp.ipynb", "tuned_model", {}, "recipes.TUNED_MLP.build()"),
    ("chapters/mnist/overfitting.ipynb", "mlp", {}, "models.mlp((256, 256))"),
    (
        "chapters/mnist/overfitting.ipynb",
        "mlp",
        {"dropout": 0.5},
        "models.mlp((256, 256), dropout=0.5)",
    ),
    ("chapters/mnist/overfitting.ipynb", "mlp", {"l2": 1e-3}, "models.mlp((256, 256), l2=1e-3)"),
]


def _without_names(config: object) -> object:
    """A Keras config with every ``name`` left out: Keras numbers the names of the layers it
    creates (``conv2d``, ``conv2d_1``, ...), so two builds of one network differ only there."""
    if isinstance(config, dict):
        return {k: _without_names(v) for k, v in config.items() if k != "name"}
    if isinstance(config, list):
        return [_without_names(v) for v in config]
    return config


def _code_cells(notebook: str) -> list[str]:
    return [
        c.source
        for c in nbformat.read(ROOT / notebook, as_version=4).cells
        if c.cell_type == "code"
    ]


def _page_namespace(notebook: str, function: str, **names: object) -> dict[str, object]:
    """Run the one page cell that defines ``function`` (and only it), with ``names`` predefined."""
    from book_core.runtime import DEFAULT_SEED

    cells = [source for source in _code_cells(notebook) if f"def {function}(" in source]
    assert len(cells) == 1, f"{notebook}: expected one cell that defines {function}()"
    namespace: dict[str, object] = {"SEED": DEFAULT_SEED, **names}
    exec(cells[0], namespace)  # noqa: S102 (the book's own notebook)
    return namespace


@pytest.fixture(scope="module")
def keras_libraries() -> dict[str, object]:
    pytest.importorskip("tensorflow")
    from book_core.runtime import quiet_tensorflow

    quiet_tensorflow()
    from mnist_lib import models, recipes

    return {"models": models, "recipes": recipes}


@pytest.mark.parametrize("notebook,function,arguments,library", KERAS_MODELS)
def test_the_page_builds_the_same_keras_model_as_the_library(
    keras_libraries: dict[str, object],
    notebook: str,
    function: str,
    arguments: dict[str, object],
    library: str,
) -> None:
    """The page defines its model in a visible cell; the library must build the same network: the
    same layers, in the same order, with the same settings (not the same weights, which each build
    draws afresh)."""
    page = _page_namespace(notebook, function)[function](**arguments)
    kept = eval(library, dict(keras_libraries))  # noqa: S307 (an expression of this file)
    assert [type(layer).__name__ for layer in page.layers] == [
        type(layer).__name__ for layer in kept.layers
    ]
    assert _without_names(page.get_config()) == _without_names(kept.get_config()), (
        f"{notebook}'s {function}(**{arguments}) and {library} build different networks: change "
        "both, so the page teaches the model the library keeps"
    )
    assert page.count_params() == kept.count_params()


# --------------------------------------------------------------------- the page trains the same way


def _toy_digits(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Random uint8 images with labels 0-9: enough to take a few gradient steps."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n).astype(
        np.uint8
    )


def _training_code(notebook: str) -> str:
    """The page's training code: from the code cell that calls ``compile(`` to the statement that
    calls ``.fit(`` (what the cell does after it, measuring and printing, is left out)."""
    cells = _code_cells(notebook)
    first = next(i for i, source in enumerate(cells) if ".compile(" in source)
    last = next(i for i in range(first, len(cells)) if ".fit(" in cells[i])
    tree = ast.parse(cells[last])
    end = next(
        node.end_lineno
        for node in tree.body
        if ".fit(" in ast.get_source_segment(cells[last], node)
    )
    return "\n".join([*cells[first:last], "\n".join(cells[last].splitlines()[:end])])


def _same_weights(a: object, b: object) -> bool:
    wa, wb = a.get_weights(), b.get_weights()
    return len(wa) == len(wb) and all(np.array_equal(x, y) for x, y in zip(wa, wb, strict=True))


# notebook: (the page's builder, the library recipe that keeps its training)
TRAINED_ON_PAGE = {
    "chapters/mnist/cnn.ipynb": ("build_cnn", "CNN"),
    "chapters/mnist/fast_mlp.ipynb": ("tuned_model", "TUNED_MLP"),
}


@pytest.mark.parametrize("notebook", list(TRAINED_ON_PAGE))
def test_the_page_trains_its_model_as_the_library_recipe_does(
    keras_libraries: dict[str, object], notebook: str
) -> None:
    """The page compiles and fits its model in visible cells; mnist_lib.training.train with the
    library's recipe must do the same: on the same small data, the same weights, bit for bit (the
    optimiser, its schedule, the loss, the batches, their order and early stopping all enter)."""
    from mnist_lib.training import scale_images, train

    function, recipe_name = TRAINED_ON_PAGE[notebook]
    recipe = getattr(keras_libraries["recipes"], recipe_name)
    x, y = _toy_digits(300, seed=1)
    page = _page_namespace(notebook, function, x_train=x, y_train=y, scale_images=scale_images)
    exec(_training_code(notebook), page)  # noqa: S102 (the book's own notebook)
    kept = train(recipe.build, x, y, recipe.config)
    trained = next(v for k, v in page.items() if k in ("model", "tuned_mlp"))
    assert _same_weights(trained, kept.model), (
        f"{notebook} trains differently from mnist_lib.recipes.{recipe_name} with "
        "mnist_lib.training.train: change both, so the page teaches what the library runs"
    )
    assert page["history"].history["loss"] == kept.history["loss"]


@pytest.mark.parametrize("early_stopping", [False, True])
def test_the_overfitting_page_trains_as_the_library_does(
    keras_libraries: dict[str, object], early_stopping: bool
) -> None:
    """overfitting.ipynb's fit() against train() with the settings its text states (Adam 1e-3,
    batch 64, 60 epochs through make_dataset, early stopping with patience 8)."""
    from mnist_lib.training import TrainConfig, train

    x, y = _toy_digits(128, seed=2)
    x_val, y_val = _toy_digits(64, seed=3)
    notebook = "chapters/mnist/overfitting.ipynb"
    defined = _page_namespace(notebook, "mlp")  # and the imports of its cell (keras)
    defined.pop("__builtins__")
    page = _page_namespace(notebook, "fit", x_val=x_val, y_val=y_val, **defined)
    model, history = page["fit"](page["mlp"], x, y, early_stopping)
    config = TrainConfig(
        epochs=60,
        batch_size=64,
        learning_rate=1e-3,
        tf_data=True,
        early_stopping_patience=8 if early_stopping else None,
    )
    models = keras_libraries["models"]
    kept = train(lambda: models.mlp((256, 256)), x, y, config, validation_data=(x_val, y_val))
    assert _same_weights(model, kept.model)
    assert history["val_loss"] == kept.history["val_loss"]
