"""Choosing few-shot examples, and the recorded control experiment on how to choose them.

Step 5 of the chapter's method says: take the examples from the prompt's errors.
``chapters/prompting/prompt_experiments.ipynb`` tests that rule against examples drawn at random:

- :func:`examples_from_errors` applies the rule (the first wrong answer of each queue);
- :func:`random_draws` draws the controls, one ticket per queue per draw, from a seeded generator;
- the three random draws take about 130 s of one CPU core to score, which is a repetition, not the
  lesson, so ``benchmarks/fewshot_draws.py`` scores them and writes, per draw, which tickets it
  got right to ``data/fewshot_draws.json``. :func:`load_draw_record` reads that record back, and
  the notebook runs its paired tests on it against its own live results.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from book_core.checks import check_int, check_labels, check_not_none
from prompt_lab.data import QUEUES, Ticket
from prompt_lab.harness import EvalResult

RECORD = "fewshot_draws.json"


def examples_from_errors(
    scored: EvalResult, tickets: Sequence[Ticket], labels: Sequence[str] = QUEUES
) -> list[Ticket]:
    """One example per label, in the order of ``labels``: the first ticket of that label which
    ``scored`` got wrong; for a label it never got wrong, the first ticket of that label in
    ``tickets``.

    Raises:
        TypeError: ``scored`` or ``tickets`` is None, or ``labels`` is not a list of strings.
        ValueError: a label has neither an error nor a ticket to take.
    """
    check_not_none("scored", scored, "an EvalResult, e.g. evaluate_logprob(model, step3, dev)")
    check_not_none("tickets", tickets, "a list of tickets, e.g. load_tickets('dev')")
    labels = check_labels("labels", labels, example="prompt_lab.QUEUES")
    chosen: dict[str, Ticket] = {}
    by_id = {t.id: t for t in tickets}
    for failure in scored.failures():
        if failure.gold in labels and failure.gold not in chosen:
            chosen[failure.gold] = by_id.get(failure.id) or Ticket(
                failure.id, failure.text, failure.gold
            )
    for ticket in tickets:
        if ticket.label in labels:
            chosen.setdefault(ticket.label, ticket)
    missing = [label for label in labels if label not in chosen]
    if missing:
        raise ValueError(f"no error and no ticket to take as the example of {missing}")
    return [chosen[label] for label in labels]


def random_draws(
    tickets: Sequence[Ticket],
    exclude: set[str],
    n_draws: int,
    seed: int,
    labels: Sequence[str] = QUEUES,
) -> list[list[Ticket]]:
    """``n_draws`` sets of examples, each one ticket per label drawn uniformly from the tickets of
    that label whose id is not in ``exclude`` (draws may share tickets), from
    ``numpy.random.default_rng(seed)``: the same seed gives the same draws on any machine.

    Raises:
        TypeError: ``n_draws`` or ``seed`` is not an int, ``labels`` not a list of strings.
        ValueError: ``n_draws < 1``, ``seed < 0``, or a label has no ticket left to draw.
    """
    check_not_none("tickets", tickets, "a list of tickets, e.g. load_tickets('dev')")
    check_int("n_draws", n_draws, fix="pass an int such as 3")
    check_int("seed", seed, minimum=0, fix="pass the notebook's SEED")
    labels = check_labels("labels", labels, example="prompt_lab.QUEUES")
    pools = {q: [t for t in tickets if t.label == q and t.id not in exclude] for q in labels}
    empty = [q for q, pool in pools.items() if not pool]
    if empty:
        raise ValueError(f"no ticket left to draw for {empty} once {len(exclude)} are excluded")
    rng = np.random.default_rng(seed)
    return [[pools[q][rng.integers(len(pools[q]))] for q in labels] for _ in range(n_draws)]


@dataclass(frozen=True)
class DrawRecord:
    """One recorded random draw: its example ids, and per scored ticket id whether it was right."""

    examples: tuple[str, ...]
    right: dict[str, bool]

    @property
    def accuracy(self) -> float:
        return sum(self.right.values()) / len(self.right)


def load_draw_record(path: str | None = None) -> list[DrawRecord]:
    """The draws recorded by ``benchmarks/fewshot_draws.py`` (default: the copy that ships with
    the package, so this works on Colab too).

    Raises:
        FileNotFoundError: the file is missing; the message says how to make it.
        ValueError: the file is not a record of draws.
    """
    source = resources.files("prompt_lab").joinpath("data", RECORD) if path is None else path
    try:
        text = source.read_text("utf-8") if path is None else Path(path).read_text("utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(
            f"{source} is missing. Record the draws with "
            "`.venv/bin/python benchmarks/fewshot_draws.py` from the repository root."
        ) from None
    try:
        raw = json.loads(text)
        return [
            DrawRecord(tuple(d["examples"]), {k: bool(v) for k, v in d["right"].items()})
            for d in raw["draws"]
        ]
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise ValueError(
            f"{source} is not a record of few-shot draws ({error}); record it again with "
            "benchmarks/fewshot_draws.py."
        ) from None
