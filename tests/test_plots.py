"""Unit tests for mnist_lib.plots: the figures' content, and bad inputs, for each plotting function."""

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


def test_image_grid_lays_out_images_and_titles():
    from mnist_lib.plots import image_grid

    images = np.arange(5 * 4 * 3, dtype=float).reshape(5, 4, 3) - 30
    fig = image_grid(images, [f"t{i}" for i in range(5)], ncols=3, symmetric=True)
    assert len(fig.axes) == 6  # 2 rows of 3; the sixth stays empty
    shown = [ax for ax in fig.axes if ax.images]
    assert len(shown) == 5 and not fig.axes[5].images
    assert [ax.get_title() for ax in shown] == ["t0", "t1", "t2", "t3", "t4"]
    np.testing.assert_array_equal(shown[2].images[0].get_array(), images[2])
    # signed values: the colour scale is centred on 0, at the largest magnitude of all images
    assert shown[0].images[0].get_clim() == (-30.0, 30.0)
    plt.close(fig)


@pytest.mark.parametrize(
    ("images", "titles", "message"),
    [
        (np.zeros((4, 4)), None, "shaped"),
        (np.zeros((0, 4, 4)), None, "no images"),
        (np.zeros((2, 4, 4)), ["only one"], "2 images but 1 titles"),
    ],
)
def test_image_grid_rejects_bad_input(images, titles, message):
    from mnist_lib.plots import image_grid

    with pytest.raises(ValueError, match=message):
        image_grid(images, titles)


def test_plot_curves_draws_training_and_validation_per_run():
    from mnist_lib.plots import plot_curves

    histories = {
        "a": {"loss": [1.0, 0.5, 0.25], "val_loss": [1.1, 0.7, 0.6], "accuracy": [0.5, 0.7, 0.8]},
        "b": {"loss": [2.0, 1.0], "accuracy": [0.3, 0.6]},
    }
    fig = plot_curves(histories)
    loss_ax, acc_ax = fig.axes
    lines = {line.get_label(): line for line in loss_ax.get_lines()}
    assert set(lines) == {"a", "a (validation)", "b"}
    assert list(lines["a"].get_xdata()) == [1, 2, 3]  # epochs count from 1
    assert list(lines["a (validation)"].get_ydata()) == [1.1, 0.7, 0.6]
    assert lines["a (validation)"].get_linestyle() == "--" and lines["a"].get_linestyle() == "-"
    assert lines["a"].get_color() == lines["a (validation)"].get_color() != lines["b"].get_color()
    assert loss_ax.get_ylabel() == "loss" and acc_ax.get_ylabel() == "accuracy"
    assert len(acc_ax.get_lines()) == 2  # no validation accuracy recorded
    plt.close(fig)


def test_plot_curves_says_which_series_exist():
    from mnist_lib.plots import plot_curves

    with pytest.raises(ValueError, match="no run has a 'accuracy' series"):
        plot_curves({"a": {"loss": [1.0]}})
    with pytest.raises(ValueError, match="no runs"):
        plot_curves({})
    plt.close("all")
