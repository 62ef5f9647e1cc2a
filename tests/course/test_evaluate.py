import json
import os

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import DBSCAN, KMeans
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_diabetes, load_iris
from sklearn.exceptions import NotFittedError
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import silhouette_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.svm import LinearSVC

from course.datasets import load
from course.evaluate import ProblemKind, problem_kind, report

# A one-feature problem small enough to know every prediction by heart: the model learns
# "small numbers are a, large ones are b", so on TEST_X it predicts a, a, b, b, a. Ranked by
# size, 5 of the 6 (b, a) pairs put the b above the a (1 < 2 is the exception): ROC AUC 5/6.
TRAIN_X = pd.DataFrame({"size": [0.0, 1.0, 2.0, 10.0, 11.0, 12.0]})
TRAIN_Y = pd.Series(["a", "a", "a", "b", "b", "b"], name="label")
TEST_X = pd.DataFrame({"size": [0.0, 1.0, 11.0, 12.0, 2.0]})
TEST_Y = pd.Series(["a", "b", "b", "b", "a"], name="label")


@pytest.fixture(scope="module")
def small_classifier() -> LogisticRegression:
    return LogisticRegression().fit(TRAIN_X, TRAIN_Y)


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True, as_frame=True)
    return X, y.map(dict(enumerate(["setosa", "versicolor", "virginica"])))


def test_binary_classification_scores_the_positive_class(small_classifier):
    result = report(small_classifier, TEST_X, TEST_Y)

    assert result.kind is ProblemKind.CLASSIFICATION
    assert result.positive_class == "b"
    assert result.as_dict() == pytest.approx(
        {"accuracy": 0.8, "precision": 1.0, "recall": 2 / 3, "f1": 0.8, "roc_auc": 5 / 6}
    )


def test_binary_report_prints_a_deterministic_table(small_classifier):
    assert str(report(small_classifier, TEST_X, TEST_Y)) == "\n".join(
        [
            "Classification report: LogisticRegression on 5 rows (positive class: b)",
            "  accuracy   0.800  (95% interval 0.376 to 0.964)",
            "  precision  1.000  (95% interval 0.342 to 1.000)",
            "  recall     0.667  (95% interval 0.208 to 0.939)",
            "  F1         0.800",
            "  ROC AUC    0.833",
            "Per class:",
            "       precision  recall    f1  support",
            "class",
            "a          0.667   1.000 0.800        2",
            "b          1.000   0.667 0.800        3",
            "Confusion matrix (rows: true class, columns: predicted class):",
            "predicted  a  b",
            "true",
            "a          2  0",
            "b          1  2",
        ]
    )


def test_multiclass_uses_macro_averages_and_one_vs_rest_auc(iris):
    X, y = iris
    model = LogisticRegression(max_iter=1000).fit(X, y)

    result = report(model, X, y)

    assert list(result.metrics) == [
        "accuracy",
        "precision_macro",
        "recall_macro",
        "f1_macro",
        "roc_auc_ovr",
    ]
    assert result.metrics["accuracy"] == pytest.approx(np.mean(model.predict(X) == y))
    assert result.metrics["f1_macro"] == pytest.approx(result.per_class["f1"].mean())
    assert list(result.per_class.index) == ["setosa", "versicolor", "virginica"]
    assert result.per_class["support"].tolist() == [50, 50, 50]
    assert result.confusion.index.name == "true"
    assert result.confusion.columns.name == "predicted"
    assert result.confusion.to_numpy().sum() == 150
    assert np.trace(result.confusion.to_numpy()) == (model.predict(X) == y).sum()


