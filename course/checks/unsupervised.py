"""Checks for notebook 08: unsupervised learning."""

from __future__ import annotations

from typing import Any

import numpy as np

from course.checks._answers import expect_number
from course.checks._feedback import Feedback, Mistake, correct, require_answer, wrong
from course.checks._guard import check, describe
from course.checks._quiz import Question, Quiz


@check
def best_k(answer: Any, scores: Any) -> Feedback:
    """Check the number of clusters with the highest silhouette in a ``cluster_scores`` table."""
    require_answer("best_k", answer)
    silhouette = scores["silhouette"]
    expected = int(silhouette.idxmax())
    answer = _one_k(answer)
    if answer == expected:
        return correct(f"k = {expected} has the highest silhouette, {silhouette[expected]:.3f}.")
    if np.isclose(answer, silhouette.max()):
        return wrong(
            f"{answer:.3f} is the highest silhouette itself, not the k that reaches it.",
            hint="ask for the label of the best row (its k), not the value in it.",
            mistake="silhouette-not-k",
        )
    if not answer.is_integer():
        return wrong(
            f"`best_k` is {answer:g}, but k counts clusters: a whole number.",
            hint="read k from the table's index (its row labels), not from a column's values.",
            mistake="not-whole-number",
        )
    answer = int(answer)
    if answer not in scores.index:
        if answer == int(np.argmax(silhouette.to_numpy())):
            return wrong(
                f"{answer} is the position of the best row in the table (counting from 0), "
                "not its k.",
                hint="the table's index is k: ask for the best row's label, not its position.",
                mistake="row-position-not-k",
            )
        return wrong(
            f"k = {answer} was not scored.", hint=f"pick one of {list(scores.index)}.",
            mistake="k-not-scored",
        )
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
            mistake="lowest-inertia-or-silhouette",
        )
    if answer == _elbow(scores["inertia"]):
        return wrong(
            f"k = {answer} is where the inertia bends (the elbow), but the exercise asks for the "
            "silhouette's choice.",
            hint="read the silhouette column only: its highest value.",
            mistake="elbow-not-silhouette",
        )
    return wrong(
        f"k = {answer} has a silhouette of {silhouette[answer]:.3f}; another is higher.",
        hint="read the silhouette column and find the k (the index) of its highest value.",
        mistake="not-highest-silhouette",
    )


