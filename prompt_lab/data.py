"""The labelled support tickets of the prompt-engineering chapter.

416 customer-support tickets written by hand for this book, each routed to one of four queues
by the written guideline next to them (``data/GUIDELINE.md``): 52 per queue in each of two
splits. ``dev`` (208) is where prompts are compared, errors are read and the trained rungs of the
ladder learn; ``heldout`` (208) is looked at once per rung, to measure it. Each split is the
tidy first set of 32 (``tickets_dev.jsonl``, ``tickets_heldout.jsonl``) followed by 176 tickets
written to vary the way real ones do (``tickets_more_*.jsonl``): short and long, typos, several
requests in one ticket, indirect wording, non-native English, and a few truly ambiguous ones,
flagged ``"ambiguous": true`` and labelled by the guideline's tie-breaking rules. Used by
``chapters/prompting/prompt_experiments.ipynb`` and ``chapters/prompting/ladder.ipynb``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources

from book_core.checks import check_labels, check_str

QUEUES: tuple[str, ...] = ("billing", "shipping", "technical", "account")
SPLITS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "dev": ("tickets_dev.jsonl", "tickets_more_dev.jsonl"),
        "heldout": ("tickets_heldout.jsonl", "tickets_more_heldout.jsonl"),
        # the ladder's pre-launch evaluation: tickets written to break a router (see the file)
        "adversarial": ("tickets_adversarial.jsonl",),
    },
    "zh": {"dev": ("tickets_zh_dev.jsonl",), "heldout": ("tickets_zh_heldout.jsonl",)},
}


@dataclass(frozen=True)
class Ticket:
    """One support ticket: an id, the customer's text, the queue it belongs to, and whether the
    guideline calls it ambiguous (two queues defensible; the label follows its tie-breaking rules).
    A Chinese ticket names the English ticket it was written from as its ``counterpart`` (None for
    one that only makes sense in China)."""

    id: str
    text: str
    label: str
    ambiguous: bool = False
    counterpart: str | None = None


def parse_tickets(lines: list[str], labels: tuple[str, ...] = QUEUES) -> list[Ticket]:
    """Parse JSON lines (``{"id", "text", "label"}``, optionally ``"ambiguous": true`` and a
    ``"counterpart"`` id) into tickets, checking every field.

    Raises:
        TypeError: ``lines`` or ``labels`` is not a list of strings (None, a bare string...).
        ValueError: a line that is not a valid ticket; the message gives its number and why.
    """
    lines = check_labels("lines", lines, allow_empty=True, example="path.read_text().splitlines()")
    labels = check_labels("labels", labels, example="prompt_lab.QUEUES")
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
        ambiguous = row.get("ambiguous", False)
        if not isinstance(ambiguous, bool):
            raise ValueError(
                f"line {number} (id {row['id']!r}): 'ambiguous' must be true or false, "
                f"got {ambiguous!r}"
            )
        counterpart = row.get("counterpart")
        if counterpart is not None and not (isinstance(counterpart, str) and counterpart):
            raise ValueError(
                f"line {number} (id {row['id']!r}): 'counterpart' must be a ticket id or null, "
                f"got {counterpart!r}"
            )
        seen.add(row["id"])
        tickets.append(
            Ticket(
                str(row["id"]),
                str(row["text"]),
                str(row["label"]),
                ambiguous=ambiguous,
                counterpart=counterpart,
            )
        )
    return tickets


def load_tickets(split: str, language: str = "en") -> list[Ticket]:
    """The tickets of one split, ``"dev"`` or ``"heldout"``, in file order (ids are checked to
    be unique across the split's files).

    ``"adversarial"`` (English only): the pre-launch test set of the prompt-engineering chapter's
    ladder (``chapters/prompting/ladder.ipynb``), tickets written to break a router, labelled by
    the same guideline: prompt injection, heavy typos, Chinese mixed with English, and long
    emails with the request buried; the kind is the second part of the id
    (``adv-injection-03``). No rung trains or chooses anything on it.

    ``language="zh"``: the Chinese set of the roadmap's cultural-advantage notebook
    (``chapters/roadmap/cultural_advantage.ipynb``), written as customers in China write, most
    with an English counterpart in the same split, some only meaningful locally; labelled by the
    same guideline (``data/GUIDELINE.zh.md`` is its Chinese version).
    """
    check_str("split", split, example="'dev'")
    check_str("language", language, example="'en'")
    if language not in SPLITS:
        raise ValueError(f"unknown language {language!r}; expected one of {list(SPLITS)}")
    if split not in SPLITS[language]:
        raise ValueError(f"unknown split {split!r}; expected one of {list(SPLITS[language])}")
    folder = resources.files("prompt_lab").joinpath("data")
    lines = [
        line
        for name in SPLITS[language][split]
        for line in folder.joinpath(name).read_text("utf-8").splitlines()
    ]
    return parse_tickets(lines)
