"""``python -m tiny_gpt download | verify | info``: fetch, check and describe the Tang poems.

The five-character quatrains and regulated verses of the tiny GPT part (``chapters/tiny_gpt/``,
notebooks ``char_gpt.ipynb`` and ``scaling.ipynb``); ``download`` needs npm and internet.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from book_core.fetch import ConfigurationError
from tiny_gpt import poems


def _kinds(part: list[poems.Poem]) -> str:
    """``"n quatrains, m regulated verses"``."""
    n_quatrains = len(poems.quatrains(part))
    return f"{n_quatrains} quatrains, {len(part) - n_quatrains} regulated verses"


def _info(cache_dir: Path | None) -> None:
    everything = poems.load_poems(cache_dir, download=False)
    quatrains = poems.quatrains(everything)
    verses = [p for p in everything if poems.is_regulated_verse(p.text)]
    splits = poems.split_poems(everything)
    train = poems.stanzas(splits.train)
    vocab = poems.CharVocab.from_texts((p.text for p in train), min_count=5)  # as char_gpt.ipynb
    print(
        f"source: npm package {poems.NPM_PACKAGE} (MIT licence), Tang poems, traditional characters"
    )
    print(f"cache:  {poems.cache_path(cache_dir)} (SHA-256 verified)")
    authors = len({p.author for p in everything})
    distinct = len({p.text for p in everything})
    print(
        f"five-character poems: {len(everything)} ({distinct} distinct texts) by {authors} authors"
    )
    for name, kind in (("quatrains", quatrains), ("regulated verses", verses)):
        print(f"  {name}: {len(kind)} ({len({p.text for p in kind})} distinct texts)")
    print("split by poem, no line shared between splits:")
    for name, part in splits.items():
        print(f"  {name:10s} {len(part)} poems ({_kinds(part)})")
    print(f"training stanzas (quatrains, and both halves of each regulated verse): {len(train)}")
    print(
        f"vocabulary: the {len(vocab) - 3} characters seen 5+ times in the training stanzas, "
        "and 3 special tokens"
    )
    for name, part in splits.items()[1:]:
        evaluated = poems.quatrains(part)
        unknown = sum(c not in vocab.chars for p in evaluated for c in p.text)
        total = sum(len(p.text) for p in evaluated)
        print(
            f"  {name} quatrains (evaluated): {len(evaluated)}, characters unknown to the "
            f"vocabulary: {unknown} of {total}"
        )
    first = everything[0]
    print(f"first poem: {first.describe()}")
    for line in first.lines:
        print(f"  {line}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tiny_gpt", description=__doc__.splitlines()[0])
    cache_help = "the poems' cache (default: POEMS_CACHE_DIR or ~/.cache/ai-startup-book/poems)"
    parser.add_argument("--cache-dir", type=Path, help=cache_help)
    sub = parser.add_subparsers(dest="command", required=True)
    dl = sub.add_parser("download", help="fetch the poems with npm if not already here, verified")
    dl.add_argument("--quiet", action="store_true", help="no progress output")
    sub.add_parser("verify", help="check the SHA-256 of the cached poems")
    sub.add_parser("info", help="where the poems come from, their counts, splits and vocabulary")
    args = parser.parse_args(argv)

    commands = {"download": _download, "verify": _verify, "info": _info_command}
    try:
        return commands[args.command](args)
    except (poems.PoemsError, ConfigurationError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _download(args: argparse.Namespace) -> int:
    print(poems.download(args.cache_dir, progress=not args.quiet))
    return 0


def _verify(args: argparse.Namespace) -> int:
    state = poems.verify_cache(args.cache_dir)[poems.CACHE_FILE]
    print(f"{poems.cache_path(args.cache_dir)} {state}")
    if state != "ok":
        print(f"To fix: {poems.FIX_HINT}.", file=sys.stderr)
        return 1
    return 0


def _info_command(args: argparse.Namespace) -> int:
    _info(args.cache_dir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
