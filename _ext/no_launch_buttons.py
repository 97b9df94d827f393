"""Sphinx extension: no launch buttons (Colab, Binder, ...) on the pages listed in ``no_launch_buttons``.

sphinx-book-theme puts the rocket button on every notebook page, and has no option to leave it off
one page. Some notebooks cannot run alone on Colab: the About page reads ``runtimes.json`` beside it
(a record of the book's own runs, not a lesson). They are listed, by docname, in ``_config.yml``::

    sphinx:
      config:
        no_launch_buttons: ["chapters/about/index"]

This handler runs after the theme has added its buttons (priority 501) and removes the launch group
from those pages. ``scripts/colab_check.py`` reads the same list and skips those notebooks, and
``tests/test_colab_readiness.py`` checks the built HTML.
"""

from __future__ import annotations

from typing import Any

LAUNCH_GROUP_LABEL = "launch-buttons"  # sphinx_book_theme.header_buttons.launch


def _drop_launch_buttons(
    app: Any, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    if pagename not in set(app.config.no_launch_buttons):
        return
    buttons = context.get("header_buttons")
    if buttons:
        buttons[:] = [b for b in buttons if b.get("label") != LAUNCH_GROUP_LABEL]


def _check_names(app: Any, env: Any) -> None:
    """A misspelt docname would silently keep the button: fail the build instead."""
    unknown = [name for name in app.config.no_launch_buttons if name not in env.found_docs]
    if unknown:
        raise ValueError(f"no_launch_buttons lists pages that do not exist: {unknown}")


def setup(app: Any) -> dict[str, Any]:
    app.add_config_value("no_launch_buttons", [], "html", [list, tuple])
    # After sphinx-book-theme's add_launch_buttons (priority 501).
    app.connect("html-page-context", _drop_launch_buttons, priority=900)
    app.connect("env-updated", _check_names)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
