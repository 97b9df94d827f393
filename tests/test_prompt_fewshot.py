"""Unit tests for prompt_lab.fewshot: the step-5 rule, the random draws and their record."""

from __future__ import annotations

import json

import pytest

from prompt_lab.data import QUEUES, Ticket, load_tickets
from prompt_lab.fewshot import examples_from_errors, load_draw_record, random_draws
from prompt_lab.harness import EvalResult, ItemResult

TICKETS = [
    Ticket("b1", "charged twice", "billing"),
    Ticket("s1", "parcel late", "shipping"),
    Ticket("b2", "refund please", "billing"),
    Ticket("s2", "wrong address", "shipping"),
    Ticket("t1", "app crashes", "technical"),
    Ticket("a1", "forgot password", "account"),
    Ticket("a2", "delete my account", "account"),
]


def scored(predictions: dict[str, str]) -> EvalResult:
    items = [
        ItemResult(t.id, t.text, t.label, predictions[t.id], predictions[t.id], None)
        for t in TICKETS
    ]
    return EvalResult("step 3", items, 1.0)


def test_examples_are_the_first_error_of_each_queue_in_queue_order() -> None:
    # b1 right, b2 wrong; s1 wrong first; t1 right (never wrong: its first ticket); a2 wrong.
    result = scored(
        {
            "b1": "billing",
            "s1": "billing",
            "b2": "account",
            "s2": "billing",
            "t1": "technical",
            "a1": "account",
            "a2": "billing",
        }
    )
    chosen = examples_from_errors(result, TICKETS)
    assert [t.id for t in chosen] == ["b2", "s1", "t1", "a2"]
    assert [t.label for t in chosen] == list(QUEUES)


def test_examples_refuse_a_label_with_nothing_to_take() -> None:
    result = scored({t.id: t.label for t in TICKETS})
    with pytest.raises(ValueError, match="refunds"):
        examples_from_errors(result, TICKETS, labels=("billing", "refunds"))
    with pytest.raises(TypeError, match="scored"):
        examples_from_errors(None, TICKETS)


def test_draws_take_one_ticket_per_queue_and_respect_the_exclusions() -> None:
    # With b1, s1, a1 excluded, billing, shipping and technical each have one ticket left.
    draws = random_draws(TICKETS, {"b1", "s1", "a1"}, n_draws=4, seed=0)
    assert len(draws) == 4
    for draw in draws:
        assert [t.id for t in draw[:3]] == ["b2", "s2", "t1"]
        assert draw[3].id == "a2"


def test_draws_depend_only_on_the_seed() -> None:
    dev = load_tickets("dev")
    first = random_draws(dev, set(), n_draws=3, seed=42)
    again = random_draws(dev, set(), n_draws=3, seed=42)
    other = random_draws(dev, set(), n_draws=3, seed=43)
    assert [[t.id for t in d] for d in first] == [[t.id for t in d] for d in again]
    assert [[t.id for t in d] for d in first] != [[t.id for t in d] for d in other]


def test_draws_refuse_bad_input() -> None:
    with pytest.raises(ValueError, match="n_draws must be a positive integer"):
        random_draws(TICKETS, set(), n_draws=0, seed=0)
    with pytest.raises(ValueError, match="technical"):
        random_draws(TICKETS, {"t1"}, n_draws=1, seed=0)
    with pytest.raises(TypeError, match="seed"):
        random_draws(TICKETS, set(), n_draws=1, seed="42")


def test_the_shipped_record_matches_the_draws_it_claims() -> None:
    """The record that ships must be three draws, scored on the same dev tickets, which are
    neither its own examples nor any other draw's."""
    record = load_draw_record()
    assert len(record) == 3
    dev_ids = {t.id for t in load_tickets("dev")}
    scored_ids = set(record[0].right)
    assert all(set(r.right) == scored_ids for r in record)
    assert scored_ids < dev_ids
    for draw in record:
        assert len(draw.examples) == len(QUEUES)
        assert not set(draw.examples) & scored_ids
        assert 0.0 <= draw.accuracy <= 1.0


def test_a_missing_or_corrupt_record_says_how_to_make_it(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="benchmarks/fewshot_draws.py"):
        load_draw_record(str(tmp_path / "nothing.json"))
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"draws": [{"examples": ["x"]}]}))
    with pytest.raises(ValueError, match="not a record"):
        load_draw_record(str(bad))
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="not a record"):
        load_draw_record(str(bad))
