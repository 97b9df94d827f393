"""Sphinx extension: what Sphinx's own translation misses, for the Chinese edition (issue #29).

1. Glued numbers inside translated paragraphs of notebooks (the main part of this docstring).
2. Glued phrases: glued values that are words, not numbers.
3. The diagrams: their alt text (``sphinx.ext.graphviz``'s ``:alt:``), which screen readers read
   out, and the labels drawn inside them, from their DOT source.
4. The exercises' titles: ``sphinx-exercise`` makes the title given after ``{exercise}`` a node
   without a source, and Sphinx neither extracts nor translates a text without one, so the Chinese
   pages showed "练习 10 (A sixth queue)". :class:`MarkExerciseTitles` gives each title its
   exercise's source, line and text before Sphinx's ``Locale`` transform runs, which then
   translates it like any heading. The gettext builder reads the pages after sphinx-exercise has
   replaced the title node, so the title is also kept on the exercise node, for extraction. A
   solution's title repeats its exercise's, from a copy made before translation, which
   :class:`ShareTranslatedExerciseTitles` updates.
5. The part captions of the table of contents: ``sphinx-external-toc`` inserts the toctrees from
   ``_toc.yml`` (a transform of priority 100) after Sphinx's ``Locale`` transform (priority 20) has
   translated the page, so their captions, which the gettext builder does extract, stay English in
   the sidebar. They are translated when the page has been read (:func:`translate_toc_captions`).

For 2 and 3, the gettext builder adds the texts to the page's catalog, and a translated build
replaces them by their translations from it (:func:`collect_messages`, :class:`TranslateMessages`).

**1. Glued numbers.**

The symptom (Sphinx 7.4, MyST-NB 1.4): in a translated build, a paragraph of a notebook that
contains ``{glue:text}`acc:.1f``` loses the number. The build warns "No key 'acc' found in glue
data for this document", and the page shows "准确率为 %" where the English shows "The accuracy is
97.5 %". Related reports: MyST-NB issue #587 (i18n of notebooks).

The cause. Sphinx translates a document after parsing it: its ``Locale`` transform looks up each
paragraph's text in the catalog and parses the translation *again*, as a small document of its
own (``sphinx.transforms.i18n.publish_msgstr``, source name ``<path>:<line>:<translated>``). It
parses it with the parser registered for the file type, here MyST-NB's ``Parser``; that parser
sees the ``<translated>`` suffix and hands the fragment to the plain MyST parser, because a
fragment is not a notebook. The glue roles resolve while parsing, from the notebook's glue data,
which they reach through ``document["nb_renderer"]``. The fragment's document has no renderer (the
main document's is popped when its own parse ends, before any transform runs), so every
``{glue:...}`` role in a translated paragraph fails. Untranslated paragraphs are not re-parsed,
which is why the English build never shows the problem.

The fix. MyST-NB already has a path that needs no renderer: a reference to another document,
``{glue:text}`other.ipynb::key:fmt```, becomes a ``PendingGlueReference`` that a post-transform
resolves from the glue data the parse wrote to disk (``<docname>.glue.json``), with the same text
formatting (``format_plain_text``) and the same ``pasted-text`` node. This extension registers a
parser, a subclass of MyST-NB's, that rewrites a translated *notebook* fragment's local glue roles
into references to the notebook itself before parsing it:

    {glue:text}`acc:.1f`   ->   {glue:text}`ladder.ipynb::acc:.1f`
    {glue:text}`n`         ->   {glue:text}`ladder.ipynb::n:s`   (the default format, spelled out)

Roles that already name a document are left alone, and nothing changes for an untranslated build
or a Markdown page (whose glue roles always name another document). A glued number therefore shows
the same value in both editions, which ``tests/test_i18n.py`` checks page by page.

Upstream, the natural fix is in MyST-NB's ``Parser.parse``: for a ``<translated>`` fragment of a
notebook, keep the renderer, or apply this same rewrite.

**2. Glued phrases.** A few cells glue a phrase rather than a number (the ladder's verdict,
"linear probe", "overconfident"). Kept as they are, these would put English sentences into Chinese
paragraphs. Every glued value that holds words becomes a message of the page that shows it, and is
replaced after MyST-NB has resolved the references. Numbers are never touched.

**3. Diagrams: their alt text and their labels.** A ``graphviz`` node keeps its ``:alt:`` in an
attribute and its DOT source in another, neither of which Sphinx's message extraction visits. The
alt text is one message. In the DOT source, every ``label`` that holds words is one (each cell of
an HTML-like table separately), so the Chinese edition draws the same diagrams with Chinese labels
(:func:`diagram_messages`, :func:`translate_diagram`). A label's HTML-like markup (``<b>``,
``<br/>``, ``<font ...>``) is part of its message, and ``scripts/translation.py`` checks that a
translation keeps it, and keeps its numbers.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from os import path
from pathlib import PurePosixPath
from typing import Any

from docutils import nodes
from myst_nb.sphinx_ import Parser
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.builders.gettext import MsgOrigin
from sphinx.locale import init as init_locale
from sphinx.transforms import SphinxTransform
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util.i18n import docname_to_domain

# A glue role ({glue}, {glue:text}, {glue:any}, {glue:md}), its kind and its content.
GLUE_ROLE = re.compile(r"(\{glue(:[a-z]+)?\}`)([^`]+)(`)")


def point_at(fragment: str, notebook: str) -> str:
    """Rewrite the local glue roles of a translated fragment into references to ``notebook``."""

    def rewrite(match: re.Match[str]) -> str:
        opening, kind, content, closing = match.groups()
        if "::" in content:  # already a reference to a document
            return match.group(0)
        if kind == ":text" and ":" not in content:
            # {glue:text} reads "doc::key" as key "doc:" with format "key" (it splits the format
            # off at the last colon first), so a reference always spells out the format; "s" is
            # the format a local {glue:text}`key` uses.
            content += ":s"
        return f"{opening}{notebook}::{content}{closing}"

    return GLUE_ROLE.sub(rewrite, fragment)


class TranslatedGlueParser(Parser):
    """MyST-NB's parser, with the glue roles of translated notebook paragraphs kept working."""

    def parse(self, inputstring: str, document: nodes.document) -> None:
        env = getattr(document.settings, "env", None) or self.env
        if document.current_source and document.current_source.endswith("<translated>"):
            source = PurePosixPath(env.doc2path(env.docname, base=False))
            if source.suffix == ".ipynb":
                inputstring = point_at(inputstring, source.name)
        super().parse(inputstring, document)


