"""Unit tests for book_core.checks: the validators every package shares."""

from __future__ import annotations

import numpy as np
import pytest

from book_core.checks import check_class_labels, check_int


def test_valid_labels_come_back_as_int64() -> None:
    out = check_class_labels(np.array([0, 9, 3], np.uint8), 10)
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out, [0, 9, 3])
    assert check_class_labels([], 10).dtype == np.int64  # empty lists arrive as float64


@pytest.mark.parametrize(
    ("y", "kwargs", "message"),
    [
        (np.eye(3, dtype=int), {}, r"1-D .*argmax"),
        (np.array([0, 1]), {"n": 3, "what": "images"}, "got 3 images but 2 labels"),
        (np.array([0.0, 1.0]), {}, "integers"),
        (np.array([0, 10]), {}, r"0\.\.9, i\.e\. \[0, 10\), got values from 0 to 10"),
        (np.array([-1, 2]), {"name": "y_true"}, r"y_true must lie in 0\.\.9"),
    ],
)
def test_bad_labels_say_what_is_wrong(y, kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        check_class_labels(y, 10, **kwargs)


BAD_PROBABILITIES = [
    (np.array([0.2, 0.8]), "shaped"),
    (np.array([[1.0], [1.0]]), "shaped"),
    (np.array([[0.5, np.nan], [0.5, 0.5]]), "NaN"),
    (np.array([[2.0, -1.0], [0.5, 0.5]]), "logits"),
    (np.array([[0.3, 0.3], [0.5, 0.5]]), "summing to 1"),
    (np.array([["a", "b"], ["c", "d"]]), "real numbers"),
]


@pytest.mark.parametrize(("p", "message"), BAD_PROBABILITIES)
def test_check_probabilities_says_which_rule_is_broken(p, message):
    from book_core.checks import check_probabilities

    with pytest.raises(ValueError, match=message):
        check_probabilities(p)


@pytest.mark.parametrize(("p", "message"), BAD_PROBABILITIES)
def test_evaluation_and_data_quality_apply_the_same_rules(p, message):
    """One validator: both modules reject the same inputs with the same message."""
    from mnist_lib import data_quality, evaluation

    labels = np.zeros(len(p) if np.ndim(p) == 2 else 2, dtype=int)
    with pytest.raises(ValueError, match=message):
        evaluation.most_confident_mistakes(p, labels)
    with pytest.raises(ValueError, match=message):
        data_quality.label_disputes(p, labels)


def test_check_probabilities_accepts_softmax_outputs_and_keeps_their_dtype():
    from book_core.checks import check_probabilities

    p = np.array([[0.25, 0.75], [1.0, 0.0]], dtype=np.float32)
    assert check_probabilities(p).dtype == np.float32
    assert check_probabilities(np.array([[0, 1], [1, 0]])).dtype == np.float64  # one-hot ints
    with pytest.raises(ValueError, match="3 labels"):
        check_probabilities(p, n=3)


@pytest.mark.parametrize(
    ("value", "minimum", "error", "message"),
    [
        (0, 1, ValueError, "k must be a positive integer, got 0"),
        (-1, 0, ValueError, r"k must be an integer >= 0, got -1"),
        (2.0, 1, TypeError, "got 2.0"),
        (True, 1, TypeError, "got True"),
        ("3", 1, TypeError, "got '3'"),
    ],
)
def test_check_int_refuses_what_is_not_a_whole_number_in_range(value, minimum, error, message):
    with pytest.raises(error, match=message):
        check_int("k", value, minimum)


def test_check_int_accepts_python_and_numpy_integers():
    assert check_int("k", 3) == 3
    assert check_int("k", 0, minimum=0) == 0
    value = check_int("k", np.int64(7))
    assert value == 7 and type(value) is int
