"""Keras model builders for the MNIST project.

Introduced in the MNIST chapter (``chapters/mnist/baseline.ipynb`` reproduces the source's model,
``fast_mlp.ipynb`` tunes an MLP, ``cnn.ipynb`` builds a convolutional network) and reused by
``evaluation.ipynb``, ``overfitting.ipynb``, ``export.ipynb`` and ``benchmarks/mlp_speed.py``.

Every builder takes images shaped ``(28, 28)`` with pixel values already scaled to ``[0, 1]``
(see :func:`mnist_lib.training.scale_images`) and returns an *uncompiled* model whose last layer is
a softmax over the 10 digits. Call :func:`book_core.runtime.seed_everything` before a builder to get
the same initial weights every time (:func:`mnist_lib.training.train` does it for you).
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import layers

from book_core.checks import check_int, check_ints, check_number, check_str

IMAGE_SHAPE = (28, 28)
NUM_CLASSES = 10


def _check_units(name: str, values: Sequence[int]) -> tuple[int, ...]:
    return check_ints(name, values, fix="pass a non-empty sequence of positive integers")


def _check_rate(name: str, value: float, upper: float = 1.0) -> float:
    return check_number(name, value, minimum=0, below=upper, example=0.1)


def baseline_mlp(hidden_units: int = 128) -> keras.Sequential:
    """The source article's network: flatten 28x28 pixels, one ReLU layer of 128, softmax over 10.

    784 * 128 + 128 + 128 * 10 + 10 = 101,770 parameters.
    """
    check_int("hidden_units", hidden_units, fix="pass an int such as 128")
    return keras.Sequential(
        [
            keras.Input(shape=IMAGE_SHAPE),
            layers.Flatten(),
            layers.Dense(hidden_units, activation="relu"),
            layers.Dense(NUM_CLASSES, activation="softmax"),
        ],
        name="baseline_mlp",
    )


def augmentation(
    shift: float = 0.1, rotation_degrees: float = 10.0, zoom: float = 0.1, seed: int = 42
) -> keras.Sequential:
    """Random small shifts, rotations and zooms of ``(28, 28)`` images; active only in training.

    Args:
        shift: largest shift, as a fraction of the image side (0.1 = 2.8 pixels); 0 for none.
        rotation_degrees: largest rotation either way, in degrees; 0 for none.
        zoom: largest zoom in or out, as a fraction; 0 for none.
        seed: seed of the random transformations, for reproducible runs.
    """
    _check_rate("shift", shift, 0.5)
    _check_rate("zoom", zoom, 0.5)
    check_number("rotation_degrees", rotation_degrees, minimum=0, maximum=45, example=10)
    seed = check_int("seed", seed, minimum=0, fix="pass an int such as 42")
    if shift == 0 and rotation_degrees == 0 and zoom == 0:
        raise ValueError("augmentation needs at least one of shift, rotation_degrees, zoom > 0.")
    stack: list[keras.Layer] = [layers.Reshape((*IMAGE_SHAPE, 1))]
    # A transform of size 0 is left out rather than run as an identity: each costs an image warp.
    if shift:
        stack.append(layers.RandomTranslation(shift, shift, fill_mode="constant", seed=seed))
    if rotation_degrees:
        stack.append(
            layers.RandomRotation(rotation_degrees / 360.0, fill_mode="constant", seed=seed + 1)
        )
    if zoom:
        stack.append(layers.RandomZoom(zoom, zoom, fill_mode="constant", seed=seed + 2))
    stack.append(layers.Reshape(IMAGE_SHAPE))
    return keras.Sequential(stack, name="augmentation")


def mlp(
    hidden_units: Sequence[int] = (256,),
    *,
    dropout: float = 0.0,
    l2: float = 0.0,
    augment: keras.Layer | None = None,
    name: str = "mlp",
) -> keras.Sequential:
    """A multilayer perceptron with optional dropout, L2 weight decay and input augmentation.

    Args:
        hidden_units: width of each hidden ReLU layer, e.g. ``(256,)`` or ``(512, 512)``.
        dropout: fraction of each hidden layer's outputs zeroed at random in training.
        l2: L2 penalty on every kernel (weight matrix); 0 disables it.
        augment: a layer applied to the images first, e.g. :func:`augmentation`.
        name: the model's name.
    """
    hidden_units = _check_units("hidden_units", hidden_units)
    _check_rate("dropout", dropout)
    check_number("l2", l2, minimum=0, example=1e-4)
    check_str("name", name, example="'mlp'")
    regularizer = keras.regularizers.L2(l2) if l2 > 0 else None
    stack: list[keras.Layer] = [keras.Input(shape=IMAGE_SHAPE)]
    if augment is not None:
        stack.append(augment)
    stack.append(layers.Flatten())
    for units in hidden_units:
        stack.append(layers.Dense(units, activation="relu", kernel_regularizer=regularizer))
        if dropout > 0:
            stack.append(layers.Dropout(dropout))
    stack.append(layers.Dense(NUM_CLASSES, activation="softmax", kernel_regularizer=regularizer))
    return keras.Sequential(stack, name=name)


def cnn(
    filters: Sequence[int] = (32, 64),
    *,
    dense_units: int = 128,
    dropout: float = 0.4,
    batch_norm: bool = True,
    augment: keras.Layer | None = None,
    name: str = "cnn",
) -> keras.Sequential:
    """A small convolutional network: per block, a 3x3 convolution (+ batch norm) + ReLU + 2x2 max-pool.

    With the defaults: 28x28x1 -> 14x14x32 -> 7x7x64 -> dense 128 -> softmax 10. The ``"same"``
    padding keeps each map the size of its input until the pooling halves it.

    Args:
        filters: number of 3x3 filters of each convolutional block.
        dense_units: width of the ReLU layer after the convolutions (0: none).
        dropout: dropout rate before the output layer.
        batch_norm: normalise each convolution's output over the batch (trains faster).
        augment: a layer applied to the images first, e.g. :func:`augmentation`.
        name: the model's name.
    """
    filters = _check_units("filters", filters)
    if len(filters) > 4:
        raise ValueError(
            f"filters must give at most 4 blocks (each halves the 28x28 image), got "
            f"{len(filters)}; pass e.g. (32, 64)."
        )
    dense_units = check_int("dense_units", dense_units, minimum=0, fix="pass an int such as 128")
    _check_rate("dropout", dropout)
    check_str("name", name, example="'cnn'")
    stack: list[keras.Layer] = [keras.Input(shape=IMAGE_SHAPE)]
    if augment is not None:
        stack.append(augment)
    stack.append(layers.Reshape((*IMAGE_SHAPE, 1)))
    for n in filters:
        stack.append(layers.Conv2D(n, 3, padding="same", use_bias=not batch_norm))
        if batch_norm:
            stack.append(layers.BatchNormalization())
        stack.append(layers.ReLU())
        stack.append(layers.MaxPooling2D(2))
    stack.append(layers.Flatten())
    if dense_units:
        stack.append(layers.Dense(dense_units, activation="relu"))
    if dropout > 0:
        stack.append(layers.Dropout(dropout))
    stack.append(layers.Dense(NUM_CLASSES, activation="softmax"))
    return keras.Sequential(stack, name=name)