WORD = re.compile(r"[A-Za-z]{2,}")
# Sphinx curls the quotes of text it parses (smart quotes), but not of text a post-transform adds,
# so a phrase is looked up with straight quotes.
STRAIGHT = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


# A DOT label: label="..." (group 1, with backslash escapes) or label=<...> (HTML-like, whose
# balanced angle brackets _html_end finds). xlabel, headlabel and taillabel are not matched.
DOT_LABEL = re.compile(r'(?<![\w-])label\s*=\s*(?:"((?:[^"\\]|\\.)*)"|<)')
# The structure of an HTML-like table: each cell's text is a message of its own.
TABLE_TAG = re.compile(r"</?(?:table|tr|td)\b[^>]*>", re.IGNORECASE)
MARKUP = re.compile(r"<[^<>]*>|&#?\w+;")
LABEL_WORD = re.compile(r"[a-z]{2,}")  # "no", "head", "softmax"; not "PV", "x₁" or "T × d"


def _html_end(code: str, start: int) -> int:
    """The index of the ``>`` that closes the HTML-like label whose text begins at ``start``."""
    depth = 1
    for i in range(start, len(code)):
        depth += {"<": 1, ">": -1}.get(code[i], 0)
        if depth == 0:
            return i
    raise ValueError(
        f"an HTML-like DOT label opened before {code[start : start + 40]!r} never closes"
    )


