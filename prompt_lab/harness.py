"""The evaluation harness: prompt variants x labelled items, scored, with every raw output kept.

:func:`evaluate` generates an answer per item and parses it strictly; :func:`evaluate_logprob`
instead scores every label by log-probability and picks the most likely one (the constrained
alternative: it always answers with a label). Both return an :class:`EvalResult` with accuracy,
parse rate, seconds per item and the raw output of every item, for reading failures.
:func:`summarize` puts several results side by side. Used by
``chapters/prompting/prompt_experiments.ipynb`` and ``chapters/prompting/ladder.ipynb``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import pandas as pd

from book_core.checks import check_int, check_labels, check_not_none, check_str
from prompt_lab.backends import ChatBackend
from prompt_lab.data import QUEUES, Ticket
from prompt_lab.parsing import parse_label, parse_lenient
from prompt_lab.templates import PromptTemplate

Parser = Callable[[str, Sequence[str]], "str | None"]


class LabelScorer(Protocol):
    """A backend that can score labels by log-probability (the local model can)."""

    def label_logprobs(self, messages: Any, labels: Sequence[str]) -> dict[str, float]: ...


@dataclass(frozen=True)
class ItemResult:
    """One item's outcome: the raw model output, what it parsed to, and whether that is right."""

    id: str
    text: str
    gold: str
    raw: str
    pred: str | None
    lenient: str | None

    @property
    def correct(self) -> bool:
        return self.pred == self.gold


@dataclass
class EvalResult:
    """The outcome of one prompt variant on a set of items."""

    variant: str
    items: list[ItemResult]
    seconds: float
    labels: tuple[str, ...] = field(default=QUEUES)

    @property
    def n(self) -> int:
        return len(self.items)

    @property
    def accuracy(self) -> float:
        """Fraction of items whose strictly parsed answer is the gold label."""
        return sum(r.correct for r in self.items) / self.n

    @property
    def parse_rate(self) -> float:
        """Fraction of items whose output parsed strictly to some label."""
        return sum(r.pred is not None for r in self.items) / self.n

    @property
    def lenient_accuracy(self) -> float:
        """Accuracy if a label mentioned anywhere in the output counted: format vs. content."""
        return sum(r.lenient == r.gold for r in self.items) / self.n

    @property
    def seconds_per_item(self) -> float:
        return self.seconds / self.n

    def failures(self) -> list[ItemResult]:
        """The items answered wrongly or unparseably, in order: read these."""
        return [r for r in self.items if not r.correct]

    def to_frame(self) -> pd.DataFrame:
        """One row per item: id, gold label, prediction (None = unparsed), raw output, text."""
        return pd.DataFrame(
            {
                "id": [r.id for r in self.items],
                "gold": [r.gold for r in self.items],
                "pred": pd.Series([r.pred for r in self.items], dtype=object),
                "raw": [r.raw for r in self.items],
                "text": [r.text for r in self.items],
            }
        )

    def confusion(self) -> pd.DataFrame:
        """Counts of gold label (rows) x prediction (columns, with 'unparsed')."""
        columns = [*self.labels, "unparsed"]
        table = pd.DataFrame(0, index=list(self.labels), columns=columns)
        for r in self.items:
            table.loc[r.gold, r.pred if r.pred is not None else "unparsed"] += 1
        table.index.name, table.columns.name = "gold", "predicted"
        return table


def _check_items(items: Sequence[Ticket], labels: Sequence[str]) -> None:
    check_not_none("items", items, "a non-empty list of tickets, e.g. load_tickets('dev')")
    if not items:
        raise ValueError("no items to evaluate: pass a non-empty list of tickets")
    for item in items:
        if item.label not in labels:
            raise ValueError(
                f"item {item.id!r} has the unknown label {item.label!r}; labels are {list(labels)}"
            )


def evaluate(
    backend: ChatBackend,
    template: PromptTemplate,
    items: Sequence[Ticket],
    *,
    labels: Sequence[str] = QUEUES,
    parser: Parser = parse_label,
    max_new_tokens: int = 6,
    name: str | None = None,
) -> EvalResult:
    """Generate an answer for every item with ``template`` and score the parsed answers.

    Raises:
        TypeError: a required argument is None, ``labels`` is not a sequence of strings (a bare
            string is refused), ``max_new_tokens`` is not an integer, ``parser`` not callable.
        ValueError: no items, an item with an unknown label, ``max_new_tokens < 1``.
    """
    check_not_none("backend", backend, "a ChatBackend, e.g. load_local_model()")
    check_not_none("template", template, "a PromptTemplate")
    labels = check_labels("labels", labels, example="prompt_lab.QUEUES")
    check_int("max_new_tokens", max_new_tokens, fix="pass an int such as 6")
    if not callable(parser):
        raise TypeError(f"parser must be a function (text, labels) -> label, got {parser!r}.")
    if name is not None:
        check_str("name", name, example="'few-shot'")
    _check_items(items, labels)
    start = time.perf_counter()
    raws = backend.chat_many(
        [template.render(item.text) for item in items], max_new_tokens=max_new_tokens
    )
    seconds = time.perf_counter() - start
    results = [
        ItemResult(
            item.id, item.text, item.label, raw, parser(raw, labels), parse_lenient(raw, labels)
        )
        for item, raw in zip(items, raws, strict=True)
    ]
    return EvalResult(name or template.name, results, seconds, tuple(labels))


def evaluate_logprob(
    scorer: LabelScorer,
    template: PromptTemplate | Sequence[PromptTemplate],
    items: Sequence[Ticket],
    *,
    labels: Sequence[str] = QUEUES,
    calibrate_with: str | None = None,
    name: str | None = None,
) -> EvalResult:
    """Pick, for every item, the label the model finds most probable as the whole answer.

    ``template``: one prompt for all items, or one per item (retrieval few-shot gives every ticket
    its own examples; see :mod:`prompt_lab.retrieval`).
    ``calibrate_with``: a content-free ticket (e.g. ``"N/A"``); its label scores are subtracted
    from every item's, which removes the model's preference for some labels whatever the input
    (Zhao et al., 2021); only with one template. ``raw`` records the (calibrated)
    log-probabilities, so close calls can be read like any other output.

    Raises:
        TypeError: a required argument is None, or ``labels`` is not a sequence of strings.
        ValueError: no items, an item with an unknown label, templates that do not match the items.
    """
    check_not_none("scorer", scorer, "a backend with label_logprobs, e.g. load_local_model()")
    check_not_none("template", template, "a PromptTemplate, or one per item")
    labels = check_labels("labels", labels, example="prompt_lab.QUEUES")
    if calibrate_with is not None:
        check_str("calibrate_with", calibrate_with, example="'N/A'")
    if name is not None:
        check_str("name", name, example="'log-prob'")
    _check_items(items, labels)
    if isinstance(template, PromptTemplate):
        templates = [template] * len(items)
    else:
        templates = list(template)
        if len(templates) != len(items):
            raise ValueError(
                f"got {len(templates)} templates for {len(items)} items; give one each"
            )
        if calibrate_with is not None:
            raise ValueError("calibrate_with needs one template shared by all items")
    start = time.perf_counter()
    conversations = [t.render(item.text) for t, item in zip(templates, items, strict=True)]
    if calibrate_with is not None:
        conversations.append(templates[0].render(calibrate_with))
    many = getattr(scorer, "label_logprobs_many", None)  # the local model reads shared text once
    if many is not None:
        all_scores = many(conversations, labels)
    else:
        all_scores = [scorer.label_logprobs(c, labels) for c in conversations]
    if calibrate_with is not None:
        base = all_scores.pop()
        all_scores = [{k: s[k] - base[k] for k in labels} for s in all_scores]
    results = []
    for item, scores in zip(items, all_scores, strict=True):
        best = max(labels, key=lambda label: scores[label])
        raw = " ".join(f"{label}={scores[label]:.2f}" for label in labels)
        results.append(ItemResult(item.id, item.text, item.label, raw, best, best))
    seconds = time.perf_counter() - start
    suffix = ", calibrated" if calibrate_with is not None else ""
    default = f"{templates[0].name} (log-prob{suffix})"
    return EvalResult(name or default, results, seconds, tuple(labels))


def summarize(results: Sequence[EvalResult], *, timings: bool = False) -> pd.DataFrame:
    """Variants side by side: n, accuracy, parse rate, lenient accuracy (and s/item if asked).

    Timings vary from run to run; keep them out of outputs that are compared exactly.
    """
    check_not_none("results", results, "a list of EvalResult")
    if not results:
        raise ValueError("no results to summarize")
    rows = {
        "n": [r.n for r in results],
        "accuracy": [round(r.accuracy, 3) for r in results],
        "parse rate": [round(r.parse_rate, 3) for r in results],
        "lenient accuracy": [round(r.lenient_accuracy, 3) for r in results],
    }
    if timings:
        rows["s / item"] = [round(r.seconds_per_item, 3) for r in results]
    return pd.DataFrame(rows, index=pd.Index([r.variant for r in results], name="variant"))
