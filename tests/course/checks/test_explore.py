
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression

from course import checks, recipes
from course.checks._feedback import is_number


@pytest.mark.parametrize(
    ("answer", "passed", "says"),
    [
        ("flipper_length_mm", True, "0.87"),
        ("body_mass_g", False, "with itself"),
        ("bill_depth_mm", False, "most negative correlation (-0.47)"),
        ("bill_length_mm", False, "0.60, but another column's is stronger"),
        ("year", False, "the weakest link"),
        ("island", False, "not a number"),
        ("wings", False, "not a column"),
        (0.87, False, "is a correlation value"),
        (3, False, "should be a column name"),
    ],
)
def test_strongest_correlation_names_the_mistake(penguins, answer, passed, says):
    feedback = checks.strongest_correlation(answer, penguins, "body_mass_g")
    assert feedback.passed is passed
    assert says in feedback.message


@pytest.fixture(scope="module")
def train():
    """What notebook 03 explores: the training rows, with their species."""
    X_train, y_train, _ = recipes.penguin_split()
    return X_train.assign(species=y_train)


@pytest.mark.parametrize(
    ("write", "passed", "says"),
    [
        (lambda c: c["body_mass_g"].drop("body_mass_g").abs().idxmax(), True, "0.88"),
        (lambda c: c["body_mass_g"].idxmax(), False, "with itself"),  # forgot to drop itself
        (lambda c: c["body_mass_g"].idxmin(), False, "most negative"),
        (lambda c: c["body_mass_g"].drop("body_mass_g").max(), False, "a correlation value"),
        (lambda c: c["body_mass_g"].sort_values(), False, "a whole list of correlations"),
    ],
)
def test_strongest_correlation_on_the_training_rows_of_notebook_03(train, write, passed, says):
    correlations = train[recipes.PENGUIN_NUMERIC].corr()
    feedback = checks.strongest_correlation(write(correlations), train, "body_mass_g")
    assert feedback.passed is passed
    assert says in feedback.message


def test_strongest_correlation_reminds_that_negative_correlations_count():
    frame = pd.DataFrame(
        {"y": [1.0, 2, 3, 4, 5], "down": [5.0, 4, 3, 2, 1.1], "up": [1.0, 3, 2, 5, 4]}
    )
    feedback = checks.strongest_correlation("up", frame, "y")
    assert not feedback.passed
    assert "negative correlation counts too" in feedback.hint


@pytest.mark.parametrize(
    ("answer", "passed", "says"),
    [
        (68 / 344, True, "19.8%"),
        (0.2, True, "19.8%"),
        (19.8, False, "percentage"),
        (68, False, "number of 'Chinstrap' rows"),
        (152 / 344, False, "share of 'Adelie'"),
        (1 - 68 / 344, False, "*not* 'Chinstrap'"),
        ("19.8%", False, "is text"),
        (0.5, False, "not the share"),
    ],
)
def test_class_share_names_the_mistake(penguins, answer, passed, says):
    feedback = checks.class_share(answer, penguins["species"], "Chinstrap")
    assert feedback.passed is passed
    assert says in feedback.message
    assert passed or feedback.hint


@pytest.mark.parametrize(
    ("write", "passed", "says"),
    [
        (lambda y: (y == "Chinstrap").mean(), True, "19.8%"),
        (lambda y: y.value_counts(normalize=True)["Chinstrap"], True, "19.8%"),
        (lambda y: (y == "Chinstrap").sum(), False, "number of 'Chinstrap' rows"),  # 51
        (lambda y: y.value_counts(normalize=True), False, "share of every label"),
        (lambda y: 100 * (y == "Chinstrap").mean(), False, "percentage"),
        (lambda y: (y != "Chinstrap").mean(), False, "*not* 'Chinstrap'"),
        (lambda y: (y == "Gentoo").mean(), False, "share of 'Gentoo'"),
    ],
)
def test_class_share_on_the_training_rows_of_notebook_03(train, write, passed, says):
    y_train = train["species"]
    feedback = checks.class_share(write(y_train), y_train, "Chinstrap")
    assert feedback.passed is passed
    assert says in feedback.message


# --- malformed answers: specific feedback, never the safety net ------------------------------

@pytest.mark.parametrize(
    ("write", "says"),
    [
        (lambda c: c, "the whole matrix, not one column's name"),
        (lambda c: c["body_mass_g"].drop("body_mass_g").abs().idxmax, "the brackets are missing"),
        (lambda c: c["body_mass_g"].drop("body_mass_g").abs().nlargest(1).index,
         "holding the name 'flipper_length_mm'"),
        (lambda c: ["flipper_length_mm"], "holding the name 'flipper_length_mm'"),
        (lambda c: float("nan"), "should be a column name"),
        (lambda c: None, "`strongest` is None"),
        (lambda c: ["flipper_length_mm", "bill_length_mm"], "a list of 2 items"),
    ],
)
def test_strongest_correlation_names_malformed_answers(train, write, says):
    correlations = train[recipes.PENGUIN_NUMERIC].corr()
    feedback = checks.strongest_correlation(write(correlations), train, "body_mass_g")
    assert not feedback.passed
    assert says in feedback.message, feedback
    assert feedback.error == ""


@pytest.mark.parametrize(
    ("write", "says"),
    [
        (lambda y: y == "Chinstrap", "True or False for every row"),
        (lambda y: (y == "Chinstrap").mean, "the brackets are missing"),
        (lambda y: float("nan"), "`share` is nan"),
        (lambda y: None, "`share` is None"),
        (lambda y: [51, 258], "a list of 2 items"),
        (lambda y: y.to_frame(), "a DataFrame with 258 rows"),
        (lambda y: True, "a yes or no"),
        (lambda y: 1.98, "cannot be a share"),
        (lambda y: -0.2, "cannot be a share"),
    ],
)
def test_class_share_names_malformed_answers(train, write, says):
    y_train = train["species"]
    feedback = checks.class_share(write(y_train), y_train, "Chinstrap")
    assert not feedback.passed
    assert says in feedback.message, feedback
    assert feedback.error == ""


def test_the_learners_variable_is_named(train):
    share = train["species"] == "Chinstrap"
    feedback = checks.class_share(share, train["species"], "Chinstrap")
    assert feedback.message.startswith("`share` is a Series of 258 values")


MALFORMED = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-1000, 1000),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.lists(st.one_of(st.integers(), st.text(max_size=5)), max_size=4),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=3),
    st.builds(lambda n: np.full(n, np.nan), st.integers(0, 5)),
    st.builds(lambda n: pd.DataFrame({"a": range(n)}), st.integers(0, 5)),
    st.builds(lambda n: pd.Series([np.nan] * n, dtype=float), st.integers(0, 5)),
    st.just(LogisticRegression()),
    st.just(print),
)


@settings(max_examples=30, deadline=None)
@given(MALFORMED)
def test_strongest_correlation_answers_anything_with_feedback(train, answer):
    feedback = checks.strongest_correlation(answer, train, "body_mass_g")
    assert isinstance(feedback, checks.Feedback) and not feedback.passed
    assert feedback.error == "", feedback


@settings(max_examples=30, deadline=None)
@given(MALFORMED)
def test_class_share_answers_anything_with_feedback(train, answer):
    feedback = checks.class_share(answer, train["species"], "Chinstrap")
    assert isinstance(feedback, checks.Feedback)
    assert feedback.error == "", feedback
    assert not feedback.passed or (is_number(answer) and abs(answer - 51 / 258) < 0.005)
