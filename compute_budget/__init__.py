"""Compute budgets: training FLOPs, compute-optimal data, GPU-hours, cost and memory.

It stands on :mod:`book_core` (validation) and is named after the chapter that introduces it, the
startup-roadmap chapter's compute-budget notebook (``chapters/roadmap/compute_budget.ipynb``),
which sizes models from the book's MNIST MLP up to
70B-parameter language models and checks the rule of thumb on the MLP's own training.

The rules of thumb, for a dense network with ``N`` parameters trained on ``D`` tokens (or examples):

- training costs about ``6·N·D`` floating-point operations (FLOPs): 2 per parameter and token for
  the forward pass, 4 for the backward pass (Kaplan et al. 2020);
- generating one token costs about ``2·N`` FLOPs (the forward pass alone);
- the compute-optimal amount of data is about ``D ≈ 20·N`` tokens (Hoffmann et al. 2022).

A multiply-add counts as 2 FLOPs throughout. :func:`mlp_training_flops` counts the operations of
an MLP's training exactly, layer by layer, so that the ``6·N·D`` rule can be checked against it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from book_core.checks import check_int, check_ints, check_number

#: FLOPs per parameter per token: forward (2) + backward (4).
TRAINING_FLOPS_PER_PARAM_TOKEN = 6.0
#: FLOPs per parameter per generated token: the forward pass.
INFERENCE_FLOPS_PER_PARAM_TOKEN = 2.0
#: Compute-optimal tokens per parameter (Hoffmann et al. 2022, "Chinchilla").
CHINCHILLA_TOKENS_PER_PARAM = 20.0
#: Bytes per parameter for mixed-precision training with Adam: 16-bit weights and gradients
#: (2 + 2), a 32-bit master copy of the weights (4) and Adam's two moments (4 + 4). Activations,
#: which depend on batch size and sequence length, come on top (Rajbhandari et al. 2020).
ADAM_MIXED_PRECISION_BYTES_PER_PARAM = 16.0
SECONDS_PER_HOUR = 3600.0


def _positive(name: str, value: float, *, allow_zero: bool = False) -> float:
    """``value`` as a float if it is a finite number > 0 (>= 0 when allowed): the shared rules of
    :func:`book_core.checks.check_number` (TypeError for a bool or a string such as ``"1e9"``,
    ValueError for NaN, an infinity or a number out of range)."""
    if allow_zero:
        return check_number(name, value, minimum=0, example=1e9)
    return check_number(name, value, above=0, example=1e9)


def _fraction(name: str, value: float) -> float:
    return check_number(
        name,
        value,
        above=0,
        maximum=1,
        fix="it is a fraction of the GPU's peak: write 40% as 0.4",
    )


# --------------------------------------------------------------------------- the rules of thumb


def training_flops(n_params: float, n_tokens: float) -> float:
    """Training FLOPs of a dense model, ``6·N·D``.

    Args:
        n_params: number of parameters ``N``.
        n_tokens: tokens (or examples, for a classifier) processed during training, ``D``,
            counting every epoch: 10 epochs over 60,000 images is ``D = 600,000``.
    """
    n = _positive("n_params", n_params)
    d = _positive("n_tokens", n_tokens)
    return TRAINING_FLOPS_PER_PARAM_TOKEN * n * d


def compute_optimal_tokens(
    n_params: float, tokens_per_param: float = CHINCHILLA_TOKENS_PER_PARAM
) -> float:
    """Tokens that make training compute-optimal for ``n_params`` parameters: ``D ≈ 20·N``."""
    return _positive("n_params", n_params) * _positive("tokens_per_param", tokens_per_param)


def compute_optimal_params(
    flops: float, tokens_per_param: float = CHINCHILLA_TOKENS_PER_PARAM
) -> float:
    """Parameters to train with a FLOP budget ``C``, compute-optimally.

    With ``C = 6·N·D`` and ``D = r·N``, ``N = sqrt(C / (6·r))``.
    """
    c = _positive("flops", flops)
    r = _positive("tokens_per_param", tokens_per_param)
    return math.sqrt(c / (TRAINING_FLOPS_PER_PARAM_TOKEN * r))


def inference_flops_per_token(n_params: float) -> float:
    """FLOPs to generate one token with a dense model: ``2·N`` (the forward pass)."""
    return INFERENCE_FLOPS_PER_PARAM_TOKEN * _positive("n_params", n_params)


# --------------------------------------------------------------------------- from FLOPs to money


def gpu_hours(flops: float, peak_flops_per_s: float, utilisation: float) -> float:
    """GPU-hours to execute ``flops`` on GPUs of peak ``peak_flops_per_s`` run at ``utilisation``.

    ``utilisation`` is the fraction of the peak that training actually achieves (often called
    model FLOPs utilisation, MFU); 0.3 to 0.5 is typical of well-tuned large training runs.
    """
    f = _positive("flops", flops, allow_zero=True)
    peak = _positive("peak_flops_per_s", peak_flops_per_s)
    u = _fraction("utilisation", utilisation)
    return f / (peak * u) / SECONDS_PER_HOUR


def cost(hours: float, price_per_gpu_hour: float) -> float:
    """Money for ``hours`` GPU-hours at ``price_per_gpu_hour`` (in whatever currency it is given)."""
    return _positive("hours", hours, allow_zero=True) * _positive(
        "price_per_gpu_hour", price_per_gpu_hour, allow_zero=True
    )


def inference_cost_per_1k_tokens(
    n_params: float, peak_flops_per_s: float, utilisation: float, price_per_gpu_hour: float
) -> float:
    """Cost of generating 1,000 tokens when generation is limited by compute.

    A lower bound in practice: serving one request at a time is limited by memory bandwidth, not
    FLOPs, so only large batches come near it. Set ``utilisation`` accordingly.
    """
    flops = 1000.0 * inference_flops_per_token(n_params)
    return cost(gpu_hours(flops, peak_flops_per_s, utilisation), price_per_gpu_hour)


def training_memory_bytes(
    n_params: float, bytes_per_param: float = ADAM_MIXED_PRECISION_BYTES_PER_PARAM
) -> float:
    """Memory for weights, gradients and optimiser state (activations not included)."""
    return _positive("n_params", n_params) * _positive("bytes_per_param", bytes_per_param)


def weights_memory_bytes(n_params: float, bytes_per_param: float = 2.0) -> float:
    """Memory for the weights alone, as for serving: 2 bytes per parameter in 16-bit precision."""
    return _positive("n_params", n_params) * _positive("bytes_per_param", bytes_per_param)


@dataclass(frozen=True)
class Estimate:
    """One row of a compute budget: see :func:`estimate`."""

    n_params: float
    n_tokens: float
    flops: float
    gpu_hours: float
    cost: float
    training_memory_bytes: float
    inference_cost_per_1k_tokens: float


def estimate(
    n_params: float,
    n_tokens: float,
    *,
    peak_flops_per_s: float,
    utilisation: float,
    price_per_gpu_hour: float,
    inference_utilisation: float | None = None,
) -> Estimate:
    """Training FLOPs, GPU-hours, cost, memory and inference cost of one model, in one call.

    ``inference_utilisation`` defaults to ``utilisation``.
    """
    if inference_utilisation is not None:
        _fraction("inference_utilisation", inference_utilisation)
    flops = training_flops(n_params, n_tokens)
    hours = gpu_hours(flops, peak_flops_per_s, utilisation)
    return Estimate(
        n_params=float(n_params),
        n_tokens=float(n_tokens),
        flops=flops,
        gpu_hours=hours,
        cost=cost(hours, price_per_gpu_hour),
        training_memory_bytes=training_memory_bytes(n_params),
        inference_cost_per_1k_tokens=inference_cost_per_1k_tokens(
            n_params,
            peak_flops_per_s,
            utilisation if inference_utilisation is None else inference_utilisation,
            price_per_gpu_hour,
        ),
    )


# --------------------------------------------------------------------------- exact count for an MLP


def mlp_params(layer_sizes: Sequence[int]) -> int:
    """Parameters (weights and biases) of a dense MLP with these layer widths, input first."""
    sizes = _layer_sizes(layer_sizes)
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:], strict=True))


def _layer_sizes(layer_sizes: Sequence[int]) -> list[int]:
    return list(
        check_ints(
            "layer_sizes",
            layer_sizes,
            min_length=2,
            item="each layer width",
            fix="give the input width and at least one layer, e.g. [784, 128, 10]",
        )
    )


@dataclass(frozen=True)
class MLPFlops:
    """FLOPs of an MLP's training, by kind (see :func:`mlp_training_flops`)."""

    matmul_forward: int
    matmul_backward: int
    elementwise: int
    optimiser: int

    @property
    def matmul(self) -> int:
        """Matrix products, forward and backward: what ``6·N·D`` models."""
        return self.matmul_forward + self.matmul_backward

    @property
    def total(self) -> int:
        return self.matmul + self.elementwise + self.optimiser


