import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
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
        ("2", "`best_k` is the text '2', not a whole number of clusters"),
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
        ("too few rows", "`labels` has 10 labels, but there are 342 penguins"),
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


# Malformed answers: each kind a beginner writes gets its own message, never the safety net.


@pytest.mark.parametrize(
    ("make_answer", "says"),
    [
        (lambda s: s["silhouette"], "a Series of 7 values: a whole column, not one k"),
        (lambda s: s, "the whole table, not one k"),
        (lambda s: [2], "a list holding one value; give the number itself"),
        (lambda s: np.array([2]), "holding one value"),
        (lambda s: s.index, "the question asks for one k"),
        (lambda s: (2, 0.53), "the question asks for one k"),
        (lambda s: None, "`best_k` is None, not a whole number"),
        (lambda s: True, "`best_k` is True, not a whole number"),
        (lambda s: float("nan"), "`best_k` is nan"),
        (lambda s: 2.5, "k counts clusters: a whole number"),
    ],
)
def test_best_k_answers_a_malformed_k(scores, make_answer, says):
    feedback = checks.best_k(make_answer(scores), scores)
    assert not feedback.passed
    assert says in feedback.message, feedback
    assert feedback.hint and feedback.error == ""


def test_no_best_k_hint_writes_the_answer_line(scores):
    best = float(scores["silhouette"].max())
    for answer in (8, best, 0, 3, 5, 20, "2", scores["silhouette"]):
        feedback = checks.best_k(answer, scores)
        assert "idxmax" not in feedback.hint, feedback


MALFORMED = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6),
    st.lists(st.one_of(st.integers(), st.floats(allow_nan=True)), max_size=4),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.sampled_from(["model", "unfitted", "table", "column", "nan labels", "species",
                     "measurements", "short"]),
)


@pytest.fixture(scope="module")
def objects(penguin_rows, scores):
    X, species = penguin_rows
    fitted = kmeans().fit(X[THREE])
    return {
        "model": fitted,
        "unfitted": kmeans(),
        "table": scores,
        "column": scores["silhouette"],
        "nan labels": np.full(len(X), np.nan),
        "species": species,
        "measurements": X[THREE],
        "short": fitted.predict(X[THREE])[:5],
    }


def _materialise(value, objects):
    return objects.get(value, value) if isinstance(value, str) else value


@settings(max_examples=30, deadline=None)
@given(answer=MALFORMED)
def test_any_k_gets_feedback_never_an_exception(scores, objects, answer):
    answer = _materialise(answer, objects)
    feedback = checks.best_k(answer, scores)
    assert isinstance(feedback, checks.Feedback)
    assert feedback.passed == (isinstance(answer, int | float) and answer == 2)
    assert feedback.error == "", feedback


@pytest.mark.parametrize(
    ("make_labels", "says"),
    [
        (lambda X, o: o["model"], "a Pipeline: the clustering model, not its labels"),
        (lambda X, o: o["unfitted"], "the clustering model, not its labels"),
        (lambda X, o: None, "`labels` is None, not one cluster label per penguin"),
        (lambda X, o: 3, "is the number 3, not one cluster label per penguin"),
        (lambda X, o: o["nan labels"], "contains 342 missing labels (NaN)"),
        (lambda X, o: o["model"].predict(X[THREE]).reshape(-1, 1), "one column, but in a 2-D"),
        (lambda X, o: pd.DataFrame({"cluster": o["model"].predict(X[THREE])}), "in a 2-D"),
        (lambda X, o: X[THREE], "the measurements themselves"),
        (lambda X, o: o["model"].transform(X[THREE]), "distances from transform?"),
        (lambda X, o: o["short"], "`labels` has 5 labels, but there are 342 penguins"),
    ],
)
def test_clusters_match_answers_malformed_labels(penguin_rows, objects, make_labels, says):
    X, species = penguin_rows
    feedback = check(make_labels(X, objects), species, X)
    assert not feedback.passed
    assert says in feedback.message, feedback
    assert feedback.hint and feedback.error == ""


@settings(max_examples=30, deadline=None)
@given(labels=MALFORMED)
def test_any_labels_get_feedback_never_an_exception(penguin_rows, objects, labels):
    X, species = penguin_rows
    feedback = check(_materialise(labels, objects), species, X)
    assert isinstance(feedback, checks.Feedback) and not feedback.passed
    assert feedback.error == "", feedback
