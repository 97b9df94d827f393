"""The Chinese edition (issue #29): its catalogs are complete, current and consistent with the
English, and the built edition shows every glued number the English shows.

- The catalogs (``locale/zh_CN/LC_MESSAGES``, one per page) hold exactly the messages that the
  English text gives today (extracted afresh by Sphinx's gettext builder), so an English edit fails
  here until ``scripts/i18n.py update`` has run and the translation is updated.
- Every entry is translated, none is fuzzy, and each keeps its glued numbers, cross-references,
  math, code and link targets, and renders the glossary's terms by their Chinese form
  (``scripts/translation.py``; deliberate exceptions in ``locale/zh_CN/term_exceptions.yml``).
- The built site (``make book``): every English page has its Chinese page, with the same glued
  values, linked both ways. The browser tests open the Chinese pages too (``test_browser.py``).
- The diagrams of the Chinese pages draw Chinese labels: each label of a diagram's DOT source is a
  message of its page's catalog, like the alt text.
- The two extensions behind it, ``_ext/i18n_messages.py`` and ``_ext/language_switch.py``, on examples
  worked by hand.
"""

from __future__ import annotations

import html
import re
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml
from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po
from translation import (
    Term,
    glossary_terms,
    load_exceptions,
    missing_terms,
    problems,
    read_catalog,
    roles,
)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "_ext"))
sys.path.insert(0, str(ROOT / "scripts"))

import i18n  # noqa: E402
from i18n_messages import (  # noqa: E402
    STRAIGHT,
    WORD,
    diagram_messages,
    point_at,
    translate_diagram,
)
from language_switch import other_edition  # noqa: E402

CATALOGS = i18n.catalogs()
HTML = ROOT / "_build" / "html"
EDITION = HTML / i18n.EDITION_DIR  # the built Chinese edition
PASTED = re.compile(r'<span class="pasted-text">(.*?)</span>', re.S)
HEADING = re.compile(r"<h([1-4])[^>]*>(.*?)</h\1>", re.S)


def page_of(catalog: Path) -> str:
    """The docname a catalog translates (``chapters/mnist/cnn``)."""
    return (
        catalog.relative_to(i18n.LOCALE_DIR / i18n.LANGUAGE / "LC_MESSAGES")
        .with_suffix("")
        .as_posix()
    )


def toc_pages() -> list[str]:
    from nbtools import toc_files

    return toc_files()


def test_every_page_has_a_catalog() -> None:
    assert sorted(page_of(c) for c in CATALOGS) == sorted(set(toc_pages())), (
        "run `python scripts/i18n.py update`"
    )


@pytest.fixture(scope="module")
def templates() -> Path:
    """The message templates of the English as it is now (Sphinx's gettext builder, ~10 s)."""
    return i18n.pot()


def test_the_catalogs_hold_the_english_of_today(templates: Path) -> None:
    stale = []
    for catalog in CATALOGS:
        template = templates / f"{page_of(catalog)}.pot"
        english = {m.id for m in read_catalog(template) if m.id} if template.exists() else set()
        translated = {m.id for m in read_catalog(catalog) if m.id}
        if english != translated:
            stale.append(
                f"{page_of(catalog)}: {len(english - translated)} new English entries, "
                f"{len(translated - english)} entries whose English is gone"
            )
    assert not stale, (
        "the English changed: run `python scripts/i18n.py update` and translate the new and fuzzy "
        "entries (locale/zh_CN/TRANSLATING.md)\n" + "\n".join(stale)
    )


@pytest.fixture(scope="module")
def terms() -> list[Term]:
    return glossary_terms(i18n.GLOSSARY)


@pytest.mark.parametrize("catalog", CATALOGS, ids=page_of)
def test_catalog_is_translated_and_consistent(catalog: Path, terms: list[Term]) -> None:
    found = problems(catalog, terms, load_exceptions(i18n.TERM_EXCEPTIONS))
    assert not found, "\n".join(found)


def test_every_term_exception_still_applies() -> None:
    messages = [str(m.id) for c in CATALOGS for m in read_catalog(c) if m.id]
    for exception in load_exceptions(i18n.TERM_EXCEPTIONS):
        assert any(exception.message in m for m in messages), (
            f"term exception {exception.term!r} names English that no longer exists: "
            f"{exception.message!r}; remove it from {i18n.TERM_EXCEPTIONS.name}"
        )
        assert exception.reason.strip(), f"term exception {exception.term!r} gives no reason"


# --- the checks themselves, on examples worked by hand ----------------------------------------


