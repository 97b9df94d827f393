"""book_core.softmax: the one softmax, against hand-computed values."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from book_core.softmax import log_softmax, softmax


def test_softmax_matches_hand_computed_values() -> None:
    # exp(0), exp(1), exp(2) over their sum: 1, e, e^2 over 1 + e + e^2
    total = 1 + math.e + math.e**2
    expected = [1 / total, math.e / total, math.e**2 / total]
    np.testing.assert_allclose(softmax(np.array([0.0, 1.0, 2.0])), expected, rtol=1e-15)
    np.testing.assert_allclose(softmax(np.array([1000.0, 1001.0, 1002.0])), expected, rtol=1e-12)


def test_log_softmax_stays_exact_where_softmax_underflows() -> None:
    x = np.array([0.0, -800.0])  # exp(-800) underflows to 0 in float64
    assert softmax(x)[1] == 0.0
    # log p = -800 - log(1 + e^-800) = -800 to double precision
    assert log_softmax(x)[1] == pytest.approx(-800.0, abs=1e-12)


def test_masked_entries_and_fully_masked_rows() -> None:
    scores = np.array([[0.0, -np.inf, 0.0], [-np.inf, -np.inf, -np.inf]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "invalid value" or "divide by zero" warning either
        p = softmax(scores, axis=-1)
        log_p = log_softmax(scores, axis=-1)
    assert p.tolist() == [[0.5, 0.0, 0.5], [0.0, 0.0, 0.0]]
    assert log_p[0, 1] == -np.inf and np.all(log_p[1] == -np.inf)
    assert log_p[0, 0] == pytest.approx(math.log(0.5))


def test_softmax_along_another_axis() -> None:
    x = np.array([[0.0, 5.0], [0.0, 5.0]])
    np.testing.assert_allclose(softmax(x, axis=0), [[0.5, 0.5], [0.5, 0.5]])


def test_integer_input_is_a_type_error_that_says_so() -> None:
    with pytest.raises(TypeError, match="floating-point input, got dtype int"):
        softmax(np.array([1, 2, 3]))
