"""Data-quality checks for any labelled image set: duplicates, disputed labels, class balance.

Introduced in the FAQ chapter's data-quality notebook (``chapters/faq/data_quality.ipynb``), which
runs them on MNIST. Each check answers a question a founder should ask of any data set:

- :func:`exact_duplicates`: are some test examples also in the training set, byte for byte?
- :func:`nearest_neighbours`, :func:`near_duplicates`: are some almost identical?
- :func:`label_disputes`: which labels does a trained model strongly disagree with? (Candidates
  for a human to review, in the spirit of Northcutt et al. 2021; not proven errors.)
- :func:`class_balance`: how are the classes distributed in each split?
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from book_core.checks import (
    check_class_labels,
    check_int,
    check_not_none,
    check_number,
    check_probabilities,
)


def _as_rows(name: str, x: np.ndarray) -> np.ndarray:
    """``x`` reshaped to ``(n, features)``; TypeError if None, ValueError if empty, scalar or not
    finite."""
    check_not_none(name, x, "an array of examples shaped (n, ...), like (n, 28, 28)")
    x = np.asarray(x)
    if x.ndim < 2:
        raise ValueError(
            f"{name} must hold examples along the first axis, shaped (n, ...) like (n, 28, 28); "
            f"got shape {x.shape}."
        )
    if x.shape[0] == 0:
        raise ValueError(f"{name} holds no examples (shape {x.shape}).")
    if not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
        raise ValueError(f"{name} must be numeric, got dtype {x.dtype}.")
    if np.issubdtype(x.dtype, np.inexact) and not np.isfinite(x).all():
        raise ValueError(f"{name} contains NaN or infinite values; clean or drop them first.")
    return x.reshape(x.shape[0], -1)


def _same_width(a: np.ndarray, b: np.ndarray, names: tuple[str, str]) -> None:
    if a.shape[1] != b.shape[1]:
        raise ValueError(
            f"{names[0]} and {names[1]} must have examples of the same size, got "
            f"{a.shape[1]} and {b.shape[1]} values per example."
        )


# --------------------------------------------------------------------------- exact duplicates


def exact_duplicates(a: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """Pairs of identical examples, as an ``(k, 2)`` integer array of indices.

    With ``b``: every pair ``(i, j)`` with ``a[i] == b[j]`` exactly (same dtype and values), e.g.
    test images that also sit in the training set. Without ``b``: every pair ``i < j`` within ``a``.
    Rows are sorted.
    """
    a2 = _as_rows("a", a)
    groups: dict[bytes, list[int]] = defaultdict(list)
    for i, row in enumerate(np.ascontiguousarray(a2)):
        groups[row.tobytes()].append(i)
    pairs: list[tuple[int, int]] = []
    if b is None:
        for members in groups.values():
            pairs.extend(
                (members[p], members[q])
                for p in range(len(members))
                for q in range(p + 1, len(members))
            )
    else:
        b2 = _as_rows("b", b)
        _same_width(a2, b2, ("a", "b"))
        if a2.dtype != b2.dtype:
            b2 = b2.astype(a2.dtype)
            if not np.array_equal(b2, _as_rows("b", b)):
                raise ValueError(
                    f"a and b have different dtypes ({a2.dtype}, {np.asarray(b).dtype}) and b "
                    "does not convert exactly; convert them to one dtype first."
                )
        for j, row in enumerate(np.ascontiguousarray(b2)):
            pairs.extend((i, j) for i in groups.get(row.tobytes(), ()))
    out = np.array(sorted(pairs), dtype=np.int64)
    return out.reshape(-1, 2)


# --------------------------------------------------------------------------- near duplicates


@dataclass(frozen=True)
class Neighbours:
    """For each query ``q``: ``indices[q]``, its nearest reference example, at ``distances[q]``."""

    indices: np.ndarray
    distances: np.ndarray


def nearest_neighbours(
    queries: np.ndarray, reference: np.ndarray, *, block_size: int = 500
) -> Neighbours:
    """The exact nearest reference example (Euclidean distance) of every query.

    All distances are first computed fast, in 32-bit floats with one matrix product per block of
    queries (``|q - r|² = |q|² + |r|² - 2 q·r``). Rounding can make that formula misorder two
    references at almost the same distance, so every reference within a proven bound on the
    rounding error of the best one is then compared again, exactly, in 64-bit floats.

    Args:
        queries: ``(n, ...)`` examples, e.g. test images scaled to [0, 1].
        reference: ``(m, ...)`` examples of the same size, e.g. training images.
        block_size: queries handled at once (memory: about ``8 × block_size × m`` bytes).

    Ties go to the lowest reference index.
    """
    check_int("block_size", block_size, fix="pass an int such as 500")
    q = _as_rows("queries", queries).astype(np.float64)
    r = _as_rows("reference", reference).astype(np.float64)
    _same_width(q, r, ("queries", "reference"))
    q32, r32 = q.astype(np.float32), r.astype(np.float32)
    q_norms = (q32 * q32).sum(axis=1, dtype=np.float64)
    r_norms = (r32 * r32).sum(axis=1, dtype=np.float64)
    # A generous bound on the rounding error of the fast squared distances: the 32-bit products
    # and sums (about width x unit roundoff, relative to |q|^2 + |r|^2) plus the conversion of the
    # inputs to 32 bits. Only references within twice this of the fast minimum can be nearest.
    unit = float(np.finfo(np.float32).eps)
    rel = 4.0 * (q.shape[1] + 2) * unit
    r_max = float(r_norms.max())
    indices = np.empty(len(q), dtype=np.int64)
    distances = np.empty(len(q), dtype=np.float64)
    for start in range(0, len(q), block_size):
        stop = min(start + block_size, len(q))
        fast = q_norms[start:stop, None] + r_norms[None, :] - 2.0 * (q32[start:stop] @ r32.T)
        best = fast.min(axis=1)
        tol = rel * (q_norms[start:stop] + r_max) + 1e-30
        rows, cols = np.nonzero(fast <= (best + 2.0 * tol)[:, None])  # sorted by row, then col
        diff = r[cols] - q[start + rows]
        exact = (diff * diff).sum(axis=1)
        # per row, the smallest exact distance; ties go to the lowest reference index
        order = np.lexsort((cols, exact, rows))
        first = order[np.r_[True, rows[order][1:] != rows[order][:-1]]]
        indices[start + rows[first]] = cols[first]
        distances[start + rows[first]] = np.sqrt(exact[first])
    return Neighbours(indices=indices, distances=distances)


def near_duplicates(
    queries: np.ndarray,
    reference: np.ndarray,
    threshold: float,
    *,
    neighbours: Neighbours | None = None,
) -> pd.DataFrame:
    """Queries whose nearest reference example lies within ``threshold`` (Euclidean distance).

    Returns a DataFrame with columns ``query``, ``reference``, ``distance``, closest first. Pass
    ``neighbours`` from :func:`nearest_neighbours` to reuse a search already done.
    """
    t = check_number("threshold", threshold, minimum=0, example=1.0)
    check_not_none("queries", queries, "the query examples, shaped (n, ...)")
    if neighbours is None:
        neighbours = nearest_neighbours(queries, reference)
    elif len(neighbours.indices) != len(np.asarray(queries)):
        raise ValueError(
            f"neighbours covers {len(neighbours.indices)} queries but {len(np.asarray(queries))} "
            "were given; pass the result of nearest_neighbours(queries, reference)."
        )
    close = np.flatnonzero(neighbours.distances <= t)
    frame = pd.DataFrame(
        {
            "query": close,
            "reference": neighbours.indices[close],
            "distance": neighbours.distances[close],
        }
    )
    return frame.sort_values(["distance", "query"], kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------- disputed labels


def label_disputes(
    probabilities: np.ndarray, labels: np.ndarray, *, min_confidence: float = 0.5
) -> pd.DataFrame:
    """Examples whose label a model disputes: it predicts another class with high probability.

    Use probabilities for examples the model did not train on (a held-out set, or
    cross-validation), otherwise it has simply memorised the labels.

    Args:
        probabilities: ``(n, k)`` predicted class probabilities (rows sum to 1, e.g. softmax).
        labels: ``(n,)`` the given labels, integers in ``0..k-1``.
        min_confidence: keep only examples where the predicted class has at least this probability.

    Returns:
        A DataFrame with columns ``index``, ``label``, ``predicted``, ``p_label``, ``p_predicted``
        and ``margin = p_predicted - p_label``, most disputed first.
    """
    c = check_number("min_confidence", min_confidence, minimum=0, maximum=1)
    p = check_probabilities(probabilities).astype(np.float64)
    y = check_class_labels(labels, p.shape[1])
    if len(y) != len(p):
        raise ValueError(f"got {len(p)} rows of probabilities but {len(y)} labels.")
    predicted = p.argmax(axis=1)
    rows = np.arange(len(p))
    p_label = p[rows, y]
    p_pred = p[rows, predicted]
    keep = np.flatnonzero((predicted != y) & (p_pred >= c))
    frame = pd.DataFrame(
        {
            "index": keep,
            "label": y[keep],
            "predicted": predicted[keep],
            "p_label": p_label[keep],
            "p_predicted": p_pred[keep],
            "margin": p_pred[keep] - p_label[keep],
        }
    )
    return frame.sort_values(
        ["margin", "index"], ascending=[False, True], kind="stable"
    ).reset_index(drop=True)


# --------------------------------------------------------------------------- class balance


def class_balance(splits: Mapping[str, np.ndarray], n_classes: int) -> pd.DataFrame:
    """Count and share of each class in each split.

    Returns a DataFrame indexed by class with, per split, a ``<split> count`` and a
    ``<split> share`` column (shares sum to 1).
    """
    check_int("n_classes", n_classes, fix="pass an int such as 10")
    if not isinstance(splits, Mapping):
        raise TypeError(
            f"splits must be a mapping {{split name: labels}}, got {type(splits).__name__}; "
            'pass e.g. {"train": y_train, "test": y_test}.'
        )
    if not splits:
        raise ValueError('class_balance needs at least one split, e.g. {"train": y_train}.')
    columns: dict[str, np.ndarray] = {}
    for name, labels in splits.items():
        y = check_class_labels(labels, n_classes, name=f"labels of {name!r}")
        if len(y) == 0:
            raise ValueError(f"split {name!r} has no labels.")
        counts = np.bincount(y, minlength=n_classes)
        columns[f"{name} count"] = counts
        columns[f"{name} share"] = counts / counts.sum()
    frame = pd.DataFrame(columns)
    frame.index.name = "class"
    return frame


def imbalance_ratio(counts: np.ndarray) -> float:
    """Largest class count over smallest: 1.0 is perfectly balanced."""
    c = np.asarray(check_not_none("counts", counts, "a 1-D array of class counts"))
    if c.ndim != 1 or len(c) == 0:
        raise ValueError(f"counts must be a non-empty 1-D array, got shape {c.shape}.")
    if (c < 0).any():
        raise ValueError("counts must be >= 0.")
    if c.min() == 0:
        raise ValueError("a class has no examples at all: the imbalance ratio is infinite.")
    return float(c.max() / c.min())