def test_penguin_pipeline_report_is_json_ready():
    penguins = load("penguins").dropna(subset=["species"])
    X, y = penguins.drop(columns="species"), penguins["species"]
    numeric = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
    model = make_pipeline(
        ColumnTransformer(
            [
                ("num", make_pipeline(SimpleImputer(), StandardScaler()), numeric),
                (
                    "cat",
                    make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder()),
                    ["island", "sex"],
                ),
            ]
        ),
        LogisticRegression(max_iter=1000),
    ).fit(X, y)

    result = report(model, X, y)

    assert result.model_name == "Pipeline(ColumnTransformer, LogisticRegression)"
    assert result.metrics["accuracy"] > 0.95
    assert json.loads(json.dumps(result.as_dict())) == result.as_dict()
    assert all(type(value) is float for value in result.as_dict().values())


def test_auc_is_skipped_with_a_note_when_a_class_is_absent(iris):
    X, y = iris
    model = LogisticRegression(max_iter=1000).fit(X, y)
    two_classes = y != "virginica"

    result = report(model, X[two_classes], y[two_classes])

    assert "roc_auc_ovr" not in result.metrics
    assert result.notes == ("ROC AUC skipped: y has no rows of class virginica",)
    assert "Notes:\n  - ROC AUC skipped" in str(result)


def test_a_label_never_seen_in_training_joins_the_confusion_matrix(small_classifier):
    result = report(small_classifier, TEST_X, pd.Series(["a", "b", "b", "c", "a"]))

    assert list(result.confusion.index) == ["a", "b", "c"]
    assert result.confusion.loc["c"].sum() == 1
    assert "precision_macro" in result.metrics
    assert "ROC AUC skipped: y holds labels the model never saw in training" in result.notes


def test_a_binary_model_without_probabilities_uses_its_decision_function():
    model = LinearSVC().fit(TRAIN_X, TRAIN_Y)

    assert report(model, TEST_X, TEST_Y).metrics["roc_auc"] == pytest.approx(5 / 6)


def test_a_multiclass_model_without_probabilities_skips_auc(iris):
    X, y = iris
    result = report(make_pipeline(StandardScaler(), LinearSVC()).fit(X, y), X, y)

    assert result.notes == ("ROC AUC skipped: the model gives no probabilities or scores",)


def test_regression_gives_mae_rmse_and_r2():
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    model = LinearRegression().fit(X, y)
    errors = y - model.predict(X)

    result = report(model, X, y)

    assert result.kind is ProblemKind.REGRESSION
    assert result.as_dict() == pytest.approx(
        {
            "mae": errors.abs().mean(),
            "rmse": np.sqrt((errors**2).mean()),
            "r2": 1 - (errors**2).sum() / ((y - y.mean()) ** 2).sum(),
        }
    )
    assert [line.split("  (")[0] for line in str(result).splitlines()[1:]] == [
        "  MAE   43.277", "  RMSE  53.476", "  R²    0.518"
    ]


def test_r2_needs_two_rows():
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    result = report(LinearRegression().fit(X, y), X.head(1), y.head(1))

    assert list(result.metrics) == ["mae", "rmse"]
    assert result.notes == ("R² skipped: it needs at least 2 rows",)


def test_clustering_scores_in_the_space_the_clusterer_saw(iris):
    X, _ = iris
    model = make_pipeline(StandardScaler(), KMeans(3, n_init=3, random_state=0)).fit(X)

    result = report(model, X)

    scaled = model[0].transform(X)
    assert result.kind is ProblemKind.CLUSTERING
    assert result.metrics["silhouette"] == pytest.approx(silhouette_score(scaled, model.predict(X)))
    assert result.metrics["inertia"] == pytest.approx(model[-1].inertia_)
    assert result.cluster_sizes["size"].sum() == 150
    assert result.per_class is None


def test_a_clusterer_without_predict_is_scored_on_its_own_rows(iris):
    X, _ = iris
    model = DBSCAN(eps=0.5).fit(X)

    result = report(model, X)

    assert result.metrics["silhouette"] == pytest.approx(silhouette_score(X, model.labels_))
    assert "inertia" not in result.metrics
    with pytest.raises(ValueError, match="evaluate it on the same X it was fitted on"):
        report(model, X.head(10))


