import numpy as np
import pandas as pd
import pytest
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
