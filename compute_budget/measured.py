"""The book's own measurements that the unit economics prices, as recorded from the notebooks.

Used by the startup-roadmap chapter's unit-economics notebook
(``chapters/roadmap/unit_economics.ipynb``). Its inputs come from two other notebooks: the
prompting ladder (accuracy with its interval, tokens and parameters per ticket, CPU seconds per
ticket, the probe's learning curve) and the cultural-advantage notebook (the token tax of Chinese
tickets). ``scripts/record_measurements.py`` copies them from those notebooks' stored outputs into
``data/measured.json`` beside this module, with the notebook and the glued name or result record
each came from, and a test fails when the record and the notebooks disagree. The file ships with
the package, so the numbers are the same on Colab.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

from book_core.checks import check_str

RECORD = "data/measured.json"


@dataclass(frozen=True)
class Measurement:
    """One recorded number: its value, what it is and which notebook measured it.

    ``low``, ``high``, ``n`` and ``interval`` are set for a headline result with an interval
    (``interval`` names what it covers); ``seed_runs`` gives the ``min``, ``max`` and ``n`` of a
    timing over the seed-spread runs, since timings vary from run to run.
    """

    name: str
    value: float
    label: str
    source: str
    low: float | None = None
    high: float | None = None
    n: int | None = None
    unit: str = ""
    interval: str | None = None
    seed_runs: dict | None = None


@cache
def _all() -> dict[str, dict]:
    path = resources.files("compute_budget").joinpath(RECORD)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing: it ships with the package. Reinstall the book's code, or in a "
            "clone run scripts/record_measurements.py."
        )
    return json.loads(path.read_text())["values"]


def measured(name: str) -> Measurement:
    """The recorded measurement ``name`` (e.g. ``"probe_accuracy"``).

    Raises:
        TypeError: ``name`` is not a string.
        KeyError: no such measurement; the message lists the recorded ones.
    """
    check_str("name", name, example="'probe_accuracy'")
    values = _all()
    if name not in values:
        raise KeyError(
            f"no measurement {name!r} is recorded; recorded: {sorted(values)}. To add one, glue it "
            "in its notebook and list it in scripts/record_measurements.py."
        )
    entry = values[name]
    fields = ("low", "high", "n", "unit", "interval", "seed_runs")
    return Measurement(
        name=name,
        value=float(entry["value"]),
        label=entry["label"],
        source=entry["source"],
        **{k: entry[k] for k in fields if k in entry},
    )
