
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.compose import ColumnTransformer
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from course import checks, recipes
from course.checks import Verdict
from course.holdout import SealedTestSet, split_and_seal

FEATURES = recipes.PENGUIN_FEATURES
MEASUREMENTS = recipes.PENGUIN_NUMERIC


def penguin_table(penguins):
    return penguins[FEATURES], penguins["species"]


@pytest.mark.parametrize(
    ("how", "passed", "says"),
    [
        ({}, True, "275 training and 69 test rows"),
        # another seed than the statement's
        ({"random_state": 1}, False, "not the ones random_state=0 picks"),
        # forgot stratify=y
        ({"stratify": False}, False, "not stratified"),
        # the course's quarter instead of the exercise's fifth
        ({"test_size": 0.25}, False, "test set has 86 rows; with test_size=0.2 it should have 69"),
        # a percentage instead of a share
        ({"test_size": 20}, False, "test set has 20 rows"),
    ],
)
def test_stratified_split_names_the_mistake(penguins, how, passed, says):
    X, y = penguin_table(penguins)
    X_train, y_train, test_set = split_and_seal(
        X,
        y,
        test_size=how.get("test_size", 0.2),
        stratify=y if how.get("stratify", True) else None,
        random_state=how.get("random_state", 0),
    )
    feedback = checks.stratified_split(X_train, y_train, test_set, X, y, test_size=0.2,
                                       random_state=0)
    assert feedback.passed is passed, feedback
    assert says in feedback.message
    if how.get("test_size") == 20:
        assert "a share is written as a fraction" in feedback.hint
    assert test_set.times_opened == 0  # the check reads the envelope, never opens it


def test_stratified_split_catches_parts_in_the_wrong_order(penguins):
    X, y = penguin_table(penguins)
    X_train, y_train, test_set = split_and_seal(X, y, test_size=0.2, stratify=y, random_state=0)
    feedback = checks.stratified_split(X_train, test_set, y_train, X, y, test_size=0.2,
                                       random_state=0)
    assert "three parts are in the wrong order" in feedback.message
    assert "X_train, y_train, test_set, in that order" in feedback.hint
    feedback = checks.stratified_split(X_train, y_train, (1, 2), X, y, test_size=0.2,
                                       random_state=0)
    assert "the third part is a tuple, not a sealed test set" in feedback.message


def test_stratified_split_catches_x_and_y_swapped(penguins):
    X, y = penguin_table(penguins)
    X_train, y_train, test_set = split_and_seal(y, X, test_size=0.2, stratify=y, random_state=0)
    feedback = checks.stratified_split(X_train, y_train, test_set, X, y, test_size=0.2,
                                       random_state=0)
    assert "X and y are swapped" in feedback.message


def test_stratified_split_catches_rows_used_twice_or_mismatched(penguins):
    X, y = penguin_table(penguins)
    test_set = SealedTestSet(X.iloc[270:339], y.iloc[270:339])
    feedback = checks.stratified_split(X.iloc[:275], y.iloc[:275], test_set, X, y,
                                       test_size=0.2, random_state=0)
    assert "in both" in feedback.message
    X_train, y_train, test_set = split_and_seal(X, y, test_size=0.2, stratify=y, random_state=0)
    feedback = checks.stratified_split(X_train.sort_index(), y_train, test_set, X, y,
                                       test_size=0.2, random_state=0)
    assert "do not hold the same rows" in feedback.message


def measurements_pipeline(classifier=None):
    classifier = LogisticRegression(max_iter=1000) if classifier is None else classifier
    return make_pipeline(SimpleImputer(strategy="median"), StandardScaler(), classifier)


def test_measurements_model_accepts_the_solution_judged_by_cross_validation(split):
    X_train, _, y_train, _ = split
    model = measurements_pipeline().fit(X_train[MEASUREMENTS], y_train)
    feedback = checks.measurements_model(model, X_train, y_train, features=MEASUREMENTS)
    assert feedback.passed, feedback
    assert "cross-validated accuracy 0.984" in feedback.message
    assert "against 0.442 for the baseline" in feedback.message
    forest = RandomForestClassifier(n_estimators=20, random_state=0)
    model = measurements_pipeline(forest).fit(X_train[MEASUREMENTS], y_train)
    assert checks.measurements_model(model, X_train, y_train, features=MEASUREMENTS).passed


def fitted_on_test_rows(split):
    _, X_test, _, y_test = split
    return measurements_pipeline().fit(X_test[MEASUREMENTS], y_test)


