"""Self-attention in NumPy, forward and backward, small enough to read in one sitting.

Introduced in the tiny-GPT part (``chapters/tiny_gpt/``): ``attention.ipynb`` derives every
equation below, checks each backward pass against finite differences
(:mod:`mnist_lib.gradcheck`) and TensorFlow, and the part's opening page (``index.md``) shows
:func:`softmax`, :func:`causal_mask`, :func:`attention`, :func:`attention_backward` and
:class:`MultiHeadSelfAttention` as they are written here.

Conventions, the same as the chapter's equations:

- a sequence is a matrix with one row per position: ``x`` has shape ``(B, T, d_model)`` (``B``
  sequences of ``T`` positions), queries and keys ``(..., T, d_k)``, values ``(..., T, d_v)``;
  any leading dimensions (batch, heads) are carried along unchanged;
- scaled dot-product attention is ``softmax(q k^T / sqrt(d_k) + mask) v``, where the mask is 0
  where query ``i`` may look at key ``j`` and ``-inf`` where it may not (``j > i`` when causal);
- projections are ``x @ W`` with ``W`` shaped ``(d_in, d_out)``, as in the paper
  (``Q = X W_Q``) and Keras' ``Dense`` kernels (unlike :class:`mnist_lib.nn.Dense`, whose ``W`` is
  ``(n_out, n_in)``);
- ``backward(d_out)`` receives dL/d(output) and returns dL/d(input), writing dL/dW into
  ``layer.grads`` in place, the same contract as :mod:`mnist_lib.nn`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from book_core.checks import check_int, check_not_none
from book_core.softmax import softmax  # re-exported: part of this module's lesson

Params = dict[str, np.ndarray]

__all__ = [
    "AttentionCache",
    "MultiHeadSelfAttention",
    "attention",
    "attention_backward",
    "causal_mask",
    "softmax",
]


def _check_qkv(q: np.ndarray, k: np.ndarray, v: np.ndarray) -> None:
    """Raise ValueError unless ``q, k: (..., T, d_k)`` and ``v: (..., T, d_v)`` fit together
    (TypeError for something other than a NumPy array: a list, say)."""
    for name, a in (("q", q), ("k", k), ("v", v)):
        if not isinstance(a, np.ndarray):
            raise TypeError(
                f"{name} must be a float NumPy array shaped (..., T, d), got "
                f"{type(a).__name__}; pass np.asarray({name}, dtype=float)."
            )
        if a.ndim < 2 or not np.issubdtype(a.dtype, np.floating):
            raise ValueError(
                f"{name} must be a float array shaped (..., T, d) with at least 2 dimensions, "
                f"got {getattr(a, 'dtype', type(a).__name__)} {np.shape(a)}."
            )
    if q.shape != k.shape:
        raise ValueError(
            f"q and k must have the same shape (..., T, d_k), got {q.shape} and {k.shape}."
        )
    if v.shape[:-1] != q.shape[:-1]:
        raise ValueError(
            f"v must be shaped (..., T, d_v) with the same leading dimensions and T as q "
            f"{q.shape[:-1]}, got {v.shape}."
        )


def _check_backward(d_out: np.ndarray, cache: AttentionCache) -> None:
    """TypeError unless ``d_out`` is given and ``cache`` is what :func:`attention` returned."""
    check_not_none("d_out", d_out, "dL/d(output), an array shaped like the output of attention")
    if not isinstance(cache, AttentionCache):
        raise TypeError(
            f"cache must be an AttentionCache, got {type(cache).__name__}; pass the cache that "
            "attention(q, k, v) returned with its output."
        )


def causal_mask(n: int) -> np.ndarray:
    """``(n, n)`` bool: True where position ``i`` (row) may attend to position ``j`` (column), j <= i."""
    check_int("n", n, minimum=None)  # the type; the range below, with its own message
    if n < 1:
        raise ValueError(f"a causal mask needs n >= 1 positions, got {n}.")
    return np.tril(np.ones((n, n), dtype=bool))


@dataclass
class AttentionCache:
    """What :func:`attention_backward` needs: the inputs and the attention weights ``P``."""

    q: np.ndarray  # (..., T, d_k)
    k: np.ndarray  # (..., T, d_k)
    v: np.ndarray  # (..., T, d_v)
    weights: np.ndarray  # (..., T, T): P[..., i, j], how much query i looks at key j


def attention(
    q: np.ndarray, k: np.ndarray, v: np.ndarray, *, causal: bool = True
) -> tuple[np.ndarray, AttentionCache]:
    """Scaled dot-product attention ``softmax(q k^T / sqrt(d_k) + mask) v``.

    Returns the output ``(..., T, d_v)`` and the cache for :func:`attention_backward`.
    """
    _check_qkv(q, k, v)
    scores = q @ k.swapaxes(-1, -2) / math.sqrt(q.shape[-1])  # (..., T, T)
    if causal:
        scores = np.where(causal_mask(q.shape[-2]), scores, -np.inf)  # (..., T, T)
    p = softmax(scores, axis=-1)  # (..., T, T), each row sums to 1
    return p @ v, AttentionCache(q, k, v, p)  # (..., T, d_v)


def attention_backward(
    d_out: np.ndarray, cache: AttentionCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """dL/dq, dL/dk, dL/dv from dL/d(output) ``d_out`` ``(..., T, d_v)``.

    Masked positions have ``P = 0``, so their score gradient ``dS`` is exactly 0: no gradient
    flows from a query to the keys and values it may not see.
    """
    _check_backward(d_out, cache)
    q, k, v, p = cache.q, cache.k, cache.v, cache.weights
    if d_out.shape != q.shape[:-1] + v.shape[-1:]:
        raise ValueError(
            f"d_out must have the output's shape {q.shape[:-1] + v.shape[-1:]}, got {d_out.shape}."
        )
    dv = p.swapaxes(-1, -2) @ d_out  # (..., T, T) @ (..., T, d_v) -> (..., T, d_v)
    dp = d_out @ v.swapaxes(-1, -2)  # (..., T, d_v) @ (..., d_v, T) -> (..., T, T)
    ds = p * (dp - np.sum(dp * p, axis=-1, keepdims=True))  # (..., T, T), through the softmax
    ds = ds / math.sqrt(q.shape[-1])  # (..., T, T), through the 1 / sqrt(d_k) scale
    dq = ds @ k  # (..., T, T) @ (..., T, d_k) -> (..., T, d_k)
    dk = ds.swapaxes(-1, -2) @ q  # (..., T, T) @ (..., T, d_k) -> (..., T, d_k)
    return dq, dk, dv


class MultiHeadSelfAttention:
    """``h`` attention heads side by side, each on its own ``d_model / h`` slice of the projections.

    ``forward(x)``: ``Q, K, V = x W_q, x W_k, x W_v``, each split into ``n_heads`` heads of width
    ``d_head = d_model / n_heads``, :func:`attention` in every head at once, heads merged back side
    by side, then the output projection ``@ W_o``. The four weights are ``(d_model, d_model)``,
    drawn from N(0, 1 / d_model); there are no biases (as in many GPTs: they add little here).

    Gradients are written in place: ``backward`` overwrites the arrays in ``self.grads``, which
    are allocated once, because an optimiser may hold references to them (the same contract as
    :class:`mnist_lib.nn.Dense`). Replacing them would leave it stepping with stale gradients.
    """

    def __init__(
        self,
        d_model: int,
        n_heads: int,
        *,
        rng: np.random.Generator,
        causal: bool = True,
        dtype: type | np.dtype = np.float64,
    ) -> None:
        check_int("d_model", d_model, minimum=None)  # the types; the range below
        check_int("n_heads", n_heads, minimum=None)
        check_not_none("rng", rng, "a NumPy Generator such as np.random.default_rng(0)")
        if d_model < 1 or n_heads < 1 or d_model % n_heads:
            raise ValueError(
                f"d_model must be a positive multiple of n_heads, got d_model={d_model} and "
                f"n_heads={n_heads}."
            )
        self.d_model, self.n_heads, self.causal = d_model, n_heads, causal
        self.dtype = np.dtype(dtype)
        std = np.sqrt(1.0 / d_model)
        self.params: Params = {
            name: rng.normal(0.0, std, size=(d_model, d_model)).astype(self.dtype)
            for name in ("Wq", "Wk", "Wv", "Wo")
        }
        self.grads: Params = {name: np.zeros_like(w) for name, w in self.params.items()}
        self._x: np.ndarray | None = None
        self._merged: np.ndarray | None = None
        self._cache: AttentionCache | None = None

    def _split_heads(self, a: np.ndarray) -> np.ndarray:
        """``(B, T, d_model) -> (B, h, T, d_head)``: head ``i`` gets columns ``i*d_head:(i+1)*d_head``."""
        b, t, _ = a.shape
        return a.reshape(b, t, self.n_heads, -1).transpose(0, 2, 1, 3)

    def _merge_heads(self, a: np.ndarray) -> np.ndarray:
        """``(B, h, T, d_head) -> (B, T, d_model)``, the inverse of :meth:`_split_heads`."""
        b, _, t, _ = a.shape
        return a.transpose(0, 2, 1, 3).reshape(b, t, self.d_model)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """``(B, T, d_model) -> (B, T, d_model)``; remembers what :meth:`backward` needs."""
        x = np.asarray(x)
        if x.ndim != 3 or x.shape[-1] != self.d_model or 0 in x.shape:
            raise ValueError(
                f"MultiHeadSelfAttention expects x shaped (batch, T, {self.d_model}) with "
                f"batch, T >= 1, got {x.shape}."
            )
        if not np.issubdtype(x.dtype, np.floating):
            raise ValueError(f"x must hold floats (embeddings), got dtype {x.dtype}.")
        x = x.astype(self.dtype, copy=False)
        w = self.params
        q = self._split_heads(x @ w["Wq"])  # (B, T, d_model) -> (B, h, T, d_head)
        k = self._split_heads(x @ w["Wk"])  # (B, h, T, d_head)
        v = self._split_heads(x @ w["Wv"])  # (B, h, T, d_head)
        heads, self._cache = attention(q, k, v, causal=self.causal)  # (B, h, T, d_head)
        self._x, self._merged = x, self._merge_heads(heads)  # (B, T, d_model)
        return self._merged @ w["Wo"]  # (B, T, d_model)

    def backward(self, d_out: np.ndarray) -> np.ndarray:
        """Write dL/dW for the four weights into ``self.grads``; return dL/dx ``(B, T, d_model)``."""
        if self._x is None or self._merged is None or self._cache is None:
            raise RuntimeError("MultiHeadSelfAttention.backward called before forward.")
        if d_out.shape != self._x.shape:
            raise ValueError(f"backward expects d_out shaped {self._x.shape}, got {d_out.shape}.")
        w, g, d = self.params, self.grads, self.d_model
        x2 = self._x.reshape(-1, d)  # (B*T, d_model): every position is one row
        np.matmul(self._merged.reshape(-1, d).T, d_out.reshape(-1, d), out=g["Wo"])  # (d, d)
        d_heads = self._split_heads(d_out @ w["Wo"].T)  # (B, h, T, d_head)
        dq, dk, dv = attention_backward(d_heads, self._cache)  # each (B, h, T, d_head)
        dq, dk, dv = self._merge_heads(dq), self._merge_heads(dk), self._merge_heads(dv)
        np.matmul(x2.T, dq.reshape(-1, d), out=g["Wq"])  # (d, B*T) @ (B*T, d) -> (d, d)
        np.matmul(x2.T, dk.reshape(-1, d), out=g["Wk"])  # (d, d)
        np.matmul(x2.T, dv.reshape(-1, d), out=g["Wv"])  # (d, d)
        return dq @ w["Wq"].T + dk @ w["Wk"].T + dv @ w["Wv"].T  # (B, T, d_model)
