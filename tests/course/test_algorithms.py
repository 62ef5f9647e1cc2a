import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from sklearn.tree import DecisionTreeClassifier

from course import algorithms, plots


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def blobs():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"width": np.r_[rng.normal(0, 1, 20), rng.normal(4, 1, 20)],
                      "height": np.r_[rng.normal(0, 1, 20), rng.normal(4, 1, 20)]})
    return X, pd.Series(["small"] * 20 + ["big"] * 20)


def test_gallery_has_one_seeded_model_per_family():
    gallery = algorithms.classifier_gallery()
    assert len(gallery) == 8
    assert {"logistic regression", "naive Bayes", "gradient boosting", "neural network"} <= set(
        gallery
    )
    for model in gallery.values():
        seeds = [value for key, value in model.get_params().items() if key.endswith("random_state")]
        assert all(seed == 0 for seed in seeds)


def test_decision_boundaries_draw_one_titled_panel_per_model_without_changing_them(blobs):
    X, y = blobs
    tree = DecisionTreeClassifier(max_depth=1, random_state=0)
    models = {"tree": tree, "deeper tree": DecisionTreeClassifier(random_state=0)}
    figure = algorithms.plot_decision_boundaries(models, X, y, title="Two trees", columns=4)
    assert [ax.get_title() for ax in figure.axes] == ["tree", "deeper tree"]
    assert not hasattr(tree, "classes_")  # a clone was fitted, not the model passed in
    first = figure.axes[0]
    assert (first.get_xlabel(), first.get_ylabel()) == ("width", "height")
    markers = {collection.get_label(): collection for collection in first.collections
               if collection.get_label() in ("big", "small")}
    assert sorted(markers) == ["big", "small"]  # one marker set per class, named in the legend
    assert figure._suptitle.get_text() == "Two trees"
    regions = first.collections[0]  # the shaded regions: a hatch per class, not colour only
    assert list(regions.hatches) == plots.HATCHES[:2]


def test_decision_boundaries_refuse_what_cannot_be_drawn_flat(blobs):
    X, y = blobs
    tree = {"tree": DecisionTreeClassifier(random_state=0)}
    with pytest.raises(ValueError, match="exactly two"):
        algorithms.plot_decision_boundaries(tree, X.assign(depth=1.0), y, title="x")
    with pytest.raises(ValueError, match="missing values"):
        algorithms.plot_decision_boundaries(tree, X.where(X > -2), y, title="x")
    with pytest.raises(ValueError, match="one label per row"):
        algorithms.plot_decision_boundaries(tree, X, y[:-1], title="x")
    with pytest.raises(ValueError, match="at least one model"):
        algorithms.plot_decision_boundaries({}, X, y, title="x")
