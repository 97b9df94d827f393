"""Retrieval-augmented few-shot: each ticket gets the most similar labelled tickets as examples.

The second rung of the prompt-engineering chapter's ladder (``chapters/prompting/ladder.ipynb``).
Fixed few-shot examples show the model what an answer looks like; retrieved ones also show it
tickets like the one it is reading. Similarity is the cosine of the model's own embeddings
(:meth:`prompt_lab.local.LocalModel.embed`), so no second model is needed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from prompt_lab.data import Ticket
from prompt_lab.templates import PromptTemplate


def _unit_rows(x: np.ndarray, what: str) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or len(x) == 0:
        raise ValueError(f"{what} must be a non-empty (n, d) array of embeddings, got {x.shape}")
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    if not np.all(norms > 0):
        raise ValueError(f"{what} has an all-zero row: a zero vector has no direction to compare")
    return x / norms


def nearest(queries: np.ndarray, pool: np.ndarray, k: int) -> np.ndarray:
    """``(len(queries), k)`` indices into ``pool``, most similar (cosine) first.

    Ties are broken by the lower index, so the result does not depend on the sort's whims.
    """
    q, p = _unit_rows(queries, "queries"), _unit_rows(pool, "pool")
    if q.shape[1] != p.shape[1]:
        raise ValueError(f"queries have {q.shape[1]} dimensions but the pool {p.shape[1]}")
    if not (isinstance(k, int) and 1 <= k <= len(p)):
        raise ValueError(f"k must be an integer from 1 to the pool size {len(p)}, got {k!r}")
    similarity = q @ p.T
    return np.argsort(-similarity, axis=1, kind="stable")[:, :k]


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
    if len(pool) != len(pool_vectors):
        raise ValueError(f"{len(pool)} pool tickets but {len(pool_vectors)} pool vectors")
    order = nearest(queries, pool_vectors, k)
    return [
        base.with_examples([(pool[j].text, pool[j].label) for j in row[::-1]], name)
        for row in order
    ]
