"""Checks of the Chinese edition's translation catalogs (the book's ``locale/``, issue #29).

The English pages are the only source; the Chinese text lives in gettext catalogs, one ``.po``
file per page. A translated paragraph is a MyST paragraph again: Sphinx parses it after
translation. So a translation may reword everything a reader reads, but it must keep everything
the build resolves or a reader runs, exactly:

* every glued number (``{glue:text}`key:fmt```), so both editions show the same values;
* every cross-reference (``{term}``, ``{doc}``, ``{ref}``, ``{numref}``, ``{eq}``, ``{cite}``, ...)
  by kind and count, which Sphinx needs to carry the links over (it warns, and the ``-W`` build
  fails, when the counts differ); a ``{term}`` may show Chinese text (``{term}`过拟合 <overfitting>```);
* citations, math (``$...$``) and inline code, unchanged;
* link targets (``[text](target)``), with the text translated;
* in a diagram's label, its HTML-like markup (line breaks aside) and its numbers.

It also checks the book's terminology: the glossary (``chapters/references/glossary.md``) is the
term base, and a paragraph whose English uses a glossary term must use that term's Chinese form.
:func:`problems` lists what is wrong with one catalog; ``tests/test_i18n.py`` runs it on all of them,
and ``python scripts/i18n.py check`` prints it for a translator.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

CJK = re.compile(r"[\u3400-\u9fff]")
ROLE = re.compile(r"\{([a-z]+(?::[a-z]+)?)\}`([^`]*)`")
MATH = re.compile(r"(?<![\\$])\$(?!\$)([^$]+?)(?<!\\)\$")
CODE = re.compile(r"(?<![`}])(``?)(?!`)(.+?)(?<!`)\1(?!`)")
LINK_TARGET = re.compile(r"\]\(([^)\s]+)\)")
# Roles kept verbatim: their content is a key or a code name, not text for the reader.
VERBATIM_ROLES = {
    "glue:text",
    "glue",
    "glue:any",
    "glue:md",
    "cite",
    "cite:p",
    "cite:t",
    "runtime",
    "math",
}


# The HTML-like markup of a diagram's label (``_ext/i18n_messages.py`` makes each label a message):
# a translation keeps every tag but the line breaks, which it may move, and every number the
# diagram shows.
LABEL_TAG = re.compile(r"</?(?:b|i|u|s|font|sub|sup)\b[^<>]*>|<br\b[^<>]*>", re.IGNORECASE)
NUMBER = re.compile(r"[−-]?\d+(?:\.\d+)?")


def label_markup(text: str) -> Counter[str]:
    """The tags of a diagram label's HTML-like markup, line breaks left out."""
    return Counter(t for t in LABEL_TAG.findall(text) if not t.lower().startswith("<br"))


def label_numbers(text: str) -> Counter[str]:
    """The numbers a diagram label shows (not those inside its tags, such as a font size)."""
    return Counter(NUMBER.findall(LABEL_TAG.sub(" ", text)))


