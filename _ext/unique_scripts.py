"""Sphinx extension: drop repeated <script> entries from each HTML page.

With jupyter-book 1.0.4 on Sphinx 7.4, inline scripts that extensions register while the build runs
(sphinx-thebe's ``const THEBE_JS_URL = ...``, sphinx-togglebutton's selector) are emitted twice per
page. Declaring the same ``const`` twice is a JavaScript error on every page (tests/test_browser.py
catches it). This keeps the first copy of each identical script.
"""

from __future__ import annotations

from typing import Any


def _key(script: Any) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    filename = getattr(script, "filename", script)
    attributes = getattr(script, "attributes", {}) or {}
    return (
        str(filename or ""),
        str(attributes.get("body", "")),
        tuple(sorted((k, str(v)) for k, v in attributes.items())),
    )


def _dedupe(
    app: Any, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[tuple[str, str, tuple[tuple[str, str], ...]]] = set()
    unique = []
    for script in scripts:
        key = _key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique


def setup(app: Any) -> dict[str, Any]:
    # Early: html-page-context stops at the first handler that returns a template name.
    app.connect("html-page-context", _dedupe, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
