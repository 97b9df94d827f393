"""Unit tests for mnist_lib.data_quality: duplicates, nearest neighbours, disputed labels, balance."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from mnist_lib import data_quality as dq


def brute_nearest(q: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    q = q.reshape(len(q), -1).astype(np.float64)
    r = r.reshape(len(r), -1).astype(np.float64)
    d = ((q[:, None, :] - r[None, :, :]) ** 2).sum(axis=2)
    return d.argmin(axis=1), np.sqrt(d.min(axis=1))


# ----------------------------------------------------------------------------- exact duplicates


def test_exact_duplicates_between_sets():
    rng = np.random.default_rng(0)
    train = rng.integers(0, 256, (20, 4, 4), dtype=np.uint8)
    test = rng.integers(0, 256, (6, 4, 4), dtype=np.uint8)
    test[1] = train[7]
    test[4] = train[2]
    train[11] = train[2]  # a duplicate inside train too: test[4] matches both
    pairs = dq.exact_duplicates(train, test)
    assert pairs.tolist() == [[2, 4], [7, 1], [11, 4]]


def test_exact_duplicates_within_one_set():
    a = np.zeros((5, 3), dtype=np.uint8)
    a[1] = 1
    a[3] = 1
    a[4] = 2
    # rows 0 and 2 are equal (zeros), rows 1 and 3 are equal
    assert dq.exact_duplicates(a).tolist() == [[0, 2], [1, 3]]


def test_exact_duplicates_none_found_has_shape_k_by_2():
    a = np.arange(12, dtype=np.uint8).reshape(4, 3)
    out = dq.exact_duplicates(a, a + 100)
    assert out.shape == (0, 2)


def test_exact_duplicates_one_pixel_apart_are_not_exact():
    a = np.zeros((2, 28, 28), dtype=np.uint8)
    b = a[:1].copy()
    b[0, 14, 14] = 1
    assert dq.exact_duplicates(a[:1], b).shape == (0, 2)


def test_exact_duplicates_rejects_mismatched_sizes_and_lossy_dtypes():
    with pytest.raises(ValueError, match="same size"):
        dq.exact_duplicates(np.zeros((2, 4)), np.zeros((2, 5)))
    with pytest.raises(ValueError, match="dtype"):
        dq.exact_duplicates(np.zeros((2, 4), np.uint8), np.full((2, 4), 0.5))


# ----------------------------------------------------------------------------- nearest neighbours


def test_nearest_neighbours_matches_brute_force_on_image_like_data():
    rng = np.random.default_rng(1)
    reference = rng.integers(0, 256, (300, 8, 8)).astype(np.float64) / 255
    queries = np.concatenate(
        [
            reference[[5, 17]] + rng.normal(0, 0.01, (2, 8, 8)),  # planted near-duplicates
            rng.integers(0, 256, (40, 8, 8)) / 255,
        ]
    )
    nn = dq.nearest_neighbours(queries, reference, block_size=7)
    idx, dist = brute_nearest(queries, reference)
    np.testing.assert_array_equal(nn.indices, idx)
    np.testing.assert_allclose(nn.distances, dist, rtol=1e-12)
    assert nn.indices[:2].tolist() == [5, 17]


@settings(max_examples=40, deadline=None)
@given(
    hnp.arrays(np.uint8, st.tuples(st.integers(1, 30), st.just(6))),
    hnp.arrays(np.uint8, st.tuples(st.integers(1, 10), st.just(6))),
)
def test_nearest_neighbours_is_exact_even_with_near_ties(reference, queries):
    # small integers make exact ties and near-ties frequent: the hard case for fast distances
    nn = dq.nearest_neighbours(queries, reference, block_size=3)
    _, dist = brute_nearest(queries, reference)
    np.testing.assert_allclose(nn.distances, dist, rtol=1e-12, atol=0)
    # ties go to the lowest index
    d = ((queries[:, None, :].astype(float) - reference[None].astype(float)) ** 2).sum(axis=2)
    np.testing.assert_array_equal(nn.indices, d.argmin(axis=1))


def test_nearest_neighbours_of_an_exact_copy_is_at_distance_zero():
    rng = np.random.default_rng(2)
    reference = rng.random((50, 10))
    nn = dq.nearest_neighbours(reference[[3, 30]], reference)
    assert nn.indices.tolist() == [3, 30]
    assert nn.distances.tolist() == [0.0, 0.0]


def test_nearest_neighbours_rejects_bad_input():
    with pytest.raises(ValueError, match="NaN"):
        dq.nearest_neighbours(np.array([[np.nan, 0.0]]), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="same size"):
        dq.nearest_neighbours(np.zeros((1, 3)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="shaped"):
        dq.nearest_neighbours(np.zeros(3), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="no examples"):
        dq.nearest_neighbours(np.zeros((0, 3)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="block_size"):
        dq.nearest_neighbours(np.zeros((1, 3)), np.zeros((3, 3)), block_size=0)


def test_near_duplicates_keeps_only_pairs_within_threshold():
    reference = np.eye(4)
    queries = np.array([[1.0, 0, 0, 0.1], [0, 0, 0, 0], [0, 0.8, 0, 0]])
    frame = dq.near_duplicates(queries, reference, threshold=0.25)
    assert list(frame.columns) == ["query", "reference", "distance"]
    # query 0 is 0.1 from reference 0, query 2 is 0.2 from reference 1; query 1 is 1.0 from all
    assert frame["query"].tolist() == [0, 2]
    assert frame["reference"].tolist() == [0, 1]
    np.testing.assert_allclose(frame["distance"], [0.1, 0.2])
    # reusing a search gives the same answer
    nn = dq.nearest_neighbours(queries, reference)
    again = dq.near_duplicates(queries, reference, 0.25, neighbours=nn)
    assert again.equals(frame)
    with pytest.raises(ValueError, match="threshold"):
        dq.near_duplicates(queries, reference, -1)
    with pytest.raises(ValueError, match="covers"):
        dq.near_duplicates(queries[:2], reference, 0.1, neighbours=nn)


# ----------------------------------------------------------------------------- disputed labels


def test_label_disputes_ranks_confident_disagreements_first():
    p = np.array(
        [
            [0.90, 0.05, 0.05],  # label 0, agrees
            [0.02, 0.97, 0.01],  # label 0, model says 1 strongly
            [0.30, 0.60, 0.10],  # label 0, model says 1 mildly
            [0.10, 0.20, 0.70],  # label 1, model says 2
            [0.45, 0.40, 0.15],  # label 1, model says 0 but below min_confidence
        ]
    )
    labels = np.array([0, 0, 0, 1, 1])
    frame = dq.label_disputes(p, labels, min_confidence=0.5)
    assert frame["index"].tolist() == [1, 3, 2]
    assert frame["predicted"].tolist() == [1, 2, 1]
    assert frame["label"].tolist() == [0, 1, 0]
    np.testing.assert_allclose(frame["margin"], [0.95, 0.5, 0.3])
    assert dq.label_disputes(p, labels, min_confidence=0.95)["index"].tolist() == [1]


def test_label_disputes_with_perfect_agreement_is_empty():
    p = np.eye(4)
    assert dq.label_disputes(p, np.arange(4)).empty


@pytest.mark.parametrize(
    "p, labels, match",
    [
        (np.array([[0.5, 0.5]]), np.array([0.0]), "integer"),
        (np.array([[0.5, 0.5]]), np.array([2]), r"0\.\.1"),
        (np.array([[2.0, -1.0]]), np.array([0]), "softmax"),
        (np.array([[0.2, 0.2]]), np.array([0]), "summing to 1"),
        (np.array([[np.nan, 1.0]]), np.array([0]), "NaN"),
        (np.array([0.5, 0.5]), np.array([0]), "shaped"),
        (np.array([[0.5, 0.5]]), np.array([0, 1]), "labels"),
    ],
)
def test_label_disputes_rejects_bad_input(p, labels, match):
    with pytest.raises(ValueError, match=match):
        dq.label_disputes(p, labels)


# ----------------------------------------------------------------------------- class balance


def test_class_balance_counts_and_shares():
    frame = dq.class_balance({"train": np.array([0, 0, 1, 2]), "test": np.array([2, 2])}, 4)
    assert frame["train count"].tolist() == [2, 1, 1, 0]
    assert frame["test count"].tolist() == [0, 0, 2, 0]
    np.testing.assert_allclose(frame["train share"], [0.5, 0.25, 0.25, 0.0])
    assert frame["test share"].sum() == pytest.approx(1.0)
    assert frame.index.name == "class"


def test_class_balance_rejects_bad_input():
    with pytest.raises(ValueError, match="at least one split"):
        dq.class_balance({}, 10)
    with pytest.raises(ValueError, match="'test'"):
        dq.class_balance({"test": np.array([10])}, 10)
    with pytest.raises(ValueError, match="no labels"):
        dq.class_balance({"test": np.array([], dtype=int)}, 10)


def test_imbalance_ratio():
    assert dq.imbalance_ratio(np.array([10, 20, 40])) == 4.0
    assert dq.imbalance_ratio(np.array([5, 5])) == 1.0
    with pytest.raises(ValueError, match="infinite"):
        dq.imbalance_ratio(np.array([3, 0]))
