"""Input checks shared by the book's packages, so every chapter gets the same clear errors.

:func:`check_int` validates counts and sizes (epochs, batch sizes, layer widths, ``k``) in every
package: :mod:`mnist_lib`, :mod:`prompt_lab`, :mod:`compute_budget`, :mod:`uncertainty` and
:mod:`tiny_gpt`. It lives in the core (:mod:`book_core`) because all of them use it.

:func:`check_class_labels` validates label vectors for the NumPy network (the backpropagation
chapter), the Keras training helper and the evaluation metrics (the MNIST chapter), and the
data-quality checks (the FAQ chapter); :func:`check_probabilities` validates predicted class
probabilities for the evaluation metrics and the data-quality checks.
"""

from __future__ import annotations

import numpy as np


def check_int(name: str, value: int, minimum: int = 1) -> int:
    """Return ``value`` as an ``int`` if it is an integer (not a bool) of at least ``minimum``.

    ``minimum=1`` (the default) asks for a positive integer, ``minimum=0`` for a count.

    Raises:
        ValueError: naming ``name``, the rule and the value received (``2.5``, ``True``, ``0``...).
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        rule = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ValueError(f"{name} must be {rule}, got {value!r}.")
    return int(value)


def check_class_labels(
    y: np.ndarray,
    n_classes: int,
    *,
    name: str = "labels",
    n: int | None = None,
    what: str = "examples",
) -> np.ndarray:
    """Return ``y`` as an ``int64`` vector of class indices in ``0..n_classes-1``.

    Args:
        y: the labels, one per example.
        n_classes: how many classes there are.
        name: what to call ``y`` in error messages.
        n: if given, the number of labels expected (one per ``what``).
        what: what the labels belong to, for the count-mismatch message ("images", "examples").

    Raises:
        ValueError: not 1-D (one-hot labels or probabilities), a count that does not match ``n``,
            non-integer values, or a class outside the range; the message says which.
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(
            f"{name} must be a 1-D array of class indices (one per example), got shape {y.shape}; "
            "one-hot labels or probabilities can be turned back with .argmax(axis=1)."
        )
    if n is not None and len(y) != n:
        raise ValueError(f"got {n} {what} but {len(y)} labels; they must match one to one.")
    if y.size == 0:  # an empty list arrives as float64; callers decide whether empty is allowed
        return y.astype(np.int64)
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"{name} must be integers (class indices), got dtype {y.dtype}.")
    if y.min() < 0 or y.max() >= n_classes:
        raise ValueError(
            f"{name} must lie in 0..{n_classes - 1}, i.e. [0, {n_classes}), "
            f"got values from {y.min()} to {y.max()}."
        )
    return y.astype(np.int64, copy=False)


def check_probabilities(probabilities: np.ndarray, n: int | None = None) -> np.ndarray:
    """Return ``probabilities`` as an array after checking it holds one probability row per example.

    The rules: shaped ``(n, k)`` with ``k >= 2``; finite numbers; each in [0, 1]; each row summing
    to 1 (within 1e-3, what float32 softmax outputs reach). Floats keep their dtype.

    Raises:
        ValueError: which rule is broken, and the likely cause (logits instead of softmax outputs,
            a diverged training, rows for the wrong number of labels).
    """
    p = np.asarray(probabilities)
    if p.ndim != 2 or p.shape[1] < 2:
        raise ValueError(
            f"probabilities must be shaped (examples, classes >= 2), got {p.shape}; "
            "pass model.predict(x) for a softmax model."
        )
    if n is not None and p.shape[0] != n:
        raise ValueError(f"got {p.shape[0]} rows of probabilities for {n} labels.")
    if not np.issubdtype(p.dtype, np.number) or np.issubdtype(p.dtype, np.complexfloating):
        raise ValueError(f"probabilities must be real numbers, got dtype {p.dtype}.")
    if not np.issubdtype(p.dtype, np.floating):
        p = p.astype(np.float64)
    if not np.all(np.isfinite(p)):
        raise ValueError("probabilities contain NaN or infinite values; did training diverge?")
    if p.min() < 0 or p.max() > 1 or not np.allclose(p.sum(axis=1), 1.0, atol=1e-3):
        raise ValueError(
            "probabilities must lie in [0, 1] with rows summing to 1; were logits passed instead "
            "of softmax outputs? Apply softmax first."
        )
    return p
