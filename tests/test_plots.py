"""Unit tests for mnist_lib.plots.plot_confusion_matrix (the figure's content, and bad inputs)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from mnist_lib.plots import plot_confusion_matrix  # noqa: E402

CM = np.array([[50, 2, 0], [1, 40, 3], [0, 0, 45]])


def _texts(fig):
    return [t.get_text() for t in fig.axes[0].texts]


def test_confusion_matrix_shows_every_count():
    fig = plot_confusion_matrix(CM, class_names=["a", "b", "c"], title="t")
    ax = fig.axes[0]
    assert _texts(fig) == [str(v) for v in CM.ravel()]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    assert ax.get_xlabel() == "predicted" and ax.get_ylabel() == "true"
    plt.close(fig)


def test_hide_diagonal_leaves_only_mistakes():
    fig = plot_confusion_matrix(CM, hide_diagonal=True)
    assert _texts(fig) == ["2", "0", "1", "3", "0", "0"]
    shown = fig.axes[0].images[0].get_array()
    assert np.isnan(np.ma.getdata(shown)[1, 1])  # diagonal blanked out of the colour scale
    assert np.ma.getdata(shown)[1, 2] == 3
    plt.close(fig)


@pytest.mark.parametrize(
    ("cm", "names", "message"),
    [
        (np.ones((2, 3), int), None, "square"),
        (np.ones(4, int), None, "square"),
        (np.ones((3, 3), int), ["a", "b"], "2 class names"),
    ],
)
def test_bad_inputs(cm, names, message):
    with pytest.raises(ValueError, match=message):
        plot_confusion_matrix(cm, class_names=names)
