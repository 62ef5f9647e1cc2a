import numpy as np
import pandas as pd
import pytest
import sklearn.base
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import datasets as sklearn_datasets
from vega_datasets import data as vega

from course import datasets
from course.advisor import (
    AdvisorError,
    ColumnType,
    LearningTask,
    WarningKind,
    classify_problem,
)

# vega_datasets 0.9 calls a pandas API that pandas 3 deprecates; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:The 'convert_dates' keyword in read_json")

REGRESSION = LearningTask.REGRESSION
BINARY = LearningTask.BINARY_CLASSIFICATION
MULTICLASS = LearningTask.MULTICLASS_CLASSIFICATION
CLUSTERING = LearningTask.CLUSTERING


def warned(report, kind):
    """Columns (or None for frame-wide warnings) flagged with one kind of warning."""
    return [w.column for w in report.warnings if w.kind == kind]


def estimators(report):
    return [c.estimator.rsplit(".", 1)[1] for c in report.candidates]


def rng(seed=0):
    return np.random.default_rng(seed)


# The shipped datasets.


def test_penguins_species_is_multiclass_with_its_facts():
    report = classify_problem(datasets.load("penguins"), "species")

    assert report.kind == MULTICLASS
    assert report.class_counts == {"Adelie": 152, "Gentoo": 124, "Chinstrap": 68}
    assert report.imbalance_ratio == pytest.approx(152 / 68)
    assert report.missing == {
        "bill_length_mm": 2,
        "bill_depth_mm": 2,
        "flipper_length_mm": 2,
        "body_mass_g": 2,
        "sex": 11,
    }
    assert report.feature_counts[ColumnType.NUMERIC] == 5
    assert report.features_of(ColumnType.CATEGORICAL) == ["island", "sex"]
    assert report.target_range is None
    assert report.warnings == ()


def test_seattle_weather_warns_about_dates_and_imbalance():
    report = classify_problem(datasets.load("seattle_weather"), "weather")

    assert report.kind == MULTICLASS
    assert warned(report, WarningKind.DATE_COLUMN) == ["date"]
    assert warned(report, WarningKind.CLASS_IMBALANCE) == [None]
    assert report.imbalance_ratio == pytest.approx(714 / 23)


def test_digits_labels_are_classes_and_blank_pixels_are_constant():
    report = classify_problem(datasets.load("digits"), "target")

    assert report.kind == MULTICLASS
    assert len(report.class_counts) == 10
    assert warned(report, WarningKind.CONSTANT_COLUMN) == ["pixel_0", "pixel_32", "pixel_39"]


def test_diabetes_whole_number_progression_is_regression():
    report = classify_problem(datasets.load("diabetes"), "target")

    assert report.kind == REGRESSION
    assert report.target_range == (25.0, 346.0)
    assert report.class_counts is None


def test_no_target_is_clustering():
    report = classify_problem(datasets.load("penguins"))

    assert report.kind == CLUSTERING
    assert report.n_features == 8
    assert estimators(report)[0] == "KMeans"


# Datasets the advisor has never seen.


@pytest.mark.parametrize(
    ("loader", "kind"),
    [
        (sklearn_datasets.load_iris, MULTICLASS),
        (sklearn_datasets.load_wine, MULTICLASS),
        (sklearn_datasets.load_breast_cancer, BINARY),
        (sklearn_datasets.load_diabetes, REGRESSION),
    ],
)
def test_scikit_learn_bundled_sets(loader, kind):
    assert classify_problem(loader(as_frame=True).frame, "target").kind == kind


@pytest.mark.parametrize("target", ["Weight", "Waist", "Pulse"])
def test_linnerud_whole_number_targets_on_20_rows_are_regression(target):
    bunch = sklearn_datasets.load_linnerud(as_frame=True)
    frame = bunch.data.assign(**{target: bunch.target[target]})

    report = classify_problem(frame, target)

    assert report.kind == REGRESSION
    assert warned(report, WarningKind.SMALL_DATA) == [None]
    assert estimators(report)[0] == "Ridge"


def test_vega_cars_mileage_is_regression_with_missing_targets_and_a_date():
    report = classify_problem(vega.cars(), "Miles_per_Gallon")

    assert report.kind == REGRESSION
    assert warned(report, WarningKind.MISSING_TARGET) == ["Miles_per_Gallon"]
    assert "8 rows have no target value" in str(report)
    assert warned(report, WarningKind.DATE_COLUMN) == ["Year"]


