"""Unit tests for mnist_lib.evaluation, against values worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mnist_lib import evaluation as ev

# 3 classes, 6 examples. Worked by hand:
#   true 0: predicted 0, 0, 1   -> row [2, 1, 0]
#   true 1: predicted 1         -> row [0, 1, 0]
#   true 2: predicted 0, 2      -> row [1, 0, 1]
Y_TRUE = np.array([0, 0, 0, 1, 2, 2])
Y_PRED = np.array([0, 0, 1, 1, 0, 2])
CM = np.array([[2, 1, 0], [0, 1, 0], [1, 0, 1]])


def test_accuracy():
    assert ev.accuracy(Y_TRUE, Y_PRED, num_classes=3) == pytest.approx(4 / 6)
    assert ev.accuracy(Y_TRUE, Y_TRUE, num_classes=3) == 1.0


def test_confusion_matrix_by_hand():
    cm = ev.confusion_matrix(Y_TRUE, Y_PRED, num_classes=3)
    np.testing.assert_array_equal(cm, CM)
    assert cm.sum() == len(Y_TRUE)
    # a class that never occurs still gets its row and column
    cm10 = ev.confusion_matrix(Y_TRUE, Y_PRED)
    assert cm10.shape == (10, 10) and cm10[3:].sum() == 0


def test_per_class_report_by_hand():
    report = ev.per_class_report(CM)
    # precision = diagonal / column sum; recall = diagonal / row sum
    np.testing.assert_allclose(report["precision"], [2 / 3, 1 / 2, 1 / 1])
    np.testing.assert_allclose(report["recall"], [2 / 3, 1 / 1, 1 / 2])
    np.testing.assert_allclose(report["f1"], [2 / 3, 2 / 3, 2 / 3])
    assert report["support"].tolist() == [3, 1, 2]


def test_never_predicted_class_has_undefined_precision():
    report = ev.per_class_report(np.array([[1, 0], [1, 0]]))
    assert np.isnan(report.loc[1, "precision"])
    assert report.loc[1, "recall"] == 0.0


def test_top_confusions():
    cm = np.array([[5, 3, 0], [1, 7, 3], [0, 2, 9]])
    top = ev.top_confusions(cm, k=10)
    assert list(top.itertuples(index=False, name=None)) == [
        (0, 1, 3),
        (1, 2, 3),
        (2, 1, 2),
        (1, 0, 1),
    ]


def test_most_confident_mistakes():
    probs = np.array(
        [
            [0.9, 0.1, 0.0],  # true 0, right
            [0.2, 0.7, 0.1],  # true 0, wrong (0.7)
            [0.05, 0.05, 0.9],  # true 1, wrong (0.9)
            [0.3, 0.6, 0.1],  # true 1, right
            [0.6, 0.3, 0.1],  # true 2, wrong (0.6)
        ]
    )
    y = np.array([0, 0, 1, 1, 2])
    table = ev.most_confident_mistakes(probs, y, k=2)
    assert isinstance(table, pd.DataFrame)
    assert table["index"].tolist() == [2, 1]
    assert table["true"].tolist() == [1, 0]
    assert table["predicted"].tolist() == [2, 1]
    np.testing.assert_allclose(table["confidence"], [0.9, 0.7])
    np.testing.assert_allclose(table["p_true"], [0.05, 0.2])
    assert len(ev.most_confident_mistakes(probs, y, k=10)) == 3
    assert ev.most_confident_mistakes(probs[[0, 3]], y[[0, 3]]).empty


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: ev.accuracy([0, 1], [0]), "2 labels"),
        (lambda: ev.accuracy([], []), "no examples"),
        (lambda: ev.accuracy([0, 10], [0, 1]), "0..9"),
        (lambda: ev.accuracy([0.0, 1.0], [0, 1]), "integer"),
        (lambda: ev.confusion_matrix(np.zeros((2, 10), int), [0, 1]), "1-D"),
        (lambda: ev.per_class_report(np.ones((2, 3), int)), "square"),
        (lambda: ev.per_class_report(np.array([[1.5, 0], [0, 1]])), "integer"),
        (lambda: ev.top_confusions(np.eye(2, dtype=int), k=0), "k must"),
        (lambda: ev.most_confident_mistakes(np.ones(3), [0, 1, 2]), "shaped"),
        (lambda: ev.most_confident_mistakes(np.full((2, 3), np.nan), [0, 1]), "finite"),
        (lambda: ev.most_confident_mistakes(-np.ones((2, 3)), [0, 1]), "logits"),
        (lambda: ev.most_confident_mistakes(np.ones((2, 3)) / 3, [0, 1, 2]), "3 labels"),
    ],
)
def test_bad_inputs_say_what_is_wrong(call, message):
    with pytest.raises(ValueError, match=message):
        call()
