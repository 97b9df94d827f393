"""Tests of tiny_gpt.baselines: exact values on a hand-computed example, normalisation, <bos>
contexts, padding, the choice of alpha, and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from tiny_gpt.baselines import (
    BOS_ID,
    PAD_ID,
    BigramModel,
    SmoothedBigramModel,
    UnigramModel,
    choose_alpha,
)

# A 3-token vocabulary: ids 2, 3, 4 (0 is padding, 1 is <bos>).
V = 5
TRAIN = np.array([[1, 2, 3, 2], [1, 2, 2, 4]])


def _random_sequences(rng: np.random.Generator, n: int, t: int, vocab_size: int) -> np.ndarray:
    seqs = rng.integers(2, vocab_size, size=(n, t + 1))
    seqs[:, 0] = BOS_ID
    return seqs


def _markov_sequences(rng: np.random.Generator, n: int, t: int, noise: float) -> np.ndarray:
    """Strong bigram structure on ids 2..7: each token is usually followed by the next one."""
    seqs = np.empty((n, t + 1), dtype=np.int64)
    seqs[:, 0] = BOS_ID
    seqs[:, 1] = rng.integers(2, 8, n)
    for j in range(2, t + 1):
        successor = 2 + (seqs[:, j - 1] - 2 + 1) % 6
        seqs[:, j] = np.where(rng.random(n) < noise, rng.integers(2, 8, n), successor)
    return seqs


# --------------------------------------------------------------------------------------------
# exact values
# --------------------------------------------------------------------------------------------


def test_unigram_by_hand():
    model = UnigramModel.fit(TRAIN, V, alpha=1.0)
    # targets 2, 3, 2, 2, 2, 4: counts 4, 1, 1 of N = 6; denominator 6 + 1 * 3 = 9
    p = {2: 5 / 9, 3: 2 / 9, 4: 2 / 9}
    expected = -(4 * math.log(p[2]) + 2 * math.log(p[3])) / 6
    assert model.nll(TRAIN) == pytest.approx(expected, abs=1e-12)
    assert model.perplexity(TRAIN) == pytest.approx(math.exp(expected), abs=1e-12)
    np.testing.assert_allclose(
        model.log_probs(TRAIN), np.log([[p[2], p[3], p[2]], [p[2], p[2], p[4]]]), atol=1e-12
    )


def test_bigram_by_hand():
    model = BigramModel.fit(TRAIN, V, alpha=0.5)
    # pairs: (1,2) (2,3) (3,2) (1,2) (2,2) (2,4); row totals: <bos> 2, id 2: 3, id 3: 1
    p_2_bos, p_3_2, p_2_3, p_2_2, p_4_2 = 2.5 / 3.5, 1.5 / 4.5, 1.5 / 2.5, 1.5 / 4.5, 1.5 / 4.5
    expected = np.log([[p_2_bos, p_3_2, p_2_3], [p_2_bos, p_2_2, p_4_2]])
    np.testing.assert_allclose(model.log_probs(TRAIN), expected, atol=1e-12)
    assert model.nll(TRAIN) == pytest.approx(-expected.mean(), abs=1e-12)
    # unseen pairs get alpha / (row total + 3 alpha); a context never seen is uniform
    other = np.array([[1, 3, 4, 4]])
    expected = np.log([0.5 / 3.5, 0.5 / 2.5, 1 / 3])
    np.testing.assert_allclose(model.log_probs(other)[0], expected, atol=1e-12)


def test_padding_targets_are_not_predicted_nor_counted():
    padded = np.array([[1, 2, 3, 0], [1, 4, 0, 0]])
    unigram = UnigramModel.fit(padded, V, alpha=1.0)
    np.testing.assert_array_equal(unigram.counts, [0, 0, 1, 1, 1])
    lp = unigram.log_probs(padded)
    assert np.isnan(lp[0, 2]) and np.isnan(lp[1, 1:]).all()
    assert unigram.nll(padded) == pytest.approx(math.log(3), abs=1e-12)  # 3 real targets
    bigram = BigramModel.fit(padded, V, alpha=1.0)
    assert bigram.counts.sum() == 3  # (1,2) (2,3) (1,4): no pair ends in padding


@pytest.mark.parametrize("model_class", [UnigramModel, BigramModel])
def test_a_huge_alpha_gives_the_uniform_model(model_class):
    model = model_class.fit(TRAIN, V, 1e12)
    assert model.perplexity(TRAIN) == pytest.approx(V - 2, rel=1e-9)  # ids 0 and 1 excluded


# --------------------------------------------------------------------------------------------
# distributions
# --------------------------------------------------------------------------------------------


@settings(max_examples=20, deadline=None, database=None)
@given(
    vocab_size=st.integers(3, 12),
    n=st.integers(1, 6),
    t=st.integers(1, 6),
    alpha=st.sampled_from([1e-3, 0.1, 1.0, 7.0]),
    seed=st.integers(0, 2**32 - 1),
)
def test_each_context_gives_a_distribution_over_the_predictable_ids(vocab_size, n, t, alpha, seed):
    rng = np.random.default_rng(seed)
    seqs = _random_sequences(rng, n, t, vocab_size)
    for model_class in (UnigramModel, BigramModel, SmoothedBigramModel):
        model = model_class.fit(seqs, vocab_size, alpha)
        p = model.next_probs(np.arange(vocab_size))  # (V, V): every context, <bos> and pad too
        assert p.shape == (vocab_size, vocab_size)
        np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)
        assert (p[:, [PAD_ID, BOS_ID]] == 0).all() and (p[:, 2:] > 0).all()
        # the loss reads the same table: log P(target) = log next_probs(previous)[target]
        rows = np.arange(n)[:, None]
        table = model.next_probs(seqs[:, :-1].ravel()).reshape(n, t, vocab_size)
        cols = np.arange(t)[None, :]
        expected = np.log(table[rows, cols, seqs[:, 1:]])
        # log P near 0 (P near 1) is compared in absolute terms: rounding is ~1e-16 there
        np.testing.assert_allclose(model.log_probs(seqs), expected, rtol=1e-12, atol=1e-12)


def test_the_bos_context_learns_how_sequences_start():
    rng = np.random.default_rng(0)
    seqs = _random_sequences(rng, 200, 5, 10)
    seqs[:, 1] = 7  # every sequence starts with id 7
    bigram = BigramModel.fit(seqs, 10, alpha=0.1)
    first = bigram.next_probs(np.array([BOS_ID]))[0]
    assert first.argmax() == 7 and first[7] > 0.99
    np.testing.assert_allclose(np.exp(bigram.next_logits(seqs[:3, :1])), np.tile(first, (3, 1)))
    assert bigram.nll(seqs[:, :2]) < 0.01  # predicting only the first token: nearly certain


def test_bigram_beats_unigram_on_data_with_bigram_structure():
    rng = np.random.default_rng(1)
    train, valid = _markov_sequences(rng, 300, 10, 0.1), _markov_sequences(rng, 100, 10, 0.1)
    unigram = UnigramModel.fit(train, 8, alpha=1.0)
    bigram = BigramModel.fit(train, 8, alpha=1.0)
    assert unigram.perplexity(valid) == pytest.approx(6, rel=0.02)  # tokens nearly uniform
    # 9 of 10 targets have one likely successor (entropy 0.42 nats); the first is uniform (ln 6)
    assert bigram.perplexity(valid) == pytest.approx(
        math.exp((9 * 0.42 + math.log(6)) / 10), rel=0.05
    )
    # and on data without that structure, the bigram table has nothing extra to find
    noise_train, noise_valid = (
        _markov_sequences(rng, 300, 10, 1.0),
        _markov_sequences(rng, 100, 10, 1.0),
    )
    assert BigramModel.fit(noise_train, 8, 1.0).nll(noise_valid) > unigram.nll(noise_valid) - 0.01


def test_a_realistic_size_stays_sparse():
    rng = np.random.default_rng(2)
    seqs = _random_sequences(rng, 3000, 24, 3500)  # 72,000 targets, as in the chapter
    model = BigramModel.fit(seqs, 3500, alpha=0.01)
    assert sparse.issparse(model.counts) and model.counts.nnz <= 72_000
    assert np.isfinite(model.nll(seqs[:500]))


# --------------------------------------------------------------------------------------------
# choosing alpha
# --------------------------------------------------------------------------------------------


def test_alpha_is_chosen_on_validation_not_training():
    rng = np.random.default_rng(3)
    train = _markov_sequences(rng, 20, 6, 0.05)  # little data: many pairs never seen
    valid = _markov_sequences(rng, 200, 6, 0.5)  # noisier: unseen pairs are common
    alphas = [1e-4, 0.01, 0.1, 1.0, 10.0, 1000.0]
    best, table = choose_alpha(BigramModel, train, valid, 8, alphas)
    assert list(table) == alphas
    for alpha in alphas:
        assert table[alpha] == BigramModel.fit(train, 8, alpha).nll(valid)
    assert best == min(alphas, key=table.__getitem__)
    assert best not in (alphas[0], alphas[-1])  # neither extreme wins here
    train_best, _ = choose_alpha(BigramModel, train, train, 8, alphas)
    assert train_best == alphas[0]  # on its own training data the least smoothing always wins


def test_unigram_alpha_choice_and_ties():
    best, table = choose_alpha(UnigramModel, TRAIN, TRAIN, V, [2.0, 2.0, 0.5])
    assert set(table) == {2.0, 0.5} and best == min(table, key=table.__getitem__)
    with pytest.raises(ValueError, match="alphas is empty"):
        choose_alpha(UnigramModel, TRAIN, TRAIN, V, [])


# --------------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sequences", "message"),
    [
        (np.array([1, 2, 3]), "2-D array"),
        (np.array([[1], [1]]), "2-D array"),
        (np.array([[1.0, 2.0]]), "token ids must be integers"),
        (np.array([[1, 2, 5]]), r"lie in 0\.\.4"),
        (np.array([[1, 2, -1]]), r"lie in 0\.\.4"),
        (np.array([[2, 3, 4]]), "start with <bos>"),
        (np.array([[1, 2, 1, 3]]), "never as a target"),
        (np.array([[1, 0, 0]]), "nothing to predict"),
    ],
)
def test_bad_sequences_are_rejected(sequences, message):
    for model_class in (UnigramModel, BigramModel):
        with pytest.raises(ValueError, match=message):
            model_class.fit(sequences, V, 1.0)
        with pytest.raises(ValueError, match=message):
            model_class.fit(TRAIN, V, 1.0).nll(sequences)


def test_bad_vocab_size_and_alpha_are_rejected():
    for alpha in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="alpha must be"):
            BigramModel.fit(TRAIN, V, alpha)
    with pytest.raises(ValueError, match="vocab_size must be"):
        UnigramModel.fit(np.array([[1, 2]]), 2)
    with pytest.raises(ValueError, match="previous ids must lie"):
        BigramModel.fit(TRAIN, V, 1.0).next_probs(np.array([5]))


# ------------------------------------------------------------------ smoothing towards the unigram


def test_smoothed_bigram_by_hand():
    model = SmoothedBigramModel.fit(TRAIN, V, alpha=2.0)
    unigram = UnigramModel.fit(TRAIN, V, alpha=1.0).next_probs(np.array([BOS_ID]))[0]
    bigram = BigramModel.fit(TRAIN, V, alpha=1.0)
    for previous in range(V):
        row = bigram.counts[[previous]].toarray()[0]
        expected = (row + 2.0 * unigram) / (row.sum() + 2.0)
        np.testing.assert_allclose(model.next_probs(np.array([previous]))[0], expected, atol=1e-15)
    np.testing.assert_allclose(
        np.exp(model.log_probs(TRAIN)[0]),
        [
            model.next_probs(np.array([a]))[0, b]
            for a, b in zip(TRAIN[0, :-1], TRAIN[0, 1:], strict=True)
        ],
        rtol=1e-12,
    )


def test_smoothing_towards_the_unigram_falls_back_to_it():
    rng = np.random.default_rng(3)
    seqs = np.column_stack([np.full(40, BOS_ID), rng.integers(2, 9, (40, 6))])
    huge = SmoothedBigramModel.fit(seqs, 9, alpha=1e12)
    assert huge.nll(seqs) == pytest.approx(UnigramModel.fit(seqs, 9, 1.0).nll(seqs), rel=1e-9)
    unseen = SmoothedBigramModel.fit(seqs[:, :2], 9, alpha=1.0).next_probs(np.array([5]))[0]
    np.testing.assert_allclose(unseen, UnigramModel.fit(seqs[:, :2], 9, 1.0).next_probs([5])[0])


def test_smoothing_towards_the_unigram_beats_uniform_smoothing_on_sparse_pairs():
    # Zipf-like tokens with a weak bigram signal and far more possible pairs than data: unseen
    # pairs are the rule, so where the smoothing sends their mass decides the validation loss.
    rng = np.random.default_rng(4)
    vocab = 200
    weights = 1.0 / np.arange(1, vocab - 1)
    tokens = rng.choice(np.arange(2, vocab), size=(300, 9), p=weights / weights.sum())
    seqs = np.column_stack([np.full(300, BOS_ID), tokens])
    train, valid = seqs[:200], seqs[200:]
    alphas = [0.01, 0.1, 1.0, 10.0, 100.0]
    _, uniform = choose_alpha(BigramModel, train, valid, vocab, alphas)
    _, towards = choose_alpha(SmoothedBigramModel, train, valid, vocab, alphas)
    assert min(towards.values()) < min(uniform.values()) - 0.1
