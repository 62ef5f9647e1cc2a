"""Figure helpers for the notebooks: every figure gets a title, labelled axes and a description.

Single-panel helpers draw on ``ax`` (a new figure when it is None) and return the Axes, like
pandas and seaborn; the multi-panel ``plot_images`` returns its Figure. In a notebook, end the
cell with ``plots.show("what the figure shows")``: it shows the figure, then prints that
sentence under it, the figure's text alternative for a screen reader, a printout, and nbval.

Readable by everyone: ``use_accessible_style()`` (once, in the set-up cell) makes the Okabe-Ito
palette, safe for the common colour-vision deficiencies, the default colour cycle; and colour
is never the only cue: each group also gets its own marker (``MARKERS``) or hatch
(``HATCHES``). Scores measured by cross-validation are drawn with their spread across folds
(``plot_search``, ``plot_learning_curve``): a difference smaller than the error bars is a tie.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from cycler import cycler
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from course.evaluate import search_curve

__all__ = [
    "HATCHES",
    "MARKERS",
    "PALETTE",
    "plot_cv_scores",
    "plot_histograms",
    "plot_images",
    "plot_intervals",
    "plot_learning_curve",
    "plot_policy",
    "plot_returns",
    "plot_search",
    "plot_training_history",
    "show",
    "use_accessible_style",
]

PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
"""Okabe & Ito's colour-blind-safe palette: blue, orange, green, vermilion, pink, sky, yellow."""
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]
HATCHES = ["", "//", "..", "xx", "\\\\", "--", "++", "oo"]

_LINE_STYLES = ["-", "--", ":", "-."]
_ARROWS = {0: (0.0, 0.3), 1: (0.3, 0.0), 2: (0.0, -0.3), 3: (-0.3, 0.0)}  # up right down left


def _axes(ax: Axes | None, figsize: tuple[float, float] = (6, 4)) -> Axes:
    return plt.subplots(figsize=figsize)[1] if ax is None else ax


def use_accessible_style() -> None:
    """Make the colour-blind-safe palette matplotlib's default colour cycle."""
    plt.rcParams["axes.prop_cycle"] = cycler(color=PALETTE)


def show(description: str) -> None:
    """Show the current figure, then its description: one or two sentences on what it shows.

    The description is the figure's text alternative: say what a reader should see ("the
    Gentoos stand apart with longer flippers"), not what was drawn ("a histogram").
    """
    text = " ".join(description.split())
    if not text:
        raise ValueError("describe the figure: what should a reader see in it?")
    plt.show()
    print(f"Figure: {text}")


def plot_histograms(
    frame: Any,
    column: str,
    *,
    by: str,
    title: str,
    xlabel: str,
    bins: int = 20,
    ax: Axes | None = None,
) -> Axes:
    """One histogram of ``column`` per group of ``by``, on the same bins, each with a hatch.

    Shared bins make the bars comparable (per-group bins would draw each group at its own
    resolution); step outlines plus hatches keep overlapping groups apart without colour.
    """
    ax = _axes(ax)
    values = frame[column].dropna()
    edges = np.histogram_bin_edges(values, bins=bins)
    for index, (name, group) in enumerate(frame.groupby(by, observed=True)[column]):
        ax.hist(group.dropna(), bins=edges.tolist(), histtype="step", linewidth=1.8,
                color=PALETTE[index % len(PALETTE)], hatch=HATCHES[index % len(HATCHES)],
                label=str(name))
    ax.set(title=title, xlabel=xlabel, ylabel="number of rows")
    ax.legend(title=by)
    return ax


def plot_search(
    search: Any, param: str, *, title: str, xlabel: str, ax: Axes | None = None
) -> Axes:
    """A fitted ``GridSearchCV`` over one parameter: mean score per value, ± one standard
    deviation across the folds, and the best mean's band shaded so ties are easy to see."""
    values, means, spreads = search_curve(search, param)
    ax = _axes(ax)
    best = int(np.argmax(means))
    ax.axhspan(means[best] - spreads[best], means[best] + spreads[best], color=PALETTE[1],
               alpha=0.2, label="best mean ± 1 std: values inside tie with it")
    ax.errorbar(values, means, yerr=spreads, marker="o", capsize=4, color=PALETTE[0],
                label="mean over the folds ± 1 std")
    ax.set(title=title, xlabel=xlabel, ylabel="cross-validated score")
    ax.legend(loc="lower right")
    return ax