def write_catalog(path: Path, entries: dict[str, str], fuzzy: dict[str, str] | None = None) -> Path:
    """A catalog of ``entries`` (English -> Chinese), plus ``fuzzy`` ones, written by babel."""
    catalog = Catalog(locale="zh_CN")
    for english, chinese in entries.items():
        catalog.add(english, chinese)
    for english, chinese in (fuzzy or {}).items():
        catalog.add(english, chinese, flags=["fuzzy"])
    with path.open("wb") as handle:
        write_po(handle, catalog)
    return path


def test_the_checks_catch_a_lost_number_a_lost_link_and_a_wrong_term(tmp_path: Path) -> None:
    english = "reaches {glue:text}`acc:.1f` % on {term}`tokens <token>`, see [the data](x.md)."
    rows = {
        "Good": "达到 {glue:text}`acc:.1f` %（{term}`词元 <token>`），见[数据](x.md)。",
        "Number": "达到 97.5 %（{term}`词元 <token>`），见[数据](x.md)。",
        "Link": "达到 {glue:text}`acc:.1f` %（词元），见[数据](y.md)。",
        "Term": "达到 {glue:text}`acc:.1f` %（{term}`标记 <token>`），见[数据](x.md)。",
        "Empty": "",
    }
    catalog = write_catalog(
        tmp_path / "page.po",
        {f"{name} {english}": text for name, text in rows.items()},
        fuzzy={"Changed.": "旧的。"},
    )
    found = problems(catalog, [Term(("token",), ("词元",))])

    def about(name: str) -> list[str]:
        return [f.split(": ", 2)[2] for f in found if f.startswith(f"page.po: '{name} ")]

    assert about("Good") == []
    assert about("Number") == ["roles differ: missing {('glue:text', 'acc:.1f'): 1}, extra {}"]
    assert [f.split(":")[0] for f in about("Link")] == ["roles differ", "link targets differ"]
    assert about("Term") == ["glossary term 'token' not rendered by its Chinese form"]
    assert about("Empty") == ["not translated"]
    assert about("Changed.'") == [] and sum("fuzzy" in f for f in found) == 1
    assert len(found) == 6, found


def test_the_checks_catch_a_diagram_label_that_lost_its_markup_or_a_number(tmp_path: Path) -> None:
    english = '<b>hidden unit 2</b><br/><font color="#1f5fa8">z = 0.75</font>'
    rows = {
        "Good": '<b>隐藏单元 2</b><br/><font color="#1f5fa8">z = 0.75</font>',
        "Moved": '<b>隐藏单元 2</b><font color="#1f5fa8"><br/>z = 0.75<br/></font>',
        "Lost font": "<b>隐藏单元 2</b><br/>z = 0.75",
        "Number": '<b>隐藏单元 2</b><br/><font color="#1f5fa8">z = 0.57</font>',
    }
    catalog = write_catalog(
        tmp_path / "page.po", {f"{name} {english}": f"{name} {text}" for name, text in rows.items()}
    )
    found = [re.match(r"page\.po: '(\w+).*: (diagram \w+) differ", f) for f in problems(catalog)]
    # a translation may move or add line breaks, but not drop a tag or change a number
    assert [m.groups() if m else None for m in found] == [
        ("Lost", "diagram markup"),
        ("Number", "diagram numbers"),
    ]


def test_the_checks_want_one_measure_word_for_tickets(tmp_path: Path) -> None:
    rows = {
        "Good": "208 条留出工单，每条工单一个标签；这张表和那个队列不是工单。",
        "Zhang": "一百万张中文工单",
        "Ge": "几个工单",
    }
    catalog = write_catalog(tmp_path / "page.po", {f"{k} tickets": v for k, v in rows.items()})
    found = [f.split(": ", 2)[1:] for f in problems(catalog)]
    assert [(where.split()[0], issue.split(":")[0]) for where, issue in found] == [
        ("'Zhang", "'张中文工单'"),
        ("'Ge", "'个工单'"),
    ]


# A diagram as the pages write one: quoted labels with escapes and padding, HTML-like labels, a
# table label, and labels without a word to translate.
DOT = """digraph g {
  a [label="good enough\\non \\"dev\\"?", shape=diamond];
  b [label=<<b>ship</b>&#160;the cheapest<br/><font point-size="10">rung 2</font>>];
  c [label=<
    <TABLE BORDER="0"><TR><TD COLSPAN="2"><B>filter</B> (3 × 3)</TD></TR>
    <TR><TD>−1</TD><TD>1</TD></TR></TABLE>>];
  d [label="W₁x + b₁"]; e [label="QKᵀ"];
  a -> b [label=" no"];
}"""


