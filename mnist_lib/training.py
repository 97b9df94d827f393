"""Train a Keras model on MNIST reproducibly, and time each epoch.

Introduced in the MNIST chapter (``chapters/mnist/fast_mlp.ipynb``: the ``tf.data`` pipeline,
larger batches, ``steps_per_execution``, a learning-rate schedule and early stopping) and used
by the CNN, evaluation, overfitting and export notebooks and by ``benchmarks/mlp_speed.py``.

One call does what each of those notebooks needs::

    result = train(models.baseline_mlp, x_train, y_train, TrainConfig(epochs=5))
    result.model, result.history["accuracy"], result.seconds_per_epoch

:func:`train` seeds everything (:func:`book_core.runtime.seed_everything`) *before* it builds the
model, so a run depends only on its configuration, not on what the notebook ran before it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import keras
import numpy as np
import tensorflow as tf

from book_core.checks import check_class_labels, check_int, check_not_none, check_number
from book_core.runtime import DEFAULT_SEED, seed_everything
from book_core.timing import EpochTimer
from mnist_lib.models import IMAGE_SHAPE, NUM_CLASSES


def scale_images(x: np.ndarray) -> np.ndarray:
    """Pixels to ``float32`` in ``[0, 1]``: uint8 images are divided by 255, floats are checked.

    Raises:
        TypeError: ``x`` is None.
        ValueError: images not shaped ``(n, 28, 28)``, non-finite values, or floats outside [0, 1].
    """
    x = np.asarray(check_not_none("x", x, "images shaped (n, 28, 28)"))
    if x.ndim != 3 or x.shape[1:] != IMAGE_SHAPE:
        raise ValueError(
            f"expected images shaped (n, 28, 28), got {x.shape}; "
            "reshape flat 784-pixel rows with x.reshape(-1, 28, 28)."
        )
    if x.dtype == np.uint8:
        return x.astype(np.float32) / np.float32(255.0)
    if not np.issubdtype(x.dtype, np.floating):
        raise ValueError(f"expected uint8 or float images, got dtype {x.dtype}.")
    if not np.all(np.isfinite(x)):
        raise ValueError("images contain NaN or infinite values; check how they were produced.")
    if x.size and (x.min() < 0.0 or x.max() > 1.0):
        raise ValueError(
            f"float images must already be scaled to [0, 1], got values in "
            f"[{x.min():.3g}, {x.max():.3g}]; pass the uint8 images to scale them here."
        )
    return x.astype(np.float32, copy=False)


def check_labels(y: np.ndarray, n: int | None = None) -> np.ndarray:
    """Return integer labels 0-9 as ``int64``; raise ``TypeError`` for None, ``ValueError`` for
    anything else."""
    check_not_none("y", y, "the labels, integers 0-9")
    return check_class_labels(y, NUM_CLASSES, n=n, what="images")


def split_validation(
    x: np.ndarray, y: np.ndarray, fraction: float = 0.1, seed: int = DEFAULT_SEED
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Hold out a random ``fraction`` of ``(x, y)`` for validation: ``(train, validation)``.

    The test set stays untouched; choices made while training (when to stop, which settings) are
    made on the validation set only.
    """
    check_number("fraction", fraction, above=0, below=1, example=0.1)
    seed = check_int("seed", seed, minimum=0, fix="pass an int such as 42")
    check_not_none("x", x, "the training images")
    check_not_none("y", y, "the training labels")
    n = len(x)
    if len(y) != n:
        raise ValueError(f"got {n} images but {len(y)} labels.")
    n_val = int(round(n * fraction))
    if n_val < 1 or n_val >= n:
        raise ValueError(f"fraction {fraction} of {n} examples leaves an empty split.")
    order = np.random.default_rng(seed).permutation(n)
    val, train = order[:n_val], order[n_val:]
    return (x[train], y[train]), (x[val], y[val])


