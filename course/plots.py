"""Figure helpers for the notebooks: every figure gets a title and labelled axes.

Single-panel helpers draw on ``ax`` (a new figure when it is None) and return the Axes, like
pandas and seaborn; the multi-panel ``plot_images`` returns its Figure. In a notebook, end the
cell with ``plt.show()`` so no ``<Axes ...>`` text is printed under the figure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

__all__ = [
    "plot_images",
    "plot_policy",
    "plot_returns",
    "plot_scores",
    "plot_training_history",
]

_ARROWS = {0: (0.0, 0.3), 1: (0.3, 0.0), 2: (0.0, -0.3), 3: (-0.3, 0.0)}  # up right down left


def _axes(ax: Axes | None, figsize: tuple[float, float] = (6, 4)) -> Axes:
    return plt.subplots(figsize=figsize)[1] if ax is None else ax


def plot_images(
    images: Any,
    titles: Sequence[str] | None = None,
    *,
    title: str,
    side: int = 8,
    columns: int = 10,
    cmap: str = "gray_r",
    centered: bool = False,
) -> Figure:
    """Show flattened square images (one per row) in a grid, each with an optional title.

    ``centered=True`` puts 0 in the middle of the colour scale, for weights that can be
    negative (use a diverging ``cmap`` such as "RdBu_r").
    """
    images = np.asarray(images, dtype=float).reshape(-1, side, side)
    limit = np.abs(images).max() if centered else None
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"Got {len(images)} images but {len(titles)} titles: give one each.")
    columns = min(columns, len(images))
    rows = -(-len(images) // columns)
    figure, axes = plt.subplots(
        rows, columns, figsize=(1.2 * columns, 1.4 * rows + 0.5), squeeze=False
    )
    for index, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if index < len(images):
            vmin = -limit if centered else None
            ax.imshow(images[index], cmap=cmap, vmin=vmin, vmax=limit)
            if titles is not None:
                ax.set_title(titles[index], fontsize=9)
    figure.suptitle(title)
    figure.tight_layout()
    return figure


def plot_training_history(history: Any, *, title: str, ax: Axes | None = None) -> Axes:
    """Plot a Keras ``History`` (or its ``.history`` dict): accuracy per epoch, train and
    validation, so over-fitting shows as the two curves parting."""
    metrics: Mapping[str, Sequence[float]] = getattr(history, "history", history)
    if "accuracy" not in metrics:
        raise ValueError(
            f"No 'accuracy' in the history (keys: {sorted(metrics)}). "
            'Compile the model with metrics=["accuracy"].'
        )
    ax = _axes(ax)
    epochs = np.arange(1, len(metrics["accuracy"]) + 1)
    ax.plot(epochs, metrics["accuracy"], label="training")
    if "val_accuracy" in metrics:
        ax.plot(epochs, metrics["val_accuracy"], label="validation")
    ax.set(title=title, xlabel="epoch", ylabel="accuracy")
    ax.legend()
    return ax


def plot_scores(scores: Mapping[str, float], *, title: str, ax: Axes | None = None) -> Axes:
    """Compare models side by side: one labelled horizontal bar per model, score in [0, 1]."""
    ax = _axes(ax, figsize=(6, 0.6 * len(scores) + 1))
    names = list(scores)
    values = [scores[name] for name in names]
    bars = ax.barh(names, values)
    ax.bar_label(bars, labels=[f"{value:.2f}" for value in values], padding=3)
    ax.set(title=title, xlabel="test accuracy", xlim=(0, 1.1))
    ax.invert_yaxis()
    return ax


def plot_returns(
    returns: Mapping[str, Sequence[float]],
    *,
    title: str,
    window: int = 20,
    ax: Axes | None = None,
) -> Axes:
    """Learning curves: the reward of each episode, averaged over ``window`` episodes."""
    ax = _axes(ax)
    for label, values in returns.items():
        values = np.asarray(values, dtype=float)
        size = min(window, len(values))
        smoothed = np.convolve(values, np.ones(size) / size, mode="valid")
        ax.plot(np.arange(size, len(values) + 1), smoothed, label=label)
    ax.set(title=title, xlabel="episode", ylabel=f"reward (mean of last {window} episodes)")
    ax.legend()
    return ax


def plot_policy(
    env: Any,
    policy: Any,
    *,
    title: str,
    path: Sequence[int] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Draw a grid world with an arrow per state for ``policy``; shade the states on ``path``."""
    ax = _axes(ax, figsize=(1.1 * env.width + 1, 1.1 * env.height + 0.8))
    colours = {"#": 0.0, ".": 1.0, "S": 1.0, "c": 0.85, "G": 0.7}
    grid = np.array([[colours[char] for char in row] for row in env.layout])
    ax.imshow(grid, cmap="gray", vmin=0, vmax=1)
    visited = set(path or [])
    for state in range(env.n_states):
        row, column = env.position(state)
        cell = env.cell(state)
        if state in visited:
            ax.add_patch(
                plt.Rectangle((column - 0.5, row - 0.5), 1, 1, color="tab:blue", alpha=0.2)
            )
        if cell in "cG":
            label = "coin" if cell == "c" else "goal"
            ax.text(column, row, label, ha="center", va="center", fontweight="bold")
        elif cell != "#":
            dx, dy = _ARROWS[int(policy[state])]
            ax.arrow(column - dx / 2, row + dy / 2, dx, -dy, head_width=0.15, color="tab:red")
            if cell == "S":
                ax.text(column - 0.4, row - 0.3, "start", fontsize=8)
    ax.set_xticks(range(env.width))
    ax.set_yticks(range(env.height))
    ax.set(title=title, xlabel="column", ylabel="row")
    return ax
