"""The labelled support tickets of the prompt-engineering chapter.

Sixty-four short customer-support tickets, written for this book, each routed to one of four
queues. ``dev`` (32 items) is where prompts are compared and errors are read; ``heldout``
(32 items) is looked at once, to confirm the chosen prompt. Used by
``chapters/prompting/prompt_experiments.ipynb``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources

QUEUES: tuple[str, ...] = ("billing", "shipping", "technical", "account")
SPLITS: dict[str, str] = {"dev": "tickets_dev.jsonl", "heldout": "tickets_heldout.jsonl"}


@dataclass(frozen=True)
class Ticket:
    """One support ticket: an id, the customer's text, and the queue it belongs to."""

    id: str
    text: str
    label: str


def parse_tickets(lines: list[str], labels: tuple[str, ...] = QUEUES) -> list[Ticket]:
    """Parse JSON lines (``{"id", "text", "label"}``) into tickets, checking every field."""
    tickets: list[Ticket] = []
    seen: set[str] = set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise ValueError(f"line {number} is not valid JSON ({err.msg})") from err
        missing = {"id", "text", "label"} - set(row)
        if missing:
            raise ValueError(f"line {number} lacks the field(s) {sorted(missing)}")
        if not str(row["text"]).strip():
            raise ValueError(f"line {number} (id {row['id']!r}) has an empty text")
        if row["label"] not in labels:
            raise ValueError(
                f"line {number} (id {row['id']!r}) has the unknown label {row['label']!r}; "
                f"expected one of {list(labels)}"
            )
        if row["id"] in seen:
            raise ValueError(f"line {number} repeats the id {row['id']!r}; ids must be unique")
        seen.add(row["id"])
        tickets.append(Ticket(id=str(row["id"]), text=str(row["text"]), label=str(row["label"])))
    return tickets


def load_tickets(split: str) -> list[Ticket]:
    """The tickets of one split, ``"dev"`` or ``"heldout"``, in file order."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {list(SPLITS)}")
    text = resources.files("prompt_lab").joinpath("data", SPLITS[split]).read_text("utf-8")
    return parse_tickets(text.splitlines())
