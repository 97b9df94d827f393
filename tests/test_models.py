"""Unit tests for mnist_lib.models: shapes, parameter counts, options and bad arguments."""

from __future__ import annotations

from book_core.runtime import quiet_tensorflow

quiet_tensorflow()  # before TensorFlow is imported

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from book_core.runtime import seed_everything  # noqa: E402
from mnist_lib import models  # noqa: E402


def _images(n: int = 4) -> np.ndarray:
    return np.random.default_rng(0).random((n, 28, 28), dtype=np.float32)


def test_baseline_is_the_source_network():
    model = models.baseline_mlp()
    assert model.count_params() == 784 * 128 + 128 + 128 * 10 + 10
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    assert [d.units for d in dense] == [128, 10]
    probs = np.asarray(model(_images()))
    assert probs.shape == (4, 10)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def test_seeding_gives_the_same_initial_weights():
    seed_everything(7)
    first = models.mlp((32,)).get_weights()
    seed_everything(7)
    second = models.mlp((32,)).get_weights()
    seed_everything(8)
    third = models.mlp((32,)).get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))
    assert not np.array_equal(first[0], third[0])


def test_mlp_options_add_dropout_and_l2():
    model = models.mlp((64, 32), dropout=0.3, l2=1e-4)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds.count("Dropout") == 2
    assert kinds.count("Dense") == 3
    model(_images())  # the penalties are computed on a forward pass
    assert len(model.losses) == 3  # one L2 penalty per kernel
    plain = models.mlp((64, 32))
    plain(_images())
    assert plain.losses == []


def test_dropout_is_off_at_inference():
    model = models.mlp((64,), dropout=0.5)
    x = _images()
    np.testing.assert_array_equal(np.asarray(model(x)), np.asarray(model(x)))
    assert not np.allclose(model(x, training=True), model(x, training=True))


def test_cnn_shapes_and_options():
    model = models.cnn((8, 16), dense_units=32, dropout=0.2)
    assert model.output_shape == (None, 10)
    names = [type(layer).__name__ for layer in model.layers]
    assert names.count("Conv2D") == 2 and names.count("BatchNormalization") == 2
    assert np.asarray(model(_images(3))).shape == (3, 10)
    no_bn = models.cnn((8,), dense_units=0, dropout=0.0, batch_norm=False)
    names = [type(layer).__name__ for layer in no_bn.layers]
    assert "BatchNormalization" not in names and "Dropout" not in names
    # one block: 28x28 -> 14x14 after pooling, 8 maps, straight into the output layer
    assert no_bn.count_params() == (9 * 8 + 8) + (14 * 14 * 8 * 10 + 10)


def test_augmentation_changes_images_only_in_training():
    augment = models.augmentation(seed=1)
    x = np.zeros((2, 28, 28), np.float32)
    x[:, 10:18, 12:16] = 1.0
    np.testing.assert_array_equal(np.asarray(augment(x, training=False)), x)
    moved = np.asarray(augment(x, training=True))
    assert moved.shape == x.shape
    assert not np.allclose(moved, x)
    model = models.mlp((16,), augment=models.augmentation())
    assert model.output_shape == (None, 10)


def test_augmentation_leaves_out_transforms_of_size_zero():
    # The CNN recipe shifts only; a rotation or zoom of 0 would still cost an image warp per step.
    shifts_only = models.augmentation(shift=0.1, rotation_degrees=0.0, zoom=0.0)
    names = [type(layer).__name__ for layer in shifts_only.layers]
    assert names == ["Reshape", "RandomTranslation", "Reshape"]
    full = [type(layer).__name__ for layer in models.augmentation().layers]
    assert {"RandomTranslation", "RandomRotation", "RandomZoom"} <= set(full)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: models.mlp(()), "hidden_units"),
        (lambda: models.mlp((0,)), "hidden_units"),
        (lambda: models.mlp((16,), dropout=1.0), "dropout"),
        (lambda: models.mlp((16,), l2=-1e-3), "l2"),
        (lambda: models.cnn((8, 8, 8, 8, 8)), "at most 4"),
        (lambda: models.cnn((8,), dense_units=-1), "dense_units"),
        (lambda: models.augmentation(shift=0.6), "shift"),
        (lambda: models.augmentation(rotation_degrees=90), "rotation"),
        (lambda: models.augmentation(shift=0, rotation_degrees=0, zoom=0), "at least one"),
        (lambda: models.baseline_mlp(0), "hidden_units"),
    ],
)
def test_bad_arguments_say_what_is_wrong(build, message):
    with pytest.raises(ValueError, match=message):
        build()
