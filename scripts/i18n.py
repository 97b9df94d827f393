"""The Chinese edition: extract the book's text, update its catalogs, build it (issue #29).

The English pages and notebooks are the only source. Their prose is extracted by Sphinx's gettext
builder into message templates, ``sphinx-intl`` merges those into the translation catalogs under
``locale/zh_CN/LC_MESSAGES`` (one ``.po`` file per page), and a second ``jupyter-book build`` with
``language: zh_CN`` renders the same pages, with the same stored outputs and glued numbers, in
Chinese under ``_build/html/zh``. Nothing is executed: the Chinese build is a build, not a run.

    python scripts/i18n.py pot      # message templates of the current English text (build/i18n/pot)
    python scripts/i18n.py update [PAGE ...]  # merged into locale/ (new text empty, changed fuzzy)
    python scripts/i18n.py build    # the Chinese edition into _build/html/zh (after `make book`)
    python scripts/i18n.py check [PO ...]   # what is untranslated, fuzzy or broken (scripts/translation.py)

A translator runs ``update``, fills in the new and the fuzzy entries of the ``.po`` files, and runs
``make book``. ``tests/test_i18n.py`` fails while any entry is missing, empty or fuzzy.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
LANGUAGE = "zh_CN"
LOCALE_DIR = ROOT / "locale"
WORK = ROOT / "build" / "i18n"
POT_DIR = WORK / "pot" / "_build" / "gettext"
GLOSSARY = ROOT / "chapters" / "references" / "glossary.md"
TERM_EXCEPTIONS = LOCALE_DIR / LANGUAGE / "term_exceptions.yml"
# Texts of Sphinx and the theme that their own catalogs leave in English (domain "sphinx"), kept
# apart from the page catalogs
THEME_LOCALE_DIR = LOCALE_DIR / "theme"
sys.path.insert(0, str(ROOT / "_ext"))
# the Chinese edition's folder under the English site's root, named once, where its links are made
from language_switch import EDITION_DIR  # noqa: E402

# Page furniture that no catalog holds (_ext/language_switch.py applies it): the prompts of folded
# code cells, which come from MyST-NB's configuration and the set-up cell's metadata
# (scripts/nbtools.py), not from the text (one missing fails the build); and texts of the theme
# that its own catalogs miss.
PROMPTS = {
    "Show code cell source": "显示代码",
    "Hide code cell source": "隐藏代码",
    "Show code cell outputs": "显示输出",
    "Hide code cell outputs": "隐藏输出",
    "Show code cell content": "显示代码单元",
    "Hide code cell content": "隐藏代码单元",
    "Set-up cell: on Colab it installs the book's code; everywhere it pins the numerics and the "
    "seed (click to show)": "设置单元：在 Colab 上安装本书的代码；在任何环境中固定数值设置和随机种子（点击展开）",
    "Hide the set-up cell": "收起设置单元",
    # what the zh_CN catalogs of sphinx-book-theme 1.1 miss: header buttons and their tooltips
    "Repository": "仓库",
    "Open issue": "创建议题",
    "Source repositories": "源码库",
    "Launch interactive content": "运行交互内容",
    "Launch on Colab": "在 Colab 中打开",
    # Jupyter Book's text for the search box
    "Search this book...": "搜索本书……",
}


def book_config(language: str | None) -> dict[str, Any]:
    """``_config.yml`` with the settings of a gettext run (``language=None``) or of an edition.

    The copy lives in ``build/i18n``, so the paths that Jupyter Book resolves against the config
    file's folder (the local extensions) are made absolute; the others are resolved against the
    book's root and stay as they are.
    """
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    sphinx = config.setdefault("sphinx", {})
    sphinx["local_extensions"] = {
        name: str((ROOT / path).resolve()) for name, path in sphinx["local_extensions"].items()
    }
    extra = sphinx.setdefault("config", {})
    extra["project"] = config["title"]  # the catalogs' Project-Id-Version
    # One catalog per page, without source line numbers (they would change with every edit of the
    # English and make every catalog differ).
    extra.update(
        gettext_compact=False, gettext_location=False, gettext_additional_targets=["image"]
    )
    if language is not None:
        # The edition's own title (sidebar, browser tab): the translation of the intro's heading.
        config["title"] = translated(config["title"], "intro")
        extra.update(
            language=language,
            locale_dirs=[str(LOCALE_DIR), str(THEME_LOCALE_DIR)],
            edition_prompts=PROMPTS,
        )
    return config


def translated(english: str, page: str) -> str:
    """``english``'s translation in ``page``'s catalog (the English if there is none)."""
    sys.path.insert(0, str(ROOT / "scripts"))
    from translation import read_catalog

    path = LOCALE_DIR / LANGUAGE / "LC_MESSAGES" / f"{page}.po"
    found = {str(m.id): str(m.string) for m in read_catalog(path) if m.id} if path.exists() else {}
    return found.get(english) or english


def jupyter_book(config: dict[str, Any], name: str, *args: str) -> None:
    """Run ``jupyter-book build`` on the book's root with ``config``; output under build/i18n/name."""
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / f"_config.{name}.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    command = [
        str(Path(sys.executable).with_name("jupyter-book")),
        "build",
        str(ROOT),
        "--config",
        str(path),
        "--path-output",
        str(WORK / name),
        *args,
    ]
    subprocess.run(command, check=True, cwd=ROOT)


