"""The rungs below prompting on the prompt-engineering chapter's ladder: retrieval few-shot and
fine-tuning the model's top blocks (the linear probe has its own tests, test_prompt_probe.py)."""

from __future__ import annotations

import numpy as np
import pytest

from prompt_lab import PromptTemplate, Ticket
from prompt_lab.retrieval import nearest, retrieval_templates

BASE = PromptTemplate("base", "<ticket>{ticket}</ticket>", system="Route it.")


def test_nearest_ranks_by_cosine_not_by_length() -> None:
    pool = np.array([[10.0, 0.0], [1.0, 1.0], [0.0, 0.1]])
    queries = np.array([[0.0, 5.0], [3.0, 0.1]])
    # by dot product the long first vector would win; by direction it ranks last for query 0
    assert nearest(queries, pool, 3).tolist() == [[2, 1, 0], [0, 1, 2]]
    tied = np.array([[1.0, 0.0], [2.0, 0.0], [0.0, 1.0]])
    assert nearest(np.array([[1.0, 0.0]]), tied, 2).tolist() == [[0, 1]]  # ties: lower index


def test_nearest_other_ticket_is_never_the_ticket_itself_even_with_duplicates() -> None:
    # tickets 0 and 2 have the same embedding; 1 points elsewhere, 3 is closest to 1
    vectors = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.2, 1.0]])
    # without exclusion, ticket 2 ties with ticket 0 and the lower index wins: 0 then 2, so
    # "the second neighbour is the nearest other" would give ticket 2 itself
    assert nearest(vectors, vectors, 2)[2].tolist() == [0, 2]
    others = nearest(vectors, vectors, 1, exclude_self=True)[:, 0]
    assert others.tolist() == [2, 3, 0, 1]  # by hand: the duplicate, then the nearest direction
    assert nearest(vectors, vectors, np.int64(3), exclude_self=True).shape == (4, 3)
    with pytest.raises(ValueError, match="number of candidates 3"):
        nearest(vectors, vectors, 4, exclude_self=True)
    with pytest.raises(ValueError, match="pool to be the queries"):
        nearest(vectors[:2], vectors, 1, exclude_self=True)


@pytest.mark.parametrize(
    ("queries", "pool", "k", "error", "match"),
    [
        (np.ones((1, 2)), np.ones((3, 2)), 0, ValueError, "k must be"),
        (np.ones((1, 2)), np.ones((3, 2)), True, TypeError, "k must be"),
        (np.ones((1, 2)), np.ones((3, 2)), "2", TypeError, "k must be"),
        (np.ones((1, 2)), np.ones((3, 2)), 4, ValueError, "k must be"),
        (np.ones((1, 3)), np.ones((3, 2)), 1, ValueError, "dimensions"),
        (np.ones(2), np.ones((3, 2)), 1, ValueError, "queries must be"),
        (np.ones((1, 2)), np.zeros((3, 2)), 1, ValueError, "all-zero row"),
    ],
)
def test_nearest_rejects_bad_input(queries, pool, k, error, match) -> None:
    with pytest.raises(error, match=match):
        nearest(queries, pool, k)


def test_retrieved_examples_put_the_most_similar_last() -> None:
    pool = [
        Ticket("a", "refund please", "billing"),
        Ticket("b", "parcel lost", "shipping"),
        Ticket("c", "app crashes", "technical"),
    ]
    vectors = np.array([[1.0, 0.0], [0.0, 1.0], [0.7, 0.7]])
    (template,) = retrieval_templates(BASE, np.array([[0.1, 1.0]]), pool, vectors, 2, "rag")
    assert template.name == "rag"
    assert template.examples == (("app crashes", "technical"), ("parcel lost", "shipping"))
    messages = template.render("where is my box")
    assert messages[-2] == {"role": "assistant", "content": "shipping"}  # nearest, just before
    with pytest.raises(ValueError, match="pool vectors"):
        retrieval_templates(BASE, vectors[:1], pool, vectors[:2], 1, "rag")


# -- fine-tuning the top blocks, on the real model -------------------------------------------

TRAIN = [
    ("I was charged twice, refund one payment", "billing"),
    ("My invoice has the wrong VAT number", "billing"),
    ("The parcel has not arrived after two weeks", "shipping"),
    ("Tracking says delivered but no box at my door", "shipping"),
]


def _weights(module) -> dict[str, np.ndarray]:
    return {k: v.detach().cpu().numpy().copy() for k, v in module.state_dict().items()}


def test_finetune_learns_and_leaves_the_loaded_model_alone(local_model) -> None:
    from prompt_lab.finetune import block_inputs, finetune_top

    texts, labels = [t for t, _ in TRAIN], [lab for _, lab in TRAIN]
    last = local_model.model.config.num_hidden_layers - 1
    before = _weights(local_model.model.model.layers[last])
    inputs = block_inputs(local_model, texts, last)
    assert inputs.states.shape[:2] == inputs.mask.shape and len(inputs) == 4
    classifier = finetune_top(
        local_model, inputs, labels, label_set=("billing", "shipping"), epochs=15, batch_size=2
    )
    assert classifier.predict(inputs) == labels  # it fits four examples of two classes
    p = classifier.probabilities(texts)  # from texts: the same as from precomputed inputs
    np.testing.assert_allclose(p, classifier.probabilities(inputs), atol=1e-5)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    after = _weights(local_model.model.model.layers[last])
    assert all(np.array_equal(before[k], after[k]) for k in before), "the loaded model changed"
    # the same seed gives the same classifier
    again = finetune_top(
        local_model, inputs, labels, label_set=("billing", "shipping"), epochs=15, batch_size=2
    )
    np.testing.assert_allclose(again.probabilities(inputs), p, atol=1e-6)
    with pytest.raises(ValueError, match="first trained block"):
        classifier.probabilities(block_inputs(local_model, texts[:1], last - 1))


def test_finetune_rejects_bad_input(local_model) -> None:
    from prompt_lab.finetune import block_inputs, finetune_top

    last = local_model.model.config.num_hidden_layers - 1
    inputs = block_inputs(local_model, ["a refund", "a parcel"], last)
    with pytest.raises(ValueError, match="2 texts but 1 labels"):
        finetune_top(local_model, inputs, ["billing"])
    with pytest.raises(ValueError, match="no training example"):
        finetune_top(local_model, inputs, ["billing", "billing"], label_set=("billing", "shipping"))
    with pytest.raises(ValueError, match="unknown labels"):
        finetune_top(local_model, inputs, ["billing", "refunds"])
    with pytest.raises(ValueError, match="epochs must be"):
        finetune_top(
            local_model,
            inputs,
            ["billing", "shipping"],
            label_set=("billing", "shipping"),
            epochs=0,
        )
    with pytest.raises(ValueError, match="block must be"):
        block_inputs(local_model, ["x"], last + 1)
    with pytest.raises(ValueError, match="texts is empty"):
        block_inputs(local_model, [], last)
    with pytest.raises(ValueError, match=r"texts \[1\] are empty or only whitespace.*asking"):
        block_inputs(local_model, ["a refund", " "], last)


# The winning rung's held-out accuracy is checked where it is computed: nbval re-runs
# chapters/prompting/ladder.ipynb (the fine-tuning included) and compares the accuracy with the
# stored one within its declared tolerance, and the notebook asserts the 90% goal. Retraining the
# same model here again cost three minutes of every test run and checked less.
