"""Unit tests for prompt_lab.harness and prompt_lab.backends, with scripted (fake) backends."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pytest

from prompt_lab.backends import ChatBackend, check_messages
from prompt_lab.data import Ticket
from prompt_lab.harness import evaluate, evaluate_logprob, summarize
from prompt_lab.templates import PromptTemplate

ITEMS = [
    Ticket("a", "I was charged twice", "billing"),
    Ticket("b", "Parcel is late", "shipping"),
    Ticket("c", "App crashes on start", "technical"),
    Ticket("d", "Forgot my password", "account"),
]
TEMPLATE = PromptTemplate("plain", "Ticket: {ticket}")


class Scripted(ChatBackend):
    """Answers each ticket with a fixed reply and records the chats it was sent."""

    name = "scripted"

    def __init__(self, replies: dict[str, str]) -> None:
        self.replies = replies
        self.seen: list[list[dict[str, str]]] = []

    def chat(self, messages, *, max_new_tokens: int = 16) -> str:
        self.seen.append(check_messages(messages))
        ticket = messages[-1]["content"].removeprefix("Ticket: ")
        return self.replies[ticket]


def test_evaluate_scores_strictly_and_keeps_raw_outputs() -> None:
    backend = Scripted(
        {
            "I was charged twice": "billing",
            "Parcel is late": "Shipping.",
            "App crashes on start": "It is a technical problem",  # right idea, wrong format
            "Forgot my password": "billing",  # wrong
        }
    )
    result = evaluate(backend, TEMPLATE, ITEMS)
    assert len(backend.seen) == 4
    assert result.accuracy == pytest.approx(0.5)
    assert result.parse_rate == pytest.approx(0.75)
    assert result.lenient_accuracy == pytest.approx(0.75)
    assert [f.id for f in result.failures()] == ["c", "d"]
    assert result.failures()[0].raw == "It is a technical problem"
    confusion = result.confusion()
    assert confusion.loc["technical", "unparsed"] == 1
    assert confusion.loc["account", "billing"] == 1
    assert int(confusion.to_numpy().sum()) == len(ITEMS)
    assert list(result.to_frame()["pred"]) == ["billing", "shipping", None, "billing"]
    table = summarize([result], timings=True)
    assert table.loc["plain", "accuracy"] == 0.5 and "s / item" in table.columns
    assert "s / item" not in summarize([result]).columns


class Scores:
    """A scorer that prefers one fixed label for every item."""

    def __init__(self, favourite: str) -> None:
        self.favourite = favourite

    def label_logprobs(self, messages, labels: Sequence[str]) -> dict[str, float]:
        return {label: (-0.1 if label == self.favourite else -3.0) for label in labels}


def test_evaluate_logprob_always_answers_with_a_label() -> None:
    result = evaluate_logprob(Scores("shipping"), TEMPLATE, ITEMS)
    assert result.parse_rate == 1.0
    assert result.accuracy == pytest.approx(0.25)  # only the shipping ticket is right
    assert result.variant == "plain (log-prob)"
    assert result.items[0].raw.startswith("billing=-3.00 shipping=-0.10")


def test_harness_rejects_empty_sets_and_unknown_labels() -> None:
    with pytest.raises(ValueError, match="no items"):
        evaluate(Scripted({}), TEMPLATE, [])
    with pytest.raises(ValueError, match="unknown label 'refunds'"):
        evaluate_logprob(Scores("billing"), TEMPLATE, [Ticket("x", "text", "refunds")])
    with pytest.raises(ValueError, match="no results"):
        summarize([])


@pytest.mark.parametrize(
    ("messages", "error", "match"),
    [
        ([], ValueError, "non-empty list"),
        ("hello", TypeError, "non-empty list"),
        ([{"role": "robot", "content": "hi"}], ValueError, "role 'robot'"),
        ([{"role": "user"}], ValueError, "exactly the keys"),
        ([{"role": "user", "content": 3}], TypeError, "content must be a str"),
        (
            [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "x"}],
            ValueError,
            "last message",
        ),
    ],
)
def test_check_messages_rejects_malformed_chats(messages, error, match: str) -> None:
    with pytest.raises(error, match=match):
        check_messages(messages)


def test_accuracy_is_a_fraction_of_items() -> None:
    result = evaluate(Scripted({t.text: t.label for t in ITEMS}), TEMPLATE, ITEMS)
    assert math.isclose(result.accuracy, 1.0) and result.failures() == []


class Biased:
    """A scorer that likes 'billing' for every input, plus a small signal for the right label."""

    def label_logprobs(self, messages, labels: Sequence[str]) -> dict[str, float]:
        text = messages[-1]["content"]
        scores = {label: -5.0 for label in labels}
        scores["billing"] = -1.0
        for item in ITEMS:
            if item.text in text:
                scores[item.label] += 0.5
        return scores


def test_calibration_removes_a_constant_label_preference() -> None:
    plain = evaluate_logprob(Biased(), TEMPLATE, ITEMS)
    assert [r.pred for r in plain.items] == ["billing"] * 4
    calibrated = evaluate_logprob(Biased(), TEMPLATE, ITEMS, calibrate_with="N/A")
    assert calibrated.accuracy == 1.0
    assert calibrated.variant == "plain (log-prob, calibrated)"


class EchoesExamples:
    """A scorer that answers with the label of the last few-shot example in the prompt."""

    def label_logprobs(self, messages, labels: Sequence[str]) -> dict[str, float]:
        last = [m["content"] for m in messages if m["role"] == "assistant"][-1]
        return {label: (0.0 if label == last else -5.0) for label in labels}


def test_evaluate_logprob_takes_one_template_per_item() -> None:
    per_item = [TEMPLATE.with_examples([("x", item.label)], "own examples") for item in ITEMS]
    result = evaluate_logprob(EchoesExamples(), per_item, ITEMS)
    assert result.accuracy == 1.0 and result.variant == "own examples (log-prob)"
    with pytest.raises(ValueError, match="templates for"):
        evaluate_logprob(EchoesExamples(), per_item[:-1], ITEMS)
    with pytest.raises(ValueError, match="one template shared"):
        evaluate_logprob(EchoesExamples(), per_item, ITEMS, calibrate_with="N/A")
