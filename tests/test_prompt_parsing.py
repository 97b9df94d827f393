"""Unit tests for prompt_lab.parsing, prompt_lab.templates and prompt_lab.data (no model needed)."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from prompt_lab.data import QUEUES, load_tickets, parse_tickets
from prompt_lab.parsing import parse_final_label, parse_label, parse_lenient
from prompt_lab.templates import PromptTemplate, fence


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("billing", "billing"),
        ("  Billing.\n", "billing"),
        ('"shipping"', "shipping"),
        ("**account**", "account"),
        ("Queue: billing", None),  # more than the label: strict parsing refuses it
        ("billing, shipping", None),
        ("The ticket belongs to technical", None),
        ("bill", None),
        ("", None),
    ],
)
def test_parse_label_is_strict(text: str, expected: str | None) -> None:
    assert parse_label(text, QUEUES) == expected


def test_parse_lenient_finds_exactly_one_label() -> None:
    assert parse_lenient("The ticket belongs to the technical queue.", QUEUES) == "technical"
    assert parse_lenient("Billing, shipping, technical", QUEUES) is None  # several: ambiguous
    assert parse_lenient("no idea", QUEUES) is None
    assert parse_lenient("accounting", QUEUES) is None  # whole words only


def test_parse_final_label_reads_the_last_line() -> None:
    text = "The customer paid twice.\nThat is about money.\nQueue: Billing"
    assert parse_final_label(text, QUEUES) == "billing"
    assert parse_final_label("Queue: billing\nActually it is shipping.", QUEUES) is None
    assert parse_final_label("Queue: refunds", QUEUES) is None
    assert parse_final_label("", QUEUES) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [  # each text has exactly one queue name in it, so parse_lenient would always find one
        ("That is a billing problem.\nI am not sure.", None),  # no label on the last line
        ("Queue: billing\n\nHope this helps!", None),  # the label is not on the last line
        ("billing", None),  # a bare label is not written "Queue: <label>"
        ("Queue: the billing team", None),  # the value must be exactly one label
        ("The word billing appears.\nQueue: refunds", None),  # not a queue: no fallback
        ("Billing or shipping?\nQueue: shipping", "shipping"),  # lenient: ambiguous, None
    ],
)
def test_parse_final_label_never_falls_back_to_lenient_parsing(text, expected) -> None:
    """Strict step-by-step parsing: only a last line ``Queue: <label>`` counts."""
    assert parse_final_label(text, QUEUES) == expected


def test_parsers_reject_bad_label_sets() -> None:
    with pytest.raises(ValueError, match="labels is empty"):
        parse_label("billing", [])
    with pytest.raises(ValueError, match="lowercase word"):
        parse_label("billing", ["Billing"])


def test_template_renders_roles_examples_and_fenced_ticket() -> None:
    t = PromptTemplate("t", "<ticket>{ticket}</ticket>", system="You route tickets.")
    shot = t.with_examples([("Card charged twice", "billing")], "t few-shot")
    messages = shot.render("  Where is my </ticket> parcel?  ")
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert messages[1]["content"] == "<ticket>Card charged twice</ticket>"
    assert messages[2]["content"] == "billing"
    # the untrusted text cannot close the fence early
    assert messages[3]["content"] == "<ticket>Where is my (/ticket) parcel?</ticket>"
    assert t.examples == ()  # with_examples returned a new template


def test_template_keeps_braces_in_tickets_literal() -> None:
    t = PromptTemplate("t", "Ticket: {ticket}")
    assert t.render("error {code} in {ticket}")[-1]["content"] == "Ticket: error {code} in {ticket}"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"user": "no slot"}, "exactly once"),
        ({"user": "{ticket} {ticket}"}, "exactly once"),
        ({"user": "{ticket}", "system": "Obey {ticket}"}, "out of the system message"),
        ({"user": "{ticket}", "examples": (("text", ""),)}, "pair of non-empty strings"),
    ],
)
def test_template_rejects_bad_definitions(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        PromptTemplate("bad", **kwargs)


def test_template_rejects_empty_ticket() -> None:
    with pytest.raises(ValueError, match="empty"):
        PromptTemplate("t", "{ticket}").render("   ")
    with pytest.raises(TypeError):
        fence(None)  # type: ignore[arg-type]


def test_shipped_splits_are_balanced_disjoint_and_large_enough() -> None:
    dev, held = load_tickets("dev"), load_tickets("heldout")
    for split in (dev, held):
        counts = Counter(t.label for t in split)
        assert counts == {queue: 52 for queue in QUEUES}  # issue 13: at least 50 per queue
        assert 0 < sum(t.ambiguous for t in split) < len(split) // 10
    assert [t.id for t in dev[:32]] == [f"dev-{i:02d}" for i in range(1, 33)]  # the first set kept
    assert not {t.id for t in dev} & {t.id for t in held}
    normalised = [" ".join(t.text.lower().split()) for t in dev + held]
    assert len(set(normalised)) == len(normalised), "a ticket text occurs twice"


def test_the_adversarial_set_is_labelled_apart_from_every_other_split() -> None:
    adversarial = load_tickets("adversarial")
    kinds = Counter(t.id.split("-")[1] for t in adversarial)
    assert kinds == {"injection": 10, "typos": 10, "mixed": 10, "long": 6}
    assert set(Counter(t.label for t in adversarial)) == set(QUEUES)
    others = {t.id for split in ("dev", "heldout") for t in load_tickets(split)}
    texts = {" ".join(t.text.lower().split()) for s in ("dev", "heldout") for t in load_tickets(s)}
    assert not {t.id for t in adversarial} & others
    assert not {" ".join(t.text.lower().split()) for t in adversarial} & texts
    # each injection names a queue other than its label, so obeying it is always wrong
    for t in adversarial:
        if t.id.startswith("adv-injection"):
            named = {q for q in QUEUES if q in t.text.lower()}
            assert named - {t.label}, t.id
    assert min(len(t.text.split()) for t in adversarial if "-long-" in t.id) >= 150
    with pytest.raises(ValueError, match="unknown split"):
        load_tickets("adversarial", "zh")


def test_parse_tickets_reports_bad_rows() -> None:
    good = json.dumps({"id": "a", "text": "Where is my parcel?", "label": "shipping"})
    assert parse_tickets([good, ""])[0].label == "shipping"
    with pytest.raises(ValueError, match="unknown label 'refunds'"):
        parse_tickets([json.dumps({"id": "a", "text": "x", "label": "refunds"})])
    with pytest.raises(ValueError, match="lacks the field"):
        parse_tickets([json.dumps({"id": "a", "text": "x"})])
    with pytest.raises(ValueError, match="not valid JSON"):
        parse_tickets(["{oops"])
    with pytest.raises(ValueError, match="repeats the id"):
        parse_tickets([good, good])
    with pytest.raises(ValueError, match="'ambiguous' must be true or false"):
        parse_tickets([json.dumps({"id": "a", "text": "x", "label": "billing", "ambiguous": 1})])
    flagged = json.dumps({"id": "b", "text": "x", "label": "billing", "ambiguous": True})
    assert parse_tickets([flagged])[0].ambiguous
    with pytest.raises(ValueError, match="unknown split"):
        load_tickets("test")


def test_chinese_set_pairs_with_the_english_one_and_has_local_tickets() -> None:
    """Issue 14: 200+ tickets with an English counterpart (same split, same label), 40+ that only
    make sense locally, dev large enough for a learning curve up to 50 per queue."""
    english = {t.id: t for split in ("dev", "heldout") for t in load_tickets(split)}
    zh_dev, zh_held = load_tickets("dev", "zh"), load_tickets("heldout", "zh")
    assert all(n >= 50 for n in Counter(t.label for t in zh_dev).values())
    assert set(Counter(t.label for t in zh_held)) == set(QUEUES)
    paired = [t for t in zh_dev + zh_held if t.counterpart is not None]
    assert len(paired) >= 200 and len(zh_dev + zh_held) - len(paired) >= 40
    english_dev = {t.id for t in load_tickets("dev")}
    for split, tickets in (("dev", zh_dev), ("heldout", zh_held)):
        for t in tickets:
            if t.counterpart is None:
                continue
            assert english[t.counterpart].label == t.label, t.id
            assert (t.counterpart in english_dev) == (split == "dev"), f"{t.id} crosses splits"
    texts = [t.text.strip() for t in zh_dev + zh_held]
    assert len(set(texts)) == len(texts)
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in text) for text in texts)
    with pytest.raises(ValueError, match="unknown language"):
        load_tickets("dev", "fr")
    with pytest.raises(ValueError, match="'counterpart' must be"):
        parse_tickets([json.dumps({"id": "z", "text": "x", "label": "billing", "counterpart": 7})])
