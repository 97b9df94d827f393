"""Tests of tiny_gpt.sampling: greedy and top-k draws, temperature against the exact distribution,
forbidden ids, the generation loop, and the metrics of generated poems."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from tiny_gpt.baselines import BigramModel
from tiny_gpt.sampling import (
    generate,
    keeps_line_form,
    line_form_rate,
    memorised_lines,
    poem_lines,
    sample_next,
)

POEM = "白日依山盡，黃河入海流。欲窮千里目，更上一層樓。"  # 王之渙《登鸛雀樓》
N_DRAWS = 20_000


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return e / e.sum()


def _draw(logits: np.ndarray, n: int = N_DRAWS, seed: int = 0, **options) -> np.ndarray:
    """``n`` draws from the one distribution ``logits`` ``(V,)``, in one batched call."""
    rng = np.random.default_rng(seed)
    return sample_next(np.tile(logits, (n, 1)), rng=rng, **options)


def _frequencies(ids: np.ndarray, vocab_size: int) -> np.ndarray:
    return np.bincount(ids, minlength=vocab_size) / len(ids)


# --------------------------------------------------------------------------------------------
# sample_next
# --------------------------------------------------------------------------------------------


@settings(max_examples=25, deadline=None, database=None)
@given(
    batch=st.integers(1, 20),
    vocab_size=st.integers(1, 30),
    temperature=st.sampled_from([0.01, 0.5, 1.0, 100.0]),
    seed=st.integers(0, 2**32 - 1),
)
def test_top_1_is_greedy_at_any_temperature(batch, vocab_size, temperature, seed):
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((batch, vocab_size))
    ids = sample_next(logits, temperature=temperature, top_k=1, rng=rng)
    assert ids.shape == (batch,) and ids.dtype == np.int64
    np.testing.assert_array_equal(ids, logits.argmax(axis=1))


@pytest.mark.parametrize("k", [1, 2, 5])
def test_top_k_only_ever_draws_the_k_best(k):
    logits = np.random.default_rng(1).standard_normal(12)
    best = set(np.argsort(logits)[-k:].tolist())
    drawn = set(_draw(logits, temperature=50.0, top_k=k).tolist())  # nearly flat: all k show up
    assert drawn == best


def test_top_k_keeps_exactly_k_ids_among_ties():
    ids = _draw(np.zeros(10), temperature=1.0, top_k=3)
    assert len(set(ids.tolist())) == 3
    np.testing.assert_allclose(np.bincount(ids)[np.unique(ids)] / N_DRAWS, 1 / 3, atol=0.02)


@pytest.mark.parametrize(
    ("temperature", "top_k"), [(1.0, None), (0.5, None), (2.0, None), (0.7, 3), (1.5, 4)]
)
def test_frequencies_match_the_tempered_top_k_softmax(temperature, top_k):
    logits = np.array([2.0, 1.0, 0.0, -1.0, 0.5, -0.3])
    z = logits / temperature
    if top_k is not None:
        z[np.argsort(logits)[:-top_k]] = -np.inf
    expected = _softmax(z)
    counts = np.bincount(_draw(logits, temperature=temperature, top_k=top_k), minlength=6)
    assert (counts[expected == 0] == 0).all()
    kept = expected > 0
    result = stats.chisquare(counts[kept], N_DRAWS * expected[kept])
    assert result.pvalue > 1e-3, (counts / N_DRAWS, expected)
    # and the test has the power to see a wrong temperature (logits times T instead of over T)
    wrong = _softmax(
        logits * temperature if top_k is None else np.where(kept, logits * temperature, -np.inf)
    )
    if temperature != 1.0:
        assert stats.chisquare(counts[kept], N_DRAWS * wrong[kept]).pvalue < 1e-6


def test_forbidden_and_impossible_ids_are_never_drawn():
    logits = np.array(
        [9.0, 8.0, 0.0, 0.1, -np.inf, 0.2]
    )  # pad and <bos> are the model's favourites
    assert set(_draw(logits, temperature=1.0, top_k=None, forbid=[0, 1]).tolist()) == {2, 3, 5}
    top1 = _draw(logits, n=5, temperature=1.0, top_k=1, forbid=(0, 1))
    np.testing.assert_array_equal(top1, 5)  # the best id still allowed
    top2 = _draw(logits, temperature=1.0, top_k=2, forbid=(0, 1, 5))
    assert set(top2.tolist()) == {2, 3}


def test_the_same_seed_gives_the_same_draws():
    logits = np.random.default_rng(2).standard_normal((50, 8))
    first = sample_next(logits, temperature=1.0, top_k=None, rng=np.random.default_rng(3))
    again = sample_next(logits, temperature=1.0, top_k=None, rng=np.random.default_rng(3))
    other = sample_next(logits, temperature=1.0, top_k=None, rng=np.random.default_rng(4))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


@pytest.mark.parametrize(
    ("logits", "options", "error", "message"),
    [
        (np.zeros(5), {}, ValueError, r"\(batch, V\)"),
        (np.zeros((2, 5)), {"temperature": 0.0}, ValueError, "temperature must be"),
        (np.zeros((2, 5)), {"temperature": -1.0}, ValueError, "temperature must be"),
        (np.zeros((2, 5)), {"temperature": float("nan")}, ValueError, "temperature must be"),
        (np.zeros((2, 5)), {"top_k": 0}, ValueError, "top_k must be"),
        (np.zeros((2, 5)), {"top_k": 1.5}, TypeError, "top_k must be"),
        (np.zeros((2, 5)), {"top_k": 6}, ValueError, "more than the vocabulary"),
        (np.zeros((2, 5)), {"forbid": [5]}, ValueError, "forbid ids must lie"),
        (np.zeros((2, 5)), {"forbid": [0, 1, 2, 3, 4]}, ValueError, "no finite value left"),
        (np.full((2, 5), np.nan), {}, ValueError, "NaN"),
        (np.array([[0.0, np.inf]]), {}, ValueError, r"\+inf"),
    ],
)
def test_bad_sampling_arguments_are_rejected(logits, options, error, message):
    kwargs = {"temperature": 1.0, "top_k": None, "rng": np.random.default_rng(0), **options}
    with pytest.raises(error, match=message):
        sample_next(logits, **kwargs)


# --------------------------------------------------------------------------------------------
# generate
# --------------------------------------------------------------------------------------------


def test_generate_feeds_back_growing_prefixes():
    vocab_size, seen = 7, []

    def next_logits(ids: np.ndarray) -> np.ndarray:  # a "model" that always says last id + 1
        seen.append(ids.copy())
        return np.eye(vocab_size)[(ids[:, -1] + 1) % vocab_size] * 10

    prompt = np.array([[1, 2], [1, 5]])
    out = generate(next_logits, prompt, 4, temperature=1.0, top_k=1, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(out, [[1, 2, 3, 4, 5, 6], [1, 5, 6, 0, 1, 2]])
    assert [s.shape for s in seen] == [(2, 2), (2, 3), (2, 4), (2, 5)]
    for s in seen:  # each call sees the prompt and everything drawn so far
        np.testing.assert_array_equal(s, out[:, : s.shape[1]])
    np.testing.assert_array_equal(prompt, [[1, 2], [1, 5]])  # the prompt is left alone


def test_generate_zero_new_tokens_and_bad_arguments():
    def never(ids: np.ndarray) -> np.ndarray:
        raise AssertionError("next_logits must not be called")

    rng = np.random.default_rng(0)
    prompt = np.ones((3, 1), dtype=np.int32)
    out = generate(never, prompt, 0, temperature=1.0, top_k=None, rng=rng)
    assert out.shape == (3, 1) and out.dtype == np.int64
    with pytest.raises(ValueError, match="prompt must be"):
        generate(never, np.ones(3, dtype=int), 2, temperature=1.0, top_k=None, rng=rng)
    with pytest.raises(ValueError, match="prompt must be"):
        generate(never, np.ones((3, 1)), 2, temperature=1.0, top_k=None, rng=rng)
    with pytest.raises(ValueError, match="n_new must be"):
        generate(never, prompt, -1, temperature=1.0, top_k=None, rng=rng)
    with pytest.raises(ValueError, match="temperature must be"):
        generate(never, prompt, 2, temperature=0, top_k=None, rng=rng)
    with pytest.raises(ValueError, match=r"\(batch, V\) = \(3, V\)"):
        generate(lambda ids: np.zeros((1, 4)), prompt, 2, temperature=1.0, top_k=None, rng=rng)


def test_generate_with_a_count_model():
    seqs = np.array([[1, 2, 3, 4, 2, 3, 4]] * 5)
    bigram = BigramModel.fit(seqs, 6, alpha=1e-9)  # almost deterministic: 2 -> 3 -> 4 -> 2
    prompt = np.ones((4, 1), dtype=np.int64)
    out = generate(
        bigram.next_logits, prompt, 6, temperature=1.0, top_k=None, rng=np.random.default_rng(0)
    )
    np.testing.assert_array_equal(out, np.tile([1, 2, 3, 4, 2, 3, 4], (4, 1)))


# --------------------------------------------------------------------------------------------
# metrics of poems
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        POEM,
        "床前明月光，疑是地上霜。舉頭望明月，低頭思故鄉。",
        "白日依山盡，黃河入海流？欲窮千里目，更上一層樓！",
    ],
)
def test_real_quatrains_keep_the_line_form(text):
    assert keeps_line_form(text)
    assert poem_lines(text) == [text[0:5], text[6:11], text[12:17], text[18:23]]


@pytest.mark.parametrize(
    "text",
    [
        POEM[:-1],  # 23 characters
        POEM + "。",  # 25
        POEM[:5] + "天" + POEM[6:],  # 11 characters before the first mark
        POEM.replace("，", "。"),  # a full stop after the first line
        POEM.replace("。", "，"),  # a comma closing the couplet
        POEM[:5] + "," + POEM[6:],  # ASCII comma
        "白日依，盡，黃河入海流。欲窮千里目，更上一層樓。",  # punctuation inside a line
        "白日 山盡，黃河入海流。欲窮千里目，更上一層樓。",  # a space inside a line
        "白日□山盡，黃河入海流。欲窮千里目，更上一層樓。",  # a box for an unknown character
        "白日A山盡，黃河入海流。欲窮千里目，更上一層樓。",  # a Latin letter
        "<unk>，黃河入海流。欲窮千里目，更上一層樓。",  # vocab.decode writes <unk> out
        "白日依山盡黃河入海流，。欲窮千里目，更上一層樓。",  # marks in the wrong places
        "",
    ],
)
def test_wrong_lengths_and_punctuation_break_the_line_form(text):
    assert not keeps_line_form(text)
    with pytest.raises(ValueError, match="quatrain"):
        poem_lines(text)


def test_line_form_rate():
    assert line_form_rate([POEM, POEM[:-1], POEM, "x"]) == 0.5
    assert line_form_rate(iter([POEM])) == 1.0
    with pytest.raises(ValueError, match="empty"):
        line_form_rate([])


def test_memorised_lines_counts_lines_of_well_formed_samples():
    training_lines = set(poem_lines(POEM))
    half_copied = "白日依山盡，春風不度關。欲窮千里目，明月照高樓。"  # lines 1 and 3 copied
    malformed = "白日依山盡，黃河入海流。欲窮千里目"  # copied, but not a poem: not checked
    assert memorised_lines([POEM, half_copied, malformed], training_lines) == (6, 8)
    assert memorised_lines([half_copied], set()) == (0, 4)
    assert memorised_lines([], training_lines) == (0, 0)