def diagram_spans(code: str) -> list[tuple[int, int, str, bool]]:
    """The translatable texts of a diagram's DOT source, as (start, end, message, quoted): each
    label that holds a word, or each cell of a table label that does. In a quoted label's
    message, ``\\n`` and ``\\"`` are a newline and a quote (other escapes stay as written). The
    spaces around a text, which only pad it, are left out of its message and kept in place."""
    spans: list[tuple[int, int, str, bool]] = []
    for match in DOT_LABEL.finditer(code):
        quoted = match.group(1) is not None
        if quoted:
            pieces = [match.span(1)]
        else:
            start, end = match.end(), _html_end(code, match.end())
            cuts = [
                start,
                *(i for m in TABLE_TAG.finditer(code, start, end) for i in m.span()),
                end,
            ]
            pieces = list(zip(cuts[::2], cuts[1::2], strict=True))
        for start, end in pieces:
            text = code[start:end]
            start, end = (
                start + len(text) - len(text.lstrip()),
                end - len(text) + len(text.rstrip()),
            )
            text = code[start:end]
            if text and LABEL_WORD.search(MARKUP.sub(" ", text)):
                spans.append((start, end, _unescape(text) if quoted else text, quoted))
    return spans


QUOTED_ESCAPE = re.compile(r'\\([n"])')


def _unescape(text: str) -> str:
    return QUOTED_ESCAPE.sub(lambda m: "\n" if m.group(1) == "n" else m.group(1), text)


def _escape(text: str) -> str:
    return text.replace('"', '\\"').replace("\n", "\\n")


def diagram_messages(code: str) -> list[str]:
    """The messages of a diagram's DOT source (see :func:`diagram_spans`)."""
    return [message for _, _, message, _ in diagram_spans(code)]


def translate_diagram(code: str, gettext: Callable[[str], str]) -> str:
    """``code`` with each of its messages replaced by ``gettext(message)`` (escaped again in a
    quoted label). A message without a translation comes back as it is."""
    for start, end, message, quoted in reversed(diagram_spans(code)):
        translated = gettext(message)
        code = code[:start] + (_escape(translated) if quoted else translated) + code[end:]
    return code


def extra_messages(doctree: nodes.Node) -> list[tuple[nodes.Element, str]]:
    """The texts of a page that Sphinx does not extract, each with its node: glued values that
    hold words (not only digits, signs and units), diagrams' alt text and labels, and exercises'
    titles (which Sphinx itself translates, once they are messages: :class:`MarkExerciseTitles`)."""
    from sphinx.ext.graphviz import graphviz

    found: list[tuple[nodes.Element, str]] = []
    for node in doctree.findall(nodes.inline):
        if "pasted-text" in node.get("classes", []) and WORD.search(node.astext()):
            found.append((node, node.astext().translate(STRAIGHT)))
    for node in doctree.findall(graphviz):
        if node.get("alt"):
            found.append((node, node["alt"]))
        found.extend((node, message) for message in diagram_messages(node.get("code", "")))
    for node in doctree.findall(nodes.Element):
        if node.get(EXERCISE_TITLE):
            found.append((node, node[EXERCISE_TITLE]))
    return found


