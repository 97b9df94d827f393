"""MNIST, and the networks of the MNIST and backpropagation chapters.

It stands on :mod:`book_core` (numerics, validation, glue, checksummed data fetching), like its
sibling packages, which hold what is not about MNIST: :mod:`prompt_lab` (the prompt-engineering
chapter), :mod:`tiny_gpt` (the tiny GPT), :mod:`compute_budget` (the roadmap chapter's training and
serving budgets) and :mod:`uncertainty` (intervals and paired tests, used wherever a headline
number is reported).

Each module names the chapter that introduced it:

- :mod:`mnist_lib.data`, :mod:`mnist_lib.idx`: MNIST, verified (the MNIST project's opening chapter).
- :mod:`mnist_lib.plots`: image grids and training curves (the MNIST opening chapter, reused everywhere).
- :mod:`mnist_lib.models`, :mod:`mnist_lib.training`, :mod:`mnist_lib.evaluation`: the MNIST
  chapter's model builders, seeded training helper and metrics (with plots in :mod:`mnist_lib.plots`).
- :mod:`mnist_lib.nn`, :mod:`mnist_lib.gradcheck`: a NumPy network and its numerical gradient check
  (the backpropagation chapter).
- :mod:`mnist_lib.recipes`: the finished MLP and CNN recipes that later notebooks retrain (the
  MNIST chapter).
- :mod:`mnist_lib.data_quality`: duplicates, near-duplicates, label disputes, class balance (the FAQ
  chapter's data_quality notebook).
"""

from __future__ import annotations

from typing import Any

__all__ = ["CorruptFileError", "MNISTNotFoundError", "load_mnist"]


def __getattr__(name: str) -> Any:
    # Lazy, so that `from book_core.runtime import setup` loads no NumPy: the setup cell pins the
    # numerical configuration before NumPy, TensorFlow or torch load (see book_core.runtime).
    if name in __all__:
        from mnist_lib import data

        return getattr(data, name)
    raise AttributeError(f"module 'mnist_lib' has no attribute {name!r}")