def read_catalog(path: Path) -> Catalog:
    """Read a ``.po`` file, with a clear error if it is missing or not a catalog."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"no translation catalog at {path}: run `python scripts/i18n.py update` to create it"
        )
    try:
        with path.open("rb") as handle:
            return read_po(handle, abort_invalid=True)
    except Exception as error:  # babel raises several kinds on a broken file
        raise ValueError(f"{path} is not a readable gettext catalog: {error}") from error


def roles(text: str) -> Counter[tuple[str, str]]:
    """The roles in ``text`` as (role, content) for verbatim roles, (role, '') for the others."""
    found: Counter[tuple[str, str]] = Counter()
    for name, content in ROLE.findall(text):
        found[(name, content if name in VERBATIM_ROLES else "")] += 1
    return found


def _without_roles(text: str) -> str:
    return ROLE.sub(" ", text)


def maths(text: str) -> Counter[str]:
    """The inline math of ``text`` (``$...$``), each formula as written."""
    return Counter(m.strip() for m in MATH.findall(_without_roles(text)))


def code_spans(text: str) -> Counter[str]:
    """The inline code of ``text`` (```...```), outside roles."""
    return Counter(m[1].strip() for m in CODE.findall(_without_roles(text)))


def link_targets(text: str) -> Counter[str]:
    """The targets of the Markdown links in ``text``."""
    return Counter(LINK_TARGET.findall(text))


@dataclass(frozen=True)
class Term:
    """A glossary entry: its English headwords and their Chinese forms."""

    english: tuple[str, ...]
    chinese: tuple[str, ...]

    def accepted(self) -> tuple[str, ...]:
        """What a translation may write for it: a Chinese headword, or the name itself when the
        name is kept in Chinese text (an acronym or a proper name, such as GPU or Transformer)."""
        kept = tuple(
            e for e in self.english if any(c.isupper() for c in e) or _in_any(e, self.chinese)
        )
        return self.chinese + kept


def _in_any(word: str, texts: tuple[str, ...]) -> bool:
    return any(word.lower() in t.lower() for t in texts)


def glossary_terms(glossary: Path) -> list[Term]:
    """The term base: the entries of the glossary directive in ``glossary.md``."""
    text = Path(glossary).read_text(encoding="utf-8")
    try:
        body = text.split("```{glossary}", 1)[1].split("```", 1)[0]
    except IndexError:
        raise ValueError(f"{glossary} holds no ```{{glossary}} directive") from None
    entries: list[list[str]] = []
    in_definition = True
    for line in body.splitlines():
        if not line.strip() or line.startswith(":"):
            continue
        if line.startswith(" "):
            in_definition = True
            continue
        if in_definition:
            entries.append([])
            in_definition = False
        entries[-1].append(line.strip())
    return [
        Term(
            english=tuple(h for h in heads if not CJK.search(h)),
            chinese=tuple(h for h in heads if CJK.search(h)),
        )
        for heads in entries
    ]


def _english_prose(text: str) -> str:
    """The words a reader reads in an English message: role text kept, targets, code and math out."""
    text = re.sub(r"\{[a-z:]+\}`([^`<]*?)\s*<[^>`]*>`", r" \1 ", text)  # {term}`text <target>`
    text = re.sub(r"\{term\}`([^`]*)`", r" \1 ", text)  # a {doc}`name` shows a title, not its name
    text = ROLE.sub(" ", text)
    text = MATH.sub(" ", text)
    text = CODE.sub(" ", text)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    text = LABEL_TAG.sub(" ", text)  # a diagram label's markup
    return re.sub(r"https?://\S+", " ", text)


LIST_MARKER = re.compile(r"\d+[.)] ")
# One measure word per counted noun across the edition: 工单 (a support ticket) is counted with 条,
# as in the labelling guideline of the Chinese tickets (prompt_lab/data/GUIDELINE.zh.md). Another
# measure word straight before it, or before one of the modifiers the pages use, is flagged.
TICKET_MEASURE = re.compile(
    r"[张个份件](?:中文|英文|留出|开发集|已标注|本地标注|标注|带标签的|客服|真实|注入|示例|新)?工单"
)
LATEX = re.compile(r"\\[a-zA-Z]+|&=|\^\{|_\{")


def copied_prose(msgid: str, msgstr: str, headwords: set[str]) -> bool:
    """True if an entry is English prose copied over untranslated. An entry may be copied as it
    is when it is a glossary headword (kept so that ``{term}`` links resolve), display math, or
    has fewer than three words of prose (a name, a symbol)."""
    if msgstr != msgid or msgid in headwords or LATEX.search(msgid):
        return False
    return len(re.findall(r"[A-Za-z]{2,}", _english_prose(msgid))) >= 3


def missing_terms(msgid: str, msgstr: str, terms: list[Term]) -> list[str]:
    """Glossary terms the English uses and the translation does not render by their Chinese form."""
    prose = _english_prose(msgid)
    missing = []
    for term in terms:
        for word in term.english:
            flags = 0 if any(c.isupper() for c in word) else re.IGNORECASE
            if re.search(rf"(?<![\w-]){re.escape(word)}(?:s|es)?(?![\w-])", prose, flags):
                if not any(form.lower() in msgstr.lower() for form in term.accepted()):
                    missing.append(word)
                break
    return missing


@dataclass(frozen=True)
class TermException:
    """A deliberate exception to the term check, with its reason."""

    term: str
    message: str  # a piece of the English message it applies to
    reason: str


def problems(
    path: Path, terms: list[Term] | None = None, exceptions: list[TermException] | None = None
) -> list[str]:
    """What is wrong with one catalog, one line per problem (an empty list: nothing)."""
    catalog = read_catalog(path)
    headwords = {h for term in terms or [] for h in term.english + term.chinese}
    found = []
    for message in catalog:
        if not message.id:
            continue
        msgid, msgstr = str(message.id), str(message.string or "")
        where = f"{Path(path).name}: {msgid[:70]!r}"
        if message.fuzzy:
            found.append(f"{where}: fuzzy (the English changed; check and update the translation)")
            continue
        if not msgstr.strip():
            found.append(f"{where}: not translated")
            continue
        checks = [
            ("roles", roles),
            ("math", maths),
            ("inline code", code_spans),
            ("link targets", link_targets),
        ]
        if LABEL_TAG.search(msgid):  # a diagram's label
            checks += [("diagram markup", label_markup), ("diagram numbers", label_numbers)]
        for name, check in checks:
            if check(msgid) != check(msgstr):
                lost, added = check(msgid) - check(msgstr), check(msgstr) - check(msgid)
                found.append(f"{where}: {name} differ: missing {dict(lost)}, extra {dict(added)}")
        if LIST_MARKER.match(msgstr):
            found.append(
                f"{where}: starts like a numbered list item ({msgstr[:8]!r}); Sphinx re-parses a "
                r"translated heading as Markdown and drops it, so write the number as '1\. '"
            )
        for wrong in TICKET_MEASURE.findall(msgstr):
            found.append(f"{where}: {wrong!r}: count 工单 with 条 (一条工单), as the book does")
        if copied_prose(msgid, msgstr, headwords):
            found.append(f"{where}: copied in English, not translated")
            continue
        if msgstr == msgid:  # a headword, display math or a name: nothing to translate
            continue
        if terms:
            allowed = {e.term for e in exceptions or [] if e.message in msgid}
            for word in missing_terms(msgid, msgstr, terms):
                if word not in allowed:
                    found.append(
                        f"{where}: glossary term {word!r} not rendered by its Chinese form"
                    )
    return found


def load_exceptions(path: Path) -> list[TermException]:
    """The deliberate exceptions to the term check (a YAML list of term, message, reason)."""
    import yaml

    rows = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or []
    out = []
    for row in rows:
        if not isinstance(row, dict) or not {"term", "message", "reason"} <= row.keys():
            raise ValueError(f"{path}: each exception needs term, message and reason, got {row!r}")
        out.append(TermException(str(row["term"]), str(row["message"]), str(row["reason"])))
    return out
