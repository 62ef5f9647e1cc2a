import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from course import plots
from course.rl import Action, GridWorld


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_plot_images_titles_every_image():
    figure = plots.plot_images(np.zeros((12, 64)), [str(i) for i in range(12)], title="Digits")
    titled = [ax.get_title() for ax in figure.axes if ax.get_title()]
    assert titled == [str(i) for i in range(12)]
    assert figure._suptitle.get_text() == "Digits"
    assert len(figure.axes) == 20  # two rows of ten, the spare panels left blank
    with pytest.raises(ValueError, match="2 images but 1 titles"):
        plots.plot_images(np.zeros((2, 64)), ["a"], title="x")


def test_plot_training_history_labels_axes_and_curves():
    ax = plots.plot_training_history(
        {"accuracy": [0.5, 0.8], "val_accuracy": [0.4, 0.7]}, title="Training"
    )
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("epoch", "accuracy", "Training")
    assert [line.get_label() for line in ax.get_lines()] == ["training", "validation"]
    with pytest.raises(ValueError, match='metrics=\\["accuracy"\\]'):
        plots.plot_training_history({"loss": [1.0]}, title="x")


def test_plot_returns_smooths_each_curve():
    ax = plots.plot_returns({"a": np.ones(30), "b": np.zeros(30)}, title="Learning", window=10)
    first = ax.get_lines()[0]
    assert len(first.get_xdata()) == 21
    assert np.allclose(first.get_ydata(), 1.0)
    assert "mean of last 10" in ax.get_ylabel()
    styles = [line.get_linestyle() for line in ax.get_lines()]
    assert styles[0] != styles[1]  # colour is not the only cue


def test_plot_policy_draws_an_arrow_per_open_state_and_labels_the_ends():
    env = GridWorld()
    ax = plots.plot_policy(env, np.full(env.n_states, Action.RIGHT), title="Policy", path=[2, 3])
    open_states = sum(env.cell(s) in ".S" for s in range(env.n_states))
    assert len(ax.patches) == open_states + 2  # arrows plus the two shaded path cells
    labels = {text.get_text() for text in ax.texts}
    assert {"coin", "goal", "start"} <= labels
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("column", "row")


def test_plot_images_can_centre_the_colour_scale_on_zero():
    weights = np.linspace(-1.0, 3.0, 64).reshape(1, 64)
    figure = plots.plot_images(weights, title="Weights", cmap="RdBu_r", centered=True)
    assert figure.axes[0].get_images()[0].get_clim() == (-3.0, 3.0)


def test_show_prints_the_description_as_the_figures_text(capsys):
    plt.subplots()
    plots.show("The Gentoos  stand apart\n with longer flippers.")
    assert capsys.readouterr().out == "Figure: The Gentoos stand apart with longer flippers.\n"
    with pytest.raises(ValueError, match="describe the figure"):
        plots.show("  ")


def test_accessible_style_makes_the_palette_the_default_cycle():
    plots.use_accessible_style()
    assert plt.rcParams["axes.prop_cycle"].by_key()["color"] == plots.PALETTE
    assert len(plots.MARKERS) == len(plots.HATCHES) == len(plots.PALETTE)


def test_histograms_share_their_bins_and_tell_groups_apart_without_colour():
    import pandas as pd

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"size": np.r_[rng.normal(0, 1, 50), rng.normal(5, 1, 30)],
                          "kind": ["a"] * 50 + ["b"] * 30})
    ax = plots.plot_histograms(frame, "size", by="kind", title="Sizes", xlabel="size")
    first, second = ax.patches  # one step outline per group
    assert first.get_hatch() != second.get_hatch()
    edges = {tuple(np.round(patch.get_path().vertices[::2, 0], 9)) for patch in ax.patches}
    assert len(edges) == 1  # both groups drawn on the same bin edges
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["a", "b"]


def test_plot_search_draws_each_value_with_its_spread():
    from sklearn.datasets import make_classification
    from sklearn.model_selection import GridSearchCV
    from sklearn.tree import DecisionTreeClassifier

    X, y = make_classification(n_samples=120, random_state=0)
    search = GridSearchCV(DecisionTreeClassifier(random_state=0), {"max_depth": [1, 2, 3]}, cv=3)
    ax = plots.plot_search(search.fit(X, y), "max_depth", title="Depth", xlabel="max_depth")
    line, _, (bars,) = ax.containers[0].lines
    np.testing.assert_allclose(line.get_ydata(), search.cv_results_["mean_test_score"])
    assert len(bars.get_segments()) == 3  # one error bar per value tried
    with pytest.raises(ValueError, match=r"did not try 'min_samples_leaf'.*\['max_depth'\]"):
        plots.plot_search(search, "min_samples_leaf", title="x", xlabel="x")


def test_plot_learning_curve_has_error_bars_and_two_markers():
    scores = np.array([[0.8, 0.9], [0.85, 0.95]])
    ax = plots.plot_learning_curve([10, 20], scores, scores - 0.1, title="Curve")
    markers = [container.lines[0].get_marker() for container in ax.containers]
    assert markers == ["o", "s"]
    assert ax.get_xlabel() == "number of training rows"


def test_plot_cv_scores_draws_each_model_with_its_spread_and_the_tie_band():
    scores = {"baseline": [0.4, 0.5], "tree": [0.9, 0.95, 1.0], "forest": [0.96, 0.98, 1.0]}
    ax = plots.plot_cv_scores(scores, title="Models")
    line, _, (bars,) = ax.containers[0].lines
    np.testing.assert_allclose(line.get_xdata(), [0.45, 0.95, 0.98])
    assert len(bars.get_segments()) == 3  # one error bar per model
    assert [label.get_text() for label in ax.get_yticklabels()] == list(scores)
    band, spread = ax.patches[0], np.std([0.96, 0.98, 1.0])
    np.testing.assert_allclose([band.get_x(), band.get_x() + band.get_width()],
                               [0.98 - spread, 0.98 + spread])
    with pytest.raises(ValueError, match="no scores"):
        plots.plot_cv_scores({}, title="x")


def test_plot_training_history_tells_the_curves_apart_without_colour():
    ax = plots.plot_training_history(
        {"accuracy": [0.5, 0.8], "val_accuracy": [0.4, 0.7]}, title="Training"
    )
    assert [line.get_linestyle() for line in ax.get_lines()] == ["-", "--"]


def test_plot_intervals_draws_one_marked_error_bar_per_model():
    ax = plots.plot_intervals(
        {"pixels": (0.96, 0.93, 0.98), "network": (0.97, 0.94, 0.99)},
        title="Compare", xlabel="validation accuracy",
    )
    assert [label.get_text() for label in ax.get_yticklabels()] == ["pixels", "network"]
    assert [text.get_text() for text in ax.texts] == ["0.96", "0.97"]
    markers = [line.get_marker() for line in ax.get_lines() if line.get_marker() != "|"]
    assert len(set(markers)) == 2
    assert ax.get_xlabel() == "validation accuracy"
    with pytest.raises(ValueError, match="not inside its interval"):
        plots.plot_intervals({"x": (0.5, 0.6, 0.7)}, title="x", xlabel="x")