def fitted_without_gaps(split):
    X_train, _, y_train, _ = split
    complete = X_train[MEASUREMENTS].notna().all(axis=1)
    return measurements_pipeline().fit(X_train.loc[complete, MEASUREMENTS], y_train[complete])


def fitted(columns, model=None):
    def make(split):
        X_train, _, y_train, _ = split
        return (measurements_pipeline() if model is None else model).fit(X_train[columns], y_train)

    return make


@pytest.mark.parametrize(
    ("make", "says"),
    [
        # fitted on the test rows
        (fitted_on_test_rows, "not fitted on X_train[measurements] and y_train"),
        # fitted on the training rows without gaps: other rows
        (fitted_without_gaps, "a copy refitted on those rows predicts differently"),
        # the six columns of the course's pipeline
        (fitted(FEATURES, recipes.penguin_pipeline()), "it also uses ['island', 'sex']"),
        # the measurements and the island
        (
            fitted([*MEASUREMENTS, "island"], make_pipeline(
                ColumnTransformer([
                    ("numeric", measurements_pipeline()[:-1], MEASUREMENTS),
                    ("island", OneHotEncoder(handle_unknown="ignore"), ["island"]),
                ]),
                LogisticRegression(max_iter=1000),
            )),
            "fitted on 5 columns, not the 4 measurements: it also uses ['island']",
        ),
        # a measurement forgotten
        (fitted(MEASUREMENTS[:3]), "it leaves out ['body_mass_g']"),
        # no imputer: it cannot be fitted on rows with gaps
        (lambda split: make_pipeline(StandardScaler(), LogisticRegression()),
         "no step fills the gaps"),
        # no scaler
        (
            fitted(MEASUREMENTS, make_pipeline(SimpleImputer(), KNeighborsClassifier())),
            "no step scales the measurements",
        ),
        # the baseline itself
        (fitted(MEASUREMENTS, measurements_pipeline(DummyClassifier())), "a baseline itself"),
        # a hyperparameter that makes the model vote like the baseline
        (
            fitted(MEASUREMENTS, measurements_pipeline(KNeighborsClassifier(n_neighbors=200))),
            "not clearly better",
        ),
        # random and unseeded: the check cannot tell which rows it saw
        (
            fitted(MEASUREMENTS, measurements_pipeline(RandomForestClassifier(n_estimators=20))),
            "random and unseeded",
        ),
        (lambda split: measurements_pipeline(), "not fitted yet"),
        (
            lambda split: measurements_pipeline(LinearRegression()).fit(
                split[0][MEASUREMENTS], split[2] == "Adelie"
            ),
            "which is not a classifier",
        ),
        (
            lambda split: measurements_pipeline().fit(split[0][MEASUREMENTS].to_numpy(),
                                                      split[2]),
            "without column names",
        ),
        (lambda split: "forest", "should be a scikit-learn model"),
        (lambda split: LogisticRegression, "is the class LogisticRegression"),
    ],
)
def test_measurements_model_names_the_mistake(split, make, says):
    X_train, _, y_train, _ = split
    feedback = checks.measurements_model(make(split), X_train, y_train, features=MEASUREMENTS)
    assert not feedback.passed
    assert says in feedback.message


def test_unanswered_exercises_raise_not_implemented(penguins, split):
    X, y = penguin_table(penguins)
    feedback = checks.measurements_model(..., split[0], split[2], features=MEASUREMENTS)
    assert feedback.verdict is Verdict.NOT_ANSWERED and "`model`" in feedback.message
    feedback = checks.stratified_split(..., ..., ..., X, y, test_size=0.2, random_state=0)
    assert feedback.verdict is Verdict.NOT_ANSWERED and "`X_train`" in feedback.message


# --- malformed answers: specific feedback, never the safety net ------------------------------

@pytest.fixture(scope="module")
def parts(penguins):
    X, y = penguin_table(penguins)
    X_train, y_train, test_set = split_and_seal(X, y, test_size=0.2, stratify=y, random_state=0)
    return X, y, X_train, y_train, test_set


def check_split(parts, X_train, y_train, test_set):
    X, y = parts[0], parts[1]
    return checks.stratified_split(X_train, y_train, test_set, X, y, test_size=0.2,
                                   random_state=0)