def test_a_single_cluster_has_no_silhouette(iris):
    X, _ = iris
    result = report(KMeans(1, n_init=1, random_state=0).fit(X), X)

    assert list(result.metrics) == ["inertia"]
    assert result.notes == ("silhouette skipped: it needs between 2 and 149 clusters",)


def test_html_shows_every_table(small_classifier):
    page = report(small_classifier, TEST_X, TEST_Y)._repr_html_()

    assert "<td>accuracy</td><td>0.800  (95% interval 0.376 to 0.964)</td>" in page
    assert page.count("<table") == 3


@pytest.mark.parametrize(
    ("model", "X", "y", "error", "message"),
    [
        (LogisticRegression(), TEST_X, TEST_Y, NotFittedError, r"call fit\(X, y\) first"),
        (None, TEST_X, TEST_Y.head(3), ValueError, "X has 5 rows but y has 3"),
        (None, TEST_X, None, ValueError, r"call report\(model, X_test, y_test\)"),
        (None, TEST_X["size"], TEST_Y, ValueError, "X must be 2-D"),
        (None, TEST_X.head(0), TEST_Y.head(0), ValueError, "X has no rows"),
        (None, TEST_X, TEST_Y.where(TEST_Y == "a"), ValueError, "y has 3 missing values"),
        (None, TEST_X, pd.Series([0, 1, 1, 1, 0]), ValueError, "same kind of target"),
        (None, TEST_X, np.zeros((5, 2)), ValueError, "y must be one column"),
        (None, TEST_X.to_dict(), TEST_Y, TypeError, "X must be a DataFrame"),
    ],
)
def test_bad_input_is_explained(small_classifier, model, X, y, error, message):
    with pytest.raises(error, match=message):
        report(small_classifier if model is None else model, X, y)


def test_a_clusterer_refuses_a_target(iris):
    X, y = iris
    with pytest.raises(ValueError, match=r"call report\(model, X\) without y"):
        report(KMeans(2, n_init=1).fit(X), X, y)


def test_a_regressor_refuses_text_targets():
    with pytest.raises(ValueError, match="a regressor predicts numbers"):
        report(LinearRegression().fit(TRAIN_X, [1.0] * 6), TEST_X, TEST_Y)


def test_things_that_are_not_models_are_refused():
    with pytest.raises(TypeError, match="expected a scikit-learn estimator or a Keras model"):
        report("my model", TEST_X, TEST_Y)
    with pytest.raises(TypeError, match="end the Pipeline in a model"):
        problem_kind(StandardScaler().fit(TEST_X))


# Keras: the kind comes from the last layer.


@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    return pytest.importorskip(
        "keras", reason="TensorFlow/Keras is not installed: pip install -e '.[tf]'"
    )


def tiny_keras_model(keras, units: int, activation: str | None, loss: str):
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(8, activation="relu"),
            keras.layers.Dense(units, activation=activation),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss=loss)
    return model


def test_keras_softmax_classifier(keras, iris):
    X, y = iris
    codes = y.astype("category").cat.codes.to_numpy()
    model = tiny_keras_model(keras, 3, "softmax", "sparse_categorical_crossentropy")
    with pytest.raises(NotFittedError, match=r"model.fit\(X, y\) first"):
        report(model, X, codes)
    model.fit(X.to_numpy(), codes, epochs=30, verbose=0)

    result = report(model, X, codes)

    assert problem_kind(model) is ProblemKind.CLASSIFICATION
    assert list(result.confusion.index) == [0, 1, 2]
    assert result.metrics["accuracy"] > 0.8
    assert "roc_auc_ovr" in result.metrics


def test_keras_sigmoid_classifier_has_two_classes(keras):
    X = np.repeat(TRAIN_X.to_numpy(), 4, axis=1)
    model = tiny_keras_model(keras, 1, "sigmoid", "binary_crossentropy")
    model.fit(X / 10, (TRAIN_Y == "b").astype(int).to_numpy(), epochs=50, verbose=0)

    result = report(
        model, np.repeat(TEST_X.to_numpy(), 4, axis=1) / 10, (TEST_Y == "b").astype(int)
    )

    assert result.positive_class == 1
    assert result.metrics["roc_auc"] == pytest.approx(5 / 6)


