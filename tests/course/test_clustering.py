import numpy as np
import pytest
from sklearn.cluster import DBSCAN, AgglomerativeClustering, KMeans
from sklearn.datasets import make_blobs
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from course.clustering import cluster_scores


@pytest.fixture(scope="module")
def blobs():
    """Four well-separated groups: the silhouette must peak at k = 4."""
    X, _ = make_blobs(n_samples=200, centers=4, cluster_std=0.6, random_state=0)
    return X


def test_the_silhouette_peaks_at_the_true_number_of_groups(blobs):
    scores = cluster_scores(KMeans(n_init=10, random_state=0), blobs, range(2, 8))
    assert list(scores.index) == [2, 3, 4, 5, 6, 7]
    assert list(scores.columns) == ["inertia", "silhouette"]
    assert scores["silhouette"].idxmax() == 4


def test_inertia_falls_as_k_grows_with_an_elbow_at_the_true_k(blobs):
    inertia = cluster_scores(KMeans(n_init=10, random_state=0), blobs, range(2, 8))["inertia"]
    assert inertia.is_monotonic_decreasing
    drops = -inertia.diff()
    # Going from 3 to 4 clusters still helps a lot; from 4 to 5 hardly at all.
    assert drops[4] > 5 * drops[5]


def test_a_pipeline_is_scored_on_the_data_its_clusterer_sees(blobs):
    stretched = blobs * np.array([1000.0, 1.0])  # one feature dwarfs the other until scaled
    model = make_pipeline(StandardScaler(), KMeans(n_init=10, random_state=0))
    scores = cluster_scores(model, stretched, [4])
    scaled = StandardScaler().fit_transform(stretched)
    expected = cluster_scores(KMeans(n_init=10, random_state=0), scaled, [4])
    np.testing.assert_allclose(scores.to_numpy(), expected.to_numpy())


def test_the_model_passed_in_stays_unfitted(blobs):
    model = KMeans(n_init=10, random_state=0)
    cluster_scores(model, blobs, [2, 3])
    assert not hasattr(model, "cluster_centers_")
    assert model.n_clusters == 8


def test_a_clusterer_without_inertia_still_gets_a_silhouette(blobs):
    scores = cluster_scores(AgglomerativeClustering(), blobs, [3, 4])
    assert scores["inertia"].isna().all()
    assert scores["silhouette"].idxmax() == 4


@pytest.mark.parametrize(
    ("model", "says"),
    [
        (LogisticRegression(), "needs a clusterer such as KMeans"),
        (make_pipeline(StandardScaler(), LogisticRegression()), "got LogisticRegression"),
        (DBSCAN(), "does not take n_clusters"),
    ],
)
def test_a_model_that_cannot_be_scanned_over_k_is_refused(blobs, model, says):
    with pytest.raises(TypeError, match=says):
        cluster_scores(model, blobs, [2, 3])


@pytest.mark.parametrize("ks", [[], [1, 2], [2, 200], [2.5], [True]])
def test_impossible_numbers_of_clusters_are_refused(blobs, ks):
    with pytest.raises(ValueError, match="ks must be whole numbers from 2 to 199"):
        cluster_scores(KMeans(n_init=10, random_state=0), blobs, ks)
