"""Measure a classifier beyond one accuracy number: confusion matrix, per-class precision and
recall, the most confident mistakes.

Introduced in the MNIST chapter's evaluation notebook (``chapters/mnist/evaluation.ipynb``), which
is also the only notebook that uses it (the others take Keras's own accuracy). Everything works on
plain NumPy arrays: true labels ``y_true`` (``n`` integers in ``0..k-1``) and either predicted
labels or predicted probabilities (``(n, k)``, one row per example, e.g. the output of
``model.predict``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from book_core.checks import check_class_labels, check_int, check_not_none, check_probabilities


def _check_label_pair(
    y_true: np.ndarray, y_pred: np.ndarray, num_classes: int
) -> tuple[np.ndarray, np.ndarray]:
    check_int("num_classes", num_classes, fix="pass an int such as 10")
    y_true = check_class_labels(y_true, num_classes, name="y_true")
    y_pred = check_class_labels(y_pred, num_classes, name="y_pred")
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true has {len(y_true)} labels but y_pred has {len(y_pred)}.")
    if len(y_true) == 0:
        raise ValueError("got no examples to evaluate.")
    return y_true, y_pred


def accuracy(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int = 10) -> float:
    """Fraction of examples whose predicted label equals the true label."""
    y_true, y_pred = _check_label_pair(y_true, y_pred, num_classes)
    return float(np.mean(y_true == y_pred))


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int = 10) -> np.ndarray:
    """Counts ``cm[i, j]`` of examples of true class ``i`` predicted as class ``j``.

    The diagonal holds the correct predictions; each row sums to the number of examples of that
    class, each column to the number of predictions of that class.
    """
    y_true, y_pred = _check_label_pair(y_true, y_pred, num_classes)
    flat = np.bincount(y_true * num_classes + y_pred, minlength=num_classes * num_classes)
    return flat.reshape(num_classes, num_classes)


def per_class_report(cm: np.ndarray) -> pd.DataFrame:
    """Precision, recall, F1 and support of each class, from a confusion matrix.

    - precision of class ``c``: of the examples predicted ``c``, the share that are ``c``;
    - recall of class ``c``: of the examples that are ``c``, the share predicted ``c``;
    - F1: their harmonic mean; support: the number of examples of class ``c``.

    A class never predicted has an undefined precision, reported as NaN (not silently as 0).
    """
    cm = np.asarray(check_not_none("cm", cm, "a square confusion matrix of counts"))
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"a confusion matrix must be square, got shape {cm.shape}.")
    if not np.issubdtype(cm.dtype, np.integer) or (cm.size and cm.min() < 0):
        raise ValueError("a confusion matrix holds non-negative integer counts.")
    correct = np.diag(cm).astype(float)
    predicted = cm.sum(axis=0).astype(float)
    support = cm.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, correct / predicted, np.nan)
        recall = np.where(support > 0, correct / support, np.nan)
        f1 = 2 * precision * recall / (precision + recall)
    return pd.DataFrame(
        {"precision": precision, "recall": recall, "f1": f1, "support": support},
        index=pd.Index(range(len(cm)), name="digit"),
    )


def top_confusions(cm: np.ndarray, k: int = 5) -> pd.DataFrame:
    """The ``k`` most frequent mistakes ``true -> predicted`` (off-diagonal cells), largest first."""
    check_int("k", k)
    cm = np.asarray(check_not_none("cm", cm, "a square confusion matrix of counts"))
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"a confusion matrix must be square, got shape {cm.shape}.")
    off = cm.astype(np.int64).copy()
    np.fill_diagonal(off, -1)
    flat = off.ravel()
    # stable sort on the negated counts: ties keep row-major order, so the result is reproducible
    order = np.argsort(-flat, kind="stable")[:k]
    order = order[flat[order] > 0]
    rows, cols = np.divmod(order, cm.shape[1])
    return pd.DataFrame({"true": rows, "predicted": cols, "count": flat[order]})


def most_confident_mistakes(
    probabilities: np.ndarray, y_true: np.ndarray, k: int = 10
) -> pd.DataFrame:
    """The ``k`` wrong predictions the model was most sure of, most confident first.

    Returns a table with the example's ``index`` (into ``y_true``), its ``true`` label, the
    ``predicted`` label, the ``confidence`` (probability given to the prediction) and the
    probability ``p_true`` given to the true label. Fewer than ``k`` rows if there are fewer
    mistakes.
    """
    check_int("k", k)
    y_true = np.asarray(check_not_none("y_true", y_true, "a 1-D array of class indices"))
    p = check_probabilities(probabilities, len(y_true) if y_true.ndim == 1 else None)
    y_true = check_class_labels(y_true, p.shape[1], name="y_true")
    predicted = p.argmax(axis=1)
    wrong = np.flatnonzero(predicted != y_true)
    confidence = p[wrong, predicted[wrong]]
    order = wrong[np.argsort(-confidence, kind="stable")][:k]
    return pd.DataFrame(
        {
            "index": order,
            "true": y_true[order],
            "predicted": predicted[order],
            "confidence": p[order, predicted[order]],
            "p_true": p[order, y_true[order]],
        }
    )
