"""Plots the chapters share: image grids and training curves.

Introduced in the MNIST project's opening chapter (``chapters/mnist/mnist_data.ipynb``: the sample
digits and mean images); the backpropagation and MNIST chapters reuse :func:`image_grid` (learned
weights, mistakes) and :func:`plot_curves` (loss and accuracy per epoch).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from book_core.checks import check_int, check_labels, check_not_none, check_number


def image_grid(
    images: np.ndarray,
    titles: Sequence[str] | None = None,
    *,
    ncols: int = 10,
    cmap: str = "gray_r",
    size: float = 1.2,
    symmetric: bool = False,
    suptitle: str | None = None,
) -> Figure:
    """Show 2-D images (``(n, h, w)``) in a grid, each with an optional title.

    Args:
        images: ``n`` images of equal shape; any real dtype.
        titles: one short title per image, or None.
        ncols: images per row.
        cmap: a matplotlib colormap; ``gray_r`` draws MNIST ink dark on white.
        size: inches per image.
        symmetric: centre the colour scale on 0 (for weights, which are signed).
        suptitle: a title for the whole figure.
    """
    ncols = check_int("ncols", ncols, fix="pass an int such as 10")
    check_number("size", size, above=0, example=1.2)
    if titles is not None:
        titles = check_labels("titles", titles, allow_empty=True, example="['a 7', 'a 1']")
    images = np.asarray(check_not_none("images", images, "an array of images (n, height, width)"))
    if images.ndim != 3:
        raise ValueError(f"image_grid needs images shaped (n, height, width), got {images.shape}.")
    n = len(images)
    if n == 0:
        raise ValueError("image_grid got no images to show.")
    if titles is not None and len(titles) != n:
        raise ValueError(f"image_grid got {n} images but {len(titles)} titles.")
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(size * ncols, size * nrows * 1.15), squeeze=False
    )
    limit = float(np.abs(images).max()) if symmetric else None
    for i, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if i >= n:
            continue
        if symmetric:
            ax.imshow(images[i], cmap=cmap, vmin=-limit, vmax=limit)
        else:
            ax.imshow(images[i], cmap=cmap)
        if titles is not None:
            ax.set_title(titles[i], fontsize=8)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def plot_curves(
    histories: Mapping[str, Mapping[str, Sequence[float]]],
    metrics: Sequence[str] = ("loss", "accuracy"),
    *,
    xlabel: str = "epoch",
) -> Figure:
    """Plot one panel per metric, one line per run: ``{"run name": {"loss": [...], ...}}``.

    A Keras ``History.history`` dict fits directly; its ``val_*`` series are drawn dashed beside the
    training series of the same run.
    """
    metrics = check_labels("metrics", metrics, example="['loss', 'accuracy']")
    if not isinstance(histories, Mapping):
        raise TypeError(
            f"histories must be a mapping {{run name: history}}, got {type(histories).__name__}; "
            'pass e.g. {"baseline": result.history}.'
        )
    if not histories:
        raise ValueError("plot_curves got no runs to plot.")
    fig, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 3.5), squeeze=False)
    for ax, metric in zip(axes.flat, metrics, strict=True):
        plotted = False
        for i, (run, history) in enumerate(histories.items()):
            colour = f"C{i}"
            for key, style, label in (
                (metric, "-", run),
                (f"val_{metric}", "--", f"{run} (validation)"),
            ):
                if key in history:
                    values = list(history[key])
                    ax.plot(range(1, len(values) + 1), values, style, color=colour, label=label)
                    plotted = True
        if not plotted:
            raise ValueError(
                f"no run has a '{metric}' series; runs have {[list(h) for h in histories.values()]}"
            )
        ax.set_xlabel(xlabel)
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_confusion_matrix(
    cm: np.ndarray,
    *,
    class_names: Sequence[str] | None = None,
    hide_diagonal: bool = False,
    title: str | None = None,
    size: float = 6.0,
) -> Figure:
    """Draw a confusion matrix (rows: true class, columns: predicted class) with its counts.

    Added by the MNIST chapter's evaluation notebook. With ``hide_diagonal`` the correct
    predictions are left blank, so that the colour scale shows only the mistakes, which are
    otherwise too small to see next to thousands of correct answers.
    """
    check_number("size", size, above=0, example=6.0)
    if class_names is not None:
        class_names = check_labels("class_names", class_names, example="['zero', 'one']")
    cm = np.asarray(check_not_none("cm", cm, "a square confusion matrix of counts"))
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1] or cm.shape[0] == 0:
        raise ValueError(f"plot_confusion_matrix needs a square matrix, got shape {cm.shape}.")
    k = cm.shape[0]
    names = [str(i) for i in range(k)] if class_names is None else list(class_names)
    if len(names) != k:
        raise ValueError(
            f"class_names must hold one name per class, got {len(names)} class names for a "
            f"{k}x{k} matrix."
        )
    shown = cm.astype(float)
    if hide_diagonal:
        shown[np.diag_indices(k)] = np.nan
    fig, ax = plt.subplots(figsize=(size, size))
    image = ax.imshow(shown, cmap="Blues")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    top = np.nanmax(shown) if np.isfinite(shown).any() else 0.0
    for i in range(k):
        for j in range(k):
            if hide_diagonal and i == j:
                continue
            value = int(cm[i, j])
            colour = "white" if top and value > 0.6 * top else "black"
            ax.text(j, i, str(value), ha="center", va="center", fontsize=8, color=colour)
    ax.set_xticks(range(k), names)
    ax.set_yticks(range(k), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig
