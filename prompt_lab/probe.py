"""A linear probe: logistic regression on a frozen language model's embeddings.

The cheapest rung below prompting on the ladder of the prompt-engineering chapter: keep the model
frozen, read one vector per ticket (:meth:`prompt_lab.local.LocalModel.embed`), and train only a
softmax layer on labelled tickets to map vectors to queues. It is the network of the
backpropagation chapter with no hidden layer, ``mnist_lib.nn.MLP([features, queues])``, trained
with the same softmax-cross-entropy gradient and Adam; the features are standardised first, with
the training set's mean and spread.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from book_core.checks import check_int, check_labels, check_not_none, check_number
from mnist_lib import nn
from prompt_lab.data import QUEUES


@dataclass
class LinearProbe:
    """A trained probe: feature standardisation, a softmax layer, and the label names."""

    mean: np.ndarray
    scale: np.ndarray
    model: nn.MLP
    labels: tuple[str, ...]

    def _inputs(self, features: np.ndarray) -> np.ndarray:
        features = np.asarray(features, dtype=np.float32)
        if features.ndim != 2 or features.shape[1] != len(self.mean):
            raise ValueError(
                f"expected features shaped (n, {len(self.mean)}), got {features.shape}: embed the "
                "texts with the same model the probe was trained on."
            )
        return (features - self.mean) / self.scale

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """``(n, labels)`` probabilities, one row per text."""
        logits = self.model.forward(self._inputs(features)).astype(np.float64)
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True)

    def predict(self, features: np.ndarray) -> list[str]:
        """The most probable label of each row."""
        return [self.labels[i] for i in self.probabilities(features).argmax(axis=1)]


def train_probe(
    features: np.ndarray,
    labels: Sequence[str],
    *,
    label_set: Sequence[str] = QUEUES,
    epochs: int = 300,
    learning_rate: float = 1e-2,
    seed: int = 0,
) -> LinearProbe:
    """Fit a linear probe by full-batch Adam on the mean cross-entropy.

    Args:
        features: ``(n, d)`` embeddings of the labelled texts.
        labels: the ``n`` labels, each one of ``label_set``.
        label_set: the possible labels, in the order of the probe's outputs.
        epochs: full passes over the data (one gradient step each).
        learning_rate: Adam's step size.
        seed: fixes the initial weights.

    Raises:
        TypeError: ``features`` is None, ``labels`` or ``label_set`` is not a sequence of strings
            (a bare string is refused), or a setting of the wrong type.
        ValueError: shapes that do not match, unknown labels, a label with no example, or a
            setting out of range (``epochs < 1``, ``learning_rate <= 0``...).
    """
    labels = check_labels("labels", labels, allow_empty=True, example="['billing', 'shipping']")
    label_set = check_labels("label_set", label_set, example="prompt_lab.QUEUES")
    check_int("epochs", epochs, fix="pass an int such as 300")
    learning_rate = check_number("learning_rate", learning_rate, above=0, example=1e-2)
    seed = check_int("seed", seed, minimum=0, fix="pass an int such as 0")
    check_not_none("features", features, "the (n, d) embeddings of the labelled texts")
    x = np.asarray(features, dtype=np.float32)
    if x.ndim != 2 or len(x) == 0:
        raise ValueError(f"features must be a non-empty (n, d) array, got shape {x.shape}.")
    if len(labels) != len(x):
        raise ValueError(f"got {len(x)} feature rows but {len(labels)} labels.")
    unknown = sorted(set(labels) - set(label_set))
    if unknown:
        raise ValueError(f"unknown labels {unknown}; expected one of {list(label_set)}.")
    missing = [lab for lab in label_set if lab not in set(labels)]
    if missing:
        raise ValueError(
            f"no training example of {missing}: a probe cannot learn a label it never saw."
        )
    mean = x.mean(axis=0)
    scale = x.std(axis=0) + 1e-6
    y = np.array([label_set.index(lab) for lab in labels])
    model = nn.MLP([x.shape[1], len(label_set)], seed=seed)
    nn.train(
        model,
        (x - mean) / scale,
        y,
        epochs=epochs,
        batch_size=len(x),
        optimizer=nn.Adam(lr=learning_rate),
        seed=seed,
    )
    return LinearProbe(mean, scale, model, label_set)


def sample_per_label(labels: Sequence[str], per_label: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``per_label`` examples of each label, drawn without replacement, sorted.

    Used for the probe's learning curve: how accuracy grows with labelled examples per queue.
    """
    labels = np.asarray(check_labels("labels", labels, example="['billing', 'shipping']"))
    check_int("per_label", per_label)
    if not hasattr(rng, "choice"):
        raise TypeError(
            f"rng must be a NumPy Generator, got {type(rng).__name__}; pass "
            "np.random.default_rng(seed)."
        )
    chosen = []
    for label in sorted(set(labels.tolist())):
        rows = np.flatnonzero(labels == label)
        if len(rows) < per_label:
            raise ValueError(
                f"only {len(rows)} examples of {label!r}, fewer than the per_label={per_label} "
                "asked for"
            )
        chosen.append(rng.choice(rows, size=per_label, replace=False))
    return np.sort(np.concatenate(chosen))