def mlp_training_flops(
    layer_sizes: Sequence[int],
    n_examples: int,
    *,
    epochs: int = 1,
    batch_size: int = 32,
    optimiser_flops_per_param: int = 12,
) -> MLPFlops:
    """Count the FLOPs of training a dense MLP (ReLU hidden layers, softmax + cross-entropy output).

    Per example and per layer with ``a`` inputs and ``b`` outputs, a multiply-add counting 2:

    - forward: ``x @ W`` costs ``2ab``; adding the bias ``b``; ReLU ``b`` (hidden layers);
    - backward: the weight gradient ``x.T @ dy`` costs ``2ab``, the bias gradient ``b``, the gradient
      for the layer below ``dy @ W.T`` another ``2ab`` -- except in the first layer, whose input is
      data and needs no gradient -- and ReLU's mask ``b`` (hidden layers);
    - output: softmax ``3k`` (exponential, sum, division) and its gradient with cross-entropy ``k``,
      for ``k`` classes;
    - optimiser: ``optimiser_flops_per_param`` per parameter per step (Adam's update is about 12;
      plain SGD's is 2), with ``ceil(n_examples / batch_size)`` steps per epoch.

    So the matrix products cost ``6·W·D - 2·W₁·D`` for ``W`` weights of which ``W₁`` in the first
    layer, over ``D = n_examples·epochs`` examples: below ``6·N·D`` when the first layer dominates.
    """
    sizes = _layer_sizes(layer_sizes)
    for name, value in (("n_examples", n_examples), ("epochs", epochs), ("batch_size", batch_size)):
        check_int(name, value)
    check_int("optimiser_flops_per_param", optimiser_flops_per_param, minimum=0)
    d = n_examples * epochs
    forward = backward = elementwise = 0
    last = len(sizes) - 2
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        forward += 2 * a * b
        backward += 2 * a * b  # weight gradient
        if i > 0:
            backward += 2 * a * b  # gradient passed down to the layer below
        elementwise += 2 * b  # bias add, bias gradient
        if i < last:
            elementwise += 2 * b  # ReLU and its mask
    k = sizes[-1]
    elementwise += 4 * k  # softmax (3k) and softmax-cross-entropy gradient (k)
    steps = math.ceil(n_examples / batch_size) * epochs
    return MLPFlops(
        matmul_forward=forward * d,
        matmul_backward=backward * d,
        elementwise=elementwise * d,
        optimiser=optimiser_flops_per_param * mlp_params(sizes) * steps,
    )
