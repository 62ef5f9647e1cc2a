"""Checks for notebook 08: unsupervised learning."""

from __future__ import annotations

from typing import Any

import numpy as np

from course.checks._feedback import Feedback, correct, is_number, require_answer, wrong


def best_k(answer: Any, scores: Any) -> Feedback:
    """Check the number of clusters with the highest silhouette in a ``cluster_scores`` table."""
    require_answer("best_k", answer)
    expected = int(scores["silhouette"].idxmax())
    if not is_number(answer):
        return wrong(
            f"the answer should be a whole number, got {type(answer).__name__} {answer!r}.",
            hint="read the k with the highest silhouette.",
        )
    if answer == expected:
        return correct(
            f"k = {expected} has the highest silhouette, {scores['silhouette'][expected]:.3f}."
        )
    if answer not in scores.index:
        return wrong(f"k = {answer} was not scored.", hint=f"pick one of {list(scores.index)}.")
    if answer == int(scores["silhouette"].idxmin()):
        return wrong(
            f"k = {answer} has the *lowest* silhouette.",
            hint="a higher silhouette means tighter, better separated clusters.",
        )
    if answer == int(scores["inertia"].idxmin()):
        return wrong(
            f"k = {answer} has the lowest inertia, but inertia always falls as k grows.",
            hint="judge by the silhouette, which does not reward more clusters.",
        )
    return wrong(
        f"k = {answer} has a silhouette of {scores['silhouette'][answer]:.3f}; another is higher.",
        hint="scores['silhouette'].idxmax() gives the best k.",
    )


def clusters_match(labels: Any, truth: Any, *, n_clusters: int, min_agreement: float) -> Feedback:
    """Check cluster labels against the true classes with the adjusted Rand index."""
    require_answer("clusters", labels)
    from sklearn.metrics import adjusted_rand_score

    labels, truth = np.asarray(labels), np.asarray(truth)
    if labels.ndim != 1 or len(labels) != len(truth):
        return wrong(
            f"expected one cluster label per row ({len(truth)}), got shape {labels.shape}.",
            hint="clusters = model.fit_predict(X) on the rows of the whole table.",
        )
    found = len(np.unique(labels))
    if found != n_clusters:
        return wrong(
            f"the rows fall into {found} clusters, expected {n_clusters}.",
            hint=f"pass n_clusters={n_clusters} to KMeans.",
        )
    agreement = adjusted_rand_score(truth, labels)
    if agreement >= min_agreement:
        return correct(
            f"the clusters agree with the species (adjusted Rand index {agreement:.2f}) without "
            "ever seeing them."
        )
    return wrong(
        f"the clusters agree little with the species (adjusted Rand index {agreement:.2f}, "
        f"target {min_agreement:.2f}).",
        hint="scale the features first (unscaled, body mass in grams outweighs everything "
        "else), and cluster on the measurements that separate the species (notebook 03).",
    )