@pytest.mark.parametrize(("target", "n_classes"), [("Origin", 3), ("Cylinders", 5)])
def test_vega_cars_categories_and_small_counts_are_multiclass(target, n_classes):
    report = classify_problem(vega.cars(), target)

    assert report.kind == MULTICLASS
    assert len(report.class_counts) == n_classes


def test_vega_iris_string_species_is_multiclass():
    report = classify_problem(vega.iris(), "species")

    assert report.kind == MULTICLASS
    assert report.class_counts == {"setosa": 50, "versicolor": 50, "virginica": 50}


def test_vega_stocks_price_is_regression_over_time():
    report = classify_problem(vega.stocks(), "price")

    assert report.kind == REGRESSION
    assert warned(report, WarningKind.DATE_COLUMN) == ["date"]
    assert report.feature_types == {"symbol": ColumnType.CATEGORICAL, "date": ColumnType.DATETIME}


def test_vega_us_employment_finds_text_dates_and_a_total_that_leaks():
    report = classify_problem(vega.us_employment(), "nonfarm")

    assert report.kind == REGRESSION
    assert report.feature_types["month"] == ColumnType.DATETIME
    assert "'month' holds dates stored as text" in str(report)
    # nonfarm = private + government: the private count is almost the target itself.
    assert "private" in warned(report, WarningKind.LEAKAGE)


def test_vega_airports_codes_are_identifiers():
    report = classify_problem(vega.airports())

    assert report.kind == CLUSTERING
    assert "iata" in warned(report, WarningKind.ID_COLUMN)


# Edge cases, one at a time.


def frame_with(target, **features):
    """A frame whose features are noise unless given, and whose target is ``target``."""
    n = len(target)
    noise = {"x1": rng(1).normal(size=n), "x2": rng(2).uniform(size=n)}
    return pd.DataFrame({**noise, **features, "y": target})


def test_zero_one_float_target_is_binary():
    report = classify_problem(frame_with(np.tile([0.0, 1.0], 100)), "y")

    assert report.kind == BINARY
    assert report.class_counts == {0.0: 100, 1.0: 100}


def test_target_with_missing_values_is_read_from_the_known_rows():
    target = pd.Series(np.tile([0.0, 1.0, np.nan], 100))

    report = classify_problem(frame_with(target), "y")

    assert report.kind == BINARY
    assert warned(report, WarningKind.MISSING_TARGET) == ["y"]
    assert report.missing == {"y": 100}


@pytest.mark.parametrize(
    ("target", "kind"),
    [
        (np.tile([True, False], 50), BINARY),
        (np.tile(["spam", "ham"], 50), BINARY),
        (pd.Categorical(np.tile(["a", "b", "c"], 50)), MULTICLASS),
        (pd.array(np.tile([1, 2, 3], 50), dtype="Int64"), MULTICLASS),
        (np.tile([-1, 1], 50), BINARY),
    ],
)
def test_target_dtypes(target, kind):
    assert classify_problem(frame_with(target), "y").kind == kind


def test_unused_categories_are_not_classes():
    labels = pd.Categorical(np.tile(["a", "b"], 50), categories=["a", "b", "never"])

    report = classify_problem(frame_with(labels), "y")

    assert report.kind == BINARY
    assert report.class_counts == {"a": 50, "b": 50}
    assert report.imbalance_ratio == 1.0


def test_numbers_stored_as_objects_are_numeric_features():
    frame = frame_with(np.tile([0, 1], 50), amount=pd.Series(list(range(100)), dtype=object))

    assert classify_problem(frame, "y").feature_types["amount"] == ColumnType.NUMERIC


def test_integer_count_with_many_values_is_regression_not_classes():
    counts = rng().poisson(150, size=400)

    assert classify_problem(frame_with(counts), "y").kind == REGRESSION


def test_whole_number_floats_follow_the_integer_rule():
    counts = rng().poisson(150, size=400).astype("float64")
    ratings = rng().integers(1, 6, size=400).astype("float64")

    assert classify_problem(frame_with(counts), "y").kind == REGRESSION
    assert classify_problem(frame_with(ratings), "y").kind == MULTICLASS


