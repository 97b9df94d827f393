"""Turning a model's free text into a queue label, strictly or leniently.

Strict parsing is what a production router would do: the answer must be exactly one label
(case, surrounding whitespace, quotes and a final full stop are forgiven). The lenient parser finds
a label mentioned anywhere in the text, and exists to separate "wrong format" from "wrong answer"
when reading failures. Used by ``chapters/prompting/prompt_experiments.ipynb``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_STRIP = " \t\r\n.!\"'`*:"


def _check_labels(labels: Sequence[str]) -> list[str]:
    labels = list(labels)
    if not labels:
        raise ValueError("labels is empty; pass the queue names, e.g. prompt_lab.QUEUES")
    for label in labels:
        if not isinstance(label, str) or not re.fullmatch(r"[a-z][a-z_-]*", label):
            raise ValueError(f"label {label!r} must be a lowercase word (letters, - or _)")
    return labels


def parse_label(text: str, labels: Sequence[str]) -> str | None:
    """The label if ``text`` is exactly one label (ignoring case and surrounding punctuation)."""
    labels = _check_labels(labels)
    answer = text.strip(_STRIP).lower()
    return answer if answer in labels else None


def parse_final_label(text: str, labels: Sequence[str], key: str = "queue") -> str | None:
    """For step-by-step answers: the label on the last non-empty line, written ``Queue: <label>``."""
    labels = _check_labels(labels)
    lines = [line for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return None
    match = re.fullmatch(rf"\W*{re.escape(key)}\W*:\s*(.+)", lines[-1].strip(), re.IGNORECASE)
    return parse_label(match.group(1), labels) if match else None


def parse_lenient(text: str, labels: Sequence[str]) -> str | None:
    """The one label mentioned as a word anywhere in ``text``; None if none or several are."""
    labels = _check_labels(labels)
    words = set(re.findall(r"[a-z_-]+", text.lower()))
    found = [label for label in labels if label in words]
    return found[0] if len(found) == 1 else None
