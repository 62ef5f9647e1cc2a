import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.dummy import DummyRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from course import checks, datasets, recipes
from course.checks import Verdict
from course.holdout import split_and_seal

TWO = ["bmi", "s5"]


@pytest.fixture(scope="module")
def diabetes():
    """Notebook 07's split: the training patients, and the test rows a wrong answer may use."""
    table = datasets.load("diabetes")
    X, y = table.drop(columns="target"), table["target"]
    X_train, y_train, test_set = split_and_seal(X, y, test_size=0.25, random_state=0)
    X_test, y_test = test_set.open()
    return X_train, y_train, X_test, y_test


def scaled(estimator):
    return make_pipeline(StandardScaler(), estimator)


# Exercise 1 of notebook 07: scaled LinearRegression on bmi and s5, fitted on the training rows.


def test_linear_on_features_passes_the_answer_judged_by_cross_validation(diabetes):
    X_train, y_train, _, _ = diabetes
    model = scaled(LinearRegression()).fit(X_train[TWO], y_train)
    feedback = checks.linear_on_features(model, X_train, y_train, features=TWO)
    assert feedback.passed
    assert "cross-validated on the training patients" in feedback.message
    assert "46.8 ± 2.7 against 68.3 ± 3.0" in feedback.message
    # The columns in another order are the same model.
    swapped = scaled(LinearRegression()).fit(X_train[["s5", "bmi"]], y_train)
    assert checks.linear_on_features(swapped, X_train, y_train, features=TWO).passed


def test_linear_on_features_takes_no_test_rows():
    feedback = checks.linear_on_features(..., None, None, None, None, features=TWO)
    assert not feedback and "with other arguments than it takes" in feedback.message


def fitted_wrongly(diabetes, mistake):
    X_train, y_train, X_test, y_test = diabetes
    if mistake == "all ten":
        return scaled(LinearRegression()).fit(X_train, y_train)
    if mistake == "bmi and bp":
        return scaled(LinearRegression()).fit(X_train[["bmi", "bp"]], y_train)
    if mistake == "test rows":
        return scaled(LinearRegression()).fit(X_test[TWO], y_test)
    if mistake == "all rows":
        return scaled(LinearRegression()).fit(
            pd.concat([X_train, X_test])[TWO], pd.concat([y_train, y_test])
        )
    if mistake == "unscaled":
        return LinearRegression().fit(X_train[TWO], y_train)
    if mistake == "classifier":
        return scaled(LogisticRegression(max_iter=50)).fit(X_train[TWO], y_train)
    if mistake == "not fitted":
        return scaled(LinearRegression())
    if mistake == "ridge":
        return scaled(Ridge(alpha=10)).fit(X_train[TWO], y_train)
    if mistake == "numpy":
        return scaled(LinearRegression()).fit(X_train[TWO].to_numpy(), y_train)
    if mistake == "baseline":
        return scaled(DummyRegressor()).fit(X_train[TWO], y_train)
    raise AssertionError(mistake)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.filterwarnings("ignore:The number of unique classes:UserWarning")
@pytest.mark.parametrize(
    ("mistake", "says"),
    [
        ("all ten", "uses all 10 measurements, not only 'bmi' and 's5'"),
        ("bmi and bp", "uses ['bmi', 'bp'], not 'bmi' and 's5'"),
        ("test rows", "not fitted on the training patients"),
        ("all rows", "not fitted on the training patients"),
        ("unscaled", "the inputs are not scaled"),
        ("classifier", "is a classifier"),
        ("not fitted", "not fitted yet"),
        ("ridge", "ends with Ridge, the exercise asks for LinearRegression"),
        ("numpy", "unnamed column(s)"),
        ("baseline", "ends with DummyRegressor"),
    ],
)
def test_linear_on_features_names_each_mistake(diabetes, mistake, says):
    X_train, y_train, _, _ = diabetes
    model = fitted_wrongly(diabetes, mistake)
    feedback = checks.linear_on_features(model, X_train, y_train, features=TWO)
    assert not feedback.passed
    assert says in feedback.message
    assert feedback.hint


