import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, StandardScaler

from course import checks, recipes
from course.checks import Verdict

MEASUREMENTS = recipes.PENGUIN_NUMERIC
CATEGORIES = ["island", "sex"]


def numeric(*steps):
    return make_pipeline(*steps) if steps else make_pipeline(
        SimpleImputer(strategy="median"), StandardScaler()
    )


def categorical(*steps):
    return make_pipeline(*steps) if steps else make_pipeline(
        SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")
    )


def column_transformer(numeric_part, categorical_part, numeric_columns=MEASUREMENTS):
    return ColumnTransformer(
        [("numeric", numeric_part, numeric_columns), ("categorical", categorical_part, CATEGORIES)]
    )


@pytest.mark.parametrize(
    ("make", "passed", "says"),
    [
        (recipes.penguin_preprocessor, True, "4 scaled measurements and 5 one-hot columns"),
        # the two parts in the other order are just as right
        (
            lambda: ColumnTransformer([("categorical", categorical(), CATEGORIES),
                                       ("numeric", numeric(), MEASUREMENTS)]),
            True,
            "4 scaled measurements",
        ),
        # forgot the imputer of the measurements
        (lambda: column_transformer(StandardScaler(), categorical()), False,
         "still have missing values"),
        # the categories passed through as text
        (lambda: column_transformer(SimpleImputer(), "passthrough"), False, "still holds text"),
        # forgot to scale
        (
            lambda: column_transformer(SimpleImputer(strategy="median"), categorical()),
            False,
            "not scaled",
        ),
        # scaler before imputer
        (
            lambda: column_transformer(
                numeric(StandardScaler(), SimpleImputer(strategy="median")), categorical()
            ),
            False,
            "scales before it fills the gaps",
        ),
        # one-hot encoded the measurements too
        (
            lambda: ColumnTransformer([
                ("categorical", categorical(), MEASUREMENTS + CATEGORIES),
            ]),
            False,
            "are one-hot encoded",
        ),
        # forgot the categorical part
        (
            lambda: ColumnTransformer([("numeric", numeric(), MEASUREMENTS)]),
            False,
            "island and sex are missing from the output",
        ),
        # encoded island and sex without filling their gaps
        (
            lambda: column_transformer(numeric(), OneHotEncoder(handle_unknown="ignore")),
            False,
            "encoded without filling their gaps",
        ),
        # forgot handle_unknown="ignore"
        (
            lambda: column_transformer(
                numeric(), categorical(SimpleImputer(strategy="most_frequent"), OneHotEncoder())
            ),
            False,
            "never saw (Anvers) makes it fail",
        ),
        # the mean instead of the median
        (
            lambda: column_transformer(numeric(SimpleImputer(), StandardScaler()), categorical()),
            False,
            "filled with the mean, but the exercise asks for the median",
        ),
        # another scaler: right shape, wrong values
        (
            lambda: column_transformer(
                numeric(SimpleImputer(strategy="median"), MinMaxScaler()), categorical()
            ),
            False,
            "not scaled",
        ),
        # left out a measurement
        (
            lambda: column_transformer(numeric(), categorical(), numeric_columns=MEASUREMENTS[:3]),
            False,
            "has 8 columns; expected 9",
        ),
        (
            lambda: ColumnTransformer([("numeric", StandardScaler(), ["bill_length"])]),
            False,
            "raised ValueError",
        ),
        (lambda: "scale and encode", False, "should be a scikit-learn transformer"),
        (lambda: ColumnTransformer, False, "is the class ColumnTransformer"),
    ],
)
def test_penguin_preprocessor_names_the_mistake(split, make, passed, says):
    feedback = checks.penguin_preprocessor(make(), split[0])
    assert feedback.passed is passed, feedback
    assert says in feedback.message


def test_penguin_preprocessor_refuses_one_already_fitted(split):
    fitted = recipes.penguin_preprocessor().fit(split[0])
    feedback = checks.penguin_preprocessor(fitted, split[0])
    assert not feedback.passed
    assert "already fitted" in feedback.message


def test_penguin_preprocessor_leaves_the_learners_object_unfitted(split):
    preprocessor = recipes.penguin_preprocessor()
    checks.penguin_preprocessor(preprocessor, split[0])
    assert not hasattr(preprocessor, "transformers_")


@pytest.mark.parametrize(
    ("answer", "passed", "says"),
    [
        ("ac", True, "all 344 birds before the split"),
        (["a", "c"], True, "each scored fold helped fill"),
        ("C, A", True, "(a)"),
        # only the leak before the split
        ("a", False, "(a) leaks, but it is not the only one: look again at (c)"),
        # only the leak into the folds
        ("c", False, "(c) leaks, but it is not the only one: look again at (a)"),
        # the pipeline inside cross-validation is safe
        ("abc", False, "option b is safe: the pipeline is refitted inside every fold"),
        # fitting on the training rows and transforming the test rows is safe
        ("acd", False, "option d is safe: the scaler learns from the training rows only"),
        ("e", False, "not a set of options"),
        ("", False, "not a set of options"),
    ],
)
def test_leaky_option_explains_each_option(answer, passed, says):
    feedback = checks.leaky_option(answer)
    assert feedback.passed is passed, feedback
    assert says in feedback.message


def test_leaky_option_points_at_the_missed_leak():
    assert "cross_val_score later score" in checks.leaky_option("a").hint
    assert "before split_and_seal" in checks.leaky_option(["c"]).hint


