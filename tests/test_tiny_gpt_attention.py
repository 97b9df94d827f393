"""Tests of tiny_gpt.attention: backward passes against finite differences and TensorFlow,
causality, the split into heads, bad shapes, and gradients written in place."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mnist_lib.gradcheck import check_layer, gradient_errors
from tiny_gpt.attention import (
    MultiHeadSelfAttention,
    attention,
    attention_backward,
    causal_mask,
    softmax,
)

TOLERANCE = 1e-6  # float64 relative error, central differences with eps = 1e-6
small = st.integers(min_value=1, max_value=4)
seeds = st.integers(min_value=0, max_value=2**32 - 1)


def _layer(d_model: int = 6, n_heads: int = 2, *, seed: int = 0, causal: bool = True):
    rng = np.random.default_rng(seed)
    return MultiHeadSelfAttention(d_model, n_heads, rng=rng, causal=causal), rng


# --------------------------------------------------------------------------------------------
# the pieces
# --------------------------------------------------------------------------------------------


def test_softmax_is_stable_and_masks_minus_infinity():
    x = np.array([[1000.0, 1000.0, -np.inf], [0.0, np.log(3.0), -np.inf]])
    p = softmax(x)
    np.testing.assert_allclose(p, [[0.5, 0.5, 0.0], [0.25, 0.75, 0.0]], rtol=1e-12)
    assert p[0, 2] == 0.0 and p[1, 2] == 0.0
    np.testing.assert_allclose(softmax(x.T, axis=0), p.T, rtol=1e-12)


def test_causal_mask_lets_each_position_see_itself_and_the_past():
    expected = [[True, False, False], [True, True, False], [True, True, True]]
    np.testing.assert_array_equal(causal_mask(3), expected)
    assert causal_mask(3).dtype == bool
    with pytest.raises(ValueError, match="n >= 1"):
        causal_mask(0)


def test_attention_matches_the_formula_written_out():
    rng = np.random.default_rng(0)
    q, k, v = (
        rng.standard_normal((3, 4, 2)),
        rng.standard_normal((3, 4, 2)),
        rng.standard_normal((3, 4, 5)),
    )
    out, cache = attention(q, k, v, causal=True)
    for b in range(3):
        for i in range(4):  # query i, by hand: scores against keys 0..i only
            s = np.array([q[b, i] @ k[b, j] / np.sqrt(2) for j in range(i + 1)])
            w = np.exp(s) / np.exp(s).sum()
            np.testing.assert_allclose(out[b, i], w @ v[b, : i + 1], rtol=1e-12)
            np.testing.assert_allclose(cache.weights[b, i, : i + 1], w, rtol=1e-12)
            assert (cache.weights[b, i, i + 1 :] == 0).all()


@settings(max_examples=30, deadline=None, database=None)
@given(
    lead=st.lists(st.integers(1, 2), min_size=0, max_size=2),
    t=small,
    d_k=small,
    d_v=small,
    causal=st.booleans(),
    seed=seeds,
)
def test_attention_gradients(lead, t, d_k, d_v, causal, seed):
    rng = np.random.default_rng(seed)
    q = rng.standard_normal((*lead, t, d_k))
    k = rng.standard_normal((*lead, t, d_k))
    v = rng.standard_normal((*lead, t, d_v))
    g = rng.standard_normal((*lead, t, d_v))  # L = sum(out * g), so dL/d(out) = g
    out, cache = attention(q, k, v, causal=causal)
    dq, dk, dv = attention_backward(g, cache)

    def loss() -> float:
        return float(np.sum(attention(q, k, v, causal=causal)[0] * g))

    errors = gradient_errors(loss, {"q": q, "k": k, "v": v}, {"q": dq, "k": dk, "v": dv})
    assert max(errors.values()) < TOLERANCE, errors


@settings(max_examples=15, deadline=None, database=None)
@given(
    batch=st.integers(1, 2),
    t=small,
    heads_and_width=st.sampled_from([(1, 1), (1, 3), (2, 4), (3, 6), (2, 2)]),
    causal=st.booleans(),
    seed=seeds,
)
def test_multi_head_gradients(batch, t, heads_and_width, causal, seed):
    n_heads, d_model = heads_and_width
    layer, rng = _layer(d_model, n_heads, seed=seed, causal=causal)
    errors = check_layer(layer, rng.standard_normal((batch, t, d_model)), seed=seed)
    assert set(errors) == {"input", "Wq", "Wk", "Wv", "Wo"}
    assert max(errors.values()) < TOLERANCE, errors


# --------------------------------------------------------------------------------------------
# causality
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("t", [0, 2, 4])
def test_the_future_changes_neither_the_past_outputs_nor_their_gradients(t):
    layer, rng = _layer(6, 3, seed=1)
    x = rng.standard_normal((2, 6, 6))
    later = x.copy()
    later[:, t + 1 :] = rng.standard_normal(later[:, t + 1 :].shape) * 10
    out, out_later = layer.forward(x), layer.forward(later)
    np.testing.assert_allclose(out_later[:, : t + 1], out[:, : t + 1], rtol=0, atol=1e-13)
    if t + 1 < x.shape[1]:
        assert not np.allclose(out_later[:, t + 1 :], out[:, t + 1 :])

    d_out = rng.standard_normal(out.shape)
    d_out[:, t + 1 :] = 0  # a loss on positions <= t only
    dx = layer.backward(d_out)
    assert (dx[:, t + 1 :] == 0).all()  # exactly: masked weights are exactly 0
    assert np.abs(dx[:, : t + 1]).min() > 0


def test_attention_backward_sends_no_gradient_to_keys_a_query_cannot_see():
    rng = np.random.default_rng(2)
    q, k, v = (rng.standard_normal((2, 5, 3)) for _ in range(3))
    _, cache = attention(q, k, v, causal=True)
    d_out = np.zeros((2, 5, 3))
    d_out[:, 1] = rng.standard_normal((2, 3))  # only query 1 is in the loss
    dq, dk, dv = attention_backward(d_out, cache)
    assert (dk[:, 2:] == 0).all() and (dv[:, 2:] == 0).all()
    assert (dq[:, [0, 2, 3, 4]] == 0).all()
    assert np.abs(dk[:, :2]).min() > 0 and np.abs(dv[:, :2]).min() > 0


def test_without_the_mask_the_future_does_change_the_past():
    layer, rng = _layer(6, 3, seed=1, causal=False)
    x = rng.standard_normal((2, 6, 6))
    later = x.copy()
    later[:, 3:] += 1.0
    assert not np.allclose(layer.forward(x)[:, :3], layer.forward(later)[:, :3])


# --------------------------------------------------------------------------------------------
# heads
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("causal", [True, False])
def test_one_head_is_plain_attention_of_the_projections(causal):
    layer, rng = _layer(4, 1, seed=3, causal=causal)
    x = rng.standard_normal((2, 5, 4))
    w = layer.params
    expected = attention(x @ w["Wq"], x @ w["Wk"], x @ w["Wv"], causal=causal)[0] @ w["Wo"]
    np.testing.assert_allclose(layer.forward(x), expected, rtol=1e-12, atol=1e-14)


def test_each_head_attends_with_its_own_slice_of_the_projections():
    layer, rng = _layer(6, 3, seed=4)
    x = rng.standard_normal((2, 5, 6))
    w = layer.params
    q, k, v = x @ w["Wq"], x @ w["Wk"], x @ w["Wv"]  # (2, 5, 6) each
    heads = [
        attention(q[..., c : c + 2], k[..., c : c + 2], v[..., c : c + 2])[0]  # (2, 5, 2)
        for c in (0, 2, 4)
    ]
    expected = np.concatenate(heads, axis=-1) @ w["Wo"]
    np.testing.assert_allclose(layer.forward(x), expected, rtol=1e-12, atol=1e-14)


def test_initial_weights_have_variance_one_over_d_model():
    layer, _ = _layer(64, 4, seed=5)
    for name in ("Wq", "Wk", "Wv", "Wo"):
        assert layer.params[name].shape == (64, 64)
        assert layer.params[name].var() == pytest.approx(1 / 64, rel=0.1)
    assert not np.array_equal(layer.params["Wq"], layer.params["Wk"])


def test_float32_stays_float32():
    rng = np.random.default_rng(6)
    layer = MultiHeadSelfAttention(4, 2, rng=rng, dtype=np.float32)
    x = rng.standard_normal((2, 3, 4)).astype(np.float32)
    out = layer.forward(x)
    dx = layer.backward(np.ones_like(out))
    assert out.dtype == dx.dtype == np.float32
    assert all(g.dtype == np.float32 for g in layer.grads.values())


# --------------------------------------------------------------------------------------------
# agreement with TensorFlow
# --------------------------------------------------------------------------------------------


def test_agrees_with_tensorflow_gradient_tape():
    from book_core.runtime import quiet_tensorflow

    quiet_tensorflow()  # before TensorFlow is imported
    tf = pytest.importorskip("tensorflow")

    b, t, d, h = 2, 5, 6, 3
    layer, rng = _layer(d, h, seed=7)
    x = rng.standard_normal((b, t, d))
    g = rng.standard_normal((b, t, d))
    out = layer.forward(x)
    dx = layer.backward(g)

    tx = tf.Variable(x)
    tw = {name: tf.Variable(w) for name, w in layer.params.items()}

    def split(a):  # (b, t, d) -> (b, h, t, d / h)
        return tf.transpose(tf.reshape(a, (b, t, h, d // h)), (0, 2, 1, 3))

    with tf.GradientTape() as tape:
        q, k, v = (split(tf.matmul(tx, tw[name])) for name in ("Wq", "Wk", "Wv"))
        scores = tf.matmul(q, k, transpose_b=True) / np.sqrt(d // h)
        scores = tf.where(tf.constant(np.tril(np.ones((t, t), bool))), scores, -np.inf)
        heads = tf.matmul(tf.nn.softmax(scores, axis=-1), v)  # (b, h, t, d / h)
        merged = tf.reshape(tf.transpose(heads, (0, 2, 1, 3)), (b, t, d))
        tf_out = tf.matmul(merged, tw["Wo"])
        loss = tf.reduce_sum(tf_out * g)
    grads = tape.gradient(loss, {"input": tx, **tw})

    np.testing.assert_allclose(out, tf_out.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx, grads["input"].numpy(), rtol=1e-10, atol=1e-12)
    for name in ("Wq", "Wk", "Wv", "Wo"):
        np.testing.assert_allclose(
            layer.grads[name], grads[name].numpy(), rtol=1e-10, atol=1e-12, err_msg=name
        )


# --------------------------------------------------------------------------------------------
# contracts: in-place gradients, bad input
# --------------------------------------------------------------------------------------------


def test_gradients_are_overwritten_in_place():
    layer, rng = _layer(4, 2, seed=8)
    x = rng.standard_normal((2, 3, 4))
    arrays = {name: id(g) for name, g in layer.grads.items()}
    d_out = rng.standard_normal(layer.forward(x).shape)
    layer.backward(d_out)
    first = {name: g.copy() for name, g in layer.grads.items()}
    layer.forward(x)
    layer.backward(2 * d_out)
    assert {name: id(g) for name, g in layer.grads.items()} == arrays
    for name, g in layer.grads.items():  # overwritten, not accumulated (3x) nor stale (1x)
        np.testing.assert_allclose(g, 2 * first[name], rtol=1e-12, err_msg=name)


def test_bad_layer_arguments_are_rejected():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="multiple of n_heads"):
        MultiHeadSelfAttention(6, 4, rng=rng)
    with pytest.raises(ValueError, match="multiple of n_heads"):
        MultiHeadSelfAttention(0, 1, rng=rng)
    layer = MultiHeadSelfAttention(6, 2, rng=rng)
    with pytest.raises(RuntimeError, match="before forward"):
        layer.backward(np.zeros((1, 2, 6)))
    with pytest.raises(ValueError, match=r"\(batch, T, 6\)"):
        layer.forward(np.zeros((2, 6)))  # no batch dimension
    with pytest.raises(ValueError, match=r"\(batch, T, 6\)"):
        layer.forward(np.zeros((1, 2, 4)))  # wrong width
    with pytest.raises(ValueError, match="floats"):
        layer.forward(np.zeros((1, 2, 6), dtype=np.int64))  # token ids, not embeddings
    layer.forward(np.zeros((1, 2, 6)))
    with pytest.raises(ValueError, match=r"d_out shaped \(1, 2, 6\)"):
        layer.backward(np.zeros((1, 3, 6)))


def test_bad_attention_shapes_are_rejected():
    q = np.zeros((2, 4, 3))
    with pytest.raises(ValueError, match="q and k must have the same shape"):
        attention(q, np.zeros((2, 4, 2)), np.zeros((2, 4, 3)))
    with pytest.raises(ValueError, match="v must be shaped"):
        attention(q, q, np.zeros((2, 5, 3)))
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        attention(np.zeros(3), np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match="float array"):
        attention(q.astype(int), q, q)
    _, cache = attention(q, q, np.zeros((2, 4, 5)))
    with pytest.raises(ValueError, match=r"output's shape \(2, 4, 5\)"):
        attention_backward(np.zeros((2, 4, 3)), cache)
