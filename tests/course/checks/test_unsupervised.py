import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from course import checks, recipes
from course.checks import Verdict
from course.clustering import cluster_scores

MEASUREMENTS = recipes.PENGUIN_NUMERIC
THREE = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm"]


@pytest.fixture(scope="module")
def scores(penguins):
    X = penguins[MEASUREMENTS].dropna()
    model = make_pipeline(StandardScaler(), KMeans(n_init=10, random_state=0))
    return cluster_scores(model, X, range(2, 9))  # notebook 08's table


def test_best_k_passes_the_highest_silhouette(scores):
    assert checks.best_k(scores["silhouette"].idxmax(), scores).passed
    assert checks.best_k(2, scores).passed
    feedback = checks.best_k(..., scores)
    assert feedback.verdict is Verdict.NOT_ANSWERED


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (8, "lowest inertia"),  # scores["inertia"].idxmin(): always the largest k tried
        (8, "*lowest* silhouette"),  # scores["silhouette"].idxmin()
        (0.532, "the highest silhouette itself"),  # .max() instead of .idxmax()
        (0, "position of the best row"),  # .argmax(): a position, not a k
        (3, "the elbow"),  # the elbow's choice, not the silhouette's
        (5, "another is higher"),
        (20, "was not scored"),
        ("2", "should be a whole number"),
    ],
)
def test_best_k_names_the_mistake(scores, answer, says):
    if isinstance(answer, float):
        answer = float(scores["silhouette"].max())
    feedback = checks.best_k(answer, scores)
    assert not feedback.passed
    assert says in feedback.message


def test_best_k_tells_inertia_from_silhouette_when_they_differ():
    table = pd.DataFrame(
        {"inertia": [9.0, 5.0, 4.0, 3.0], "silhouette": [0.5, 0.6, 0.4, 0.45]},
        index=pd.Index([2, 3, 4, 5], name="k"),
    )
    assert "inertia always falls" in checks.best_k(5, table).message
    assert "*lowest* silhouette" in checks.best_k(4, table).message
    assert "inertia" not in checks.best_k(4, table).message


@pytest.fixture(scope="module")
def penguin_rows(penguins):
    rows = penguins.dropna(subset=MEASUREMENTS)
    return rows[MEASUREMENTS], rows["species"]


def kmeans(k=3, *, scaled=True, random_state=0):
    model = KMeans(n_clusters=k, n_init=10, random_state=random_state)
    return make_pipeline(StandardScaler(), model) if scaled else model


def check(labels, species, X):
    return checks.clusters_match(
        labels, species, X=X, features=THREE, n_clusters=3, min_agreement=0.9
    )


def test_clusters_match_passes_the_answer(penguin_rows):
    X, species = penguin_rows
    feedback = check(kmeans().fit_predict(X[THREE]), species, X)
    assert feedback.passed and "adjusted Rand index 0.92" in feedback.message
    # The statement fixes random_state=0 for stable outputs; another seed finds the same groups.
    assert check(kmeans(random_state=1).fit_predict(X[THREE]), species, X).passed
    # The clusters do not depend on how they are numbered.
    assert check(2 - kmeans().fit_predict(X[THREE]), species, X).passed
    feedback = check(..., species, X)
    assert feedback.verdict is Verdict.NOT_ANSWERED


@pytest.mark.parametrize(
    ("mistake", "says"),
    [
        ("unscaled", "raw, unscaled measurements"),
        ("body mass kept", "also use body_mass_g, which the exercise drops"),
        ("all unscaled", "use every column (body_mass_g too), unscaled"),
        ("k=2", "2 clusters, expected 3"),
        ("species", "are the species themselves"),
        ("species codes", "are the species themselves"),
        ("too few rows", "one cluster label per row (342)"),
        ("wrong features", "agree little with the species"),
    ],
)
def test_clusters_match_names_the_mistake(penguin_rows, mistake, says):
    X, species = penguin_rows
    labels = {
        "unscaled": lambda: kmeans(scaled=False).fit_predict(X[THREE]),
        "body mass kept": lambda: kmeans().fit_predict(X),
        "all unscaled": lambda: kmeans(scaled=False).fit_predict(X),
        "k=2": lambda: kmeans(2).fit_predict(X[THREE]),
        "species": lambda: species.to_numpy(),
        "species codes": lambda: species.factorize()[0],
        "too few rows": lambda: kmeans().fit_predict(X[THREE])[:10],
        "wrong features": lambda: kmeans().fit_predict(X[["bill_depth_mm", "body_mass_g"]]),
    }[mistake]()
    feedback = check(labels, species, X)
    assert not feedback.passed
    assert says in feedback.message
    assert feedback.hint


def test_clusters_match_hints_at_scaling_for_unscaled_clusters(penguin_rows):
    X, species = penguin_rows
    feedback = check(np.asarray(kmeans(scaled=False).fit_predict(X[THREE])), species, X)
    assert "StandardScaler" in feedback.hint