def test_unanswered_exercises_raise_not_implemented(split):
    feedback = checks.penguin_preprocessor(..., split[0])
    assert feedback.verdict is Verdict.NOT_ANSWERED and "`preprocessor`" in feedback.message
    feedback = checks.leaky_option(...)
    assert feedback.verdict is Verdict.NOT_ANSWERED and "`leaky`" in feedback.message


@pytest.mark.parametrize(
    ("make", "says"),
    [
        # the model added at the end: the course's pipeline instead of its preprocessor
        (recipes.penguin_pipeline, "ends with a model (LogisticRegression)"),
        (lambda: make_pipeline(recipes.penguin_preprocessor(), KNeighborsClassifier()),
         "ends with a model (KNeighborsClassifier)"),
        (lambda: None, "but it is None"),
        (lambda: [("numeric", numeric(), MEASUREMENTS)], "but it is a list of 1 item"),
        (lambda: np.array([np.nan, 1.0]), "but it is a NumPy array of 2 values"),
        (lambda: LogisticRegression, "is the class LogisticRegression"),
        (lambda: LogisticRegression(), "is a model (LogisticRegression), not the preparation"),
        # a bare scaler on the whole table: the text columns make its fit fail
        (lambda: StandardScaler(), "fitting it on X_train raised ValueError"),
    ],
)
def test_penguin_preprocessor_names_malformed_answers(split, make, says):
    feedback = checks.penguin_preprocessor(make(), split[0])
    assert not feedback.passed and says in feedback.message, feedback
    assert feedback.error == ""  # recognised, not the safety net


@pytest.mark.parametrize(
    ("X_train", "says"),
    [
        (None, "`X_train` is None, not a table"),
        (np.zeros((3, 6)), "`X_train` is a NumPy array with 3 rows and 6 columns"),
        (pd.DataFrame({"bill_length_mm": [40.0]}), "`X_train` has no column 'bill_depth_mm'"),
    ],
)
def test_penguin_preprocessor_names_a_broken_training_table(X_train, says):
    feedback = checks.penguin_preprocessor(recipes.penguin_preprocessor(), X_train)
    assert not feedback.passed and says in feedback.message, feedback
    assert feedback.error == ""


def test_penguin_preprocessor_swapped_arguments(split):
    feedback = checks.penguin_preprocessor(split[0], recipes.penguin_preprocessor())
    assert not feedback.passed
    assert "`preprocessor` should be a scikit-learn transformer, but it is a DataFrame with" in (
        feedback.message
    )
    assert feedback.error == ""


def test_penguin_preprocessor_hides_the_hints_that_write_the_answer(split):
    no_categories = ColumnTransformer([("numeric", numeric(), MEASUREMENTS)])
    scale_first = column_transformer(numeric(StandardScaler(), SimpleImputer(strategy="median")),
                                     categorical())
    for answer in (no_categories, scale_first):
        feedback = checks.penguin_preprocessor(answer, split[0])
        assert "make_pipeline(SimpleImputer" in feedback.hint and feedback.hint_gives_answer
    feedback = checks.penguin_preprocessor(column_transformer(StandardScaler(), categorical()),
                                           split[0])
    assert not feedback.hint_gives_answer and "make_pipeline(" not in feedback.hint


MALFORMED = st.one_of(
    st.none(), st.integers(), st.floats(), st.text(max_size=6),
    st.lists(st.one_of(st.integers(), st.text(max_size=4)), max_size=3),
    st.just(np.array([np.nan, 1.0])), st.just(pd.DataFrame({"a": [1.0, np.nan]})),
    st.just(pd.Series(["Adelie", "Gentoo"])), st.just(LogisticRegression()),
    st.just(StandardScaler()), st.just(OneHotEncoder()),
)


@settings(max_examples=30, deadline=None)
@given(preprocessor=MALFORMED)
def test_penguin_preprocessor_answers_anything_with_feedback(split, preprocessor):
    feedback = checks.penguin_preprocessor(preprocessor, split[0])
    assert isinstance(feedback, checks.Feedback) and not feedback.passed
    assert feedback.error == ""


@settings(max_examples=30, deadline=None)
@given(X_train=MALFORMED)
def test_penguin_preprocessor_answers_a_broken_table_with_feedback(X_train):
    feedback = checks.penguin_preprocessor(recipes.penguin_preprocessor(), X_train)
    assert isinstance(feedback, checks.Feedback) and not feedback.passed
    assert feedback.error == ""


@settings(max_examples=30, deadline=None)
@given(answer=st.one_of(
    MALFORMED, st.booleans(), st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
    st.lists(st.sampled_from(["a", "b", "c", "d", "(a)", "e", 1]), max_size=4),
    st.text(alphabet="abcdeACD ,()and", max_size=8),
))
def test_leaky_option_answers_anything_with_feedback(answer):
    feedback = checks.leaky_option(answer)
    assert isinstance(feedback, checks.Feedback)
    assert feedback.error == ""


# --- the quiz --------------------------------------------------------------------------------

def test_quiz_marks_the_notebooks_answers():
    right = {1: "d", 2: "b", 3: "a", 4: "c", 5: "b", 6: "a"}
    assert checks.quiz("02", right).message == "6 of 6 right."
    # The beginner's answers: models know units, scaling cannot leak, the default encoder copes.
    feedback = checks.quiz("02", {**right, 1: "a", 3: "b", 4: "a"})
    assert not feedback.passed and feedback.message.startswith("3 of 6 right.")
    assert "only sees numbers, not units" in feedback.parts[0].message
    assert "carries information from the test rows" in feedback.parts[2].message
    assert "the default is to raise an error" in feedback.parts[3].message
