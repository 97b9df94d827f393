"""The second half of the setup cell that opens every notebook of the book.

The cell itself (kept identical in every notebook by ``tests/test_notebook_hygiene.py``) installs the
project on Colab, then calls :func:`setup`, which makes the run quiet, seeded and deterministic::

    from mnist_lib.runtime import setup
    SEED = setup()

Introduced with the MNIST project's opening chapter; used by all chapters.
"""

from __future__ import annotations

import os
import random
import warnings

import numpy as np

DEFAULT_SEED = 42
NO_GPU_NOTE = (
    "No GPU found: running on the CPU, which is fine for this notebook "
    "(on Colab: Runtime > Change runtime type > GPU to go faster)."
)


def quiet_tensorflow() -> None:
    """Silence TensorFlow's C++ logging and pick the Keras backend. Must run before TF is imported."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("PYTHONHASHSEED", "0")


def seed_everything(seed: int = DEFAULT_SEED) -> int:
    """Seed Python, NumPy and (if installed) TensorFlow/Keras, and make TF ops deterministic.

    Call it again before building each model when a notebook trains several, so that each result
    does not depend on what ran before it.
    """
    random.seed(seed)
    np.random.seed(seed)
    try:
        import keras
        import tensorflow as tf
    except ImportError:
        return seed
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    return seed


def has_gpu() -> bool:
    """True when TensorFlow (or, without it, torch) sees a GPU."""
    try:
        import tensorflow as tf

        return bool(tf.config.list_physical_devices("GPU"))
    except ImportError:
        pass
    try:
        import torch

        return bool(torch.cuda.is_available())
    except ImportError:
        return False


def setup(seed: int = DEFAULT_SEED) -> int:
    """Quiet and deterministic TensorFlow, seeded everything; print a one-line note if no GPU.

    Returns the seed, so notebooks can write ``SEED = setup()``.
    """
    quiet_tensorflow()
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    seed_everything(seed)
    if not has_gpu():
        print(NO_GPU_NOTE)
    return seed
