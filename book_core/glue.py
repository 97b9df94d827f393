"""Glue a value computed in a notebook into the book's prose, with no Sphinx installed.

Every notebook of the book writes ``glue("test_acc_pct", 99.3, display=False)`` and its prose
then reads ``{glue:text}`test_acc_pct```. The Jupyter Book build (myst-nb) finds the value in the
stored output, so a number in the text is always the one the cell computed.

This is myst-nb's own ``glue`` output format (a display output whose MIME types carry the
``application/papermill.record/`` prefix and whose metadata names the value), written here so that
the notebooks need neither myst-nb nor Sphinx: on Colab the setup cell installs only this package.
NumPy scalars are stored as plain Python numbers, since myst-nb cannot format ``np.float64(...)``.

Used by every chapter's notebooks.
"""

from __future__ import annotations

from typing import Any

from book_core.checks import check_str

GLUE_PREFIX = "application/papermill.record/"


def glue(name: str, value: Any, display: bool = True) -> None:
    """Store ``value`` under ``name`` for the book's ``{glue:...}`` roles; show it if ``display``.

    Raises:
        TypeError: ``name`` is not a string (None...).
        ValueError: ``name`` is empty or contains whitespace (myst-nb could not refer to it).
    """
    check_str("name", name, example="'test_acc_pct'")
    if not name or any(ch.isspace() for ch in name):
        raise ValueError(f"glue names must be non-empty and without spaces, got {name!r}")
    from IPython.core.formatters import format_display_data
    from IPython.display import display as ipy_display

    if hasattr(value, "item") and getattr(value, "shape", None) == ():
        value = value.item()  # np.float64(0.5) -> 0.5, which myst-nb can format
    bundle, metadata = format_display_data(value)
    prefix = "" if display else GLUE_PREFIX
    metadata["scrapbook"] = {"name": name, "mime_prefix": prefix}
    ipy_display({prefix + k: v for k, v in bundle.items()}, raw=True, metadata=metadata)
