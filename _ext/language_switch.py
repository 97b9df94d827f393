"""Sphinx extension: every page links to the same page in the other edition (issue #29).

The English book is built at the site's root and the Chinese edition, from the same source and the
catalogs in ``locale/``, under ``zh/`` (``scripts/i18n.py build``). Both are static sites, so the
link is a relative path that needs no server:

    English  chapters/mnist/cnn.html      ->  ../../zh/chapters/mnist/cnn.html   "中文"
    Chinese  zh/chapters/mnist/cnn.html   ->  ../../../chapters/mnist/cnn.html   "English"

The link opens each page's article, and the page's head carries the matching
``<link rel="alternate" hreflang>`` for search engines.

It also translates the page furniture that the catalogs cannot reach: the prompts of folded code
cells ("Show code cell source", the set-up cell's line), which MyST-NB takes from its
configuration and the cells' metadata, not from the text, and the texts of the theme that its own
catalogs miss (header buttons, the search box). ``edition_prompts`` maps each English text, as
the reader sees it, to the edition's; ``scripts/i18n.py`` sets it for the Chinese edition, and a
code-cell prompt missing from it is a build warning (an error under ``-W``).
"""

from __future__ import annotations

from html import escape
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util import logging

LOGGER = logging.getLogger(__name__)
# MyST-NB replaces {type} in a folded cell's prompt by what the fold hides, from the cell's tag.
FOLDED = {"tag_hide-input": "source", "tag_hide-output": "outputs", "tag_hide-cell": "content"}

EDITION_DIR = "zh"  # the Chinese edition's folder under the site's root; scripts/i18n.py reads it


def other_edition(pagename: str, language: str | None) -> tuple[str, str, str]:
    """(relative URL, link text, hreflang) of ``pagename`` in the other edition."""
    up = "../" * pagename.count("/")
    if (language or "en").startswith("zh"):
        return f"{up}../{pagename}.html", "English", "en"
    return f"{up}{EDITION_DIR}/{pagename}.html", "中文", "zh-CN"


def add_switch(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    if doctree is None or "body" not in context:  # search, genindex: no counterpart to link to
        return
    url, text, lang = other_edition(pagename, app.config.language)
    link = (
        f'<p class="language-switch" style="text-align: right"><a href="{escape(url)}" hreflang="{lang}" lang="{lang}">'
        f"{escape(text)}</a></p>\n"
    )
    context["body"] = link + context["body"]
    context["metatags"] = (
        context.get("metatags", "")
        + f'\n<link rel="alternate" hreflang="{lang}" href="{escape(url)}" />'
    )


def translate_prompts(app: Sphinx, doctree: nodes.document) -> None:
    prompts: dict[str, str] = app.config.edition_prompts
    if not prompts:
        return
    for node in doctree.findall(nodes.container):
        folded = [FOLDED[c] for c in node.get("classes", []) if c in FOLDED]
        for key in ("prompt_show", "prompt_hide"):
            if key not in node.attributes or not folded:
                continue
            english = node[key].replace("{type}", folded[0])
            if english in prompts:
                node[key] = prompts[english]
            else:
                LOGGER.warning(
                    f"no translation of the code-cell prompt {english!r}: add it to "
                    "scripts/i18n.py (PROMPTS)",
                    location=node,
                )


def translate_theme_texts(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """Texts of the theme that its own catalogs miss, after sphinx-book-theme has made them
    (priority 501), from ``edition_prompts``: the header buttons' texts and tooltips
    (sphinx-book-theme 1.1 asks for "Repository" and "Open issue" while its catalogs hold
    "repository" and "open issue") and the search box's placeholder, which Jupyter Book sets."""
    prompts: dict[str, str] = app.config.edition_prompts
    if not prompts:
        return

    def walk(buttons: list[dict[str, Any]]) -> None:
        for button in buttons:
            for key in ("text", "tooltip"):
                if button.get(key) in prompts:
                    button[key] = prompts[button[key]]
            walk(button.get("buttons", []))

    walk(context.get("header_buttons", []))
    if context.get("theme_search_bar_text") in prompts:
        context["theme_search_bar_text"] = prompts[context["theme_search_bar_text"]]


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("edition_prompts", {}, "env", dict)
    app.connect("html-page-context", add_switch)
    app.connect("doctree-read", translate_prompts)
    app.connect("html-page-context", translate_theme_texts, priority=502)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