def test_each_label_of_a_diagram_that_holds_words_is_a_message() -> None:
    assert diagram_messages(DOT) == [
        'good enough\non "dev"?',
        '<b>ship</b>&#160;the cheapest<br/><font point-size="10">rung 2</font>',
        "<B>filter</B> (3 × 3)",
        "no",
    ]


def test_a_translated_diagram_keeps_its_escapes_padding_and_structure() -> None:
    chinese = {
        'good enough\non "dev"?': '在"开发集"上\n够好吗？',
        "<B>filter</B> (3 × 3)": "<B>滤波器</B> (3 × 3)",
        "no": "否",
    }
    translated = translate_diagram(DOT, lambda message: chinese.get(message, message))
    assert translated == (
        DOT.replace('"good enough\\non \\"dev\\"?"', '"在\\"开发集\\"上\\n够好吗？"')
        .replace("<B>filter</B>", "<B>滤波器</B>")
        .replace('" no"', '" 否"')
    )
    assert translate_diagram(DOT, lambda message: message) == DOT


def test_roles_keep_keys_of_numbers_but_not_the_text_of_links() -> None:
    assert roles("{glue:text}`a:.1f` and {term}`batches <batch>`") == Counter(
        {("glue:text", "a:.1f"): 1, ("term", ""): 1}
    )


def test_terms_in_code_or_math_or_link_targets_are_not_prose() -> None:
    token = [Term(("token",), ("词元",))]
    assert (
        missing_terms("Call `count_token(s)` on $token$ at [x](token.md).", "调用。", token) == []
    )
    assert missing_terms("Each token costs.", "每个 GPU 都花钱。", token) == ["token"]
    # names kept in Chinese text may stay in English
    assert missing_terms("On a GPU.", "在 GPU 上。", [Term(("GPU",), ("图形处理器",))]) == []


def test_a_missing_or_broken_catalog_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="i18n.py update"):
        read_catalog(tmp_path / "nope.po")
    for content in (b'msgid "a"\nmsgid "b"\n', b"\xff\xfe not UTF-8", b"no keyword\n"):
        broken = tmp_path / "broken.po"
        broken.write_bytes(content)
        with pytest.raises(ValueError, match="not a readable gettext catalog"):
            read_catalog(broken)


def test_the_term_base_reads_the_glossary() -> None:
    terms = {t.english[0]: t for t in glossary_terms(i18n.GLOSSARY)}
    assert terms["token"].chinese == ("词元",)
    assert terms["batch normalisation"].english == ("batch normalisation", "batch normalization")
    assert terms["batch normalisation"].chinese == ("批量归一化",)
    assert terms["positional encoding"].chinese == ("位置编码", "位置嵌入")


# --- the extensions -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fragment", "expected"),
    [
        ("准确率为 {glue:text}`acc:.1f`。", "准确率为 {glue:text}`cnn.ipynb::acc:.1f`。"),
        ("{glue}`fig` 与 {glue:any}`x`", "{glue}`cnn.ipynb::fig` 与 {glue:any}`cnn.ipynb::x`"),
        # without a format, {glue:text} needs the default one spelled out to read "doc::key"
        ("共 {glue:text}`n` 张", "共 {glue:text}`cnn.ipynb::n:s` 张"),
        # a reference to another notebook stays as it is
        (
            "{glue:text}`../mnist/baseline.ipynb::acc:.2%`",
            "{glue:text}`../mnist/baseline.ipynb::acc:.2%`",
        ),
        ("no roles, `{glue:text}` in prose", "no roles, `{glue:text}` in prose"),
    ],
)
def test_translated_glue_roles_point_at_their_own_notebook(fragment: str, expected: str) -> None:
    assert point_at(fragment, "cnn.ipynb") == expected


@pytest.mark.parametrize(
    ("pagename", "language", "expected"),
    [
        ("intro", "en", ("zh/intro.html", "中文", "zh-CN")),
        ("chapters/mnist/cnn", None, ("../../zh/chapters/mnist/cnn.html", "中文", "zh-CN")),
        ("intro", "zh_CN", ("../intro.html", "English", "en")),
        ("chapters/mnist/cnn", "zh_CN", ("../../../chapters/mnist/cnn.html", "English", "en")),
    ],
)
def test_each_page_links_to_its_counterpart(pagename, language, expected) -> None:
    assert other_edition(pagename, language) == expected


