"""How many clusters? Fit one clustering per candidate k and score each: elbow and silhouette.

``cluster_scores(model, X, ks)`` takes an unfitted clusterer, or a Pipeline ending in one
(e.g. ``make_pipeline(StandardScaler(), KMeans(random_state=0))``), and returns a table with
one row per k: the inertia (for the elbow plot) and the silhouette (higher is better). The
silhouette is measured on the data the clusterer itself sees, after the Pipeline's scaling.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd
from sklearn.base import clone, is_clusterer
from sklearn.metrics import silhouette_score
from sklearn.pipeline import Pipeline

__all__ = ["cluster_scores"]


def cluster_scores(model: Any, X: Any, ks: Iterable[int]) -> pd.DataFrame:
    """Inertia and silhouette of ``model`` fitted with each number of clusters in ``ks``.

    The model is cloned for every k, so the one passed in stays unfitted. Returns a DataFrame
    indexed by ``k`` with the columns ``inertia`` and ``silhouette``; the inertia is NaN
    for clusterers that have none (only k-means measures it).
    """
    clusterer = model.steps[-1][1] if isinstance(model, Pipeline) else model
    if not is_clusterer(clusterer):
        raise TypeError(
            f"cluster_scores needs a clusterer such as KMeans (or a Pipeline ending in one), "
            f"got {type(clusterer).__name__}"
        )
    if "n_clusters" not in clusterer.get_params():
        raise TypeError(
            f"{type(clusterer).__name__} does not take n_clusters, so it cannot be scanned "
            "over k: use KMeans, AgglomerativeClustering or another clusterer with n_clusters"
        )
    ks = list(ks)
    n_rows = len(X)
    bad = [k for k in ks if isinstance(k, bool) or not isinstance(k, int) or not 2 <= k < n_rows]
    if not ks or bad:
        raise ValueError(
            f"ks must be whole numbers from 2 to {n_rows - 1} (a silhouette needs at least 2 "
            f"clusters and fewer clusters than rows), got {bad or ks}"
        )
    rows = []
    for k in ks:
        fitted = clone(model)
        if isinstance(fitted, Pipeline):
            fitted.set_params(**{f"{fitted.steps[-1][0]}__n_clusters": k})
        else:
            fitted.set_params(n_clusters=k)
        labels = fitted.fit_predict(X)
        if isinstance(fitted, Pipeline):
            seen, final = fitted[:-1].transform(X), fitted.steps[-1][1]
        else:
            seen, final = X, fitted
        rows.append(
            {
                "k": k,
                "inertia": float(getattr(final, "inertia_", float("nan"))),
                "silhouette": float(silhouette_score(seen, labels)),
            }
        )
    return pd.DataFrame(rows).set_index("k")