def collect_messages(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Gettext builder: each extra text becomes a message of its page's catalog."""
    if app.builder.name != "gettext":
        return
    catalog = app.builder.catalogs[docname_to_domain(docname, app.config.gettext_compact)]
    source = str(app.env.doc2path(docname))
    for node, text in extra_messages(doctree):
        catalog.add(text, MsgOrigin(source, node.line or 0))


class TranslateMessages(SphinxPostTransform):
    """A translated build: each extra text replaced by its translation from the page's catalog
    (after MyST-NB's own post-transform, priority 5, has resolved the glue references)."""

    default_priority = 20

    def run(self, **kwargs: Any) -> None:
        catalog = page_catalog(self.app, self.env.docname)
        if catalog is None:
            return
        from sphinx.ext.graphviz import graphviz

        for node, text in extra_messages(self.document):
            if isinstance(node, nodes.inline):
                translated = catalog.gettext(text)
                node.replace_self(nodes.inline(translated, translated, classes=node["classes"]))
        for node in self.document.findall(graphviz):
            if node.get("alt"):
                node["alt"] = catalog.gettext(node["alt"])
            node["code"] = translate_diagram(node.get("code", ""), catalog.gettext)


def page_catalog(app: Sphinx, docname: str) -> Any | None:
    """The translations of ``docname``'s catalog in a translated build (None in English)."""
    if (app.config.language or "en") == "en" or app.builder.name == "gettext":
        return None
    domain = docname_to_domain(docname, app.config.gettext_compact)
    dirs = [path.join(app.srcdir, d) for d in app.config.locale_dirs]
    catalog, has_catalog = init_locale(dirs, app.config.language, domain)
    return catalog if has_catalog else None


def translate_toc_captions(app: Sphinx, doctree: nodes.document) -> None:
    catalog = page_catalog(app, app.env.docname)
    if catalog is None:
        return
    for node in doctree.findall(addnodes.toctree):
        if node.get("caption"):
            node["caption"] = catalog.gettext(node["caption"])


EXERCISE_TITLE = "i18n_title"  # an exercise node's attribute: its title, as a message


def _exercise_of(subtitle: nodes.Node) -> nodes.Element | None:
    """The exercise whose title holds ``subtitle`` (exercise > title > subtitle), if any."""
    title = subtitle.parent
    return title.parent if title is not None else None


class MarkExerciseTitles(SphinxTransform):
    """Make the exercises' titles translatable (point 4 above): a text element is a message only
    when it has a source and a raw source (``sphinx.util.nodes.is_translatable``)."""

    default_priority = 10  # before sphinx.transforms.i18n.Locale (20), which translates them

    def apply(self, **kwargs: Any) -> None:
        from sphinx_exercise.nodes import exercise_subtitle

        for node in self.document.findall(exercise_subtitle):
            exercise = _exercise_of(node)
            node.source = (
                node.source
                or getattr(exercise, "source", None)
                or self.env.doc2path(self.env.docname)
            )
            node.line = node.line or getattr(exercise, "line", None) or 0
            node.rawsource = node.rawsource or node.astext()  # plain text: titles have no markup
            if exercise is not None:  # for the gettext builder: sphinx-exercise's post-transform
                exercise[EXERCISE_TITLE] = node.rawsource  # replaces the title node later


class ShareTranslatedExerciseTitles(SphinxTransform):
    """A solution's title names its exercise ("解答 练习 10 (...)") from the copy of the exercise
    that sphinx-exercise keeps in its registry, made before any translation: give that copy the
    translated title."""

    default_priority = 25  # after sphinx.transforms.i18n.Locale (20)

    def apply(self, **kwargs: Any) -> None:
        from sphinx_exercise.nodes import exercise_subtitle

        registry = getattr(self.env, "sphinx_exercise_registry", {})
        for node in self.document.findall(exercise_subtitle):
            exercise = _exercise_of(node)
            entry = registry.get(exercise.get("label")) if exercise is not None else None
            if entry is None:
                continue
            title = entry["node"].children[0]
            for i, child in enumerate(title.children):
                if isinstance(child, exercise_subtitle):
                    title.children[i] = node.deepcopy()
                    title.children[i].parent = title


def setup(app: Sphinx) -> dict[str, Any]:
    app.setup_extension("myst_nb")
    app.add_source_parser(TranslatedGlueParser, override=True)
    app.connect("doctree-resolved", collect_messages)
    app.add_post_transform(TranslateMessages)
    app.add_transform(MarkExerciseTitles)
    app.add_transform(ShareTranslatedExerciseTitles)
    app.connect("doctree-read", translate_toc_captions)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
