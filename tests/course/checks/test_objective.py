import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LinearRegression

from course import checks, recipes
from course.checks import Verdict

MEASUREMENTS = recipes.PENGUIN_NUMERIC


@pytest.mark.parametrize(
    ("answer", "passed", "says"),
    [
        (11, True, "11 of the 344 rows"),
        (19, False, "every column"),
        (333, False, "that *have*"),
        (344, False, "number of rows"),
        (2, False, "not the number"),
        ("11", False, "a number in quotes is text"),
        (11 / 344, False, "share of rows with no 'sex'"),
    ],
)
def test_missing_values_names_the_mistake(penguins, answer, passed, says):
    feedback = checks.missing_values(answer, penguins, "sex")
    assert feedback.passed is passed
    assert says in feedback.message


@pytest.mark.parametrize(
    ("write", "says"),
    [
        (lambda frame: frame.isna().sum(), "a count for every column"),
        (lambda frame: frame["sex"].isna(), "one True/False per row"),
        (lambda frame: frame["sex"].isna().any(), "whether some 'sex' values are missing"),
        (lambda frame: frame["sex"].count(), "that *have*"),
        (lambda frame: frame.isna().sum().sum(), "every column"),
    ],
)
def test_missing_values_refuses_the_code_beginners_write(penguins, write, says):
    feedback = checks.missing_values(write(penguins), penguins, "sex")
    assert not feedback.passed
    assert says in feedback.message
    assert feedback.hint


def test_missing_values_accepts_the_count_pandas_gives(penguins):
    assert checks.missing_values(penguins["sex"].isna().sum(), penguins, "sex").passed


@pytest.mark.parametrize(
    ("answer", "passed", "says"),
    [
        (recipes.PENGUIN_FEATURES, True, "6 features"),
        (list(reversed(recipes.PENGUIN_FEATURES)), True, "accept 'sex' missing"),
        ([*recipes.PENGUIN_FEATURES, "species"], False, "the answer itself"),
        ([*recipes.PENGUIN_FEATURES, "year"], False, "when a bird was measured"),
        (MEASUREMENTS, False, "you left out ['island', 'sex']"),
        ([*MEASUREMENTS, "island"], False, "only for birds that were sexed"),
        ([*MEASUREMENTS, "sex"], False, "always knows where the bird was measured"),
        ([*recipes.PENGUIN_FEATURES, "island"], False, "['island'] is in the list more than once"),
        (["bill_lenght_mm"], False, "is not a column"),
        ("island", False, "should be a list"),
        ({"island", "sex"}, False, "should be a list"),
    ],
)
def test_penguin_features_names_the_mistake(penguins, answer, passed, says):
    feedback = checks.penguin_features(answer, penguins)
    assert feedback.passed is passed
    assert says in feedback.message


def test_penguin_features_wants_the_names_not_the_table(penguins):
    feedback = checks.penguin_features(penguins[recipes.PENGUIN_FEATURES], penguins)
    assert not feedback.passed
    assert "the list of their names" in feedback.message
    assert checks.penguin_features(penguins[recipes.PENGUIN_FEATURES].columns, penguins).passed


@pytest.mark.parametrize(
    ("write", "says"),
    [
        (lambda frame: frame[["sex"]].isna().sum(), "a Series holding one count ('sex')"),
        (lambda frame: frame.isna(), "a True/False (or a value) for every cell"),
        (lambda frame: frame["sex"].isna().mean(), "share of rows with no 'sex'"),
        (lambda frame: float("nan"), "`n_missing` is nan, not a count"),
        (lambda frame: None, "`n_missing` is None"),
        (lambda frame: [11], "`n_missing` is a list of 1 item"),
    ],
)
def test_missing_values_names_malformed_answers(penguins, write, says):
    feedback = checks.missing_values(write(penguins), penguins, "sex")
    assert not feedback.passed and says in feedback.message
    assert feedback.error == ""  # recognised, not the safety net
    assert "isna().sum()" not in feedback.hint  # the hint never writes the answer line


