"""Sphinx extension: the ``{runtime}`` role, how long a notebook runs, read from measurement.

Every page opens by saying how long its notebooks run. Typed by hand, those figures would go stale
the first time a notebook changed; so the page names the notebook and the build writes the time
that ``make execute`` last measured, from ``chapters/about/runtimes.json``::

    Runs in {runtime}`cnn` on 2 CPU cores.            -> "Runs in about 8 minutes on 2 CPU cores."
    {runtime}`../mnist/cnn`                           -> a notebook of another chapter

The target is resolved like ``{doc}``: relative to the page, without the extension (a leading
``/`` starts from the book's root). A name that is not in ``runtimes.json`` fails the build, so a
renamed notebook cannot leave a stale or empty figure behind. The About page's table reads the
same file.
"""

from __future__ import annotations

import json
import posixpath
from pathlib import Path
from typing import Any

from docutils import nodes

RUNTIMES = "chapters/about/runtimes.json"


def describe(seconds: float, language: str | None = "en") -> str:
    """A measured time in words: "under a minute" below 60 s, else whole minutes ("about 8
    minutes"), or hours and minutes from 90 minutes on. In the Chinese edition (``language``
    ``zh_CN``) the same in Chinese: "不到 1 分钟", "约 8 分钟", "约 1 小时 35 分钟"."""
    if seconds < 0:
        raise ValueError(f"a run time cannot be negative, got {seconds}")
    chinese = (language or "en").startswith("zh")
    if seconds < 60:
        return "不到 1 分钟" if chinese else "under a minute"
    minutes = round(seconds / 60)
    hours, rest = divmod(minutes, 60)
    if chinese:
        return f"约 {minutes} 分钟" if minutes < 90 else f"约 {hours} 小时 {rest} 分钟"
    if minutes < 90:
        return f"about {minutes} minute{'s' if minutes != 1 else ''}"
    return f"about {hours} h {rest:02d} min"


def resolve(current_doc: str, target: str) -> str:
    """The notebook's path from the book's root (``chapters/mnist/cnn.ipynb``), for a ``{doc}``-style
    target written on the page ``current_doc`` (a docname such as ``chapters/mnist/index``)."""
    target = target.strip().removesuffix(".ipynb")
    if target.startswith("/"):
        name = target.lstrip("/")
    else:
        name = posixpath.normpath(posixpath.join(posixpath.dirname(current_doc), target))
    return f"{name}.ipynb"


def _runtimes(app: Any) -> dict[str, float]:
    cached = getattr(app, "_book_runtimes", None)
    if cached is None:
        path = Path(app.srcdir) / RUNTIMES
        cached = json.loads(path.read_text()) if path.is_file() else {}
        app._book_runtimes = cached
    return cached


def runtime_role(
    name: str,
    rawtext: str,
    text: str,
    lineno: int,
    inliner: Any,
    options: Any = None,
    content: Any = (),
) -> tuple[list[nodes.Node], list[nodes.system_message]]:
    env = inliner.document.settings.env
    notebook = resolve(env.docname, text)
    seconds = _runtimes(env.app).get(notebook)
    if seconds is None:
        message = inliner.reporter.error(
            f"{{runtime}}: no measured run time for {notebook!r} in {RUNTIMES}; run "
            f"`make execute NB={notebook}` or fix the name",
            line=lineno,
        )
        return [inliner.problematic(rawtext, rawtext, message)], [message]
    words = describe(seconds, env.config.language)
    return [nodes.inline(rawtext, words, classes=["runtime"])], []


def setup(app: Any) -> dict[str, Any]:
    app.add_role("runtime", runtime_role)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