def test_linear_on_features_refuses_a_model_no_better_than_the_baseline(diabetes):
    X_train, y_train, _, _ = diabetes
    noise = X_train.assign(bmi=np.random.default_rng(0).normal(size=len(X_train)),
                           s5=np.random.default_rng(1).normal(size=len(X_train)))
    model = scaled(LinearRegression()).fit(noise[TWO], y_train)
    feedback = checks.linear_on_features(model, noise, y_train, features=TWO)
    assert not feedback.passed and "not clearly better" in feedback.message


def test_linear_on_features_left_as_its_starting_code_counts_as_not_answered(diabetes):
    X_train, y_train, _, _ = diabetes
    feedback = checks.linear_on_features(..., X_train, y_train, features=TWO)
    assert feedback.verdict is Verdict.NOT_ANSWERED


# Exercise 2 of notebook 07: scaled Ridge(alpha=10) on the ten training measurements.


def test_largest_coefficient_verifies_the_ridge_and_names_the_answer(diabetes):
    X_train, y_train, _, _ = diabetes
    ridge = scaled(Ridge(alpha=10)).fit(X_train, y_train)
    feedback = checks.largest_coefficient("bmi", ridge, X_train, y_train, alpha=10)
    assert feedback.passed and "+28.4" in feedback.message


@pytest.mark.parametrize(
    ("model", "says"),
    [
        (scaled(LinearRegression()), "ends with LinearRegression, the exercise asks for Ridge"),
        (scaled(Ridge(alpha=1)), "alpha=1, the exercise asks for alpha=10"),
        (Ridge(alpha=10), "the inputs are not scaled"),
        (scaled(LogisticRegression(max_iter=50)), "is a classifier"),
    ],
)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.filterwarnings("ignore:The number of unique classes:UserWarning")
def test_largest_coefficient_refuses_another_model(diabetes, model, says):
    X_train, y_train, _, _ = diabetes
    model.fit(X_train, y_train)
    feedback = checks.largest_coefficient("bmi", model, X_train, y_train, alpha=10)
    assert not feedback.passed and says in feedback.message


def test_largest_coefficient_refuses_a_ridge_fitted_on_other_rows(diabetes):
    X_train, y_train, X_test, y_test = diabetes
    on_test = scaled(Ridge(alpha=10)).fit(X_test, y_test)
    feedback = checks.largest_coefficient("bmi", on_test, X_train, y_train, alpha=10)
    assert "not fitted on the training patients" in feedback.message
    on_two = scaled(Ridge(alpha=10)).fit(X_train[TWO], y_train)
    feedback = checks.largest_coefficient("bmi", on_two, X_train, y_train, alpha=10)
    assert "uses 2 of the 10 measurements" in feedback.message
    unfitted = scaled(Ridge(alpha=10))
    feedback = checks.largest_coefficient("bmi", unfitted, X_train, y_train, alpha=10)
    assert "not fitted yet" in feedback.message


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        ("s5", "largest coefficient of the plain linear regression"),  # read the step 5 figure
        ("sex", "most negative coefficient"),  # .idxmin(): the smallest signed number
        ("age", "smallest coefficient in size"),  # .abs().idxmin()
        ("s1", "another input's is larger"),
        ("body mass index", "not one of the model's inputs"),
    ],
)
def test_largest_coefficient_names_a_wrong_name(diabetes, answer, says):
    X_train, y_train, _, _ = diabetes
    ridge = scaled(Ridge(alpha=10)).fit(X_train, y_train)
    feedback = checks.largest_coefficient(answer, ridge, X_train, y_train, alpha=10)
    assert not feedback.passed and says in feedback.message


def test_largest_coefficient_names_the_mistake():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(200, 3)), columns=["small", "big_negative", "positive"])
    y = 0.1 * X["small"] - 5 * X["big_negative"] + 2 * X["positive"]
    model = make_pipeline(StandardScaler(), LinearRegression()).fit(X, y)
    assert checks.largest_coefficient("big_negative", model).passed
    assert "negative one is larger" in checks.largest_coefficient("positive", model).message
    assert "smallest coefficient in size" in checks.largest_coefficient("small", model).message
    assert "not one of the model's inputs" in checks.largest_coefficient("bmi", model).message
    feedback = checks.largest_coefficient(..., model)
    assert feedback.verdict is Verdict.NOT_ANSWERED