# --- the built Chinese edition ----------------------------------------------------------------

built = pytest.mark.skipif(
    not (EDITION / "intro.html").exists(), reason="needs both editions built (make book)"
)


@built
@pytest.mark.parametrize("docname", toc_pages())
def test_the_chinese_page_shows_the_english_pages_numbers(docname: str) -> None:
    english = (HTML / f"{docname}.html").read_text(encoding="utf-8")
    chinese = (EDITION / f"{docname}.html").read_text(encoding="utf-8")
    assert '<html lang="zh-CN"' in chinese

    # Numbers show as they are; a glued phrase (words, not a number) shows its translation from
    # the page's catalog (_ext/i18n_messages.py). The English build curls the quotes of glued text
    # (Sphinx's smart quotes), so quotes are compared straight.
    catalog = {
        str(m.id): str(m.string)
        for m in read_catalog(i18n.LOCALE_DIR / i18n.LANGUAGE / "LC_MESSAGES" / f"{docname}.po")
        if m.id
    }

    def shown(value: str) -> str:
        value = html.unescape(value).translate(STRAIGHT)
        return catalog[value] if WORD.search(value) else value  # as i18n_messages decides

    english_values = Counter(shown(v) for v in PASTED.findall(english))
    chinese_values = Counter(html.unescape(v) for v in PASTED.findall(chinese))
    assert chinese_values == english_values, "a glued value is missing or different"

    # A translation that Sphinx could not use (a heading re-parsed as a list, say) leaves the
    # English in place without a warning: no heading of the Chinese page may be the English one.
    def headings(page: str) -> list[str]:
        return [" ".join(re.sub(r"<[^>]+>", " ", h).split()) for _, h in HEADING.findall(page)]

    english_headings = set(headings(english))
    untranslated = [
        h
        for h in headings(chinese)
        if h in english_headings
        and len(re.findall(r"[A-Za-z]{2,}", h)) >= 2
        and not re.search(r"[\u4e00-\u9fff]", h)
    ]
    assert not untranslated, f"headings left in English: {untranslated}"
    here, back = other_edition(docname, "en")[0], other_edition(docname, "zh_CN")[0]
    assert f'href="{here}"' in english and f'href="{back}"' in chinese


