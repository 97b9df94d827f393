"""The linear probe of the prompt-engineering chapter's ladder, on synthetic embeddings."""

from __future__ import annotations

import numpy as np
import pytest

from prompt_lab import QUEUES
from prompt_lab.probe import (
    cross_validate,
    out_of_fold_probabilities,
    sample_per_label,
    train_probe,
)


def _clusters(n_per_label: int, seed: int, d: int = 32):
    rng = np.random.default_rng(seed)
    centres = np.random.default_rng(99).normal(size=(len(QUEUES), d)) * 2.0
    x = np.concatenate([c + rng.normal(size=(n_per_label, d)) for c in centres])
    # one feature on a huge scale and offset, as raw hidden states can have: standardising copes
    x[:, 0] = x[:, 0] * 1e4 + 5e4
    labels = [q for q in QUEUES for _ in range(n_per_label)]
    return x.astype(np.float32), labels


def test_probe_learns_separable_labels_and_generalises():
    x, labels = _clusters(20, seed=0)
    probe = train_probe(x, labels, seed=0)
    x_new, labels_new = _clusters(50, seed=1)
    predicted = probe.predict(x_new)
    accuracy = np.mean([p == t for p, t in zip(predicted, labels_new, strict=True)])
    assert accuracy >= 0.95  # chance is 0.25
    p = probe.probabilities(x_new)
    assert p.shape == (200, 4) and np.allclose(p.sum(axis=1), 1.0)
    # the probe's outputs follow label_set's order
    assert probe.labels == QUEUES


def test_probe_is_seeded():
    x, labels = _clusters(10, seed=0)
    a = train_probe(x, labels, seed=3, epochs=20).probabilities(x)
    b = train_probe(x, labels, seed=3, epochs=20).probabilities(x)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    ("features", "labels", "message"),
    [
        (np.zeros((3, 4)), ["billing", "shipping"], "3 feature rows but 2 labels"),
        (np.zeros((2, 4)), ["billing", "refunds"], "unknown labels"),
        (np.zeros((2, 4)), ["billing", "shipping"], "no training example"),
        (np.zeros(4), ["billing"], r"\(n, d\)"),
    ],
)
def test_probe_says_what_is_wrong(features, labels, message):
    with pytest.raises(ValueError, match=message):
        train_probe(features, labels)


def test_probe_rejects_features_of_another_model():
    x, labels = _clusters(5, seed=0)
    probe = train_probe(x, labels, epochs=5)
    with pytest.raises(ValueError, match="same model"):
        probe.predict(np.zeros((2, 16), dtype=np.float32))


def test_sample_per_label_draws_evenly_without_replacement():
    labels = np.array([q for q in QUEUES for _ in range(6)])
    rows = sample_per_label(labels, 4, np.random.default_rng(0))
    assert len(set(rows.tolist())) == 16 and list(rows) == sorted(rows)
    assert all(np.sum(labels[rows] == q) == 4 for q in QUEUES)
    other = sample_per_label(labels, 4, np.random.default_rng(1))
    assert not np.array_equal(rows, other)  # the generator decides the draw
    with pytest.raises(ValueError, match="only 6 examples"):
        sample_per_label(labels, 7, np.random.default_rng(0))
    with pytest.raises(ValueError, match="positive integer"):
        sample_per_label(labels, 0, np.random.default_rng(0))


def test_cross_validation_tells_signal_from_noise():
    x, labels = _clusters(10, seed=0)
    assert cross_validate(x, labels, folds=5) >= 0.9
    shuffled = list(np.random.default_rng(3).permutation(labels))  # labels unrelated to features
    assert cross_validate(x, shuffled, folds=5) <= 0.5
    with pytest.raises(ValueError, match="at least 5 examples"):
        cross_validate(x[7:], labels[7:], folds=5)  # three billing examples left
    with pytest.raises(ValueError, match="folds must be"):
        cross_validate(x, labels, folds=1)


def test_out_of_fold_probabilities_never_come_from_a_probe_that_saw_the_example():
    # noise with random labels: a probe memorises its 40 training points in 32 dimensions, so
    # in-sample it is nearly always right; out of fold it can only guess (chance is 1/4)
    rng = np.random.default_rng(5)
    x = rng.normal(size=(40, 32)).astype(np.float32)
    labels = [QUEUES[i % 4] for i in rng.permutation(40)]
    seen = train_probe(x, labels, seed=0)
    assert np.mean(np.array(seen.predict(x)) == np.array(labels)) >= 0.9
    oof = out_of_fold_probabilities(x, labels, folds=5, seed=0)
    assert oof.shape == (40, 4) and np.allclose(oof.sum(axis=1), 1.0)
    assert np.mean(np.array(QUEUES)[oof.argmax(axis=1)] == np.array(labels)) <= 0.5
    # on real signal the out-of-fold answers are right, and they are what cross_validate scores
    cx, clabels = _clusters(10, seed=0)
    coof = out_of_fold_probabilities(cx, clabels, folds=5, seed=0)
    assert np.mean(np.array(QUEUES)[coof.argmax(axis=1)] == np.array(clabels)) >= 0.9
    with pytest.raises(ValueError, match="feature rows"):
        out_of_fold_probabilities(cx[:-1], clabels)