def make_dataset(
    x: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    *,
    shuffle: bool = True,
    seed: int = DEFAULT_SEED,
) -> tf.data.Dataset:
    """A ``tf.data`` pipeline: keep the images in memory, reshuffle every epoch, batch, prefetch.

    The whole array is shuffled (``buffer_size = len(x)``), so every epoch sees a fresh order; the
    seed makes that sequence of orders the same in every run. ``prefetch`` prepares the next batch
    while the model trains on the current one.

    tf.data's autotuning optimiser is switched off. Its background thread sleeps between rounds,
    for longer and longer, and Keras cannot start the next epoch until the last epoch's iterator
    is torn down, which waits for that thread to wake: on the book's 2-core CI machine, some of
    the CNN's epochs stood idle for about 18 s of their 40 (seen with gdb in
    ``RootDataset::Iterator::~Iterator``). Without it, an epoch takes about 23 s every time, and
    the weights come out bit for bit the same, since the data and their order do not change.
    ``prefetch`` keeps its own, simpler buffer tuning.

    Shuffling example by example has a cost: for arrays that fit in memory, Keras' own handling of
    NumPy input (which shuffles indices and slices whole batches) is as fast or faster, as
    ``fast_mlp.ipynb`` measures. The pipeline pays off when examples are loaded or transformed on
    the fly.
    """
    check_int("batch_size", batch_size, fix="pass an int such as 32")
    seed = check_int("seed", seed, minimum=0, fix="pass an int such as 42")
    check_not_none("y", y, "the labels, integers 0-9")
    x = scale_images(x)
    y = check_labels(y, len(x))
    ds = tf.data.Dataset.from_tensor_slices((x, y))
    if shuffle:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    options = tf.data.Options()
    options.autotune.enabled = False  # no optimiser thread to wait for at each epoch's end
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE).with_options(options)


@dataclass(frozen=True)
class TrainConfig:
    """How to train. The defaults are the source article's settings (Adam, batch 32, 5 epochs).

    Attributes:
        epochs: the most epochs to train (early stopping may stop sooner).
        batch_size: examples per gradient step.
        learning_rate: Adam's (initial) learning rate.
        schedule: ``"constant"``, or ``"cosine"`` to decay the rate to 0 over all epochs.
        tf_data: feed batches through :func:`make_dataset` instead of NumPy arrays.
        steps_per_execution: gradient steps run per call into TensorFlow (fewer Python round trips).
        jit_compile: compile the training step with XLA; ``"auto"`` lets Keras decide. Keras
            declines XLA (with a warning) while TensorFlow's op determinism is on, which
            :func:`book_core.runtime.setup` turns on, so in this book it only matters elsewhere.
        validation_fraction: share of the training data held out to validate each epoch (0: none).
        early_stopping_patience: stop after this many epochs without a better validation loss and
            restore the best weights; None disables it (requires a validation set).
        seed: seeds the weights, the shuffling and the validation split.
    """

    epochs: int = 5
    batch_size: int = 32
    learning_rate: float = 1e-3
    schedule: Literal["constant", "cosine"] = "constant"
    tf_data: bool = False
    steps_per_execution: int = 1
    jit_compile: bool | Literal["auto"] = "auto"
    validation_fraction: float = 0.0
    early_stopping_patience: int | None = None
    seed: int = DEFAULT_SEED

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "steps_per_execution"):
            check_int(name, getattr(self, name))
        check_number("learning_rate", self.learning_rate, above=0, example=1e-3)
        if self.schedule not in ("constant", "cosine"):
            raise ValueError(f"schedule must be 'constant' or 'cosine', got {self.schedule!r}.")
        check_number(
            "validation_fraction", self.validation_fraction, minimum=0, below=1, example=0.1
        )
        if self.early_stopping_patience is not None:
            check_int("early_stopping_patience (or None)", self.early_stopping_patience)
        check_int("seed", self.seed, minimum=0, fix="pass an int such as 42")


@dataclass
class TrainResult:
    """A trained model, its Keras history (one list per metric) and the seconds of each epoch."""

    model: keras.Model
    history: dict[str, list[float]]
    epoch_seconds: list[float]
    config: TrainConfig
    best_epoch: int = field(default=0)

    @property
    def epochs_run(self) -> int:
        return len(self.epoch_seconds)

    @property
    def seconds_per_epoch(self) -> float:
        """Median epoch time, leaving out the first epoch (which also traces and compiles)."""
        steady = self.epoch_seconds[1:] or self.epoch_seconds
        return float(np.median(steady))


def _check_config(config: TrainConfig) -> None:
    if not isinstance(config, TrainConfig):
        raise TypeError(
            f"config must be a TrainConfig, got {type(config).__name__}; pass e.g. "
            "TrainConfig(epochs=5)."
        )


