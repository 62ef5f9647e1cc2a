"""The end-of-notebook quiz: specific feedback per question, whatever the learner writes."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from course import checks, exercises, files, notebooks
from course.checks import Verdict, _quiz
from course.checks._quiz import QUIZ_MODULES, Question, Quiz, quiz_of, quiz_problems

KEY = Quiz((
    Question("b", "a share, not a count.", {"a": "a count of birds.", "c": "a percentage."}),
    Question("a", "the test set stays sealed.", {"b": "that scores the test set twice."}),
))
CELL = """## Quiz

**1.** What is test_size=0.2?
a) 20 birds
b) a fifth of the rows
c) 0.2 percent

**2.** When do you open the test set?
a) once, at the end
b) after each model
"""


@pytest.fixture()
def key(monkeypatch):
    monkeypatch.setattr(_quiz, "quiz_of", lambda notebook: KEY if notebook == "42" else None)


def test_all_right_is_correct_with_why_for_each(key):
    feedback = checks.quiz("42", {1: "b", 2: "a"})
    assert feedback.verdict is Verdict.CORRECT and feedback.message == "2 of 2 right."
    assert [part.message for part in feedback.parts] == [q.why for q in KEY.questions]


def test_a_wrong_letter_says_what_it_misunderstands(key):
    feedback = checks.quiz("42", {1: "A", 2: " b "})
    assert feedback.verdict is Verdict.NOT_YET and feedback.message.startswith("0 of 2 right.")
    assert [part.message for part in feedback.parts] == ["a count of birds.",
                                                         "that scores the test set twice."]


def test_unanswered_questions_and_an_untouched_dict(key):
    assert checks.quiz("42", {1: ..., 2: ...}).verdict is Verdict.NOT_ANSWERED
    assert checks.quiz("42", ...).verdict is Verdict.NOT_ANSWERED
    partial = checks.quiz("42", {1: "b", 2: ...})
    assert [part.verdict for part in partial.parts] == [Verdict.CORRECT, Verdict.NOT_ANSWERED]


@pytest.mark.parametrize(
    ("answers", "says"),
    [
        ({1: "e", 2: "a"}, "'e' is not one of the options"),
        ({"1": "b"}, "there is no question '1'"),
        ("b, a", "not a dict of answers"),
        ([("1", "b")], "not a dict of answers"),
        ({1: 2, 2: "a"}, "2 is not one of the options"),
    ],
)
def test_malformed_answers_get_specific_feedback(key, answers, says):
    feedback = checks.quiz("42", answers)
    assert not feedback
    assert says in str(feedback)
    assert not feedback.error  # recognised, not the generic fallback


@given(st.one_of(
    st.none(), st.integers(), st.text(max_size=5), st.lists(st.integers(), max_size=3),
    st.dictionaries(st.one_of(st.integers(-2, 4), st.text(max_size=2)),
                    st.one_of(st.none(), st.text(max_size=3), st.integers(), st.just(...)),
                    max_size=4),
))
def test_any_answer_gets_feedback_never_an_exception(answers):
    _quiz_of = _quiz.quiz_of
    _quiz.quiz_of = lambda notebook: KEY
    try:
        feedback = checks.quiz("42", answers)
    finally:
        _quiz.quiz_of = _quiz_of
    assert isinstance(feedback, checks.Feedback) and not feedback.error


def test_the_quiz_cell_must_agree_with_its_key(key):
    assert quiz_problems("42", CELL) == []
    changed = CELL.replace("c) 0.2 percent", "c) 0.2 percent\nd) a fraction of the birds")
    assert "make them agree" in quiz_problems("42", changed)[0]


def test_an_unknown_notebook_is_named():
    assert "no quiz for notebook '99'" in checks.quiz("99", {1: "a"}).message


def test_every_course_notebook_has_a_quiz_that_agrees_with_its_key():
    for path in sorted(files.notebooks_dir().glob("[0-9][0-9]_*.ipynb")):
        number = exercises.notebook_id(path)
        assert number in QUIZ_MODULES and quiz_of(number) is not None, path
        assert 4 <= len(quiz_of(number).questions) <= 6
        assert exercises.help_problems(notebooks.read(path), number) == []


@pytest.mark.parametrize("notebook", sorted(QUIZ_MODULES))
def test_every_quiz_key_passes_its_answers_and_explains_each_wrong_option_its_own_way(notebook):
    """One test for every notebook's key (course/checks/<module>.py QUIZ): the right letters
    pass, and each wrong letter is answered with its own explanation, shared with no other."""
    key = quiz_of(notebook)
    right = {number: question.answer for number, question in enumerate(key.questions, 1)}
    assert checks.quiz(notebook, right).passed
    assert len(set(right.values())) >= 3, "spread the right letters"
    said = []
    for number, question in enumerate(key.questions, 1):
        assert question.why and question.wrong, f"question {number} needs why and wrong"
        for letter, why in question.wrong.items():
            feedback = checks.quiz(notebook, {**right, number: letter})
            assert not feedback.passed and feedback.parts[number - 1].message == why
            said.append(why)
    assert len(said) == len(set(said)), "each wrong option has its own explanation"