def test_keras_linear_output_is_a_regressor(keras):
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    model = tiny_keras_model(keras, 1, None, "mse")
    model.fit(X.iloc[:, :4].to_numpy(), y.to_numpy() / 100, epochs=2, verbose=0)

    result = report(model, X.iloc[:, :4], y / 100)

    assert problem_kind(model) is ProblemKind.REGRESSION
    assert list(result.metrics) == ["mae", "rmse", "r2"]


def test_keras_needs_numbers(keras, iris):
    X, _ = iris
    model = tiny_keras_model(keras, 1, None, "mse")
    model.fit(X.to_numpy(), np.zeros(len(X)), epochs=1, verbose=0)

    with pytest.raises(ValueError, match="encode categories first"):
        report(model, X.assign(petal_width="wide"), np.zeros(len(X)))


def test_keras_ambiguous_output_is_explained(keras):
    model = tiny_keras_model(keras, 3, None, "mse")

    with pytest.raises(ValueError, match="activation='softmax'"):
        problem_kind(model)


def test_wilson_interval_matches_the_textbook_values():
    from course.evaluate import wilson_interval

    low, high = wilson_interval(0, 10)  # no success in 10 trials: still up to ~28%
    assert low == 0.0 and high == pytest.approx(0.2775, abs=1e-4)
    low, high = wilson_interval(85, 86)
    assert (round(low, 3), round(high, 3)) == (0.937, 0.998)
    with pytest.raises(ValueError, match="at least one trial"):
        wilson_interval(0, 0)


def test_report_bounds_accuracy_and_a_regressions_errors():
    from sklearn.datasets import make_classification, make_regression
    from sklearn.linear_model import LinearRegression, LogisticRegression

    X, y = make_classification(n_samples=200, random_state=0)
    classified = report(LogisticRegression().fit(X, y), X, y)
    low, high = classified.intervals["accuracy"]
    assert low < classified.metrics["accuracy"] < high
    assert {"precision", "recall"} <= set(classified.intervals)
    assert "95% interval" in str(classified)

    X, y = make_regression(n_samples=100, noise=10, random_state=0)
    regressed = report(LinearRegression().fit(X, y), X, y)
    for name in ("mae", "rmse"):
        low, high = regressed.intervals[name]
        assert low < regressed.metrics[name] < high
    assert regressed.intervals == report(LinearRegression().fit(X, y), X, y).intervals  # seeded



def _on_x(estimator):
    """A model that reads only column x of a wider frame, as a course Pipeline would."""
    from sklearn.compose import make_column_transformer

    return make_pipeline(make_column_transformer(("passthrough", ["x"])), estimator)


def test_group_metrics_gives_each_group_its_count_accuracy_and_interval():
    from course.evaluate import MISSING_GROUP, group_metrics, wilson_interval

    X = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0, 0.2, 2.8], "site": ["b", "a", "a", "b", None, "a"]})
    y = np.array([0, 0, 1, 1, 0, 1])
    model = _on_x(LogisticRegression(C=100)).fit(X, y)
    y = np.array([0, 0, 1, 1, 0, 0])  # the truth of the last row, that the model gets wrong
    assert model.predict(X).tolist() == [0, 0, 1, 1, 0, 1]
    table = group_metrics(model, X, y, by="site")
    assert list(table.columns) == ["column", "group", "rows", "accuracy", "low", "high"]
    assert list(table.group) == ["a", "b", MISSING_GROUP]
    assert list(table.rows) == [3, 2, 1]
    assert table.accuracy.tolist() == pytest.approx([2 / 3, 1.0, 1.0])
    assert (table.low.iloc[0], table.high.iloc[0]) == pytest.approx(wilson_interval(2, 3))
    with pytest.raises(ValueError, match="no column 'island'"):
        group_metrics(model, X, y, by="island")