def test_largest_coefficient_reads_names_through_a_column_transformer(split):
    X_train, _, y_train, _ = split
    model = recipes.penguin_pipeline(LogisticRegression(max_iter=1000))
    model.fit(X_train, y_train == "Gentoo")
    coefficients = model[-1].coef_.ravel()
    names = [n.rpartition("__")[2] for n in model[:-1].get_feature_names_out()]
    best = names[int(np.abs(coefficients).argmax())]
    assert checks.largest_coefficient(best, model).passed


# Malformed answers: each kind a beginner writes gets its own message, never the safety net.


@pytest.mark.parametrize(
    ("make_model", "says"),
    [
        (lambda X, y: None, "`model` is None, not a scikit-learn model"),
        (lambda X, y: LinearRegression, "the class LinearRegression itself"),
        (lambda X, y: [scaled(LinearRegression()).fit(X[TWO], y)], "a list holding a model"),
        (lambda X, y: scaled(LinearRegression()).fit(X[TWO], y).predict(X[TWO]),
         "numbers the model gave (predictions or coefficients?)"),
        (lambda X, y: X[TWO], "is a DataFrame with 331 rows and 2 columns, not a scikit-learn"),
        (lambda X, y: "two_measurements", "is the text 'two_measurements'"),
    ],
)
def test_linear_on_features_answers_a_malformed_model(diabetes, make_model, says):
    X_train, y_train, _, _ = diabetes
    feedback = checks.linear_on_features(make_model(X_train, y_train), X_train, y_train,
                                         features=TWO)
    assert not feedback.passed
    assert says in feedback.message, feedback
    assert feedback.hint and feedback.error == ""


@pytest.fixture(scope="module")
def ridge(diabetes):
    X_train, y_train, _, _ = diabetes
    return scaled(Ridge(alpha=10)).fit(X_train, y_train)


@pytest.mark.parametrize(
    ("make_answer", "says"),
    [
        (lambda r, c: c, "the Series of 10 coefficients; the question asks for one name"),
        (lambda r, c: c.abs().sort_values().tail(1), "a Series holding one coefficient"),
        (lambda r, c: c.abs().sort_values().index, "the question asks for one name"),
        (lambda r, c: ["bmi"], "a list holding one name"),
        (lambda r, c: c.abs().max(), "a coefficient's value"),
        (lambda r, c: 28.4, "a coefficient's value"),
        (lambda r, c: int(np.argmax(np.abs(c.to_numpy()))), "a position in the list of inputs"),
        (lambda r, c: "BMI", "not written as the column is named"),
        (lambda r, c: "bmi ", "not written as the column is named"),
        (lambda r, c: r, "a model, not a measurement's name"),
        (lambda r, c: None, "`largest` is None, not a measurement's name"),
        (lambda r, c: float("nan"), "is the number nan, not a measurement's name"),
    ],
)
def test_largest_coefficient_answers_a_malformed_name(diabetes, ridge, make_answer, says):
    X_train, y_train, _, _ = diabetes
    coefficients = pd.Series(ridge[-1].coef_, index=X_train.columns)
    answer = make_answer(ridge, coefficients)
    feedback = checks.largest_coefficient(answer, ridge, X_train, y_train, alpha=10)
    assert not feedback.passed
    assert says in feedback.message, feedback
    assert feedback.hint and feedback.error == ""


def test_largest_coefficient_says_when_the_two_answers_are_swapped(diabetes, ridge):
    X_train, y_train, _, _ = diabetes
    feedback = checks.largest_coefficient(ridge, "bmi", X_train, y_train, alpha=10)
    assert "the two answers look swapped" in feedback.message and feedback.error == ""


