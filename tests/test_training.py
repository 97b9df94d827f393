"""Unit tests for mnist_lib.training on small synthetic data: scaling, splits, the tf.data
pipeline, the configuration's checks, and that training learns, reproducibly."""

from __future__ import annotations

from book_core.runtime import quiet_tensorflow

quiet_tensorflow()  # before TensorFlow is imported

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from mnist_lib import models  # noqa: E402
from mnist_lib.training import (  # noqa: E402
    TrainConfig,
    check_labels,
    make_dataset,
    scale_images,
    split_validation,
    train,
)


def _toy(n: int = 256, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Learnable toy digits: class c lights up row block c of the image (plus noise)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n)
    x = rng.integers(0, 60, (n, 28, 28)).astype(np.uint8)
    for i, c in enumerate(y):
        x[i, 2 * c + 4 : 2 * c + 6, 4:24] = 255
    return x, y.astype(np.uint8)


def test_scale_images():
    x = np.array([[[0, 255] + [51] * 26] * 28], np.uint8)
    out = scale_images(x)
    assert out.dtype == np.float32
    assert out[0, 0, 0] == 0.0 and out[0, 0, 1] == 1.0
    assert out[0, 0, 2] == pytest.approx(0.2)
    floats = np.full((1, 28, 28), 0.5)
    assert scale_images(floats).dtype == np.float32


@pytest.mark.parametrize(
    ("x", "message"),
    [
        (np.zeros((2, 784), np.uint8), r"x.reshape\(-1, 28, 28\)"),
        (np.zeros((2, 28, 28), np.int32), "dtype"),
        (np.full((2, 28, 28), np.nan), "NaN"),
        (np.full((2, 28, 28), 255.0), r"\[0, 1\]"),
    ],
)
def test_scale_images_rejects_bad_input(x, message):
    with pytest.raises(ValueError, match=message):
        scale_images(x)


def test_check_labels():
    assert check_labels(np.array([0, 9], np.uint8)).dtype == np.int64
    with pytest.raises(ValueError, match="one-hot"):
        check_labels(np.eye(10))
    with pytest.raises(ValueError, match=r"0\.\.9"):
        check_labels(np.array([3, 10]))
    with pytest.raises(ValueError, match="3 images but 2 labels"):
        check_labels(np.array([1, 2]), n=3)


def test_split_validation_is_a_seeded_partition():
    x = np.arange(100).repeat(4).reshape(100, 4)
    y = np.arange(100)
    (xt, yt), (xv, yv) = split_validation(x, y, 0.2, seed=1)
    assert len(yv) == 20 and len(yt) == 80
    assert sorted(np.concatenate([yt, yv]).tolist()) == list(range(100))  # nothing lost or doubled
    np.testing.assert_array_equal(xv[:, 0], yv)  # images stay with their labels
    (_, yt2), (_, yv2) = split_validation(x, y, 0.2, seed=1)
    np.testing.assert_array_equal(yv, yv2)
    (_, _), (_, yv3) = split_validation(x, y, 0.2, seed=2)
    assert not np.array_equal(yv, yv3)
    with pytest.raises(ValueError, match="fraction"):
        split_validation(x, y, 1.0)
    with pytest.raises(ValueError, match="empty"):
        split_validation(x[:3], y[:3], 0.1)


