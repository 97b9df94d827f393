"""The linear probe of the prompt-engineering chapter's ladder, on synthetic embeddings."""

from __future__ import annotations

import numpy as np
import pytest

from prompt_lab import QUEUES
from prompt_lab.probe import train_probe


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