@pytest.mark.parametrize(
    ("arrange", "says"),
    [
        # labels first on the left of `=`
        (lambda X_tr, y_tr, test: (y_tr, X_tr, test), "X and y are swapped"),
        (lambda X_tr, y_tr, test: (X_tr.to_numpy(), y_tr, test),
         "`X_train` is a NumPy array with 275 rows and 6 columns, not a table of features"),
        (lambda X_tr, y_tr, test: (X_tr, X_tr, test), "`y_train` is a DataFrame"),
        (lambda X_tr, y_tr, test: (X_tr, None, test), "`y_train` is None, not one column"),
        (lambda X_tr, y_tr, test: (None, y_tr, test), "`X_train` is None, not a table"),
        (lambda X_tr, y_tr, test: (X_tr, y_tr.to_numpy(), test), "do not hold the same rows"),
        (lambda X_tr, y_tr, test: (test, X_tr, y_tr), "three parts are in the wrong order"),
        (lambda X_tr, y_tr, test: (X_tr, y_tr, "test"), "the third part is a str"),
    ],
)
def test_stratified_split_names_malformed_answers(parts, arrange, says):
    feedback = check_split(parts, *arrange(*parts[2:]))
    assert not feedback.passed
    assert says in feedback.message, feedback
    assert feedback.error == ""


def test_stratified_split_names_the_learners_variables(parts):
    X, y, X_train_80, y_train_80, test_set_20 = parts
    feedback = checks.stratified_split(None, y_train_80, test_set_20, X, y, test_size=0.2,
                                       random_state=0)
    assert feedback.message.startswith("`X_train` is None")  # a constant: no name to show
    feedback = checks.stratified_split(X_train_80, X_train_80, test_set_20, X, y,
                                       test_size=0.2, random_state=0)
    assert feedback.message.startswith("`X_train_80` is a DataFrame"), feedback


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda split: (measurements_pipeline().fit(split[0][MEASUREMENTS], split[2]),),
         "a comma too many"),
        (lambda split: measurements_pipeline().fit(split[0][MEASUREMENTS], split[2]).predict(
            split[0][MEASUREMENTS]), "predictions, not the model"),
        (lambda split: measurements_pipeline().fit(split[0][MEASUREMENTS], split[2]).score(
            split[0][MEASUREMENTS], split[2]), "a score, not the model"),
        (lambda split: None, "it is None"),
        (lambda split: split[0], "it is a DataFrame with 258 rows"),
    ],
)
def test_measurements_model_names_malformed_answers(split, make, says):
    X_train, _, y_train, _ = split
    feedback = checks.measurements_model(make(split), X_train, y_train, features=MEASUREMENTS)
    assert not feedback.passed
    assert says in feedback.message, feedback
    assert feedback.error == ""


MALFORMED = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-1000, 1000),
    st.floats(allow_nan=True),
    st.text(max_size=10),
    st.lists(st.integers(), max_size=4),
    st.tuples(st.integers(), st.text(max_size=3)),
    st.builds(lambda n: np.full(n, np.nan), st.integers(0, 5)),
    st.builds(lambda n: pd.DataFrame({"a": [np.nan] * n}), st.integers(0, 5)),
    st.builds(lambda n: pd.Series([np.nan] * n, dtype=float), st.integers(0, 5)),
    st.just(LogisticRegression()),
    st.just(measurements_pipeline()),
)


@settings(max_examples=30, deadline=None)
@given(position=st.integers(0, 2), value=MALFORMED)
def test_stratified_split_answers_anything_with_feedback(parts, position, value):
    answer = list(parts[2:])
    answer[position] = value
    feedback = check_split(parts, *answer)
    assert isinstance(feedback, checks.Feedback) and not feedback.passed
    assert feedback.error == "", feedback


@settings(max_examples=30, deadline=None)
@given(st.permutations(["X", "y", "test"]))
def test_stratified_split_answers_parts_in_any_order(parts, order):
    named = dict(zip(["X", "y", "test"], parts[2:], strict=True))
    feedback = check_split(parts, *[named[name] for name in order])
    assert isinstance(feedback, checks.Feedback)
    assert feedback.passed is (order == ["X", "y", "test"])
    assert feedback.error == "", feedback


@settings(max_examples=30, deadline=None)
@given(MALFORMED)
def test_measurements_model_answers_anything_with_feedback(split, model):
    X_train, _, y_train, _ = split
    feedback = checks.measurements_model(model, X_train, y_train, features=MEASUREMENTS)
    assert isinstance(feedback, checks.Feedback) and not feedback.passed
    assert feedback.error == "", feedback