def out_of_fold_probabilities(
    features: np.ndarray,
    labels: Sequence[str],
    *,
    folds: int = 5,
    seed: int = 0,
    label_set: Sequence[str] = QUEUES,
    **train_kwargs: object,
) -> np.ndarray:
    """``(n, labels)`` probabilities of each example from a probe that never saw it.

    Each label's examples are shuffled (by ``seed``) and dealt round-robin into ``folds`` folds,
    so every fold holds every label; each fold is predicted by a probe trained on the others.
    Used to choose a layer, and a confidence threshold, on the dev split without touching
    held-out data (the prompt-engineering chapter's ladder). Columns follow ``label_set``.

    Raises:
        TypeError: as :func:`train_probe`, or ``folds`` not an integer.
        ValueError: as :func:`train_probe`, ``folds < 2``, or a label with fewer examples than folds.
    """
    folds = check_int("folds", folds, minimum=2, fix="pass an int such as 5")
    seed = check_int("seed", seed, minimum=0, fix="pass an int such as 0")
    labels = np.asarray(check_labels("labels", labels, example="['billing', 'shipping']"))
    label_set = check_labels("label_set", label_set, example="prompt_lab.QUEUES")
    x = np.asarray(check_not_none("features", features, "the (n, d) embeddings of the texts"))
    if len(labels) != len(x):
        raise ValueError(f"got {len(x)} feature rows but {len(labels)} labels.")
    if np.min(np.unique(labels, return_counts=True)[1]) < folds:
        raise ValueError(f"every label needs at least {folds} examples for {folds} folds")
    rng = np.random.default_rng(seed)
    fold_of = np.empty(len(labels), dtype=int)
    for label in sorted(set(labels.tolist())):
        rows = rng.permutation(np.flatnonzero(labels == label))
        fold_of[rows] = np.arange(len(rows)) % folds
    out = np.zeros((len(labels), len(label_set)))
    for k in range(folds):
        test = fold_of == k
        probe = train_probe(
            x[~test], labels[~test].tolist(), label_set=label_set, seed=seed, **train_kwargs
        )
        out[test] = probe.probabilities(x[test])
    return out


def cross_validate(
    features: np.ndarray,
    labels: Sequence[str],
    *,
    folds: int = 5,
    seed: int = 0,
    label_set: Sequence[str] = QUEUES,
    **train_kwargs: object,
) -> float:
    """Mean accuracy of :func:`train_probe` over ``folds`` stratified folds of the data: the
    share of examples whose :func:`out_of_fold_probabilities` rank their own label first. Used to
    choose a layer on the dev split without touching held-out data.

    Raises:
        TypeError: as :func:`train_probe`, or ``folds`` not an integer.
        ValueError: as :func:`train_probe`, ``folds < 2``, or a label with fewer examples than folds.
    """
    probabilities = out_of_fold_probabilities(
        features, labels, folds=folds, seed=seed, label_set=label_set, **train_kwargs
    )
    label_set = list(label_set)
    predicted = [label_set[i] for i in probabilities.argmax(axis=1)]
    return float(np.mean(np.array(predicted) == np.asarray(labels)))
