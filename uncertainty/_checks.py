"""Input checks shared by the modules of :mod:`uncertainty` (one rule each, one message each),
built on the book's shared rules (:mod:`book_core.checks`): a wrong type (None, a bool, a string)
raises TypeError, a value that breaks a rule raises ValueError."""

from __future__ import annotations

import numpy as np

from book_core.checks import check_not_none, check_number


def check_confidence(confidence: float) -> float:
    """A confidence level strictly between 0 and 1, e.g. 0.95."""
    return check_number("confidence", confidence, above=0, below=1, example=0.95)


def _numeric(name: str, values) -> np.ndarray:
    """``values`` as an array; TypeError for None, a bare string or an array of strings."""
    check_not_none(name, values, "a list or array of numbers")
    array = np.asarray(values)
    texts = array.dtype.kind in "US" or (
        array.dtype.kind == "O"
        and any(v is None or isinstance(v, (str, bytes)) for v in array.ravel().tolist())
    )
    if texts:
        raise TypeError(
            f"{name} must hold numbers, got {values!r:.80}; pass a list or array of numbers "
            "such as [0.97, 0.98]."
        )
    return array


def check_sample(name: str, values, minimum: int) -> np.ndarray:
    """A one-dimensional sample of finite numbers with at least ``minimum`` values."""
    array = np.asarray(_numeric(name, values), dtype=float)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}.")
    if len(array) < minimum:
        raise ValueError(f"{name} needs at least {minimum} values, got {len(array)}.")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or infinite values; remove or fix them first.")
    return array


def check_paired(name_a: str, a, name_b: str, b, *, boolean: bool) -> tuple[np.ndarray, np.ndarray]:
    """Two one-dimensional arrays of the same length: the same items, measured twice."""
    a_arr, b_arr = _numeric(name_a, a), _numeric(name_b, b)
    for name, arr in ((name_a, a_arr), (name_b, b_arr)):
        if arr.ndim != 1 or len(arr) == 0:
            raise ValueError(
                f"{name} must be a non-empty one-dimensional array, got shape {arr.shape}."
            )
        if boolean and arr.dtype != bool and not np.isin(arr, (0, 1)).all():
            raise ValueError(
                f"{name} must say, per item, whether the answer was right (True/False or 1/0)."
            )
    if len(a_arr) != len(b_arr):
        raise ValueError(
            f"{name_a} and {name_b} must hold the same items in the same order: "
            f"got {len(a_arr)} and {len(b_arr)} items."
        )
    if boolean:
        return a_arr.astype(bool), b_arr.astype(bool)
    return check_sample(name_a, a_arr, 1), check_sample(name_b, b_arr, 1)