def pot() -> Path:
    """Extract the English text into message templates; return their folder."""
    shutil.rmtree(WORK / "pot", ignore_errors=True)
    jupyter_book(book_config(None), "pot", "--builder", "custom", "--custom-builder", "gettext")
    return POT_DIR


def update(pages: list[str] | None = None) -> None:
    """Merge fresh templates into the catalogs: new entries empty, changed ones fuzzy. With
    ``pages`` (docnames such as ``chapters/prompting/ladder``), only their catalogs."""
    templates = pot()
    if pages:
        chosen = WORK / "pot-chosen"
        shutil.rmtree(chosen, ignore_errors=True)
        for page in pages:
            source = templates / f"{page}.pot"
            if not source.exists():
                sys.exit(
                    f"no page {page!r} in the book (give a docname such as chapters/mnist/cnn)"
                )
            (chosen / page).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, chosen / f"{page}.pot")
        templates = chosen
    subprocess.run(
        [
            str(Path(sys.executable).with_name("sphinx-intl")),
            "update",
            "--pot-dir",
            str(templates),
            "--locale-dir",
            str(LOCALE_DIR),
            "--language",
            LANGUAGE,
            "--line-width",
            "-1",
            "--no-obsolete",
            "--jobs",
            "1",
        ],
        check=True,
        cwd=ROOT,
    )


def build(site: Path = ROOT / "_build" / "html") -> Path:
    """Build the Chinese edition (warnings are errors, as in the English build) into site/zh."""
    if not (site / "index.html").exists():
        sys.exit(f"{site} holds no English book: run `make book` first")
    shutil.rmtree(WORK / EDITION_DIR, ignore_errors=True)
    jupyter_book(
        book_config(LANGUAGE),
        EDITION_DIR,
        "--builder",
        "html",
        "-W",
        "-n",
        "--keep-going",
        "--quiet",
    )
    target = site / EDITION_DIR
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(WORK / EDITION_DIR / "_build" / "html", target)
    return target


def catalogs() -> list[Path]:
    """Every catalog of the Chinese edition, one per page."""
    return sorted((LOCALE_DIR / LANGUAGE / "LC_MESSAGES").rglob("*.po"))


def check(paths: list[Path]) -> int:
    """Print each catalog's problems (scripts/translation.py, problems); return how many."""
    sys.path.insert(0, str(ROOT / "scripts"))
    from translation import glossary_terms, load_exceptions, problems

    terms = glossary_terms(GLOSSARY)
    exceptions = load_exceptions(TERM_EXCEPTIONS) if TERM_EXCEPTIONS.exists() else []
    total = 0
    for path in paths or catalogs():
        found = problems(path, terms, exceptions)
        total += len(found)
        print(f"{path.relative_to(ROOT) if path.is_absolute() else path}: {len(found)} problems")
        for line in found:
            print("   ", line)
    return total


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["pot", "update", "build", "check"])
    parser.add_argument(
        "targets", nargs="*", help="check: these .po files only; update: these pages only"
    )
    args = parser.parse_args(argv)
    command = args.command
    if command == "check":
        sys.exit(1 if check([Path(p).resolve() for p in args.targets]) else 0)
    elif command == "pot":
        print(pot())
    elif command == "update":
        update(args.targets)
    else:
        print(build())


if __name__ == "__main__":
    main()
