"""Tests of mnist_lib.nn: every backward pass against finite differences, training, bad inputs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mnist_lib import nn
from mnist_lib.gradcheck import check_layer, check_model, numerical_gradient, relative_error

TOLERANCE = 1e-6  # float64 relative error, central differences with eps = 1e-6
small = st.integers(min_value=1, max_value=7)
seeds = st.integers(min_value=0, max_value=2**32 - 1)


@settings(max_examples=25, deadline=None, database=None)
@given(batch=small, n_in=small, n_out=small, seed=seeds, init=st.sampled_from(["he", "glorot"]))
def test_dense_gradients(batch, n_in, n_out, seed, init):
    rng = np.random.default_rng(seed)
    layer = nn.Dense(n_in, n_out, rng=rng, init=init, dtype=np.float64)
    layer.params["b"][:] = rng.standard_normal(n_out)  # a nonzero bias, so it is really tested
    errors = check_layer(layer, rng.standard_normal((batch, n_in)), seed=seed)
    assert set(errors) == {"input", "W", "b"}
    assert max(errors.values()) < TOLERANCE, errors


@settings(max_examples=25, deadline=None, database=None)
@given(batch=small, width=small, seed=seeds, layer=st.sampled_from([nn.ReLU, nn.Sigmoid]))
def test_activation_gradients(batch, width, seed, layer):
    x = np.random.default_rng(seed).standard_normal((batch, width)) * 3
    assert check_layer(layer(), x, seed=seed)["input"] < TOLERANCE


@settings(max_examples=25, deadline=None, database=None)
@given(batch=small, classes=st.integers(2, 7), seed=seeds, scale=st.sampled_from([0.1, 1.0, 20.0]))
def test_softmax_cross_entropy_gradient_is_p_minus_y_over_batch(batch, classes, seed, scale):
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((batch, classes)) * scale
    labels = rng.integers(0, classes, batch)
    loss = nn.SoftmaxCrossEntropy()
    loss.forward(logits, labels)
    analytic = loss.backward()
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    np.testing.assert_allclose(analytic, (p - np.eye(classes)[labels]) / batch, atol=1e-15)
    if scale <= 1:  # finite differences only at moderate logits: once p is within ~1e-7 of
        # one-hot, the rounding error of the loss swamps the change that eps makes to it
        numeric = numerical_gradient(lambda: loss.forward(logits, labels), logits)
        assert relative_error(analytic, numeric) < TOLERANCE


@settings(max_examples=15, deadline=None, database=None)
@given(
    sizes=st.lists(st.integers(1, 6), min_size=1, max_size=3),
    classes=st.integers(2, 5),
    batch=small,
    seed=seeds,
    activation=st.sampled_from(["relu", "sigmoid"]),
)
def test_whole_network_gradients(sizes, classes, batch, seed, activation):
    rng = np.random.default_rng(seed)
    model = nn.MLP([*sizes, classes], seed=seed, activation=activation, dtype=np.float64)
    for layer in model.dense_layers():
        layer.params["b"][:] = 0.1 * rng.standard_normal(layer.n_out)
    x, y = rng.standard_normal((batch, sizes[0])), rng.integers(0, classes, batch)
    errors = check_model(model, x, y)
    assert len(errors) == 2 * len(sizes)  # a W and a b for each Dense layer
    assert max(errors.values()) < TOLERANCE, errors


def test_softmax_cross_entropy_values():
    loss = nn.SoftmaxCrossEntropy()
    assert loss.forward(np.zeros((3, 10)), np.array([0, 4, 9])) == pytest.approx(np.log(10))
    # huge logits: no overflow, and a confident right answer costs almost nothing
    assert loss.forward(np.array([[1000.0, 0.0]]), np.array([0])) == pytest.approx(0.0, abs=1e-12)
    assert loss.forward(np.array([[1000.0, 0.0]]), np.array([1])) == pytest.approx(1000.0)
    np.testing.assert_allclose(loss.backward().sum(axis=1), 0.0, atol=1e-15)


def test_sigmoid_is_stable_for_large_inputs():
    s = nn.Sigmoid().forward(np.array([-1000.0, 0.0, 1000.0]))
    np.testing.assert_allclose(s, [0.0, 0.5, 1.0])


def test_initialisation_scales():
    rng = np.random.default_rng(0)
    he = nn.Dense(1000, 500, rng=rng, init="he", dtype=np.float64).params["W"]
    glorot = nn.Dense(1000, 500, rng=rng, init="glorot", dtype=np.float64).params["W"]
    assert he.std() == pytest.approx(np.sqrt(2 / 1000), rel=0.02)
    assert glorot.std() == pytest.approx(np.sqrt(2 / 1500), rel=0.02)  # uniform: limit / sqrt(3)
    assert nn.Dense(3, 2, rng=rng).params["W"].dtype == np.float32


def test_sgd_moves_against_the_gradient():
    w, g = np.array([1.0, -2.0]), np.array([0.5, -1.0])
    nn.SGD(lr=0.1).step({"w": w}, {"w": g})
    np.testing.assert_allclose(w, [0.95, -1.9])


def test_sgd_momentum_accumulates_velocity():
    w, g = np.zeros(1), np.ones(1)
    opt = nn.SGD(lr=0.1, momentum=0.9)
    opt.step({"w": w}, {"w": g})
    opt.step({"w": w}, {"w": g})
    np.testing.assert_allclose(w, [-0.1 - 0.19])


def test_adam_first_step_has_size_lr_in_the_direction_against_the_gradient():
    w = np.array([1.0, 1.0, 1.0], dtype=np.float32)
    g = np.array([1e-3, -5.0, 200.0], dtype=np.float32)
    nn.Adam(lr=0.01).step({"w": w}, {"w": g})
    np.testing.assert_allclose(w, [0.99, 1.01, 0.99], rtol=1e-4)
    assert w.dtype == np.float32


def blobs(n: int = 96, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three Gaussian clusters in 4-D: a problem a tiny network can solve."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    centres = rng.standard_normal((3, 4)) * 3
    return centres[y] + rng.standard_normal((n, 4)), y


@pytest.mark.parametrize("optimizer", [nn.SGD(lr=0.1, momentum=0.9), nn.Adam(lr=0.01)])
def test_loss_goes_down_on_a_tiny_problem(optimizer):
    x, y = blobs()
    model = nn.MLP([4, 16, 3], seed=0)
    loss_before, _ = nn.evaluate(model, x, y)
    history = nn.train(model, x, y, epochs=30, batch_size=16, optimizer=optimizer, seed=0)
    loss_after, accuracy = nn.evaluate(model, x, y)
    assert loss_after < 0.2 * loss_before
    assert history["loss"][-1] < history["loss"][0]
    assert accuracy > 0.95


def test_training_is_deterministic_given_the_seed():
    x, y = blobs()

    def run(seed: int) -> tuple[dict, dict]:
        model = nn.MLP([4, 8, 3], seed=seed)
        history = nn.train(model, x, y, epochs=3, batch_size=10, optimizer=nn.Adam(), seed=seed)
        del history["seconds"]
        return history, model.params()

    (h1, p1), (h2, p2), (_, p3) = run(7), run(7), run(8)
    assert h1 == h2
    for name in p1:
        np.testing.assert_array_equal(p1[name], p2[name])
    assert not np.array_equal(p1["dense0.W"], p3["dense0.W"])


def test_each_epoch_shuffles_the_rows_anew():
    """Every epoch sees its own order of the rows; the same seed repeats the same orders."""
    n, epochs = 12, 4
    x = np.column_stack([np.arange(n), np.zeros(n)])  # column 0: the row's index
    y = np.arange(n) % 3

    def orders(seed: int) -> list[list[int]]:
        model, seen = nn.MLP([2, 3], seed=0), []
        forward = model._forward

        def recording(xb: np.ndarray) -> np.ndarray:
            seen.extend(xb[:, 0].astype(int))
            return forward(xb)

        model._forward = recording
        nn.train(model, x, y, epochs=epochs, batch_size=5, optimizer=nn.SGD(0.01), seed=seed)
        return [seen[i : i + n] for i in range(0, epochs * n, n)]

    first = orders(seed=3)
    assert all(sorted(order) == list(range(n)) for order in first)  # each row once per epoch
    assert len({tuple(order) for order in first}) == epochs  # a new order every epoch
    assert orders(seed=3) == first
    assert orders(seed=4) != first


def test_train_reports_keras_style_history():
    x, y = blobs()
    model = nn.MLP([4, 8, 3], seed=0)
    history = nn.train(
        model, x, y, epochs=2, batch_size=32, optimizer=nn.SGD(), seed=0, validation_data=(x, y)
    )
    assert set(history) == {"loss", "accuracy", "val_loss", "val_accuracy", "seconds"}
    assert all(len(v) == 2 for v in history.values())
    assert history["val_loss"][-1] == pytest.approx(nn.evaluate(model, x, y)[0])


def test_predict_returns_classes():
    x, y = blobs()
    model = nn.MLP([4, 8, 3], seed=0)
    nn.train(model, x, y, epochs=30, batch_size=16, optimizer=nn.Adam(0.01), seed=0)
    predictions = model.predict(x)
    assert predictions.shape == y.shape
    assert (predictions == y).mean() == pytest.approx(nn.evaluate(model, x, y)[1])


# ------------------------------------------------------------------------------------- bad input


@pytest.fixture
def model() -> nn.MLP:
    return nn.MLP([4, 5, 3], seed=0)


@pytest.mark.parametrize(
    ("x", "message"),
    [
        (np.zeros((2, 2, 2)), "2-D"),
        (np.zeros(4), "2-D"),
        (np.zeros((2, 5)), "5 features"),
        (np.zeros((0, 4)), "empty"),
        (np.array([[1.0, np.nan, 0.0, 0.0]]), "NaN"),
        (np.array([[1.0, np.inf, 0.0, 0.0]]), "NaN or infinite"),
        (np.array([["a", "b", "c", "d"]]), "real numbers"),
    ],
)
def test_bad_inputs_are_refused_with_a_clear_message(model, x, message):
    with pytest.raises(ValueError, match=message):
        model.forward(x)
    with pytest.raises(ValueError, match=message):
        nn.train(
            model, x, np.zeros(len(x), int), epochs=1, batch_size=2, optimizer=nn.SGD(), seed=0
        )


@pytest.mark.parametrize(
    ("y", "message"),
    [
        (np.array([0, 1]), "3 examples but 2 labels"),
        (np.array([0, 1, 3]), r"\[0, 3\)"),
        (np.array([0, -1, 2]), r"\[0, 3\)"),
        (np.array([0.0, 1.0, 2.0]), "integers"),
        (np.eye(3, dtype=int), "argmax"),
    ],
)
def test_bad_labels_are_refused(model, y, message):
    with pytest.raises(ValueError, match=message):
        model.loss(np.zeros((3, 4)), y)


def test_layers_refuse_backward_before_forward():
    with pytest.raises(RuntimeError, match="before forward"):
        nn.Dense(3, 2, rng=np.random.default_rng(0)).backward(np.zeros((1, 2)))
    for layer in (nn.ReLU(), nn.Sigmoid()):
        with pytest.raises(RuntimeError, match="before forward"):
            layer.backward(np.zeros((1, 2)))
    with pytest.raises(RuntimeError, match="before forward"):
        nn.SoftmaxCrossEntropy().backward()


def test_training_validates_its_input_once_not_per_batch(monkeypatch):
    # Checks belong at the public entry points (train, evaluate, MLP.forward/loss), not in the
    # loop: 100 rows in batches of 10 for 2 epochs must check the labels and the batch once.
    x, y = blobs()
    calls = {"labels": 0, "batch": 0}

    def counting(name, check):
        def wrapped(*args, **kwargs):
            calls[name] += 1
            return check(*args, **kwargs)

        return wrapped

    monkeypatch.setattr(nn, "check_class_labels", counting("labels", nn.check_class_labels))
    monkeypatch.setattr(nn, "_check_batch", counting("batch", nn._check_batch))
    model = nn.MLP([4, 8, 3], seed=0)
    nn.train(model, x[:100], y[:100], epochs=2, batch_size=10, optimizer=nn.SGD(), seed=0)
    assert calls == {"labels": 1, "batch": 1}


@pytest.mark.parametrize(
    "make",
    [
        lambda: nn.MLP([784], seed=0),
        lambda: nn.MLP([784, 0, 10], seed=0),
        lambda: nn.MLP([4, 3], seed=0, activation="tanh"),
        lambda: nn.Dense(3, 2, rng=np.random.default_rng(0), init="zeros"),
        lambda: nn.SGD(lr=-0.1),
        lambda: nn.SGD(momentum=1.0),
        lambda: nn.Adam(beta2=1.0),
    ],
)
def test_bad_configurations_are_refused(make):
    with pytest.raises(ValueError):
        make()


def test_diverging_training_is_reported():
    x, y = blobs()
    model = nn.MLP([4, 8, 3], seed=0)
    with np.errstate(all="ignore"), pytest.raises(ValueError, match="lower the learning rate"):
        nn.train(model, x * 1e30, y, epochs=5, batch_size=8, optimizer=nn.SGD(lr=1e6), seed=0)


def test_bad_training_settings_are_refused(model):
    with pytest.raises(ValueError, match="batch_size"):
        nn.train(
            model,
            np.zeros((2, 4)),
            np.zeros(2, int),
            epochs=1,
            batch_size=0,
            optimizer=nn.SGD(),
            seed=0,
        )


def test_backward_writes_gradients_in_place_where_the_optimiser_reads_them():
    """The contract the backprop chapter states: layers overwrite their gradient arrays, never
    rebind them, since the optimiser holds references to them (MLP.grads)."""
    model = nn.MLP([3, 4, 2], seed=0)
    held = model.grads()  # what an optimiser keeps
    x = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    model.loss(x, np.array([0, 1, 1, 0, 1]))
    model.backward()
    fresh = model.grads()
    assert all(held[k] is fresh[k] for k in held)
    assert all(np.any(held[k] != 0) for k in held), "the held arrays did not receive the gradients"
