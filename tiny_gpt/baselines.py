"""The count models a language model must beat: unigram and bigram frequencies, computed exactly.

Used in the tiny-GPT part (``chapters/tiny_gpt/``) by ``char_gpt.ipynb``, which compares the
Transformer's validation loss with these two. A model that cannot beat the bigram table has
learned nothing that counting pairs of characters does not already know.

Conventions, shared with the Transformer:

- a batch of sequences is a 2-D int array of token ids shaped ``(n_sequences, T + 1)``; column 0
  is ``<bos>`` (id 1) and columns ``1..T`` are the targets, the tokens to predict;
- id 0 is padding: a target equal to 0 is not predicted (it is left out of the counts and the
  loss, and :meth:`log_probs` gives NaN there); ``<bos>`` (id 1) is never a target;
- the models predict over all ``V`` ids, but give ids 0 and 1 zero probability: add-alpha
  smoothing adds ``alpha`` to the count of each of the ``V - 2`` predictable ids ``2..V-1`` only;
- the loss is the mean negative log-likelihood in nats over all predicted tokens, and the
  perplexity is ``exp(loss)``: as uncertain as a fair choice among that many tokens.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
from scipy import sparse

from book_core.checks import check_class_labels, check_int, check_not_none, check_number

__all__ = [
    "BOS_ID",
    "PAD_ID",
    "BigramModel",
    "SmoothedBigramModel",
    "UnigramModel",
    "choose_alpha",
]

PAD_ID = 0
"""Padding: never predicted, never counted."""
BOS_ID = 1
"""``<bos>``, the start of every sequence: a context (the bigram's first), never a target."""


def _check_alpha(alpha: float, name: str = "alpha") -> float:
    return check_number(
        name,
        alpha,
        above=0,
        fix="pass a number such as 1.0: with alpha = 0 a token never seen in training gets "
        "probability 0 and an infinite loss",
    )


def _check_vocab_alpha(vocab_size: int, alpha: float) -> None:
    check_int(
        "vocab_size",
        vocab_size,
        minimum=3,
        fix="it counts padding, <bos> and at least one token: pass len(vocab)",
    )
    _check_alpha(alpha)


def _check_sequences(sequences: np.ndarray, vocab_size: int) -> np.ndarray:
    """Return ``sequences`` as an int64 ``(n, T + 1)`` array that follows the conventions above."""
    check_not_none("sequences", sequences, "a 2-D int array (n_sequences, T + 1) of token ids")
    seqs = np.asarray(sequences)
    if seqs.ndim != 2 or seqs.shape[0] < 1 or seqs.shape[1] < 2:
        raise ValueError(
            "sequences must be a 2-D array (n_sequences, T + 1) with n_sequences >= 1 and "
            f"T >= 1: <bos> then the tokens to predict; got shape {seqs.shape}."
        )
    check_class_labels(seqs.reshape(-1), vocab_size, name="token ids")  # integers in 0..V-1
    if (seqs[:, 0] != BOS_ID).any():
        raise ValueError(f"every sequence must start with <bos> (id {BOS_ID}) in column 0.")
    targets = seqs[:, 1:]
    if (targets == BOS_ID).any():
        raise ValueError(f"<bos> (id {BOS_ID}) may only appear in column 0, never as a target.")
    if (targets == PAD_ID).all():
        raise ValueError("every target is padding (id 0): there is nothing to predict.")
    return seqs.astype(np.int64, copy=False)


def _pairs(seqs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The (previous id, target id) pairs of all non-padding targets, as two flat arrays."""
    previous, targets = seqs[:, :-1], seqs[:, 1:]  # (n, T) each
    real = targets != PAD_ID  # (n, T)
    return previous[real], targets[real]  # (n_predicted,) each


class _CountModel:
    """What both models share: the loss and perplexity, from a per-pair log-probability."""

    vocab_size: int
    alpha: float

    def _log_prob(self, previous: np.ndarray, targets: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def next_probs(self, previous: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def log_probs(self, sequences: np.ndarray) -> np.ndarray:
        """``(n, T)``: log P(target) at every position, in nats; NaN where the target is padding."""
        seqs = _check_sequences(sequences, self.vocab_size)
        out = np.full((seqs.shape[0], seqs.shape[1] - 1), np.nan)  # (n, T)
        out[seqs[:, 1:] != PAD_ID] = self._log_prob(*_pairs(seqs))
        return out

    def nll(self, sequences: np.ndarray) -> float:
        """Mean negative log-likelihood in nats per predicted token (padding left out)."""
        seqs = _check_sequences(sequences, self.vocab_size)
        return float(-np.mean(self._log_prob(*_pairs(seqs))))

    def perplexity(self, sequences: np.ndarray) -> float:
        """``exp(nll)``: the model is as unsure as a uniform choice among this many tokens."""
        return math.exp(self.nll(sequences))

    def next_logits(self, ids: np.ndarray) -> np.ndarray:
        """``(batch, t) -> (batch, V)``: log P(next | ids), ``-inf`` for padding and ``<bos>``.

        Has the signature that :func:`tiny_gpt.sampling.generate` expects, so the count models
        can write poems too.
        """
        ids = np.asarray(ids)
        if ids.ndim != 2 or ids.shape[1] < 1:
            raise ValueError(f"ids must be shaped (batch, t) with t >= 1, got {ids.shape}.")
        with np.errstate(divide="ignore"):  # log(0) = -inf for ids 0 and 1, as intended
            return np.log(self.next_probs(ids[:, -1]))

    def _check_previous(self, previous: np.ndarray) -> np.ndarray:
        previous = np.asarray(previous)
        if previous.ndim != 1 or not np.issubdtype(previous.dtype, np.integer):
            raise ValueError(f"previous must be a 1-D array of token ids, got {previous.shape}.")
        if previous.size and (previous.min() < 0 or previous.max() >= self.vocab_size):
            raise ValueError(f"previous ids must lie in 0..{self.vocab_size - 1}.")
        return previous


class UnigramModel(_CountModel):
    """P(token) = (count + alpha) / (N + alpha (V - 2)), whatever came before it."""

    def __init__(self, counts: np.ndarray, alpha: float) -> None:
        _check_alpha(alpha)
        check_not_none("counts", counts, "the (V,) target counts; use UnigramModel.fit")
        self.counts = counts  # (V,) how often each id is a target; 0 for ids 0 and 1
        self.vocab_size, self.alpha = len(counts), float(alpha)
        self.total = float(counts.sum())  # N, the number of training targets

    @classmethod
    def fit(cls, sequences: np.ndarray, vocab_size: int, alpha: float = 1.0) -> UnigramModel:
        """Count every target of ``sequences`` ``(n, T + 1)``."""
        _check_vocab_alpha(vocab_size, alpha)
        _, targets = _pairs(_check_sequences(sequences, vocab_size))
        return cls(np.bincount(targets, minlength=vocab_size).astype(np.float64), alpha)

    def _log_prob(self, previous: np.ndarray, targets: np.ndarray) -> np.ndarray:
        denominator = self.total + self.alpha * (self.vocab_size - 2)  # a scalar
        return np.log(self.counts[targets] + self.alpha) - np.log(denominator)  # (n_predicted,)

    def next_probs(self, previous: np.ndarray) -> np.ndarray:
        """``(n,) -> (n, V)``: the same distribution for every previous id (it is ignored)."""
        previous = self._check_previous(previous)
        p = (self.counts + self.alpha) / (self.total + self.alpha * (self.vocab_size - 2))  # (V,)
        p[[PAD_ID, BOS_ID]] = 0.0
        return np.tile(p, (len(previous), 1))  # (n, V)


class BigramModel(_CountModel):
    """P(token | previous) = (count(previous, token) + alpha) / (count(previous) + alpha (V - 2)).

    The counts live in a sparse ``(V, V)`` matrix (row: previous id, column: target id): with
    ``V`` in the thousands a dense float64 table would take hundreds of MB, almost all zeros.
    A previous id never seen in training (a row of zeros) gives the uniform distribution.
    """

    def __init__(self, counts: sparse.csr_array, alpha: float) -> None:
        _check_alpha(alpha)
        check_not_none("counts", counts, "the sparse (V, V) pair counts; use BigramModel.fit")
        self.counts = counts  # (V, V) sparse: counts[a, b] = times b followed a
        self.vocab_size, self.alpha = counts.shape[0], float(alpha)
        self.row_totals = np.asarray(counts.sum(axis=1)).ravel()  # (V,) times a was followed

    @classmethod
    def fit(cls, sequences: np.ndarray, vocab_size: int, alpha: float) -> BigramModel:
        """Count every (previous, target) pair of ``sequences`` ``(n, T + 1)``; ``<bos>`` included."""
        _check_vocab_alpha(vocab_size, alpha)
        previous, targets = _pairs(_check_sequences(sequences, vocab_size))
        ones = np.ones(len(previous))  # (n_predicted,) duplicates are summed by tocsr()
        shape = (vocab_size, vocab_size)
        return cls(sparse.coo_array((ones, (previous, targets)), shape=shape).tocsr(), alpha)

    def _log_prob(self, previous: np.ndarray, targets: np.ndarray) -> np.ndarray:
        pair_counts = self.counts[previous, targets]  # (n_predicted,), a vectorised lookup
        denominator = self.row_totals[previous] + self.alpha * (self.vocab_size - 2)
        return np.log(pair_counts + self.alpha) - np.log(denominator)  # (n_predicted,)

    def next_probs(self, previous: np.ndarray) -> np.ndarray:
        """``(n,) -> (n, V)``: row ``i`` is P(next | previous[i])."""
        previous = self._check_previous(previous)
        rows = self.counts[previous].toarray()  # (n, V)
        denominator = self.row_totals[previous] + self.alpha * (self.vocab_size - 2)  # (n,)
        p = (rows + self.alpha) / denominator[:, None]  # (n, V)
        p[:, [PAD_ID, BOS_ID]] = 0.0
        return p


class SmoothedBigramModel(BigramModel):
    """P(token | previous) = (count(previous, token) + alpha P_uni(token)) / (count(previous) + alpha).

    Add-alpha smoothing towards the unigram distribution instead of the uniform one (a Dirichlet
    prior centred on the unigram; MacKay and Peto 1995): a pair never seen in training gets the
    probability of its token in general, scaled down, rather than the same tiny share as every
    rare character. ``alpha`` is the prior's weight in pseudo-counts: a context seen much more
    than ``alpha`` times follows its own counts, a rare one falls back towards the unigram, and an
    unseen one is the unigram. ``P_uni`` is :class:`UnigramModel` with add-one smoothing, so no
    predictable id has probability 0. With tens of thousands of training characters over a
    vocabulary in the thousands, most pairs are unseen, and this is the bigram baseline to beat.
    """

    def __init__(self, counts: sparse.csr_array, alpha: float, unigram: np.ndarray) -> None:
        super().__init__(counts, alpha)
        check_not_none(
            "unigram", unigram, "P_uni, a (V,) distribution; use SmoothedBigramModel.fit"
        )
        self.unigram = unigram  # (V,) P_uni, 0 for ids 0 and 1

    @classmethod
    def fit(cls, sequences: np.ndarray, vocab_size: int, alpha: float) -> SmoothedBigramModel:
        """Count the pairs and the targets of ``sequences`` ``(n, T + 1)``; ``<bos>`` included."""
        bigram = BigramModel.fit(sequences, vocab_size, alpha)
        unigram = UnigramModel.fit(sequences, vocab_size, alpha=1.0)
        return cls(bigram.counts, alpha, unigram.next_probs(np.array([BOS_ID]))[0])

    def _log_prob(self, previous: np.ndarray, targets: np.ndarray) -> np.ndarray:
        pair_counts = self.counts[previous, targets]  # (n_predicted,)
        numerator = pair_counts + self.alpha * self.unigram[targets]
        return np.log(numerator) - np.log(self.row_totals[previous] + self.alpha)

    def next_probs(self, previous: np.ndarray) -> np.ndarray:
        """``(n,) -> (n, V)``: row ``i`` is P(next | previous[i])."""
        previous = self._check_previous(previous)
        rows = self.counts[previous].toarray()  # (n, V)
        p = rows + self.alpha * self.unigram  # (n, V); zero for ids 0 and 1 (never counted)
        return p / (self.row_totals[previous] + self.alpha)[:, None]


def choose_alpha(
    model_class: type[UnigramModel] | type[BigramModel],
    train: np.ndarray,
    validation: np.ndarray,
    vocab_size: int,
    alphas: Iterable[float],
) -> tuple[float, dict[float, float]]:
    """Fit ``model_class`` on ``train`` with each alpha; keep the lowest validation NLL.

    Returns the best alpha (the first one listed, on a tie) and ``{alpha: validation NLL}``.

    Raises:
        TypeError: ``model_class`` is not a count model, ``vocab_size`` not an integer, or an
            alpha not a number.
        ValueError: no alphas, ``vocab_size < 3``, an alpha that is not > 0, or bad sequences.
    """
    if not (isinstance(model_class, type) and issubclass(model_class, _CountModel)):
        raise TypeError(
            f"model_class must be UnigramModel, BigramModel or SmoothedBigramModel, got "
            f"{model_class!r}."
        )
    check_int("vocab_size", vocab_size, minimum=3, fix="pass len(vocab)")
    check_not_none("train", train, "the training sequences (n, T + 1)")
    check_not_none("validation", validation, "the validation sequences (n, T + 1)")
    if alphas is None or isinstance(alphas, (str, bytes)):
        raise TypeError(f"alphas must be a list of numbers, got {alphas!r}; pass e.g. [0.1, 1.0].")
    alphas = [_check_alpha(a, f"alphas[{i}]") for i, a in enumerate(alphas)]
    if not alphas:
        raise ValueError("alphas is empty: give at least one smoothing strength to try.")
    table = {a: model_class.fit(train, vocab_size, a).nll(validation) for a in alphas}
    return min(table, key=table.__getitem__), table
