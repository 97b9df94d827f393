"""Tests of mnist_lib.gradcheck: it agrees with known derivatives and it catches broken ones."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_lib import nn
from mnist_lib.gradcheck import (
    check_layer,
    check_model,
    gradient_errors,
    numerical_gradient,
    relative_error,
)


def test_numerical_gradient_of_a_cubic_matches_the_derivative_and_leaves_x_unchanged():
    x = np.array([[-1.5, 0.3, 2.0], [0.7, -0.2, 1.1]])
    before = x.copy()
    grad = numerical_gradient(lambda: float(np.sum(x**3)), x)
    np.testing.assert_allclose(grad, 3 * before**2, rtol=1e-8)
    np.testing.assert_array_equal(x, before)


def test_numerical_gradient_of_a_quadratic_form():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((4, 4))
    x = rng.standard_normal(4)
    grad = numerical_gradient(lambda: float(x @ a @ x), x)
    assert relative_error(grad, (a + a.T) @ x) < 1e-9


@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.int64])
def test_numerical_gradient_refuses_low_precision(dtype):
    x = np.ones(3, dtype=dtype)
    with pytest.raises(ValueError, match="float64"):
        numerical_gradient(lambda: float(x.sum()), x)


def test_numerical_gradient_refuses_a_non_contiguous_view():
    x = np.ones((4, 4))[:, ::2]
    with pytest.raises(ValueError, match="contiguous"):
        numerical_gradient(lambda: float(x.sum()), x)


def test_relative_error_values():
    a = np.array([1.0, -2.0, 3.0])
    assert relative_error(a, a) == 0.0
    assert relative_error(a, -a) == pytest.approx(1.0)
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error(a, a * (1 + 1e-7)) == pytest.approx(5e-8, rel=1e-3)


def test_relative_error_rejects_mismatched_or_non_finite_input():
    with pytest.raises(ValueError, match="shapes"):
        relative_error(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="NaN"):
        relative_error(np.array([np.nan]), np.array([1.0]))


def test_gradient_errors_needs_an_analytic_gradient_for_every_parameter():
    w = np.ones(2)
    with pytest.raises(ValueError, match="no analytic gradient"):
        gradient_errors(lambda: float(w.sum()), {"w": w}, {})


class ReLUWithoutDerivative(nn.ReLU):
    """The source article's first mistake: passing the error back without sigma'(z)."""

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        return grad_out


class DenseAscending(nn.Dense):
    """A sign error: the weight gradient points uphill."""

    def backward(self, grad_out, *, need_input_grad=True):
        grad_in = super().backward(grad_out, need_input_grad=need_input_grad)
        self.grads["W"] *= -1
        return grad_in


def test_check_layer_passes_a_correct_layer_and_fails_broken_ones():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 5))
    assert max(check_layer(nn.ReLU(), x).values()) < 1e-8
    assert check_layer(ReLUWithoutDerivative(), x)["input"] > 0.1
    dense = DenseAscending(5, 3, rng=rng, dtype=np.float64)
    errors = check_layer(dense, x)
    assert errors["W"] == pytest.approx(1.0)
    assert errors["b"] < 1e-8 and errors["input"] < 1e-8


def test_check_model_catches_a_missing_activation_derivative():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((8, 6)), rng.integers(0, 3, 8)
    model = nn.MLP([6, 5, 3], seed=0, dtype=np.float64)
    assert max(check_model(model, x, y).values()) < 1e-6
    model.layers[1] = ReLUWithoutDerivative()
    errors = check_model(model, x, y)
    assert errors["dense1.W"] < 1e-6  # the output layer is still right ...
    assert errors["dense0.W"] > 1e-2  # ... the hidden layer's gradient is wrong