@built
def test_the_sidebar_shows_the_parts_and_the_title_in_chinese() -> None:
    """The part captions of _toc.yml, inserted after Sphinx translates a page (i18n_messages), and
    the edition's title (scripts/i18n.py)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    captions = [part["caption"] for part in toc["parts"]]
    catalog = {
        str(m.id): str(m.string)
        for m in read_catalog(i18n.LOCALE_DIR / i18n.LANGUAGE / "LC_MESSAGES" / "intro.po")
        if m.id
    }
    title = yaml.safe_load((ROOT / "_config.yml").read_text())["title"]
    assert f"&#8212; {html.escape(catalog[title], quote=False)}</title>" in (
        EDITION / "intro.html"
    ).read_text(encoding="utf-8")
    for page in ("intro", "chapters/mnist/cnn"):
        shown = re.findall(
            r'<span class="caption-text">([^<]*)</span>',
            (EDITION / f"{page}.html").read_text(encoding="utf-8"),
        )
        assert shown == [html.escape(catalog[c], quote=False) for c in captions], shown


def test_make_book_builds_the_chinese_edition() -> None:
    makefile = (ROOT / "Makefile").read_text()
    book = re.search(r"^book:.*?(?=^\S)", makefile, re.S | re.M)
    assert book and "scripts/i18n.py build" in book.group(0)


def test_the_build_is_not_an_execution() -> None:
    config = i18n.book_config(i18n.LANGUAGE)
    assert config["execute"]["execute_notebooks"] == "off"
    assert config["sphinx"]["config"]["language"] == "zh_CN"


OBJECT_SVG = re.compile(r'<object [^>]*data="([^"]+\.svg)"')
SVG_TEXT = re.compile(r"<text[^>]*>([^<]*)</text>")
CJK = re.compile(r"[\u4e00-\u9fff]")


def english_lines(svg: Path) -> list[str]:
    """The lines of text a diagram draws that read as English: two or more words of three or more
    letters, no Chinese, and not a code name (``token_embedding``, ``block{i}_ln1``)."""
    texts = [html.unescape(t) for t in SVG_TEXT.findall(svg.read_text(encoding="utf-8"))]
    return [
        t
        for t in texts
        if len(re.findall(r"[a-z]{3,}", t)) >= 2 and not CJK.search(t) and not re.search(r"[_{]", t)
    ]


@built
@pytest.mark.parametrize(
    "docname", ["chapters/prompting/index", "chapters/roadmap/index", "chapters/tiny_gpt/index"]
)
def test_the_chinese_diagrams_draw_chinese_labels(docname: str) -> None:
    """The same diagrams in both editions; the English labels are translated in the Chinese one."""

    def diagrams(page: Path) -> list[Path]:
        return [page.parent / d for d in OBJECT_SVG.findall(page.read_text(encoding="utf-8"))]

    english, chinese = diagrams(HTML / f"{docname}.html"), diagrams(EDITION / f"{docname}.html")
    assert english and len(chinese) == len(english)
    assert all(english_lines(svg) for svg in english)  # the check finds English where there is some
    for svg in chinese:
        assert not english_lines(svg), f"{svg.name} draws English labels: {english_lines(svg)}"
        assert CJK.search(svg.read_text(encoding="utf-8"))


EXERCISE_TITLE = re.compile(
    r'<span class="caption-number">(?:Exercise|练习) (\d+) </span> \(([^<]*)\)'  # the exercise
    r'|href="#[^"]*"> (?:Exercise|练习) (\d+) \(([^<]*)\)'  # its solution's title
)


@built
@pytest.mark.parametrize("docname", [p for p in toc_pages() if p.endswith("/index")])
def test_the_chinese_exercises_and_solutions_have_chinese_titles(docname: str) -> None:
    """sphinx-exercise's titles are messages too (i18n_messages.MarkExerciseTitles), also where a
    solution repeats its exercise's title (ShareTranslatedExerciseTitles)."""

    def titles(page: Path) -> list[tuple[str, str]]:
        found = EXERCISE_TITLE.findall(html.unescape(page.read_text(encoding="utf-8")))
        return [(a or c, b or d) for a, b, c, d in found]

    english, chinese = titles(HTML / f"{docname}.html"), titles(EDITION / f"{docname}.html")
    assert [n for n, _ in chinese] == [n for n, _ in english]
    for (number, title), (_, translated) in zip(english, chinese, strict=True):
        assert CJK.search(translated), f"exercise {number}: {title!r} shown in English"


THEME_TEXT = re.compile(
    r'btn__text-container">([^<]*)<|placeholder="([^"]*)"|data-bs-placement="bottom" title="([^"]*)"'
)


@built
@pytest.mark.parametrize("docname", ["intro", "chapters/mnist/cnn"])
def test_the_chinese_pages_header_and_search_box_are_in_chinese(docname: str) -> None:
    """The header buttons and the search box: texts that the theme's zh_CN catalogs miss come
    from scripts/i18n.py (PROMPTS), applied by _ext/language_switch.py; texts of Sphinx's own
    domain from locale/theme."""

    def texts(page: Path) -> list[str]:
        found = THEME_TEXT.findall(html.unescape(page.read_text(encoding="utf-8")))
        return [next(t for t in groups if t) for groups in found]

    english = [t for t in texts(HTML / f"{docname}.html") if re.search(r"[a-z]{3,}", t)]
    assert "Repository" in english and "Search this book..." in english  # what is looked at
    names = {"Colab", ".ipynb", ".md", ".pdf"}
    left = [t for t in texts(EDITION / f"{docname}.html") if re.search(r"[a-z]{3,}", t)]
    assert set(left) <= names, f"English in the Chinese page's header: {set(left) - names}"
    # and the tooltips that Sphinx's and the theme's own catalogs miss (locale/theme)
    chinese = (EDITION / f"{docname}.html").read_text(encoding="utf-8")
    for attribute in ('title="链接到此标题"', 'data-bs-title="颜色模式"', 'title="跟随系统设置"'):
        assert attribute in chinese


def test_exercise_titles_are_plain_text() -> None:
    """An exercise's title becomes its message as plain text (i18n_messages.MarkExerciseTitles), so
    markup in it (code, math, emphasis, a role) would be lost in the Chinese edition."""
    titles = [
        title
        for page in ROOT.glob("chapters/**/*.*")
        if page.suffix in {".md", ".ipynb"}
        for title in re.findall(r"```\{exercise\} ([^\n\\]+)", page.read_text(encoding="utf-8"))
    ]
    assert len(titles) >= 20  # the pages' exercises are found
    assert not [t for t in titles if re.search(r"[`$*_{}\[\]]", t)]
