"""tiny_gpt.model: the Keras GPT's shapes, causality, parameter count and FLOP count."""

from __future__ import annotations

from book_core.runtime import quiet_tensorflow

quiet_tensorflow()  # before TensorFlow is imported

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from book_core.runtime import seed_everything  # noqa: E402
from tiny_gpt.model import (  # noqa: E402
    GPTConfig,
    build_gpt,
    count,
    inputs_and_targets,
    next_token_logits,
    token_log_probs,
)

SMALL = GPTConfig(vocab_size=11, context=6, d_model=8, n_layers=2, n_heads=2, dropout=0.0)


@pytest.fixture(scope="module")
def model():
    seed_everything(0)
    return build_gpt(SMALL)


@pytest.mark.parametrize(
    "config",
    [SMALL, GPTConfig(vocab_size=50, context=24, d_model=16, n_layers=3, n_heads=4, dropout=0.1)],
)
def test_the_parameter_count_is_the_one_keras_builds(config) -> None:
    seed_everything(0)
    assert count(config).params == build_gpt(config).count_params()


def test_the_flop_count_follows_the_formula_of_the_page() -> None:
    c = GPTConfig(vocab_size=100, context=10, d_model=16, n_layers=2, n_heads=4)
    n = count(c)
    d, t, v, layers = 16, 10, 100, 2
    assert n.attention_flops_per_token == layers * 4 * t * d
    assert n.forward_flops_per_token == layers * 24 * d * d + layers * 4 * t * d + 2 * d * v
    assert n.training_flops_per_token == 3 * n.forward_flops_per_token
    assert n.embedding_params == v * d + t * d
    # without attention, biases and norms, training is 6 per non-embedding weight
    weights = layers * 12 * d * d + d * v
    assert n.training_flops_per_token - 3 * n.attention_flops_per_token == 6 * weights


def test_logits_have_the_vocabulary_at_every_position(model) -> None:
    ids = np.random.default_rng(0).integers(0, 11, (3, 6))
    assert model(ids).shape == (3, 6, 11)
    assert next_token_logits(model)(ids[:, :4]).shape == (3, 11)


def test_a_position_never_sees_the_future(model) -> None:
    rng = np.random.default_rng(1)
    ids = rng.integers(0, 11, (2, 6))
    changed = ids.copy()
    changed[:, 4:] = (changed[:, 4:] + 1) % 11
    a, b = np.asarray(model(ids)), np.asarray(model(changed))
    np.testing.assert_allclose(a[:, :4], b[:, :4], rtol=0, atol=1e-6)
    assert not np.allclose(a[:, 4:], b[:, 4:])


def test_inputs_and_targets_shift_by_one_token() -> None:
    """Next-token prediction: the target at position t is the input at position t + 1."""
    x, y = inputs_and_targets(np.array([[1, 5, 6, 7], [1, 2, 3, 4]]), 3)
    np.testing.assert_array_equal(x, [[1, 5, 6], [1, 2, 3]])
    np.testing.assert_array_equal(y, [[5, 6, 7], [2, 3, 4]])


def test_token_log_probs_are_the_log_softmax_of_the_next_token(model) -> None:
    """token_log_probs against a log-softmax in NumPy, with inputs and targets sliced by hand."""
    import keras

    sequences = np.random.default_rng(2).integers(0, 11, (5, 7))
    log_p = token_log_probs(model, sequences, batch_size=2)
    assert log_p.shape == (5, 6) and np.all(log_p <= 0)
    x, y = sequences[:, :-1], sequences[:, 1:]  # by hand, not with inputs_and_targets
    logits = np.asarray(model(x), np.float64)  # (5, 6, 11)
    log_softmax = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
    expected = np.take_along_axis(log_softmax, y[..., None], axis=-1)[..., 0]
    np.testing.assert_allclose(log_p, expected, rtol=0, atol=1e-6)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(y, model(x))
    assert -log_p.mean() == pytest.approx(float(loss), rel=1e-5)


def test_bad_shapes_and_configurations_are_refused() -> None:
    with pytest.raises(ValueError, match=r"\(n, 7\)"):
        inputs_and_targets(np.zeros((3, 5), int), 6)
    with pytest.raises(ValueError, match="multiple of n_heads"):
        GPTConfig(vocab_size=10, d_model=10, n_heads=4)
    with pytest.raises(ValueError, match="n_layers must be a positive integer"):
        GPTConfig(vocab_size=10, n_layers=0)


def test_training_lowers_the_loss_and_restores_the_best_epoch() -> None:
    from tiny_gpt.model import train

    rng = np.random.default_rng(3)
    # sequences that repeat one token: easy to learn, so the loss must fall
    first = rng.integers(2, 11, 64)
    sequences = np.column_stack([np.ones(64, int)] + [first] * 6)
    seed_everything(0)
    model = build_gpt(SMALL)
    history = train(model, sequences, sequences[:16], epochs=4, batch_size=16, patience=1)
    assert set(history) == {"loss", "val_loss", "seconds"}
    assert history["loss"][-1] < history["loss"][0]
    assert len(history["seconds"]) == len(history["loss"])
    best = min(history["val_loss"])
    assert -token_log_probs(model, sequences[:16]).mean() == pytest.approx(best, rel=1e-3)


def test_the_validation_curve_is_measured_at_evenly_spaced_steps() -> None:
    from tiny_gpt.model import train

    sequences = np.random.default_rng(4).integers(2, 11, (40, 7))
    sequences[:, 0] = 1
    seed_everything(0)
    model = build_gpt(SMALL)
    history = train(model, sequences, sequences[:8], epochs=2, batch_size=8, curve_points=5)
    # 40 sequences in batches of 8: 5 steps per epoch, one point after each step, 6 tokens each
    assert history["curve_tokens"] == [8.0 * 6 * i for i in range(1, 11)]
    assert len(history["curve_val_loss"]) == 10
    assert history["curve_val_loss"][4] == pytest.approx(history["val_loss"][0], rel=1e-4)


def test_more_curve_points_than_steps_is_refused_not_silently_fewer() -> None:
    """5 steps per epoch cannot give 10 evenly spaced points; it used to record 5 silently."""
    from tiny_gpt.model import train

    sequences = np.random.default_rng(4).integers(2, 11, (40, 7))
    sequences[:, 0] = 1
    seed_everything(0)
    with pytest.raises(
        ValueError, match=r"curve_points \(10\) must be at most the 5 training steps"
    ):
        train(build_gpt(SMALL), sequences, sequences[:8], epochs=1, batch_size=8, curve_points=10)
