"""Turning a model's free text into a queue label, strictly or leniently.

Strict parsing is what a production router would do: the answer must be exactly one label
(case, surrounding whitespace, quotes and a final full stop are forgiven). The lenient parser finds
a label mentioned anywhere in the text, and exists to separate "wrong format" from "wrong answer"
when reading failures. Used by ``chapters/prompting/prompt_experiments.ipynb``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from book_core.checks import check_labels, check_str

_STRIP = " \t\r\n.!\"'`*:"


def _check_labels(labels: Sequence[str]) -> list[str]:
    """The shared label-set rule (:func:`book_core.checks.check_labels`: a sequence of strings,
    never a bare string, not empty), and each label a lowercase word."""
    labels = list(check_labels("labels", labels, example="prompt_lab.QUEUES"))
    for label in labels:
        if not re.fullmatch(r"[a-z][a-z_-]*", label):
            raise ValueError(
                f"labels must be lowercase words (letters, - or _), but {label!r} is not; pass "
                "e.g. prompt_lab.QUEUES"
            )
    return labels


def _check_text(text: str) -> str:
    return check_str("text", text, example="the model's answer, e.g. 'billing'")


def parse_label(text: str, labels: Sequence[str]) -> str | None:
    """The label if ``text`` is exactly one label (ignoring case and surrounding punctuation).

    Raises:
        TypeError: ``text`` is not a string, or ``labels`` is not a sequence of strings (a bare
            string such as ``"billing"`` is refused: it would be read as its letters).
        ValueError: ``labels`` is empty, or a label is not a lowercase word.
    """
    _check_text(text)
    labels = _check_labels(labels)
    answer = text.strip(_STRIP).lower()
    return answer if answer in labels else None


def parse_final_label(text: str, labels: Sequence[str], key: str = "queue") -> str | None:
    """For step-by-step answers: the label on the last non-empty line, written ``Queue: <label>``.

    Raises: as :func:`parse_label`, and TypeError if ``key`` is not a string.
    """
    _check_text(text)
    labels = _check_labels(labels)
    check_str("key", key, example="'queue'")
    lines = [line for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return None
    match = re.fullmatch(rf"\W*{re.escape(key)}\W*:\s*(.+)", lines[-1].strip(), re.IGNORECASE)
    return parse_label(match.group(1), labels) if match else None


def parse_lenient(text: str, labels: Sequence[str]) -> str | None:
    """The one label mentioned as a word anywhere in ``text``; None if none or several are.

    Raises: as :func:`parse_label`.
    """
    _check_text(text)
    labels = _check_labels(labels)
    words = set(re.findall(r"[a-z_-]+", text.lower()))
    found = [label for label in labels if label in words]
    return found[0] if len(found) == 1 else None
