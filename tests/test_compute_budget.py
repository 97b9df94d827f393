"""Unit tests for compute_budget: the 6·N·D rule, Chinchilla sizing, GPU-hours, cost, memory,
and the exact FLOP count of an MLP's training."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import compute_budget as compute

H100_BF16 = 989e12  # dense BF16 peak of an H100 SXM, FLOP/s


def test_training_flops_is_six_n_d():
    assert compute.training_flops(1e9, 2e10) == pytest.approx(1.2e20)


def test_chinchilla_70b_on_1_4t_tokens():
    # Hoffmann et al. 2022 trained Chinchilla, 70B parameters, on 1.4T tokens: 20 tokens/parameter.
    assert compute.compute_optimal_tokens(70e9) == pytest.approx(1.4e12)
    flops = compute.training_flops(70e9, 1.4e12)
    assert flops == pytest.approx(5.88e23)
    # and the inverse recovers the model size from the budget
    assert compute.compute_optimal_params(flops) == pytest.approx(70e9)


@given(st.floats(min_value=1e3, max_value=1e13), st.floats(min_value=1.0, max_value=100.0))
def test_compute_optimal_params_inverts_tokens(n, r):
    d = compute.compute_optimal_tokens(n, r)
    c = compute.training_flops(n, d)
    assert compute.compute_optimal_params(c, r) == pytest.approx(n, rel=1e-9)


def test_gpu_hours_and_cost_by_hand():
    # 3.6e18 FLOPs at 1e15 FLOP/s and 50% utilisation: 7,200 s = 2 GPU-hours
    hours = compute.gpu_hours(3.6e18, 1e15, 0.5)
    assert hours == pytest.approx(2.0)
    assert compute.cost(hours, 2.5) == pytest.approx(5.0)


def test_halving_utilisation_doubles_hours():
    a = compute.gpu_hours(1e21, H100_BF16, 0.4)
    b = compute.gpu_hours(1e21, H100_BF16, 0.2)
    assert b == pytest.approx(2 * a)


def test_inference_cost_per_1k_tokens_by_hand():
    # 1B parameters: 2e9 FLOPs/token, 2e12 per 1k tokens; at 1e15 FLOP/s x 0.5 that is 4e-3 s
    # = 4e-3/3600 GPU-hours; at 3.6 per GPU-hour it costs 4e-6.
    assert compute.inference_flops_per_token(1e9) == 2e9
    assert compute.inference_cost_per_1k_tokens(1e9, 1e15, 0.5, 3.6) == pytest.approx(4e-6)


def test_memory():
    assert compute.training_memory_bytes(7e9) == pytest.approx(112e9)
    assert compute.weights_memory_bytes(70e9) == pytest.approx(140e9)


def test_estimate_matches_the_parts():
    e = compute.estimate(
        7e9, 140e9, peak_flops_per_s=H100_BF16, utilisation=0.4, price_per_gpu_hour=2
    )
    assert e.flops == pytest.approx(compute.training_flops(7e9, 140e9))
    assert e.gpu_hours == pytest.approx(e.flops / (H100_BF16 * 0.4) / 3600)
    assert e.cost == pytest.approx(2 * e.gpu_hours)
    slower = compute.estimate(
        7e9,
        140e9,
        peak_flops_per_s=H100_BF16,
        utilisation=0.4,
        price_per_gpu_hour=2,
        inference_utilisation=0.1,
    )
    assert slower.inference_cost_per_1k_tokens == pytest.approx(4 * e.inference_cost_per_1k_tokens)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: compute.training_flops(-1, 10), ValueError, "n_params"),
        (lambda: compute.training_flops(1, float("nan")), ValueError, "finite"),
        (lambda: compute.training_flops("many", 10), TypeError, "number"),
        (lambda: compute.gpu_hours(1e20, 1e15, 40), ValueError, "fraction"),
        (lambda: compute.gpu_hours(1e20, 0, 0.4), ValueError, "peak_flops_per_s"),
        (lambda: compute.cost(1.0, -2), ValueError, "price_per_gpu_hour"),
        (lambda: compute.compute_optimal_tokens(1e9, 0), ValueError, "tokens_per_param"),
    ],
)
def test_bad_inputs_raise_clear_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


# ----------------------------------------------------------------------------- exact MLP count


def test_mlp_params():
    assert compute.mlp_params([784, 128, 10]) == 784 * 128 + 128 + 128 * 10 + 10 == 101_770


def test_mlp_flops_by_hand_for_a_tiny_net():
    # 2 -> 3 -> 1, one example, one epoch, SGD-like 2 FLOPs per parameter per step
    f = compute.mlp_training_flops([2, 3, 1], 1, batch_size=1, optimiser_flops_per_param=2)
    assert f.matmul_forward == 2 * (2 * 3) + 2 * (3 * 1)  # 18
    # weight gradients of both layers, input gradient of the second only
    assert f.matmul_backward == 2 * 6 + 2 * 3 + 2 * 3  # 24
    # layer 1: bias, bias grad, ReLU, mask = 4*3; layer 2: bias, bias grad = 2*1; softmax/CE: 4*1
    assert f.elementwise == 12 + 2 + 4
    assert f.optimiser == 2 * (6 + 3 + 3 + 1)
    assert f.total == 18 + 24 + 18 + 26


def test_mlp_matmuls_are_six_nd_minus_the_first_layers_input_gradient():
    sizes, n, epochs = [784, 128, 10], 60_000, 3
    f = compute.mlp_training_flops(sizes, n, epochs=epochs, batch_size=128)
    weights = 784 * 128 + 128 * 10
    d = n * epochs
    assert f.matmul == 6 * weights * d - 2 * 784 * 128 * d
    # so the rule overestimates this shallow net: the first layer holds most weights
    assert f.matmul < compute.training_flops(compute.mlp_params(sizes), d)


def test_six_nd_is_accurate_for_deep_uniform_nets():
    sizes = [64] + [1024] * 24 + [10]
    n = compute.mlp_params(sizes)
    f = compute.mlp_training_flops(sizes, 1000, batch_size=100)
    assert f.total / compute.training_flops(n, 1000) == pytest.approx(1.0, abs=0.02)


def test_optimiser_steps_round_up_partial_batches():
    a = compute.mlp_training_flops([4, 2], 100, batch_size=32, optimiser_flops_per_param=1)
    assert a.optimiser == compute.mlp_params([4, 2]) * math.ceil(100 / 32)
    b = compute.mlp_training_flops(
        [4, 2], 100, epochs=2, batch_size=32, optimiser_flops_per_param=1
    )
    assert b.optimiser == 2 * a.optimiser


def test_mlp_count_matches_an_instrumented_numpy_training_step():
    """Count every floating-point operation of a real NumPy forward/backward pass."""
    sizes, batch = [5, 4, 3, 2], 7
    counter = {"n": 0}

    def matmul(a, b):
        counter["n"] += 2 * a.shape[0] * a.shape[1] * b.shape[1]
        return a @ b

    def elementwise(x, ops=1):
        counter["n"] += ops * x.size
        return x

    rng = np.random.default_rng(0)
    x = rng.normal(size=(batch, sizes[0]))
    y = rng.integers(0, sizes[-1], batch)
    ws = [rng.normal(size=(a, b)) for a, b in zip(sizes[:-1], sizes[1:], strict=True)]
    bs = [np.zeros(b) for b in sizes[1:]]
    acts, h = [x], x
    for i, (w, b) in enumerate(zip(ws, bs, strict=True)):
        z = elementwise(matmul(h, w) + b)  # bias add
        h = elementwise(np.maximum(z, 0)) if i < len(ws) - 1 else z  # ReLU
        acts.append(h)
    e = np.exp(h - h.max(axis=1, keepdims=True))
    p = elementwise(e / e.sum(axis=1, keepdims=True), ops=3)  # softmax
    grad = p.copy()
    grad[np.arange(batch), y] -= 1
    elementwise(grad)  # softmax + cross-entropy gradient
    for i in reversed(range(len(ws))):
        matmul(acts[i].T, grad)  # weight gradient
        elementwise(grad)  # bias gradient
        if i > 0:
            grad = matmul(grad, ws[i].T)
            grad = elementwise(grad * (acts[i] > 0))  # ReLU mask
    f = compute.mlp_training_flops(sizes, batch, batch_size=batch, optimiser_flops_per_param=0)
    assert f.total == counter["n"]


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"layer_sizes": [784]}, ValueError, "at least one layer"),
        ({"layer_sizes": [784, 0, 10]}, ValueError, "layer width must be a positive integer"),
        ({"layer_sizes": [784, 12.5, 10]}, TypeError, "layer width must be a positive integer"),
        ({"layer_sizes": [784, 10], "n_examples": 0}, ValueError, "n_examples"),
        ({"layer_sizes": [784, 10], "batch_size": 2.0}, TypeError, "batch_size"),
        ({"layer_sizes": [784, 10], "optimiser_flops_per_param": -1}, ValueError, "optimiser"),
    ],
)
def test_mlp_bad_inputs(kwargs, error, match):
    kwargs = {"n_examples": 10, **kwargs}
    sizes = kwargs.pop("layer_sizes")
    n = kwargs.pop("n_examples")
    with pytest.raises(error, match=match):
        compute.mlp_training_flops(sizes, n, **kwargs)