def test_group_metrics_of_a_regressor_is_the_mae_per_group():
    from course.evaluate import group_metrics

    X = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0], "half": ["low", "low", "high", "high"]})
    y = np.array([0.0, 1.0, 2.0, 5.0])
    model = _on_x(LinearRegression()).fit(X, y)
    table = group_metrics(model, X, y, by=["half"])
    assert list(table.columns) == ["column", "group", "rows", "mae", "low", "high"]
    errors = np.abs(y - model.predict(X))
    assert table.set_index("group").mae["low"] == pytest.approx(errors[:2].mean())


class _FakeSearch:
    """A fitted search's cv_results_ for one parameter, without fitting anything."""

    def __init__(self, values, means, stds):
        self.cv_results_ = {
            "param_depth": np.ma.masked_array(values, dtype=object),
            "mean_test_score": np.array(means),
            "std_test_score": np.array(stds),
        }


def test_simplest_within_one_std_takes_the_simplest_value_that_ties_with_the_best():
    from course.evaluate import simplest_within_one_std

    search = _FakeSearch([1, 2, 3, 4, 5], [0.70, 0.93, 0.95, 0.96, 0.96], [0.02] * 5)

    assert simplest_within_one_std(search, "depth") == 3  # 0.95 >= 0.96 - 0.02; 0.93 is not
    assert simplest_within_one_std(search, "depth", simplest="highest") == 5
    assert isinstance(simplest_within_one_std(search, "depth"), int)


def test_simplest_within_one_std_on_a_real_search_and_its_mistakes():
    from sklearn.model_selection import GridSearchCV
    from sklearn.tree import DecisionTreeClassifier

    from course.evaluate import simplest_within_one_std

    X, y = load_iris(return_X_y=True)
    search = GridSearchCV(DecisionTreeClassifier(random_state=0), {"max_depth": [1, 2, 3, 4]})
    with pytest.raises(ValueError, match="has not run yet"):
        simplest_within_one_std(search, "max_depth")
    search.fit(X, y)
    means = search.cv_results_["mean_test_score"]
    chosen = simplest_within_one_std(search, "max_depth")
    best = means.argmax()
    assert means[chosen - 1] >= means[best] - search.cv_results_["std_test_score"][best]
    assert chosen <= search.best_params_["max_depth"]
    with pytest.raises(ValueError, match=r"did not try 'depth'; it searched \['max_depth'\]"):
        simplest_within_one_std(search, "depth")
    with pytest.raises(ValueError, match="'lowest' or 'highest'"):
        simplest_within_one_std(search, "max_depth", simplest="smallest")


def test_threshold_table_counts_each_kind_of_mistake_per_threshold():
    from course.evaluate import threshold_table

    y = ["bad", "bad", "bad", "ok", "ok", "ok"]
    scores = [0.9, 0.6, 0.2, 0.7, 0.3, 0.1]
    table = threshold_table(y, scores, [0.5, 0.15, 0.95], positive="bad")

    assert list(table.columns) == ["found", "missed", "false alarms", "recall", "precision"]
    assert table.loc[0.5, ["found", "missed", "false alarms"]].tolist() == [2, 1, 1]
    assert table.loc[0.15, ["found", "missed", "false alarms"]].tolist() == [3, 0, 2]
    assert table.loc[0.5, "recall"] == pytest.approx(2 / 3)
    assert table.loc[0.15, "precision"] == pytest.approx(3 / 5)
    assert np.isnan(table.loc[0.95, "precision"])  # nothing flagged: no precision


def test_threshold_table_refuses_mismatched_or_positive_free_targets():
    from course.evaluate import threshold_table

    with pytest.raises(ValueError, match="3 rows but scores has 2"):
        threshold_table(["a", "b", "a"], [0.1, 0.2], [0.5], positive="a")
    with pytest.raises(ValueError, match="no row of the positive class 'c'"):
        threshold_table(["a", "b"], [0.1, 0.2], [0.5], positive="c")
