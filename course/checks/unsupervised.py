"""Checks for notebook 08: unsupervised learning."""

from __future__ import annotations

from typing import Any

import numpy as np

from course.checks._feedback import Feedback, correct, is_number, require_answer, wrong
from course.checks._guard import check


@check
def best_k(answer: Any, scores: Any) -> Feedback:
    """Check the number of clusters with the highest silhouette in a ``cluster_scores`` table."""
    require_answer("best_k", answer)
    silhouette = scores["silhouette"]
    expected = int(silhouette.idxmax())
    if not is_number(answer):
        return wrong(
            f"the answer should be a whole number, got {type(answer).__name__} {answer!r}.",
            hint="read the k with the highest silhouette.",
        )
    if answer == expected:
        return correct(f"k = {expected} has the highest silhouette, {silhouette[expected]:.3f}.")
    if np.isclose(answer, silhouette.max()):
        return wrong(
            f"{answer:.3f} is the highest silhouette itself, not the k that reaches it.",
            hint="ask for the row's label: .idxmax(), not .max().",
        )
    if answer not in scores.index:
        if answer == int(np.argmax(silhouette.to_numpy())):
            return wrong(
                f"{answer} is the position of the best row in the table (counting from 0), "
                "not its k.",
                hint="the table's index is k: .idxmax() gives the label, .argmax() a position.",
            )
        return wrong(f"k = {answer} was not scored.", hint=f"pick one of {list(scores.index)}.")
    reasons = []
    if answer == int(scores["inertia"].idxmin()):
        reasons.append("the lowest inertia, but inertia always falls as k grows, so its minimum "
                       "is simply the largest k tried")
    if answer == int(silhouette.idxmin()):
        reasons.append("the *lowest* silhouette")
    if reasons:
        return wrong(
            f"k = {answer} has {' and '.join(reasons)}.",
            hint="a higher silhouette means tighter, better separated clusters: take its maximum.",
        )
    if answer == _elbow(scores["inertia"]):
        return wrong(
            f"k = {answer} is where the inertia bends (the elbow), but the exercise asks for the "
            "silhouette's choice.",
            hint="read the silhouette column only: its highest value.",
        )
    return wrong(
        f"k = {answer} has a silhouette of {silhouette[answer]:.3f}; another is higher.",
        hint="scores['silhouette'].idxmax() gives the best k.",
    )


def _elbow(inertia: Any) -> int | None:
    """The k where the inertia curve bends most (the largest second difference), if any."""
    values = inertia.to_numpy(dtype=float)
    if len(values) < 3 or np.isnan(values).any():
        return None
    bends = values[:-2] - 2 * values[1:-1] + values[2:]
    return int(inertia.index[1 + int(np.argmax(bends))])


@check
def clusters_match(
    labels: Any,
    truth: Any,
    *,
    X: Any,
    features: list[str],
    n_clusters: int,
    min_agreement: float,
) -> Feedback:
    """Check cluster labels: K-Means on the scaled ``features`` of ``X``, ``n_clusters`` groups.

    ``X`` is the whole table of measurements (one row per label), so the check can rebuild
    what the exercise asks (``StandardScaler`` then ``KMeans(n_clusters, n_init=10)``) and the
    usual detours (no scaling, every column kept) and say which one the labels come from.
    The agreement with ``truth`` (the species, never seen by the clustering) is then measured
    with the adjusted Rand index, which ignores how the clusters are numbered.
    """
    require_answer("clusters", labels)
    from sklearn.metrics import adjusted_rand_score

    labels, truth = np.asarray(labels), np.asarray(truth)
    if labels.ndim != 1 or len(labels) != len(truth):
        return wrong(
            f"expected one cluster label per row ({len(truth)}), got shape {labels.shape}.",
            hint="clusters = model.fit_predict(X[...]) on the rows of the whole table.",
        )
    if set(np.unique(labels)) <= set(np.unique(truth)) or adjusted_rand_score(truth, labels) == 1:
        return wrong(
            "these labels are the species themselves (or a renumbering of them): the clustering "
            "must find the groups without ever seeing the answers.",
            hint="cluster the measurements only: fit_predict(X[three]), with no species column.",
        )
    found = len(np.unique(labels))
    if found != n_clusters:
        return wrong(
            f"the rows fall into {found} clusters, expected {n_clusters}.",
            hint=f"pass n_clusters={n_clusters} to KMeans.",
        )
    agreement = adjusted_rand_score(truth, labels)
    routes = {
        "asked": (features, True),
        "unscaled": (features, False),
        "every column, scaled": (list(X.columns), True),
        "every column, unscaled": (list(X.columns), False),
    }
    for route, (columns, scaled) in routes.items():
        if set(columns) == set(features) and route != "asked" and scaled:
            continue
        reference = _kmeans_labels(X[columns], n_clusters, scaled=scaled)
        if adjusted_rand_score(reference, labels) < 0.99:
            continue
        if route == "asked":
            if agreement < min_agreement:  # only when the exercise's own target is unreachable
                break
            return correct(
                f"the clusters agree with the species (adjusted Rand index {agreement:.2f}) "
                "without ever seeing them."
            )
        extra = [name for name in X.columns if name not in features]
        if route == "unscaled":
            message = "these are the clusters of the raw, unscaled measurements"
        elif route == "every column, scaled":
            message = f"these clusters also use {', '.join(extra)}, which the exercise drops"
        else:
            message = (f"these clusters use every column ({', '.join(extra)} too), unscaled")
        return wrong(
            f"{message}: they agree with the species at only {agreement:.2f} (adjusted Rand "
            "index).",
            hint="unscaled, a column in grams outweighs the millimetres: use "
            f"make_pipeline(StandardScaler(), KMeans(...)) on X[{features!r}].",
        )
    return wrong(
        f"the clusters agree little with the species (adjusted Rand index {agreement:.2f}, "
        f"target {min_agreement:.2f}).",
        hint="scale the features first (unscaled, body mass in grams outweighs everything "
        f"else), and cluster on {features} only.",
    )


def _kmeans_labels(X: Any, n_clusters: int, *, scaled: bool) -> np.ndarray:
    from sklearn.cluster import KMeans
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    kmeans = KMeans(n_clusters=n_clusters, n_init=10, random_state=0)
    model = make_pipeline(StandardScaler(), kmeans) if scaled else kmeans
    return np.asarray(model.fit_predict(X))