def _one_k(answer: Any) -> float:
    """The answer as a number of clusters, or a Mistake saying what it is instead."""
    import pandas as pd

    if isinstance(answer, pd.DataFrame):
        raise Mistake(wrong(
            f"`best_k` is {describe(answer)}: the whole table, not one k.",
            hint="keep the silhouette column, then the k of its highest value.",
            mistake="whole-table",
        ))
    if isinstance(answer, pd.Series):
        raise Mistake(wrong(
            f"`best_k` is {describe(answer)}: a whole column, not one k.",
            hint="of that column, keep the label (the k) of the highest value.",
            mistake="whole-column",
        ))
    if isinstance(answer, list | tuple | np.ndarray | pd.Index) and np.size(answer) == 1:
        raise Mistake(wrong(
            f"`best_k` is a {type(answer).__name__} holding one value; give the number itself.",
            hint="take the value out of its brackets: a plain number, like 5.",
            mistake="k-in-container",
        ))
    if isinstance(answer, list | tuple | np.ndarray | pd.Index):
        raise Mistake(wrong(
            f"`best_k` is {describe(answer)}; the question asks for one k.",
            hint="one number: the k with the highest silhouette.",
            mistake="not-one-k",
        ))
    return expect_number("best_k", answer, what="a whole number of clusters")


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
    require_answer("labels", labels)
    from sklearn.metrics import adjusted_rand_score

    labels, truth = _labels(labels, X, features), np.asarray(truth)
    if len(labels) != len(truth):
        return wrong(
            f"`labels` has {len(labels)} labels, but there are {len(truth)} penguins: one "
            "label per row of `X`.",
            hint="cluster the rows of `X` itself (its chosen columns), not a sample or another "
            "table.",
            mistake="wrong-label-count",
        )
    if labels.dtype.kind == "f" and np.isnan(labels).any():
        return wrong(
            f"`labels` contains {int(np.isnan(labels).sum())} missing labels (NaN).",
            hint="every penguin gets a cluster from fit_predict: print the step that made NaN.",
            mistake="missing-labels",
        )
    if set(np.unique(labels)) <= set(np.unique(truth)) or adjusted_rand_score(truth, labels) == 1:
        return wrong(
            "these labels are the species themselves (or a renumbering of them): the clustering "
            "must find the groups without ever seeing the answers.",
            hint="cluster the measurements only: fit_predict(X[three]), with no species column.",
            mistake="species-as-labels",
        )
    found = len(np.unique(labels))
    if found != n_clusters:
        return wrong(
            f"the rows fall into {found} cluster{'' if found == 1 else 's'}, expected "
            f"{n_clusters}.",
            hint=f"pass n_clusters={n_clusters} to KMeans.",
            mistake="wrong-cluster-count",
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
            mistake = "not-scaled"
            message = "these are the clusters of the raw, unscaled measurements"
        elif route == "every column, scaled":
            mistake = "extra-columns"
            message = f"these clusters also use {', '.join(extra)}, which the exercise drops"
        else:
            mistake = "extra-columns-not-scaled"
            message = (f"these clusters use every column ({', '.join(extra)} too), unscaled")
        return wrong(
            f"{message}: they agree with the species at only {agreement:.2f} (adjusted Rand "
            "index).",
            hint="unscaled, the columns with the largest numbers (body mass in grams, flipper "
            "length in hundreds of mm) decide the distances alone: put a StandardScaler before "
            "KMeans in a pipeline, and give it only the columns in `features`.",
            mistake=mistake,
        )
    return wrong(
        f"the clusters agree little with the species (adjusted Rand index {agreement:.2f}, "
        f"target {min_agreement:.2f}).",
        hint="scale the features first (unscaled, body mass in grams outweighs everything "
        f"else), and cluster on {features} only.",
        mistake="low-agreement",
    )


def _labels(labels: Any, X: Any, features: list[str]) -> np.ndarray:
    """The answer as a flat array of labels, or a Mistake saying what it is instead."""
    from sklearn.base import BaseEstimator

    if isinstance(labels, BaseEstimator | type):
        raise Mistake(wrong(
            f"`labels` is {describe(labels)}: the clustering model, not its labels.",
            hint="fit_predict(...) fits the model and returns one label per penguin.",
            mistake="model-not-labels",
        ))
    if labels is None or isinstance(labels, str | bool | int | float | dict | set):
        raise Mistake(wrong(
            f"`labels` is {describe(labels)}, not one cluster label per penguin.",
            hint="a clustering pipeline's fit_predict(...) returns one label per row.",
            mistake="not-labels",
        ))
    array = np.asarray(labels)
    if array.ndim == 2 and array.shape[1] == 1:
        raise Mistake(wrong(
            f"`labels` is {describe(labels)}: one column, but in a 2-D table.",
            hint="give a flat list of labels (.ravel() flattens it), as fit_predict returns.",
            mistake="labels-in-2d-table",
        ))
    if array.ndim == 2:
        table = X[features] if hasattr(X, "__getitem__") else None
        try:
            same = table is not None and array.shape == table.shape and np.allclose(
                np.asarray(array, dtype=float), table.to_numpy(dtype=float), equal_nan=True)
        except (TypeError, ValueError):  # text in the table: not the measurements
            same = False
        what = ("the measurements themselves" if same else
                "a number per cluster for each penguin (distances from transform?)")
        raise Mistake(wrong(
            f"`labels` is {describe(labels)}: {what}, not one label per penguin.",
            hint="fit_predict(...) gives each penguin the number of its cluster.",
            mistake="table-not-labels",
        ))
    if array.ndim != 1:
        raise Mistake(wrong(
            f"`labels` is {describe(labels)}, not one cluster label per penguin.",
            hint="a clustering pipeline's fit_predict(...) returns one label per row.",
            mistake="not-labels",
        ))
    if array.dtype == object:
        array = np.array([str(label) for label in array])
    return array


def _kmeans_labels(X: Any, n_clusters: int, *, scaled: bool) -> np.ndarray:
    from sklearn.cluster import KMeans
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    kmeans = KMeans(n_clusters=n_clusters, n_init=10, random_state=0)
    model = make_pipeline(StandardScaler(), kmeans) if scaled else kmeans
    return np.asarray(model.fit_predict(X))


QUIZ = Quiz((
    Question(
        answer="c",
        why="K-Means gives each row to the nearest centre, and unscaled, a difference of "
        "1,000 euros outweighs any difference in visits (at most 30): the clusters become bands "
        "of spending. Scale first, so each column counts alike.",
        wrong={
            "a": "\"nearest\" is a distance, and distances add up the raw numbers: a column in "
            "thousands drowns one in tens.",
            "b": "how many distinct values a column has does not matter; the size of its "
            "numbers does, and spend's are a thousand times larger.",
            "d": "K-Means runs on any numbers without complaint: that is why the mistake is "
            "easy to make and hard to see.",
        },
    ),
    Question(
        answer="b",
        why="inertia always falls as k grows (with one cluster per customer it is 0), so its "
        "minimum is simply the largest k tried. Look for the elbow, where adding a cluster "
        "stops helping much, or use the silhouette.",
        wrong={
            "a": "the lowest inertia always goes to the largest k: by that rule, every point "
            "would be its own cluster.",
            "c": "the highest inertia is the loosest grouping, always the smallest k: no better "
            "a rule than the lowest.",
            "d": "inertia is defined for every k; it is read for its elbow, never for its "
            "minimum.",
        },
    ),
    Question(
        answer="d",
        why="the two runs put the same rows together, only the numbers on the groups differ. "
        "The adjusted Rand index compares groupings, not names: 1 for the same grouping.",
        wrong={
            "a": "cluster numbers are arbitrary names; comparing them one by one misses that "
            "the groups themselves are the same.",
            "b": "counting matching numbers would give 0 here (none of the four rows has the "
            "same number), and the index does not count matches: it compares who is grouped "
            "with whom.",
            "c": "a negative index means less agreement than chance; these groupings agree "
            "completely.",
        },
    ),
    Question(
        answer="a",
        why="the silhouette measures how compact and separated groups are, not what they "
        "mean: Gentoos against the rest is the clearest split. Choosing k is a judgement, "
        "informed by the scores and by what the groups are for.",
        wrong={
            "b": "the silhouette is right about what it measures: two groups are more clearly "
            "apart than three. It just does not know what a species is.",
            "c": "the labels say three species; the measurements separate two of them less "
            "clearly, which is all the score sees.",
            "d": "the elbow is a soft, often ambiguous bend; no score decides k alone, and here "
            "the two disagree.",
        },
    ),
    Question(
        answer="c",
        why="a test set measures how well predictions match known answers; with no labels "
        "there is no accuracy to compute. Judge clusters by silhouette and inertia, and by "
        "whether the groups make sense and are useful.",
        wrong={
            "a": "holding out rows makes sense when there are answers to predict; here nothing "
            "can be compared with the clusters of the held-out customers.",
            "b": "stratifying needs a label to keep in proportion, which is exactly what the "
            "shop does not have.",
            "d": "cross-validated accuracy also needs the right answers for each fold.",
        },
    ),
    Question(
        answer="b",
        why="K-Means starts from random centres and can settle in different groupings. "
        "n_init=10 runs it ten times and keeps the tightest result; random_state fixes the "
        "starts so that every run gives the same groups.",
        wrong={
            "a": "different results from different random starts are how K-Means works, not "
            "a bug; n_init and random_state control it.",
            "c": "the data did not change between the two runs; only the random starting "
            "centres did.",
            "d": "StandardScaler is not random: it always subtracts the same mean and divides "
            "by the same spread.",
        },
    ),
))
"""Notebook 08's quiz: its questions are in the notebook's last markdown cell."""
