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