def test_make_dataset_batches_scaled_images():
    x, y = _toy(70)
    ds = make_dataset(x, y, batch_size=32, shuffle=False)
    batches = list(ds.as_numpy_iterator())
    assert [len(b[1]) for b in batches] == [32, 32, 6]
    np.testing.assert_allclose(batches[0][0], x[:32] / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(batches[0][1], y[:32])
    first = next(iter(make_dataset(x, y, 70, seed=3)))[1].numpy()
    again = next(iter(make_dataset(x, y, 70, seed=3)))[1].numpy()
    np.testing.assert_array_equal(first, again)  # the seed fixes the order
    assert sorted(first.tolist()) == sorted(y.tolist())
    with pytest.raises(ValueError, match="batch_size"):
        make_dataset(x, y, 0)


def test_make_dataset_runs_no_autotune_thread_and_keeps_tf_datas_order():
    """The autotuning optimiser is off (its thread held up the end of an epoch), and the
    batches, epoch after epoch, are those of the plain tf.data pipeline with the same seed."""
    import tensorflow as tf

    x, y = _toy(70)
    ds = make_dataset(x, y, batch_size=16, seed=3)
    assert ds.options().autotune.enabled is False
    plain = tf.data.Dataset.from_tensor_slices((x.astype("float32") / 255.0, y))
    plain = plain.shuffle(70, seed=3, reshuffle_each_iteration=True).batch(16)
    for _ in range(2):  # two epochs: the reshuffled order matches too
        for (xa, ya), (xb, yb) in zip(ds, plain, strict=True):
            np.testing.assert_array_equal(ya.numpy(), yb.numpy())
            np.testing.assert_allclose(xa.numpy(), xb.numpy(), rtol=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"epochs": 0}, "epochs"),
        ({"batch_size": 0}, "batch_size"),
        ({"learning_rate": 0.0}, "learning_rate"),
        ({"schedule": "step"}, "schedule"),
        ({"validation_fraction": 1.0}, "validation_fraction"),
        ({"early_stopping_patience": 0}, "patience"),
    ],
)
def test_config_rejects_bad_values(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**kwargs)


def test_training_lowers_the_loss_and_times_each_epoch():
    x, y = _toy()
    result = train(lambda: models.mlp((32,)), x, y, TrainConfig(epochs=3, batch_size=32))
    loss = result.history["loss"]
    assert loss[-1] < 0.5 * loss[0]
    assert result.history["accuracy"][-1] > 0.9
    assert len(result.epoch_seconds) == 3 and all(s > 0 for s in result.epoch_seconds)
    assert result.seconds_per_epoch == pytest.approx(np.median(result.epoch_seconds[1:]))


def test_tf_data_path_with_schedule_and_validation_learns():
    x, y = _toy()
    config = TrainConfig(
        epochs=4,
        batch_size=64,
        learning_rate=3e-3,
        schedule="cosine",
        tf_data=True,
        steps_per_execution=2,
        jit_compile=False,
        validation_fraction=0.25,
    )
    result = train(lambda: models.mlp((32,)), x, y, config)
    assert result.history["val_loss"][-1] < result.history["val_loss"][0]
    lr = result.model.optimizer.learning_rate
    assert float(lr) < 3e-3 * 0.1  # the cosine decay has brought the rate down near 0


def test_same_seed_same_model():
    x, y = _toy(128)
    config = TrainConfig(epochs=1, batch_size=32, seed=5)
    a = train(lambda: models.mlp((16,)), x, y, config).model.get_weights()
    b = train(lambda: models.mlp((16,)), x, y, config).model.get_weights()
    assert all(np.array_equal(u, v) for u, v in zip(a, b, strict=True))


def test_early_stopping_restores_the_best_epoch():
    x, y = _toy(128)
    xv, yv = _toy(64, seed=1)
    # a far too large learning rate makes the validation loss jump around, so stopping triggers
    config = TrainConfig(epochs=30, batch_size=16, learning_rate=0.5, early_stopping_patience=2)
    result = train(lambda: models.mlp((16,)), x, y, config, validation_data=(xv, yv))
    val = result.history["val_loss"]
    assert result.epochs_run < 30
    assert result.best_epoch == int(np.argmin(val)) + 1
    restored = result.model.evaluate(scale_images(xv), yv, verbose=0)[0]
    assert restored == pytest.approx(min(val), rel=1e-4)


def test_train_rejects_inconsistent_requests():
    x, y = _toy(32)
    with pytest.raises(ValueError, match="validation"):
        train(models.baseline_mlp, x, y, TrainConfig(early_stopping_patience=2))
    with pytest.raises(ValueError, match="not both"):
        train(
            models.baseline_mlp,
            x,
            y,
            TrainConfig(validation_fraction=0.5),
            validation_data=(x, y),
        )
    with pytest.raises(ValueError, match="32 images but 31 labels"):
        train(models.baseline_mlp, x, y[:-1])
