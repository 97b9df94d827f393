"""A pytest plugin that hands nbval's output comparison to ``scripts/nbcompare.py``.

nbval runs every cell of every notebook in a kernel and compares its outputs with the stored
ones. This plugin replaces only that comparison, with :func:`nbcompare.compare_outputs`: exact for
everything deterministic, within the cell's declared ``"tolerance"`` for numbers that pass
through training, after the replacements of ``tests/nbval_sanitize.cfg``. The run on an emulated
Colab (``scripts/colab_check.py``) calls the same function, so both passes apply one set of rules;
the rules themselves are documented in ``scripts/nbcompare.py``.

The one point of contact with nbval is its ``IPyNbCell.compare_outputs(test, ref)`` hook.
"""

from __future__ import annotations

from typing import Any

import pytest
from nbcompare import METADATA_KEY, SKIP, compare_outputs, read_sanitize

# Cells whose fresh numbers differed from the stored ones, within their tolerance.
ADMITTED: list[str] = []


def make_compared(cell_class: type) -> type:
    """A subclass of nbval's cell item whose comparison is :func:`nbcompare.compare_outputs`."""
    sanitize = read_sanitize()

    class ComparedCell(cell_class):  # type: ignore[misc, valid-type]
        def compare_outputs(self, test, ref, skip_compare=None):  # noqa: D102 (nbval's hook)
            spec = self.cell.metadata.get(METADATA_KEY)
            problems = compare_outputs(ref, test, spec, sanitize=sanitize, skip=SKIP)
            if problems:
                self.comparison_traceback = problems
                return False
            if spec and compare_outputs(ref, test, None, sanitize=sanitize, skip=SKIP):
                ADMITTED.append(self.nodeid)  # equal only within the declared tolerance
            return True

    ComparedCell.__name__ = ComparedCell.__qualname__ = "ComparedCell"
    return ComparedCell


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say how often a tolerance was needed: on the kind of CPU that made the stored outputs,
    never."""
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
    compared = make_compared(IPyNbCell)
    for item in items:
        if type(item) is IPyNbCell:
            item.__class__ = compared