def test_missing_values_accepts_a_zero_dimensional_array(penguins):
    assert checks.missing_values(np.sum(penguins["sex"].isna().to_numpy()), penguins, "sex")
    assert checks.missing_values(np.array(11), penguins, "sex").passed


def test_missing_values_unanswered_names_the_learners_variable(penguins):
    n_missing = ...
    feedback = checks.missing_values(n_missing, penguins, "sex")
    assert feedback.verdict is Verdict.NOT_ANSWERED and "`n_missing`" in feedback.message


MALFORMED = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 400), st.floats(), st.text(max_size=6),
    st.lists(st.one_of(st.integers(), st.text(max_size=4)), max_size=3),
    st.just(np.array([np.nan, 1.0])), st.just(np.array(3)), st.just(pd.DataFrame({"a": [1]})),
    st.just(pd.Series([1.0, np.nan])), st.just(LinearRegression()), st.just({"sex": 11}),
)


@settings(max_examples=30, deadline=None)
@given(answer=MALFORMED)
def test_missing_values_answers_anything_with_feedback(penguins, answer):
    feedback = checks.missing_values(answer, penguins, "sex")
    assert isinstance(feedback, checks.Feedback)
    assert feedback.error == ""
    if not (isinstance(answer, int | np.ndarray) and not isinstance(answer, bool)):
        assert not feedback.passed


@settings(max_examples=30, deadline=None)
@given(frame=MALFORMED)
def test_missing_values_answers_a_broken_frame_with_feedback(frame):
    feedback = checks.missing_values(11, frame, "sex")
    assert isinstance(feedback, checks.Feedback) and not feedback.passed
    assert feedback.error == ""


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (np.array(recipes.PENGUIN_FEATURES), None),
        (tuple(recipes.PENGUIN_FEATURES), None),
        (["island", 3], "one is the number 3"),
        ([["island", "sex"]], "one is a list of 2 items"),
        (None, "it is None"),
        (6, "it is the number 6"),
        ({"island": 1}, "it is a dict of 1 item"),
    ],
)
def test_penguin_features_reads_other_containers(penguins, answer, says):
    feedback = checks.penguin_features(answer, penguins)
    assert feedback.passed is (says is None), feedback
    assert says is None or says in feedback.message
    assert feedback.error == ""


def test_penguin_features_wants_names_not_a_column(penguins):
    feedback = checks.penguin_features(penguins["island"], penguins)
    assert not feedback.passed and "a column of the table (its values)" in feedback.message
    assert feedback.error == ""


@settings(max_examples=30, deadline=None)
@given(answer=st.one_of(
    MALFORMED,
    st.lists(st.sampled_from([*recipes.PENGUIN_FEATURES, "species", "year", "mass"]), max_size=8),
    st.lists(st.one_of(st.none(), st.integers(), st.lists(st.integers(), max_size=2)),
             min_size=1, max_size=3),
))
def test_penguin_features_answers_anything_with_feedback(penguins, answer):
    feedback = checks.penguin_features(answer, penguins)
    assert isinstance(feedback, checks.Feedback)
    assert feedback.error == ""


# --- the quiz --------------------------------------------------------------------------------

def test_quiz_marks_the_notebooks_answers():
    assert checks.quiz("01", {1: "c", 2: "a", 3: "d", 4: "b", 5: "c"}).message == "5 of 5 right."
    # The beginner's answers: a high score is good, rows with gaps are dropped, cells are birds.
    feedback = checks.quiz("01", {1: "a", 2: "a", 3: "b", 4: "b", 5: "a"})
    assert not feedback.passed and feedback.message.startswith("2 of 5 right.")
    assert "never says \"spam\"" in feedback.parts[0].message
    assert "next unsexed bird" in feedback.parts[2].message
    assert "counts five times" in feedback.parts[4].message
