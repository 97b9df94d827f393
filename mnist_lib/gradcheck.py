"""Numerical gradient checks: compare a hand-derived backward pass with finite differences.

Introduced in the backpropagation chapter (``chapters/backprop/gradients_checked.ipynb``), which
checks every layer of :mod:`mnist_lib.nn` this way; ``tests/test_nn.py`` does the same at random
shapes. The idea: for a scalar ``f`` and a tiny ``eps``,

    df/dx_i  ~  (f(x + eps e_i) - f(x - eps e_i)) / (2 eps),

with an error of order ``eps**2``. In float64 with ``eps = 1e-6`` a correct backward pass agrees to
a relative error far below 1e-6; a wrong one (a missing factor, a wrong sign) is off by order 1.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from book_core.checks import check_int, check_not_none, check_number

__all__ = ["check_layer", "check_model", "gradient_errors", "numerical_gradient", "relative_error"]


def _check_f(f: Callable[[], float]) -> None:
    if not callable(f):
        raise TypeError(
            f"f must be a function of no arguments returning the loss, got {type(f).__name__}; "
            "pass e.g. lambda: float(loss(x))."
        )


def numerical_gradient(f: Callable[[], float], x: np.ndarray, *, eps: float = 1e-6) -> np.ndarray:
    """Central-difference gradient of the scalar ``f()`` with respect to every entry of ``x``.

    ``f`` takes no arguments: it must read ``x`` itself (a layer's weight array, say). Each entry of
    ``x`` is nudged in place by ``±eps`` and restored afterwards, so ``x`` ends up unchanged.
    Costs two calls of ``f`` per entry: use small shapes.
    """
    eps = check_number("eps", eps, above=0, example=1e-6)
    _check_f(f)
    check_not_none("x", x, "a float64 array that f reads")
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        raise ValueError(
            f"numerical gradients need a float64 array (got {getattr(x, 'dtype', type(x))}): in "
            "float32 the rounding error of f swamps the difference; use .astype(np.float64)."
        )
    if not x.flags.c_contiguous or not x.flags.writeable:
        raise ValueError("x must be a writeable, C-contiguous array (it is perturbed in place).")
    flat = x.reshape(-1)  # a view: writing to it perturbs x
    grad = np.empty(x.size, dtype=np.float64)
    for i in range(x.size):
        old = flat[i]
        flat[i] = old + eps
        f_plus = float(f())
        flat[i] = old - eps
        f_minus = float(f())
        flat[i] = old
        grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad.reshape(x.shape)


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """``||a - b|| / (||a|| + ||b||)`` (Euclidean norms): 0 when equal, 1 when opposite.

    Scale-free, so the same threshold serves large and small gradients; 0 when both are all zeros.
    """
    check_not_none("a", a, "a gradient array")
    check_not_none("b", b, "a gradient array")
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"cannot compare gradients of different shapes {a.shape} and {b.shape}.")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("a gradient contains NaN or infinite values.")
    denominator = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if denominator == 0 else float(np.linalg.norm(a - b) / denominator)


def gradient_errors(
    f: Callable[[], float],
    params: Mapping[str, np.ndarray],
    analytic: Mapping[str, np.ndarray],
    *,
    eps: float = 1e-6,
) -> dict[str, float]:
    """Relative error between ``analytic[name]`` and the numerical gradient of ``f`` for each param."""
    check_number("eps", eps, above=0, example=1e-6)
    _check_f(f)
    check_not_none("params", params, "a dict {name: float64 array}")
    check_not_none("analytic", analytic, "a dict {name: gradient array}")
    missing = set(params) - set(analytic)
    if missing:
        raise ValueError(f"no analytic gradient given for {sorted(missing)}.")
    return {
        name: relative_error(analytic[name], numerical_gradient(f, p, eps=eps))
        for name, p in params.items()
    }


def check_layer(layer: Any, x: np.ndarray, *, seed: int = 0, eps: float = 1e-6) -> dict[str, float]:
    """Check a layer's ``backward`` (input gradient and every parameter gradient).

    The layer needs ``forward(x)``, ``backward(grad_out) -> grad_in`` and ``params``/``grads``
    dicts (every layer of :mod:`mnist_lib.nn` has them). The scalar checked is
    ``L = sum(forward(x) * G)`` for a fixed random ``G``, so that ``dL/d(output) = G``.
    Returns ``{"input": error, "W": error, ...}``.
    """
    seed = check_int("seed", seed, minimum=0, fix="pass an int such as 0")
    check_number("eps", eps, above=0, example=1e-6)
    check_not_none("layer", layer, "a layer with forward, backward, params and grads")
    check_not_none("x", x, "a small batch of inputs")
    x = np.array(x, dtype=np.float64)  # a private copy: it gets perturbed
    out = layer.forward(x)
    g = np.random.default_rng(seed).standard_normal(out.shape)

    def f() -> float:
        return float(np.sum(layer.forward(x) * g))

    layer.forward(x)
    analytic = {"input": layer.backward(g)}
    analytic.update({name: grad.copy() for name, grad in layer.grads.items()})
    return gradient_errors(f, {"input": x, **layer.params}, analytic, eps=eps)


def check_model(model: Any, x: np.ndarray, y: np.ndarray, *, eps: float = 1e-6) -> dict[str, float]:
    """Check a whole network's ``backward``: its loss on ``(x, y)`` against every parameter.

    The model needs ``loss(x, y) -> float``, ``backward()``, and ``params()``/``grads()`` returning
    dicts with the same names (like :class:`mnist_lib.nn.MLP`). Returns ``{name: error}``.
    """
    check_number("eps", eps, above=0, example=1e-6)
    check_not_none("model", model, "a model with loss, backward, params and grads")
    model.loss(x, y)
    model.backward()
    analytic = {name: grad.copy() for name, grad in model.grads().items()}
    return gradient_errors(lambda: model.loss(x, y), model.params(), analytic, eps=eps)
