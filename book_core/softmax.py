"""Softmax and log-softmax in NumPy: the one implementation every package uses.

Stable for large inputs (the maximum along ``axis`` is subtracted first), and defined for masked
entries: ``-inf`` gets probability exactly 0, and a slice that is masked entirely (all ``-inf``,
as a fully masked row of attention scores) gets all zeros from :func:`softmax` and all ``-inf``
from :func:`log_softmax`, without NaN and without a NumPy warning.

Used by the attention of the tiny GPT part (:mod:`tiny_gpt.attention`, ``attention.ipynb``), its
evaluation and sampling (:mod:`tiny_gpt.model`, :mod:`tiny_gpt.sampling`) and the NumPy network of
the backpropagation chapter (:mod:`mnist_lib.nn`, whose softmax-cross-entropy loss the linear
probe of the prompt-engineering chapter reuses).
"""

from __future__ import annotations

import numpy as np

from book_core.checks import check_int, check_not_none


def _shifted(x: np.ndarray, axis: int) -> np.ndarray:
    """``x`` minus its maximum along ``axis``; a slice whose maximum is ``-inf`` is shifted by 0."""
    check_int("axis", axis, minimum=None, fix="pass an int such as -1 (the last axis)")
    x = np.asarray(check_not_none("x", x, "a floating-point array of logits"))
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"softmax needs floating-point input, got dtype {x.dtype}.")
    top = x.max(axis=axis, keepdims=True)
    return x - np.where(np.isneginf(top), 0.0, top)


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """``exp(x) / sum(exp(x))`` along ``axis``.

    Entries of ``-inf`` get probability exactly 0; a slice that is entirely ``-inf`` gets zeros.

    Raises:
        TypeError: ``x`` is None or not a floating-point array, or ``axis`` is not an integer.
        ValueError: ``axis`` is out of range (NumPy's ``AxisError``).
    """
    e = np.exp(_shifted(x, axis))
    total = e.sum(axis=axis, keepdims=True)
    return np.divide(e, total, out=np.zeros_like(e), where=total > 0)


def log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """``log(softmax(x))`` along ``axis``, computed without forming ``softmax(x)``: exact for
    logits far below the maximum, whose probability would round to 0. A slice that is entirely
    ``-inf`` gives ``-inf``.

    Raises:
        TypeError: ``x`` is None or not a floating-point array, or ``axis`` is not an integer.
        ValueError: ``axis`` is out of range (NumPy's ``AxisError``).
    """
    shifted = _shifted(x, axis)
    with np.errstate(divide="ignore"):  # log(0) = -inf: a fully masked slice
        log_total = np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
    return shifted - np.where(np.isneginf(log_total), 0.0, log_total)