def plot_learning_curve(
    sizes: Any,
    train_scores: Any,
    validation_scores: Any,
    *,
    title: str,
    ylabel: str = "accuracy",
    ax: Axes | None = None,
) -> Axes:
    """``learning_curve``'s output: training and cross-validated scores, ± one standard
    deviation across the folds, with a different marker and line style for each curve."""
    ax = _axes(ax)
    curves = [("training rows", train_scores, "o", "-"),
              ("cross-validation", validation_scores, "s", "--")]
    for index, (label, scores, marker, style) in enumerate(curves):
        scores = np.asarray(scores, dtype=float)
        ax.errorbar(sizes, scores.mean(axis=1), yerr=scores.std(axis=1), marker=marker,
                    linestyle=style, capsize=4, color=PALETTE[index], label=f"{label} ± 1 std")
    ax.set(title=title, xlabel="number of training rows", ylabel=ylabel)
    ax.legend(loc="lower right")
    return ax


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
    limit = float(np.abs(images).max()) if centered else None
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
            vmin = -limit if limit is not None else None
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
    ax.plot(epochs, metrics["accuracy"], color=PALETTE[0], label="training")
    if "val_accuracy" in metrics:  # a dashed line: told apart without colour
        ax.plot(epochs, metrics["val_accuracy"], "--", color=PALETTE[1], label="validation")
    ax.set(title=title, xlabel="epoch", ylabel="accuracy")
    ax.legend()
    return ax


def plot_returns(
    returns: Mapping[str, Sequence[float]],
    *,
    title: str,
    window: int = 20,
    ax: Axes | None = None,
) -> Axes:
    """Learning curves: the reward of each episode, averaged over ``window`` episodes.

    Each curve has its own line style as well as its own colour."""
    ax = _axes(ax)
    for index, (label, episodes) in enumerate(returns.items()):
        values = np.asarray(episodes, dtype=float)
        size = min(window, len(values))
        smoothed = np.convolve(values, np.ones(size) / size, mode="valid")
        ax.plot(np.arange(size, len(values) + 1), smoothed, label=label,
                linestyle=_LINE_STYLES[index % len(_LINE_STYLES)])
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
                Rectangle((column - 0.5, row - 0.5), 1, 1, color="tab:blue", alpha=0.2)
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


def plot_cv_scores(
    scores: Mapping[str, Any],
    *,
    title: str,
    xlabel: str = "cross-validated accuracy",
    ax: Axes | None = None,
) -> Axes:
    """Compare models by cross-validation: one row per model, its mean score over the folds
    ± one standard deviation, and the best mean's band shaded, so ties are easy to see.

    ``scores`` maps a model's name to its fold scores (``cross_val_score``'s output).
    """
    if not scores:
        raise ValueError("no scores to plot: pass {model name: fold scores, ...}.")
    names = list(scores)
    folds = [np.asarray(scores[name], dtype=float) for name in names]
    means = np.array([values.mean() for values in folds])
    spreads = np.array([values.std() for values in folds])
    ax = _axes(ax, figsize=(6, 0.45 * len(names) + 1.5))
    best = int(np.argmax(means))
    ax.axvspan(means[best] - spreads[best], means[best] + spreads[best], color=PALETTE[1],
               alpha=0.25, hatch="//", label="best mean ± 1 std: models inside tie with it")
    rows = np.arange(len(names))
    ax.errorbar(means, rows, xerr=spreads, fmt="o", capsize=4, color=PALETTE[0],
                label="mean over the folds ± 1 std")
    for row, (mean, spread) in enumerate(zip(means, spreads, strict=True)):
        ax.annotate(f"{mean:.3f}", (mean + spread, row), xytext=(6, 0),
                    textcoords="offset points", va="center", fontsize=8)
    ax.set_yticks(rows, names)
    ax.invert_yaxis()
    ax.set(title=title, xlabel=xlabel)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), fontsize=8)
    return ax


def plot_intervals(
    scores: Mapping[str, tuple[float, float, float]],
    *,
    title: str,
    xlabel: str,
    ax: Axes | None = None,
) -> Axes:
    """Compare models by a score and its 95% interval, ``{name: (score, low, high)}``.

    One row per model, each with its own marker and its interval as an error bar, the score
    written beside it: two models whose intervals overlap widely are not told apart.
    """
    names = list(scores)
    ax = _axes(ax, figsize=(7, 0.7 * len(names) + 1.2))
    for row, name in enumerate(names):
        score, low, high = (float(value) for value in scores[name])
        if not low <= score <= high:
            raise ValueError(f"{name!r}: the score {score} is not inside its interval "
                             f"({low}, {high}); give (score, low, high).")
        ax.errorbar(score, row, xerr=[[score - low], [high - score]], capsize=5,
                    marker=MARKERS[row % len(MARKERS)], markersize=8,
                    color=PALETTE[row % len(PALETTE)])
        ax.annotate(f"{score:.2f}", (score, row), xytext=(0, 9), textcoords="offset points",
                    ha="center")
    ax.set_yticks(range(len(names)), names)
    ax.set_ylim(len(names) - 0.5, -0.7)
    ax.set(title=title, xlabel=xlabel)
    return ax
