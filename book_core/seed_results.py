"""The headline results of the training notebooks, measured under several seeds.

Training gives a slightly different model under every random seed, so a result from one run says
little about the next. ``benchmarks/seed_spread.py`` re-runs each training notebook under seeds
43-46 besides the stored run's 42, and writes the headline values of all five runs to
``seed_results.json`` next to this module. The notebooks read them here and report the mean and
spread (``uncertainty.seed_spread``); training all five live would take too long. The file
travels with the package, so this works on Colab too.

Used by ``baseline.ipynb``, ``fast_mlp.ipynb`` and ``cnn.ipynb`` (MNIST chapter), by
``numpy_mlp_mnist.ipynb`` (backpropagation chapter), ``ladder.ipynb`` (prompt-engineering chapter)
and ``char_gpt.ipynb`` (tiny GPT).
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

from book_core.checks import check_str


@cache
def _all() -> dict:
    path = resources.files("book_core").joinpath("seed_results.json")
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing: it ships with the package. Reinstall the book's code, or in a "
            "clone run benchmarks/seed_spread.py summarise."
        )
    return json.loads(path.read_text())


def seed_results(notebook: str, name: str) -> dict[int, float]:
    """``{seed: value}`` of the value glued as ``name`` in ``notebook`` (e.g. ``"cnn"``).

    Raises:
        TypeError: ``notebook`` or ``name`` is not a string.
        KeyError: no such notebook or value; the message lists what is there, and says how to
            record a new one.
    """
    check_str("notebook", notebook, example="'cnn'")
    check_str("name", name, example="'test_acc_pct'")
    runs = _all()
    matches = [rel for rel in runs if rel.rsplit("/", 1)[-1] in (notebook, f"{notebook}.ipynb")]
    if not matches:
        raise KeyError(
            f"no seed runs recorded for notebook {notebook!r}; recorded: "
            f"{sorted(r.rsplit('/', 1)[-1] for r in runs)}. Record them with "
            "benchmarks/seed_spread.py run/summarise."
        )
    values = runs[matches[0]]
    if name not in values:
        raise KeyError(
            f"{matches[0]} has no seed runs of {name!r}; recorded: {sorted(values)}. Add it to "
            "HEADLINES in benchmarks/seed_spread.py and summarise again."
        )
    return {int(seed): float(v) for seed, v in values[name].items()}