def test_largest_coefficient_without_rows_refuses_what_has_no_coefficients(diabetes):
    X_train, y_train, _, _ = diabetes
    from sklearn.ensemble import RandomForestRegressor

    forest = RandomForestRegressor(n_estimators=3, random_state=0).fit(X_train, y_train)
    for model, says in [
        (forest, "ends with RandomForestRegressor, which has no coefficients"),
        (scaled(Ridge()), "not fitted yet"),
        (Ridge, "the class Ridge itself"),
    ]:
        feedback = checks.largest_coefficient("bmi", model)
        assert says in feedback.message and feedback.error == "", feedback


def test_no_regression_hint_writes_the_answer_line_unless_marked(diabetes, ridge):
    X_train, y_train, _, _ = diabetes
    for answer in ("s5", "sex", "age", "s1", 28.4, ["bmi"]):
        feedback = checks.largest_coefficient(answer, ridge, X_train, y_train, alpha=10)
        assert ".abs().idxmax()" not in feedback.hint and "coef_" not in feedback.hint
    unscaled = LinearRegression().fit(X_train[TWO], y_train)
    feedback = checks.linear_on_features(unscaled, X_train, y_train, features=TWO)
    assert "make_pipeline(StandardScaler(), LinearRegression())" not in feedback.hint


def _estimators(X_train, y_train):
    return {
        "fitted": scaled(LinearRegression()).fit(X_train[TWO], y_train),
        "unfitted": scaled(LinearRegression()),
        "class": LinearRegression,
        "predictions": np.full(len(X_train), np.nan),
        "table": X_train.head(3),
        "labels": y_train.head(3),
    }


MALFORMED = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6),
    st.lists(st.one_of(st.integers(), st.text(max_size=3)), max_size=4),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.sampled_from(["fitted", "unfitted", "class", "predictions", "table", "labels"]),
)


def _materialise(value, objects):
    return objects.get(value, value) if isinstance(value, str) else value


@settings(max_examples=30, deadline=None)
@given(model=MALFORMED)
def test_any_model_for_exercise_1_gets_feedback_never_an_exception(diabetes, model):
    X_train, y_train, _, _ = diabetes
    objects = _estimators(X_train, y_train)
    objects.pop("fitted")  # the one right answer
    feedback = checks.linear_on_features(_materialise(model, objects), X_train, y_train,
                                         features=TWO)
    assert isinstance(feedback, checks.Feedback) and not feedback.passed
    assert feedback.error == "", feedback


@settings(max_examples=30, deadline=None)
@given(answer=MALFORMED)
def test_any_name_for_exercise_2_gets_feedback_never_an_exception(diabetes, ridge, answer):
    X_train, y_train, _, _ = diabetes
    objects = {**_estimators(X_train, y_train), "fitted": ridge}
    feedback = checks.largest_coefficient(_materialise(answer, objects), ridge, X_train,
                                          y_train, alpha=10)
    assert isinstance(feedback, checks.Feedback) and not feedback.passed
    assert feedback.error == "", feedback


@settings(max_examples=30, deadline=None)
@given(model=MALFORMED, answer=st.sampled_from(["bmi", "s5", "fitted"]))
def test_any_model_for_exercise_2_gets_feedback_never_an_exception(diabetes, ridge, model,
                                                                   answer):
    """Any model, next to a name (or the right objects in the wrong places)."""
    X_train, y_train, _, _ = diabetes
    objects = _estimators(X_train, y_train)  # "fitted" is exercise 1's model, not the Ridge
    answer, model = _materialise(answer, {"fitted": ridge}), _materialise(model, objects)
    feedback = checks.largest_coefficient(answer, model, X_train, y_train, alpha=10)
    assert isinstance(feedback, checks.Feedback) and not feedback.passed
    assert feedback.error == "", feedback


def test_with_both_answers_left_unanswered_the_model_comes_first(diabetes):
    """The exercise fits `ridge` before naming `largest`: the check asks in that order."""
    X_train, y_train, _, _ = diabetes
    ridge = largest = ...
    feedback = checks.largest_coefficient(largest, ridge, X_train, y_train, alpha=10)
    assert feedback.verdict is Verdict.NOT_ANSWERED and "`ridge`" in feedback.message
