"""Wall-clock seconds of each training epoch, as a Keras callback.

Used by every chapter that trains with Keras and shows how long an epoch takes: the MNIST project
(:mod:`mnist_lib.training`, ``baseline.ipynb``), the NumPy network's comparison with Keras
(``numpy_mlp_mnist.ipynb``) and the tiny GPT (:mod:`tiny_gpt.model`). Importing it imports Keras.
"""

from __future__ import annotations

import time

import keras


class EpochTimer(keras.callbacks.Callback):
    """Records the wall-clock seconds of each training epoch in ``self.seconds``."""

    def __init__(self) -> None:
        super().__init__()
        self.seconds: list[float] = []
        self._start = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.seconds.append(time.perf_counter() - self._start)