def test_few_fractional_values_are_still_a_quantity():
    assert classify_problem(frame_with(np.tile([0.5, 1.5, 2.25], 50)), "y").kind == REGRESSION


def test_consecutive_labels_on_few_rows_are_classes():
    labels = np.tile(np.arange(5), 6)  # 5 classes on 30 rows: 17% distinct

    assert classify_problem(frame_with(labels), "y").kind == MULTICLASS


def test_numbers_stored_as_python_objects_are_read_as_numbers():
    target = pd.Series(rng().poisson(150, size=300).tolist(), dtype=object)

    assert classify_problem(frame_with(target), "y").kind == REGRESSION


def test_identifier_columns_are_flagged():
    n = 200
    frame = frame_with(
        np.tile([0, 1], n // 2),
        id=np.arange(n),
        customer=[f"C{i:05d}" for i in rng().permutation(n)],
        PassengerId=rng().permutation(n),
        store_id=np.tile(np.arange(10), n // 10),
        measurement=rng().normal(size=n),
        shuffled=rng().permutation(n),
    )

    report = classify_problem(frame, "y")

    assert warned(report, WarningKind.ID_COLUMN) == ["id", "customer", "PassengerId", "store_id"]
    assert "counts up like a row number" in str(report)
    assert "'store_id' looks like an identifier that repeats" in str(report)


@pytest.mark.parametrize("name", ["paid", "valid", "idea", "Width"])
def test_words_ending_in_id_are_not_identifiers(name):
    frame = frame_with(np.tile([0, 1], 50), **{name: np.tile(np.arange(5), 20)})

    assert warned(classify_problem(frame, "y"), WarningKind.ID_COLUMN) == []


@pytest.mark.parametrize(
    "dates",
    [
        pd.date_range("2020-01-01", periods=60, freq="D"),
        pd.date_range("2020-01-01", periods=60, freq="D", tz="Europe/Paris"),
        [f"2021-{m:02d}-{d:02d}" for m in range(1, 4) for d in range(1, 21)],
        [f"{d}/{m}/2021" for m in range(1, 4) for d in range(1, 21)],
        [f"Jan {d} {2000 + y}" for y in range(3) for d in range(1, 21)],
    ],
)
def test_dates_suggest_a_time_ordered_split(dates):
    report = classify_problem(frame_with(np.tile([0, 1], 30), when=dates), "y")

    assert report.feature_types["when"] == ColumnType.DATETIME
    assert warned(report, WarningKind.DATE_COLUMN) == ["when"]
    assert "TimeSeriesSplit" in str(report)


@pytest.mark.parametrize(
    "strings",
    [
        np.tile(["red", "green", "blue"], 20),
        [str(i) for i in range(60)],
        np.tile(["2.5", "3.5"], 30),
    ],
)
def test_other_strings_are_not_dates(strings):
    report = classify_problem(frame_with(np.tile([0, 1], 30), s=strings), "y")

    assert report.feature_types["s"] == ColumnType.CATEGORICAL
    assert warned(report, WarningKind.DATE_COLUMN) == []


def test_a_near_copy_of_a_quantity_leaks():
    target = rng().normal(100, 15, size=300)
    report = classify_problem(frame_with(target, almost=target + rng(3).normal(size=300)), "y")

    assert report.kind == REGRESSION
    assert warned(report, WarningKind.LEAKAGE) == ["almost"]
    assert "correlation 0.99" in str(report)


def test_a_category_that_maps_one_to_one_to_the_classes_leaks():
    species = np.tile(["Adelie", "Gentoo", "Chinstrap"], 40)
    codes = pd.Series(species).map({"Adelie": "A", "Gentoo": "G", "Chinstrap": "C"})

    report = classify_problem(frame_with(species, code=codes.to_numpy()), "y")

    assert warned(report, WarningKind.LEAKAGE) == ["code"]
    assert "predicts the target perfectly" in str(report)


def test_a_feature_equal_to_a_binary_target_leaks():
    labels = np.tile(["no", "yes"], 60)

    report = classify_problem(frame_with(labels, answer=(labels == "yes").astype(int)), "y")

    assert warned(report, WarningKind.LEAKAGE) == ["answer"]


def test_honest_features_raise_no_leakage():
    labels = np.tile(["a", "b", "c"], 100)
    mixed = rng().choice(["u", "v", "w", "z"], size=300)

    report = classify_problem(frame_with(labels, colour=mixed), "y")

    assert warned(report, WarningKind.LEAKAGE) == []


def test_constant_and_empty_columns_are_flagged():
    frame = frame_with(np.tile([0, 1], 50), same=7, empty=np.nan)

    report = classify_problem(frame, "y")

    assert warned(report, WarningKind.CONSTANT_COLUMN) == ["same", "empty"]
    assert "'empty' is missing in every row" in str(report)


def test_tiny_data_asks_for_more_and_starts_simple():
    report = classify_problem(frame_with(np.tile(["a", "b"], 10)), "y")

    assert warned(report, WarningKind.SMALL_DATA) == [None]
    assert estimators(report)[0] == "LogisticRegression"


def test_more_features_than_rows_favours_linear_models():
    wide = pd.DataFrame(rng().normal(size=(40, 60)), columns=[f"g{i}" for i in range(60)])
    wide["y"] = np.tile(["sick", "healthy"], 20)

    report = classify_problem(wide, "y")

    assert warned(report, WarningKind.HIGH_DIMENSIONAL) == [None]
    assert estimators(report)[:2] == ["LinearSVC", "LogisticRegression"]
    assert "HistGradientBoostingClassifier" not in estimators(report)


def test_free_text_points_to_naive_bayes():
    words = ["good", "bad", "great", "awful", "film", "plot", "actor", "slow", "fun", "long"]
    reviews = [" ".join(rng().choice(words, size=8)) + f" #{i}" for i in range(100)]

    report = classify_problem(frame_with(np.tile(["pos", "neg"], 50), review=reviews), "y")

    assert report.feature_types["review"] == ColumnType.TEXT
    assert estimators(report)[0] == "MultinomialNB"


def test_large_data_starts_with_sgd_and_drops_kernel_methods():
    n = 100_000
    frame = pd.DataFrame({"x": rng().normal(size=n), "y": np.tile([0, 1], n // 2)})

    names = estimators(classify_problem(frame, "y"))

    assert names[0] == "SGDClassifier"
    assert "SVC" not in names and "KNeighborsClassifier" not in names


def test_prefer_interpretable_puts_linear_models_and_trees_first():
    frame = datasets.load("diabetes")

    default = estimators(classify_problem(frame, "target"))
    readable = estimators(classify_problem(frame, "target", prefer_interpretable=True))

    assert default[0] == "HistGradientBoostingRegressor"
    assert readable[:3] == ["Ridge", "Lasso", "DecisionTreeRegressor"]
    assert sorted(readable) == sorted(default)


def test_a_class_with_one_row_is_flagged():
    labels = ["a"] * 30 + ["b"] * 29 + ["c"]

    report = classify_problem(frame_with(labels), "y")

    assert "class 'c' has a single row" in str(report)


def test_candidates_build_unfitted_scikit_learn_estimators():
    report = classify_problem(datasets.load("penguins"), "species")

    built = [candidate.build() for candidate in report.candidates]

    assert all(isinstance(estimator, sklearn.base.BaseEstimator) for estimator in built)
    assert report.candidates[-1].build(max_depth=3).max_depth == 3


def test_the_top_candidate_fits_the_data_it_was_suggested_for():
    frame = datasets.load("penguins")
    report = classify_problem(frame, "species")

    model = report.candidates[0].build(categorical_features="from_dtype", random_state=0)
    model.fit(frame.drop(columns="species"), frame["species"])

    assert model.score(frame.drop(columns="species"), frame["species"]) > 0.9


# Errors a learner can make.


def test_target_that_is_not_a_column_lists_the_columns():
    with pytest.raises(AdvisorError) as caught:
        classify_problem(datasets.load("penguins"), "specie")

    message = str(caught.value)
    assert "target 'specie' is not a column" in message
    assert "Did you mean 'species'?" in message
    assert "Columns: species, island, bill_length_mm" in message


@pytest.mark.parametrize("frame", [pd.DataFrame(), pd.DataFrame({"a": [], "y": []})])
def test_empty_frame(frame):
    with pytest.raises(AdvisorError, match="the DataFrame is empty"):
        classify_problem(frame, None)


def test_target_missing_in_every_row():
    with pytest.raises(AdvisorError, match="missing in every row"):
        classify_problem(pd.DataFrame({"x": [1, 2, 3], "y": [np.nan] * 3}), "y")


def test_target_with_a_single_value():
    with pytest.raises(AdvisorError, match=r"single value \('a'\): there is nothing to predict"):
        classify_problem(pd.DataFrame({"x": [1, 2, 3], "y": ["a", "a", None]}), "y")


def test_date_target_asks_for_a_number():
    frame = pd.DataFrame({"x": [1, 2, 3], "y": pd.date_range("2020-01-01", periods=3)})

    with pytest.raises(AdvisorError, match="Predict a number derived from it"):
        classify_problem(frame, "y")


def test_target_without_features():
    with pytest.raises(AdvisorError, match="no column besides the target"):
        classify_problem(pd.DataFrame({"y": [1, 2, 3]}), "y")


def test_duplicate_column_names():
    frame = pd.DataFrame([[1, 2, 3]], columns=["a", "a", "y"])

    with pytest.raises(AdvisorError, match=r"repeated: \['a'\]"):
        classify_problem(frame, "y")


def test_an_array_is_refused_with_a_hint():
    with pytest.raises(TypeError, match=r"pd.DataFrame\(X"):
        classify_problem(np.zeros((3, 2)))


# Display in a notebook.


def test_text_summary_is_complete_and_deterministic():
    frame = datasets.load("penguins")

    text = str(classify_problem(frame, "species"))

    assert text == str(classify_problem(frame.copy(), "species"))
    assert text.splitlines()[:3] == [
        "Problem: multiclass classification (target: species)",
        "Why: 'species' holds categories (category): 3 classes.",
        "Data: 344 rows, 7 features (5 numeric, 2 categorical)",
    ]
    assert "Classes: Adelie: 152, Gentoo: 124, Chinstrap: 68 (imbalance ratio 2.2)" in text
    assert "Warnings: none" in text
    assert "  1. Histogram gradient boosting (sklearn.ensemble.HistGradientBoostingClassifier)" in (
        text
    )


def test_tied_classes_are_listed_in_label_order():
    report = classify_problem(frame_with(np.tile([2, 0, 1], 60)), "y")

    assert list(report.class_counts) == [0, 1, 2]


def test_html_card_escapes_column_names_and_labels():
    frame = pd.DataFrame({"x": np.arange(60) % 7, "<b>same</b>": 1, "y": np.tile(["<i>", "&"], 30)})
    report = classify_problem(frame, "y")

    page = report._repr_html_()

    assert "&#x27;&lt;b&gt;same&lt;/b&gt;&#x27; has one value in every row" in page
    assert "<b>same</b>" not in page and "<i>" not in page
    assert "&lt;i&gt;: 30" in page and "&amp;: 30" in page
    assert page.count("<li>") == len(report.warnings) + len(report.candidates)


def test_column_labels_that_are_not_strings_are_kept():
    frame = pd.DataFrame(rng().normal(size=(60, 3)))
    frame[3] = 1
    frame[4] = np.tile(["a", "b"], 30)

    report = classify_problem(frame, 4)

    assert report.features_of(ColumnType.NUMERIC) == [0, 1, 2, 3]
    assert warned(report, WarningKind.CONSTANT_COLUMN) == [3]


def test_html_card_shows_an_integer_target_label():
    frame = pd.DataFrame({"x": range(60), 0: np.tile([0, 1], 30)})

    assert "target <code>0</code>" in classify_problem(frame, 0)._repr_html_()


# Never crashes on odd but valid frames.


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.one_of(st.none(), st.integers(-3, 3), st.floats(-1e6, 1e6)),
            st.one_of(st.none(), st.sampled_from(["a", "b", "2020-01-01", "x y z w v u"])),
            st.one_of(st.none(), st.booleans()),
        ),
        min_size=1,
        max_size=40,
    ),
    st.sampled_from([None, "num", "text", "flag"]),
)
def test_any_frame_gets_a_report_or_a_clear_error(rows, target):
    frame = pd.DataFrame(rows, columns=["num", "text", "flag"])

    try:
        report = classify_problem(frame, target)
    except AdvisorError:
        return
    assert report.kind in LearningTask
    assert str(report) == str(classify_problem(frame, target))
    assert report.candidates


def test_ipython_shows_the_text_summary_not_the_dataclass_fields():
    pretty = pytest.importorskip("IPython.lib.pretty")
    report = classify_problem(datasets.load("diabetes"), "target")

    assert pretty.pretty(report) == str(report)
