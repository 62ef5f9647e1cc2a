
import pandas as pd
import pytest
from sklearn.cluster import KMeans
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from course import checks, recipes
from course.clustering import cluster_scores

MEASUREMENTS = recipes.PENGUIN_NUMERIC


@pytest.fixture(scope="module")
def scores(penguins):
    X = penguins[MEASUREMENTS].dropna()
    model = make_pipeline(StandardScaler(), KMeans(n_init=10, random_state=0))
    return cluster_scores(model, X, range(2, 8))


def test_best_k_names_the_mistake(scores):
    best = int(scores["silhouette"].idxmax())
    assert checks.best_k(best, scores).passed
    worst = int(scores["silhouette"].idxmin())
    assert "*lowest* silhouette" in checks.best_k(worst, scores).message
    assert "was not scored" in checks.best_k(20, scores).message
    assert "should be a whole number" in checks.best_k("2", scores).message
    table = pd.DataFrame(
        {"inertia": [9.0, 5.0, 4.0, 3.0], "silhouette": [0.5, 0.6, 0.4, 0.45]},
        index=pd.Index([2, 3, 4, 5], name="k"),
    )
    assert "inertia always falls" in checks.best_k(5, table).message


def test_clusters_match_rewards_scaling(penguins):
    rows = penguins.dropna(subset=MEASUREMENTS)
    X, species = rows[MEASUREMENTS], rows["species"]
    scaled = make_pipeline(StandardScaler(), KMeans(3, n_init=10, random_state=0)).fit_predict(X)
    raw = KMeans(3, n_init=10, random_state=0).fit_predict(X)
    assert checks.clusters_match(scaled, species, n_clusters=3, min_agreement=0.6).passed
    feedback = checks.clusters_match(raw, species, n_clusters=3, min_agreement=0.6)
    assert "scale the features first" in feedback.hint
    feedback = checks.clusters_match(raw % 2, species, n_clusters=3, min_agreement=0.6)
    assert "2 clusters, expected 3" in feedback.message
    feedback = checks.clusters_match(raw[:10], species, n_clusters=3, min_agreement=0.6)
    assert "one cluster label per row (342)" in feedback.message
