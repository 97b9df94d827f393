"""tiny_gpt.model.CausalSelfAttention: the Keras layer the GPT trains is the attention the page
derives. Checked against the NumPy derivation (tiny_gpt.attention) and against Keras' own
MultiHeadAttention, each given the same weights."""

from __future__ import annotations

from book_core.runtime import quiet_tensorflow

quiet_tensorflow()  # before TensorFlow is imported

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from tiny_gpt.attention import MultiHeadSelfAttention  # noqa: E402
from tiny_gpt.model import CausalSelfAttention, GPTConfig, build_gpt  # noqa: E402

D, HEADS, T, B = 8, 2, 5, 3


@pytest.fixture(scope="module")
def weights() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {n: rng.normal(0, 0.5, (D, D)).astype(np.float32) for n in ("Wq", "Wk", "Wv", "Wo")}


@pytest.fixture(scope="module")
def x() -> np.ndarray:
    return np.random.default_rng(1).normal(size=(B, T, D)).astype(np.float32)


def keras_layer(weights: dict[str, np.ndarray]) -> CausalSelfAttention:
    layer = CausalSelfAttention(D, HEADS)
    layer.build((None, None, D))
    for name, value in weights.items():
        getattr(layer, name).assign(value)
    return layer


def test_the_keras_layer_computes_the_numpy_derivation(weights, x) -> None:
    numpy_version = MultiHeadSelfAttention(D, HEADS, rng=np.random.default_rng(2))
    numpy_version.params.update({n: w.astype(np.float64) for n, w in weights.items()})
    expected = numpy_version.forward(x.astype(np.float64))
    got = np.asarray(keras_layer(weights)(x))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_the_keras_layer_matches_keras_multi_head_attention_with_copied_weights(weights, x) -> None:
    mha = keras.layers.MultiHeadAttention(HEADS, key_dim=D // HEADS, use_bias=False)
    mha(x, x, use_causal_mask=True)  # builds it
    # Keras keeps a (d, heads, d_head) kernel per projection and (heads, d_head, d) for the output;
    # head i owns columns i*d_head:(i+1)*d_head of W_q, W_k, W_v and the same rows of W_o
    mha.query_dense.kernel.assign(weights["Wq"].reshape(D, HEADS, D // HEADS))
    mha.key_dense.kernel.assign(weights["Wk"].reshape(D, HEADS, D // HEADS))
    mha.value_dense.kernel.assign(weights["Wv"].reshape(D, HEADS, D // HEADS))
    mha.output_dense.kernel.assign(weights["Wo"].reshape(HEADS, D // HEADS, D))
    expected = np.asarray(mha(x, x, use_causal_mask=True))
    got = np.asarray(keras_layer(weights)(x))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_no_position_sees_the_future(weights, x) -> None:
    layer = keras_layer(weights)
    changed = x.copy()
    changed[:, 3:] += 10.0  # change positions 3 and 4 only
    before, after = np.asarray(layer(x)), np.asarray(layer(changed))
    np.testing.assert_array_equal(before[:, :3], after[:, :3])
    assert not np.allclose(before[:, 3:], after[:, 3:])


def test_the_gpt_trains_this_layer_and_not_keras_attention() -> None:
    model = build_gpt(GPTConfig(vocab_size=11, context=6, d_model=8, n_layers=2, n_heads=2))
    kinds = [type(layer) for layer in model.layers]
    assert kinds.count(CausalSelfAttention) == 2
    assert keras.layers.MultiHeadAttention not in kinds
    trainable = {w.path for w in model.trainable_weights}
    assert {
        f"block{i}_attention/{n}" for i in (0, 1) for n in ("Wq", "Wk", "Wv", "Wo")
    } <= trainable


@pytest.mark.parametrize(("d_model", "n_heads"), [(8, 3), (0, 1), (8, True)])
def test_bad_shapes_are_refused(d_model, n_heads) -> None:
    with pytest.raises((ValueError, TypeError), match="d_model|n_heads"):
        CausalSelfAttention(d_model, n_heads)


def test_a_one_token_input_gives_no_warning(weights) -> None:
    """Generation starts from one token: each row then holds one score, and Keras' softmax warns
    about a size-1 axis unless the layer says that is expected."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = np.asarray(keras_layer(weights)(np.ones((2, 1, D), np.float32)))
    assert out.shape == (2, 1, D)