def compile_model(model: keras.Model, config: TrainConfig, steps_per_epoch: int) -> keras.Model:
    """Compile with Adam, sparse categorical cross-entropy and accuracy, as ``config`` says."""
    check_not_none("model", model, "an uncompiled Keras model")
    _check_config(config)
    check_int("steps_per_epoch", steps_per_epoch, fix="pass math.ceil(len(x) / batch_size)")
    rate: float | keras.optimizers.schedules.LearningRateSchedule = config.learning_rate
    if config.schedule == "cosine":
        rate = keras.optimizers.schedules.CosineDecay(
            config.learning_rate, decay_steps=config.epochs * steps_per_epoch
        )
    model.compile(
        optimizer=keras.optimizers.Adam(rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        steps_per_execution=config.steps_per_execution,
        jit_compile=config.jit_compile,
    )
    return model


def train(
    build: Callable[[], keras.Model],
    x_train: np.ndarray,
    y_train: np.ndarray,
    config: TrainConfig | None = None,
    *,
    validation_data: tuple[np.ndarray, np.ndarray] | None = None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    verbose: int = 0,
) -> TrainResult:
    """Seed, build, compile and fit a model; return it with its history and epoch times.

    Args:
        build: a function returning a fresh uncompiled model, e.g. ``mnist_lib.models.baseline_mlp``
            or ``lambda: models.mlp((256,), dropout=0.2)``.
        x_train, y_train: uint8 images ``(n, 28, 28)`` (or floats in [0, 1]) and labels 0-9.
        config: how to train; the default reproduces the source article's settings.
        validation_data: an explicit validation set; else ``config.validation_fraction`` of the
            training data is held out (or none when that is 0).
        callbacks: extra Keras callbacks.
        verbose: Keras' ``verbose`` (0 silent, 2 one line per epoch).
    """
    config = TrainConfig() if config is None else config
    _check_config(config)
    if not callable(build):
        raise TypeError(
            f"build must be a function returning a fresh model, got {type(build).__name__}; "
            "pass e.g. models.baseline_mlp (not models.baseline_mlp())."
        )
    check_int(
        "verbose", verbose, minimum=0, maximum=2, fix="pass 0 (silent) or 2 (one line per epoch)"
    )
    check_not_none("x_train", x_train, "images shaped (n, 28, 28)")
    check_not_none("y_train", y_train, "the labels, integers 0-9")
    x = scale_images(x_train)
    y = check_labels(y_train, len(x))
    if validation_data is not None:
        if config.validation_fraction:
            raise ValueError("give either validation_data or config.validation_fraction, not both.")
        x_val, y_val = scale_images(validation_data[0]), validation_data[1]
        y_val = check_labels(y_val, len(x_val))
        validation: tuple[np.ndarray, np.ndarray] | None = (x_val, y_val)
    elif config.validation_fraction:
        (x, y), validation = split_validation(x, y, config.validation_fraction, config.seed)
    else:
        validation = None
    if config.early_stopping_patience is not None and validation is None:
        raise ValueError(
            "early stopping watches the validation loss: set config.validation_fraction "
            "or pass validation_data."
        )

    seed_everything(config.seed)
    model = build()
    steps_per_epoch = math.ceil(len(x) / config.batch_size)
    compile_model(model, config, steps_per_epoch)

    timer = EpochTimer()
    all_callbacks: list[keras.callbacks.Callback] = [timer, *callbacks]
    stopper = None
    if config.early_stopping_patience is not None:
        stopper = keras.callbacks.EarlyStopping(
            monitor="val_loss",
            patience=config.early_stopping_patience,
            restore_best_weights=True,
        )
        all_callbacks.append(stopper)

    if config.tf_data:
        train_data = make_dataset(x, y, config.batch_size, seed=config.seed)
        val_data = (
            None
            if validation is None
            else make_dataset(*validation, batch_size=max(config.batch_size, 1024), shuffle=False)
        )
        history = model.fit(
            train_data,
            epochs=config.epochs,
            shuffle=False,  # make_dataset already reshuffles every epoch, with the seed
            validation_data=val_data,
            callbacks=all_callbacks,
            verbose=verbose,
        )
    else:
        history = model.fit(
            x,
            y,
            batch_size=config.batch_size,
            epochs=config.epochs,
            validation_data=validation,
            callbacks=all_callbacks,
            verbose=verbose,
        )
    hist = {k: [float(v) for v in values] for k, values in history.history.items()}
    # EarlyStopping restores the weights of the best epoch at the end, stopped early or not.
    best_epoch = stopper.best_epoch + 1 if stopper is not None else len(timer.seconds)
    return TrainResult(model, hist, timer.seconds, config, best_epoch)
