"""book_core.glue writes exactly what myst-nb's glue writes, so the book finds the values."""

from __future__ import annotations

import numpy as np
import pytest
from IPython.core.interactiveshell import InteractiveShell

from book_core.glue import glue


@pytest.fixture
def published(monkeypatch) -> list[tuple[dict, dict]]:
    """Capture what IPython's display() publishes."""
    shell = InteractiveShell.instance()
    captured: list[tuple[dict, dict]] = []
    monkeypatch.setattr(
        shell.display_pub,
        "publish",
        lambda data, metadata=None, **_: captured.append((data, metadata or {})),
    )
    return captured


def test_same_output_as_myst_nb(published) -> None:
    myst_glue = pytest.importorskip("myst_nb").glue
    myst_glue("acc", 99.3, display=False)
    glue("acc", 99.3, display=False)
    myst_glue("table", [1, 2], display=True)
    glue("table", [1, 2], display=True)
    assert published[0] == published[1]
    assert published[2] == published[3]
    data, metadata = published[1]
    assert data == {"application/papermill.record/text/plain": "99.3"}
    assert metadata["scrapbook"] == {"name": "acc", "mime_prefix": "application/papermill.record/"}


def test_numpy_scalars_are_stored_as_plain_numbers(published) -> None:
    glue("x", np.float64(0.25), display=False)
    glue("n", np.int64(7), display=False)
    assert published[0][0]["application/papermill.record/text/plain"] == "0.25"
    assert published[1][0]["application/papermill.record/text/plain"] == "7"


@pytest.mark.parametrize("name", ["", "two words", "tab\tname"])
def test_bad_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="glue names"):
        glue(name, 1)
