"""Sphinx extension: each Graphviz diagram's ``:alt:`` text becomes its accessible name.

``sphinx.ext.graphviz`` (Sphinx 7.4) writes an SVG diagram as
``<object data="....svg" type="image/svg+xml" class="graphviz">`` with the ``:alt:`` text only as
fallback content inside it, and without escaping it. Once the SVG has loaded, a screen reader does
not read that fallback. This wraps the extension's HTML visitor: the ``<object>`` gets
``role="img"`` and ``aria-label="<alt text>"``, and the alt text is HTML-escaped in both places.

``tests/test_diagrams.py`` checks the built pages; ``tests/test_browser.py`` checks in Chromium that
every diagram renders, with its label.
"""

from __future__ import annotations

from html import escape
from typing import Any

from docutils import nodes

OBJECT_TAG = "<object "


def _visit_graphviz(self: Any, node: Any) -> None:
    from sphinx.ext.graphviz import html_visit_graphviz

    raw = node.get("alt")
    start = len(self.body)
    if raw is not None:
        node["alt"] = escape(raw, quote=True)  # sphinx.ext.graphviz inserts it as it is
    try:
        html_visit_graphviz(self, node)  # always ends by raising SkipNode
    except nodes.SkipNode:
        if raw is not None:
            label = f'{OBJECT_TAG}role="img" aria-label="{node["alt"]}" '
            for i in range(start, len(self.body)):
                if self.body[i].startswith(OBJECT_TAG):
                    self.body[i] = self.body[i].replace(OBJECT_TAG, label, 1)
        raise
    finally:
        if raw is not None:
            node["alt"] = raw


def setup(app: Any) -> dict[str, Any]:
    from sphinx.ext.graphviz import graphviz

    app.setup_extension("sphinx.ext.graphviz")
    app.add_node(graphviz, override=True, html=(_visit_graphviz, None))
    return {"parallel_read_safe": True, "parallel_write_safe": True}
