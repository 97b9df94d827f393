"""Input checks shared by the library's modules, so every chapter gets the same clear errors.

:func:`class_labels` validates label vectors for the NumPy network (the backpropagation chapter),
the Keras training helper and the evaluation metrics (the MNIST chapter), and the data-quality
checks (the FAQ chapter).
"""

from __future__ import annotations

import numpy as np


def class_labels(
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
