"""Retrieval-augmented few-shot: each ticket gets the most similar labelled tickets as examples.

The second rung of the prompt-engineering chapter's ladder (``chapters/prompting/ladder.ipynb``).
Fixed few-shot examples show the model what an answer looks like; retrieved ones also show it
tickets like the one it is reading. Similarity is the cosine of the model's own embeddings
(:meth:`prompt_lab.local.LocalModel.embed`), so no second model is needed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from book_core.checks import check_int, check_not_none, check_str
from prompt_lab.data import Ticket
from prompt_lab.templates import PromptTemplate


def _unit_rows(x: np.ndarray, what: str) -> np.ndarray:
    check_not_none(what, x, "a non-empty (n, d) array of embeddings")
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or len(x) == 0:
        raise ValueError(f"{what} must be a non-empty (n, d) array of embeddings, got {x.shape}")
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    if not np.all(norms > 0):
        raise ValueError(f"{what} has an all-zero row: a zero vector has no direction to compare")
    return x / norms


def nearest(
    queries: np.ndarray, pool: np.ndarray, k: int, *, exclude_self: bool = False
) -> np.ndarray:
    """``(len(queries), k)`` indices into ``pool``, most similar (cosine) first.

    Ties are broken by the lower index, so the result does not depend on the sort's whims.

    ``exclude_self=True`` is for a pool that *is* the queries (each ticket's nearest other
    ticket, as the ladder notebook measures): ``queries`` and ``pool`` must then be the same
    array, and row ``i`` never contains ``i``, even when another ticket has the same embedding
    (a duplicate is another ticket, and it may be returned). Without it, the pool must not contain
    the queries: nothing else would stop a query from being its own nearest neighbour.

    Raises:
        TypeError: an array is None, or ``k`` is not an integer (a bool, a float, a string...).
        ValueError: an array is not ``(n, d)``, has a zero row, the dimensions differ, ``k`` is not
            from 1 to the number of candidates, or ``exclude_self`` with a pool that is not the
            queries.
    """
    q, p = _unit_rows(queries, "queries"), _unit_rows(pool, "pool")
    if q.shape[1] != p.shape[1]:
        raise ValueError(f"queries have {q.shape[1]} dimensions but the pool {p.shape[1]}")
    candidates = len(p) - 1 if exclude_self else len(p)
    advice = f"pass an int from 1 to the number of candidates {candidates}"
    k = check_int("k", k, fix=advice)
    if k > candidates:
        raise ValueError(
            f"k must be an integer from 1 to the number of candidates {candidates}, got {k!r}"
        )
    similarity = q @ p.T
    if exclude_self:
        if q.shape != p.shape or not np.array_equal(np.asarray(queries), np.asarray(pool)):
            raise ValueError(
                "exclude_self=True needs the pool to be the queries themselves (the same array); "
                "for separate queries and pool, leave it False"
            )
        np.fill_diagonal(similarity, -np.inf)
    return np.argsort(-similarity, axis=1, kind="stable")[:, : int(k)]


def retrieval_templates(
    base: PromptTemplate,
    queries: np.ndarray,
    pool: Sequence[Ticket],
    pool_vectors: np.ndarray,
    k: int,
    name: str,
) -> list[PromptTemplate]:
    """One few-shot template per query: ``base`` with the ``k`` pool tickets nearest to it as
    examples, the most similar last (closest to the question the model answers).

    The pool must not contain the queries themselves (retrieve from dev for held-out tickets).
    """
    check_not_none("base", base, "the PromptTemplate to add examples to")
    check_not_none("pool", pool, "the labelled tickets to retrieve from")
    check_not_none("pool_vectors", pool_vectors, "the embeddings of the pool, one row per ticket")
    check_int("k", k, fix="pass an int such as 4")
    check_str("name", name, example="'retrieval few-shot'")
    if len(pool) != len(pool_vectors):
        raise ValueError(f"{len(pool)} pool tickets but {len(pool_vectors)} pool vectors")
    order = nearest(queries, pool_vectors, k)
    return [
        base.with_examples([(pool[j].text, pool[j].label) for j in row[::-1]], name)
        for row in order
    ]
