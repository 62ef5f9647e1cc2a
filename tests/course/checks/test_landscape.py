import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LinearRegression

from course import checks
from course.checks import Verdict


@pytest.mark.parametrize(
    ("target", "answer", "passed", "says"),
    [
        ("species", "classification", True, "3 classes"),
        ("species", "Multiclass classification", True, "multiclass classification:"),
        ("species", "binary classification", False, "with 3 classes it is multiclass"),
        ("species", "regression", False, "holds labels (Adelie, Gentoo, Chinstrap)"),
        ("species", "clustering", False, "there is a target, 'species'"),
        ("body_mass_g", "regression", True, "a quantity"),
        ("body_mass_g", "classification", False, "a quantity on a scale (2700 to 6300)"),
        (None, "clustering", True, "find groups"),
        (None, "regression", False, "there is no target column"),
        ("species", "classify", False, "is not a kind of problem"),
        ("species", 3, False, "should be a word"),
        # Exercise 1 of notebook 00: body mass, and the answers a beginner really gives.
        ("body_mass_g", " Regression", True, "regression:"),
        ("body_mass_g", "clustering", False, "there is a target, 'body_mass_g'"),
        ("body_mass_g", "multiclass classification", False, "a quantity on a scale"),
        ("body_mass_g", "supervised", False, "a way of learning (notebook 00, section 3)"),
        ("body_mass_g", "linear regression", False, "is an algorithm"),
        ("body_mass_g", "logistic regression", False, "used for classification"),
        (None, "unsupervised learning", False, "unsupervised problems are clustering"),
        (None, "k-means", False, "is an algorithm"),
        ("species", "reinforcement learning", False, "learned from rewards"),
    ],
)
def test_problem_kind_names_the_mistake(penguins, target, answer, passed, says):
    frame = penguins if target else penguins.drop(columns="species")
    feedback = checks.problem_kind(answer, frame, target)
    assert feedback.passed is passed
    assert says in feedback.message
    assert passed or feedback.hint


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (None, "`kind` is None"),
        (3, "`kind` is the number 3"),
        (["regression"], "`kind` is a list of 1 item"),
        (float("nan"), "`kind` is the number nan"),
    ],
)
def test_problem_kind_wants_a_word(penguins, answer, says):
    feedback = checks.problem_kind(answer, penguins, "body_mass_g")
    assert not feedback.passed and says in feedback.message
    assert "in quotes" in feedback.hint
    assert feedback.error == ""  # recognised, not the safety net


def test_problem_kind_names_a_changed_check_cell(penguins):
    feedback = checks.problem_kind("regression", penguins, "body_mass")
    assert not feedback.passed and "no column 'body_mass'" in feedback.message
    assert feedback.error == ""
    feedback = checks.problem_kind("regression", penguins["body_mass_g"], "body_mass_g")
    assert not feedback.passed and "not a table" in feedback.message
    assert feedback.error == ""


def test_problem_kind_unanswered_names_the_learners_variable(penguins):
    kind = ...
    feedback = checks.problem_kind(kind, penguins, target="body_mass_g")
    assert feedback.verdict is Verdict.NOT_ANSWERED and "`kind`" in feedback.message


ANSWERS = st.one_of(
    st.none(), st.integers(), st.floats(), st.text(max_size=20), st.booleans(),
    st.lists(st.text(max_size=5), max_size=3), st.just(np.array([np.nan, 1.0])),
    st.just(pd.DataFrame({"kind": ["regression"]})), st.just(LinearRegression()),
    st.sampled_from(["Regression ", "CLASSIFICATION", "k-means", "supervised", "classify"]),
)


@settings(max_examples=30, deadline=None)
@given(answer=ANSWERS, target=st.sampled_from(["body_mass_g", "species", None]))
def test_problem_kind_answers_anything_with_feedback(penguins, answer, target):
    frame = penguins if target else penguins.drop(columns="species")
    feedback = checks.problem_kind(answer, frame, target)
    assert isinstance(feedback, checks.Feedback)
    assert feedback.error == ""
    if not isinstance(answer, str):
        assert not feedback.passed


@settings(max_examples=30, deadline=None)
@given(frame=st.one_of(st.none(), st.integers(), st.text(max_size=5),
                       st.just(np.array([[1.0, np.nan]])), st.just(LinearRegression())))
def test_problem_kind_answers_a_broken_frame_with_feedback(frame):
    feedback = checks.problem_kind("regression", frame, "body_mass_g")
    assert isinstance(feedback, checks.Feedback) and not feedback.passed
    assert feedback.error == ""


# --- the quiz --------------------------------------------------------------------------------

def test_quiz_marks_the_notebooks_answers():
    feedback = checks.quiz("00", {1: "b", 2: "c", 3: "a", 4: "d", 5: "b"})
    assert feedback.passed and feedback.message == "5 of 5 right."
    # The beginner's answers: a probability is a number, the best model is the biggest one.
    feedback = checks.quiz("00", {1: "a", 2: "c", 3: "a", 4: "a", 5: "a"})
    assert not feedback.passed and feedback.message.startswith("2 of 5 right.")
    assert "one of two labels" in feedback.parts[0].message
    assert "hardest to explain" in feedback.parts[3].message
    assert "too good to be true" in feedback.parts[4].message
