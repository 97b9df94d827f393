"""The ground floor of the book's code: what every chapter and every other package stands on.

- :mod:`book_core.runtime`: the setup cell that opens every notebook (pinned numerics, seeds) and
  TensorFlow's set-up.
- :mod:`book_core.checks`: input validation, one set of rules for every package.
- :mod:`book_core.glue`: numbers from a cell into the prose, without Sphinx.
- :mod:`book_core.seed_results`: the headline results of the training notebooks under five seeds
  (written by ``benchmarks/seed_spread.py``).
- :mod:`book_core.fetch`: fetching, verifying (SHA-256) and caching data files, for MNIST and the
  Tang poems alike.
- :mod:`book_core.timing`: the seconds of each Keras training epoch (imports Keras).

The packages above it each hold one part of the book: :mod:`mnist_lib` (MNIST and the networks of
the MNIST and backpropagation chapters), :mod:`prompt_lab` (prompt engineering on a local model),
:mod:`tiny_gpt` (a character-level GPT on Tang poems), :mod:`uncertainty` (intervals, paired tests
and the result records of headline numbers) and :mod:`compute_budget` (training and serving
budgets). They import the core; the core imports none of them. Importing the package imports
nothing heavy, so the setup cell can pin the numerics before NumPy, TensorFlow or torch load.
"""

from __future__ import annotations
