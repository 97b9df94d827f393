"""The MNIST chapter's finished recipes: a model builder and its training configuration.

A recipe is what one notebook settles on and later notebooks reuse: ``fast_mlp.ipynb`` tunes the
MLP (:data:`TUNED_MLP`), ``cnn.ipynb`` builds the convolutional network (:data:`CNN`) and compares
the two on the same test images; ``benchmarks/mlp_speed.py`` re-times the tuned MLP. Keeping them
here means the comparison always uses exactly the settings the earlier notebook measured.

Use with :func:`mnist_lib.training.train`::

    result = train(TUNED_MLP.build, x_train, y_train, TUNED_MLP.config)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import keras

from mnist_lib import models
from mnist_lib.training import TrainConfig


@dataclass(frozen=True)
class Recipe:
    """A named model builder and how to train it."""

    name: str
    build: Callable[[], keras.Model]
    config: TrainConfig


def _tuned_mlp() -> keras.Model:
    return models.mlp((256,), dropout=0.2, name="tuned_mlp")


#: fast_mlp.ipynb: 784-256-10 with 20% dropout; batch 1,024, Adam 5e-3 with a cosine decay, and
#: early stopping on a 5,000-image validation split (restoring the best epoch).
TUNED_MLP = Recipe(
    "tuned MLP",
    _tuned_mlp,
    TrainConfig(
        epochs=20,
        batch_size=1024,
        learning_rate=5e-3,
        schedule="cosine",
        steps_per_execution=50,
        validation_fraction=1 / 12,  # 5,000 of the 60,000 training images
        early_stopping_patience=4,
    ),
)


def _cnn() -> keras.Model:
    from book_core.runtime import DEFAULT_SEED

    shifts = models.augmentation(shift=0.1, rotation_degrees=0.0, zoom=0.0, seed=DEFAULT_SEED)
    return models.cnn((32, 64), dense_units=128, dropout=0.4, batch_norm=False, augment=shifts)


#: cnn.ipynb: two 3x3 convolution blocks (32 and 64 filters) with max-pooling, a dense layer of 128
#: and 40% dropout, trained on images shifted at random by up to 2.8 pixels (a new shift every
#: epoch); batch 128, Adam 2e-3 with a cosine decay over 18 epochs, all 60,000 training images.
CNN = Recipe(
    "CNN",
    _cnn,
    TrainConfig(
        epochs=18,
        batch_size=128,
        learning_rate=2e-3,
        schedule="cosine",
        tf_data=True,
        steps_per_execution=20,
    ),
)
