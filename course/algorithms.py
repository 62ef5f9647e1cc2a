"""The common classifiers side by side: how each one cuts the same 2-D data into classes.

Notebook 00's overview of the algorithms: ``classifier_gallery()`` builds one of each family
(with the scaling each needs), and ``plot_decision_boundaries`` fits a copy of every model on
two measurements and draws one small panel per model: the region each class gets, its border,
and the rows themselves. Regions carry a hatch and rows a marker per class (``plots.HATCHES``,
``plots.MARKERS``), so the picture reads without colour. The picture shows the *shape* of what
each model learns, not how good it is: scores come with an honest split (notebook 04).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from course.plots import HATCHES, MARKERS, PALETTE

__all__ = ["classifier_gallery", "plot_decision_boundaries"]


def classifier_gallery() -> dict[str, Any]:
    """One classifier of each common family, named as the course names them, seeded.

    Models that compare distances or add up weighted features (logistic regression, nearest
    neighbours, SVM, neural network) get a ``StandardScaler`` first; trees and naive Bayes do
    not need one.
    """
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import GaussianNB
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC
    from sklearn.tree import DecisionTreeClassifier

    return {
        "logistic regression": make_pipeline(StandardScaler(), LogisticRegression(random_state=0)),
        "decision tree (depth 3)": DecisionTreeClassifier(max_depth=3, random_state=0),
        "random forest": RandomForestClassifier(n_estimators=50, random_state=0),
        "gradient boosting": GradientBoostingClassifier(n_estimators=50, random_state=0),
        "k-nearest neighbours (k=5)": make_pipeline(StandardScaler(), KNeighborsClassifier()),
        "SVM (RBF kernel)": make_pipeline(StandardScaler(), SVC(random_state=0)),
        "naive Bayes": GaussianNB(),
        "neural network": make_pipeline(
            StandardScaler(),
            MLPClassifier(hidden_layer_sizes=(16,), learning_rate_init=0.01, max_iter=500,
                          random_state=0),
        ),
    }


def plot_decision_boundaries(
    models: Mapping[str, Any],
    X: Any,
    y: Any,
    *,
    title: str,
    columns: int = 4,
    resolution: int = 150,
) -> Figure:
    """Fit a copy of each model on ``X`` (two numeric columns) and ``y``, one panel each.

    Each panel is titled with the model's name and shows the class each point of the plane
    would get (shaded and hatched per class, borders in black) under the rows (one marker per
    class). The models passed in are not changed: each panel fits a ``clone``.
    """
    import pandas as pd
    from sklearn.base import clone

    X = pd.DataFrame(X)
    if X.shape[1] != 2:
        raise ValueError(
            f"X has {X.shape[1]} columns: a flat picture needs exactly two (e.g. two measurements)."
        )
    if X.isna().any().any():
        raise ValueError("X has missing values: drop those rows first (frame.dropna()).")
    if not models:
        raise ValueError("give at least one model to draw.")
    labels = np.asarray(y)
    if len(labels) != len(X):
        raise ValueError(f"X has {len(X)} rows but y has {len(labels)}: give one label per row.")
    classes = np.unique(labels)
    codes = np.searchsorted(classes, labels)
    (x_name, y_name), values = X.columns, X.to_numpy(dtype=float)
    low, high = values.min(axis=0), values.max(axis=0)
    margin = 0.05 * (high - low)
    xx, yy = np.meshgrid(np.linspace(low[0] - margin[0], high[0] + margin[0], resolution),
                         np.linspace(low[1] - margin[1], high[1] + margin[1], resolution))
    grid = pd.DataFrame({x_name: xx.ravel(), y_name: yy.ravel()})
    levels = np.arange(len(classes) + 1) - 0.5
    region_colours = [PALETTE[k % len(PALETTE)] for k in range(len(classes))]
    region_hatches = [HATCHES[k % len(HATCHES)] for k in range(len(classes))]

    columns = min(columns, len(models))
    rows = -(-len(models) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 2.9 * rows + 0.8),
                                squeeze=False, sharex=True, sharey=True)
    for ax, (name, model) in zip(axes.flat, models.items(), strict=False):
        fitted = clone(model).fit(X, labels)
        predicted = np.searchsorted(classes, fitted.predict(grid)).reshape(xx.shape)
        ax.contourf(xx, yy, predicted, levels=levels, colors=region_colours,
                    hatches=region_hatches, alpha=0.3)
        ax.contour(xx, yy, predicted, levels=levels, colors="black", linewidths=0.8)
        for k, label in enumerate(classes):
            rows_k = codes == k
            ax.scatter(values[rows_k, 0], values[rows_k, 1], s=14, marker=MARKERS[k % len(MARKERS)],
                       color=PALETTE[k % len(PALETTE)], edgecolor="black", linewidth=0.4,
                       label=str(label))
        ax.set_title(name, fontsize=10)
    for ax in axes.flat[len(models):]:
        ax.set_axis_off()
    for ax in axes[-1]:
        ax.set_xlabel(str(x_name))
    for ax in axes[:, 0]:
        ax.set_ylabel(str(y_name))
    handles, names = axes.flat[0].get_legend_handles_labels()
    figure.legend(handles, names, loc="upper right", ncols=len(classes), frameon=False)
    figure.suptitle(title, x=0.02, ha="left")
    figure.tight_layout(rect=(0, 0, 1, 0.95))
    return figure
