import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone

from course import checks, recipes
from course.checks import Verdict
from course.export import read_card
from course.schema import to_frame, validate_row

# Exercise 1: the probability of one class for one new bird.

MYSTERY = {
    "bill_length_mm": 44.0,
    "bill_depth_mm": 18.0,
    "flipper_length_mm": 195,
    "body_mass_g": 3700,
    "island": "Dream",
    "sex": "female",
}


@pytest.fixture(scope="module")
def bird(card):
    return to_frame(card, [validate_row(card, MYSTERY)[0]])


@pytest.fixture(scope="module")
def proba(fitted, bird):
    return pd.Series(fitted.predict_proba(bird)[0], index=fitted.classes_)


def test_the_probability_of_the_class_asked_for_passes(fitted, bird, proba):
    expected = proba["Adelie"]
    assert 0.05 < expected < 0.5 < proba["Chinstrap"]  # the exercise's bird: a doubtful one
    for answer in (expected, np.float64(expected), round(expected, 3), np.array([expected])):
        feedback = checks.class_probability(answer, fitted, bird, "Adelie")
        assert feedback.passed, feedback
        assert "probability of 0.182" in feedback.message


@pytest.mark.parametrize(
    ("make_answer", "says"),
    [
        # the column of another species (Chinstrap is column 1, Adelie column 0)
        (lambda m, b, p: p["Chinstrap"], "is the probability of 'Chinstrap', not of 'Adelie'"),
        # the whole row of predict_proba, as an array or as its one-row table
        (lambda m, b, p: m.predict_proba(b), "one probability per class"),
        (lambda m, b, p: m.predict_proba(b)[0].tolist(), "one probability per class"),
        # predict instead of predict_proba: the label, alone or in its array
        (lambda m, b, p: m.predict(b), "'Chinstrap' is the class the model predicts"),
        (lambda m, b, p: m.predict(b)[0], "'Chinstrap' is the class the model predicts"),
        (lambda m, b, p: "Adelie", "'Adelie' is a class label"),
        # a percentage
        (lambda m, b, p: 100 * p["Adelie"], "is a percentage"),
        (lambda m, b, p: round(100 * p["Adelie"], 1), "is a percentage"),
        # the probability of "not Adelie"
        (lambda m, b, p: 1 - p["Adelie"], "the probability that the bird is NOT 'Adelie'"),
        # rounded to two decimals
        (lambda m, b, p: round(p["Adelie"], 2), "rounded too much"),
        # predict_proba on the first test bird instead of the new one
        (lambda m, b, p: 0.5, "not the probability the model gives 'Adelie' for this row"),
        (lambda m, b, p: 42, "cannot be a probability"),
        (lambda m, b, p: None, "`probability` is None, not a number"),
    ],
)
def test_each_wrong_probability_gets_its_own_message(fitted, bird, proba, make_answer, says):
    feedback = checks.class_probability(make_answer(fitted, bird, proba), fitted, bird, "Adelie")
    assert not feedback.passed
    assert says in feedback.message, feedback
    assert feedback.hint


def test_a_probability_of_another_row_is_refused(fitted, bird, split):
    other_row = split[0].head(1)  # a training bird, not the new one
    answer = fitted.predict_proba(other_row)[0, 0]
    feedback = checks.class_probability(answer, fitted, bird, "Adelie")
    assert not feedback.passed
    assert "ask the model about the new row itself" in feedback.hint


def test_the_starting_code_asks_for_an_answer(fitted, bird):
    feedback = checks.class_probability(..., fitted, bird, "Adelie")
    assert feedback.verdict is Verdict.NOT_ANSWERED and "`probability`" in feedback.message


# Exercise 2: fix the refused request, keeping the bird.


@pytest.fixture(scope="module")
def card(tmp_path_factory):
    return read_card(recipes.train_penguin_model(tmp_path_factory.mktemp("models")))


BAD_REQUEST = {
    "bill_length_mm": "46.1",
    "bill_depth_mm": 13.2,
    "flipper_length_mm": 211,
    "body_mass_g": 4.5,
    "island": "biscoe",
    "sex": "female",
    "colour": "black",
}
FIXED = {
    "bill_length_mm": 46.1,
    "bill_depth_mm": 13.2,
    "flipper_length_mm": 211,
    "body_mass_g": 4500,
    "island": "Biscoe",
    "sex": "female",
}


def test_the_fixed_request_passes(card):
    feedback = checks.valid_request(FIXED, card, BAD_REQUEST)
    assert feedback.passed, feedback
    assert checks.valid_request({**FIXED, "body_mass_g": 4500.0}, card, BAD_REQUEST).passed
    assert checks.valid_request(FIXED, card).passed  # without the original: schema only


@pytest.mark.parametrize(
    ("change", "says", "hint"),
    [
        # still a string
        ({"bill_length_mm": "46.1"}, "not text: send 46.1 without quotes", "without quotes"),
        # wrong case
        ({"island": "biscoe"}, "unknown category 'biscoe'", "case-sensitive: write 'Biscoe'"),
        # kept the unknown field
        ({"colour": "black"}, "colour: unknown field", "delete the field 'colour'"),
        # body mass left in kilograms
        ({"body_mass_g": 4.5}, "far outside the range", "x1000 gives 4500"),
        # dropped a field instead of fixing it
        ({"body_mass_g": KeyError}, "body_mass_g: missing field", "start with 'body_mass_g'"),
        # another bird: a measurement changed, or the sex dropped
        ({"bill_depth_mm": 14.0}, "bill_depth_mm is 14.0, but the bird", "never the bird"),
        ({"body_mass_g": 4000}, "body_mass_g is 4000.0, but the bird", "never the bird"),
        ({"sex": None}, "sex is None, but the bird of the refused request has 'female'", "never"),
        ({"island": "Dream"}, "island is 'Dream'", "never the bird"),
    ],
)
def test_each_wrong_fix_gets_its_own_message(card, change, says, hint):
    answer = {**FIXED, **change}
    answer = {key: value for key, value in answer.items() if value is not KeyError}
    feedback = checks.valid_request(answer, card, BAD_REQUEST)
    assert not feedback.passed
    assert says in feedback.message, feedback
    assert hint in feedback.hint, feedback


def test_the_starting_code_asks_for_a_request(card):
    feedback = checks.valid_request(..., card, BAD_REQUEST)
    assert feedback.verdict is Verdict.NOT_ANSWERED and "`fixed_request`" in feedback.message


# Malformed answers: each kind a beginner writes gets its own message, never the safety net.


@pytest.mark.parametrize(
    ("make_answer", "says", "hint"),
    [
        (lambda m, b: float("nan"), "`probability` is nan, not a probability", "NaN"),
        (lambda m, b: np.array([np.nan]), "`probability` is nan", "NaN"),
        (lambda m, b: "0.182", "is the text '0.182': a number in quotes", "without quotes"),
        (lambda m, b: True, "a yes/no, not a probability", "from 0 to 1"),
        (lambda m, b: [], "holds 0 values; the question asks for one number", "predict_proba"),
        (lambda m, b: {"Adelie": 0.18}, "is a dict of 1 item, not a number", "predict_proba"),
        (lambda m, b: m, "is a Pipeline: the model itself", "predict_proba"),
        (lambda m, b: clone(m), "the model itself", "predict_proba"),
        (lambda m, b: b, "the row of features itself", "predict_proba"),
        (lambda m, b: m.predict_proba(b.iloc[[0, 0]]), "holds 6 values", "one new row"),
    ],
)
def test_a_malformed_probability_gets_specific_feedback(fitted, bird, make_answer, says, hint):
    feedback = checks.class_probability(make_answer(fitted, bird), fitted, bird, "Adelie")
    assert not feedback.passed
    assert says in feedback.message, feedback
    assert hint in feedback.hint, feedback
    assert feedback.error == ""


def test_no_probability_hint_writes_the_answer_line(fitted, bird, proba):
    """The hints point at the step, never at the line (predict_proba(...)[0, k]) itself."""
    for answer in (proba["Chinstrap"], fitted.predict(bird), 1 - proba["Adelie"], 18.2, 0.5, 7):
        feedback = checks.class_probability(answer, fitted, bird, "Adelie")
        assert "[0," not in feedback.hint and "predict_proba(row)" not in feedback.hint, feedback


MALFORMED = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 500),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.lists(st.floats(allow_nan=True), max_size=5),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=3),
    st.sampled_from(["model", "unfitted", "row", "nan array", "predict", "frame"]),
)


def _materialise(value, fitted, bird):
    """Strategies draw cheap markers; the exercise's own objects stand in for them."""
    objects = {
        "model": fitted,
        "unfitted": clone(fitted),
        "row": bird,
        "nan array": np.full(3, np.nan),
        "predict": fitted.predict(bird),
        "frame": pd.DataFrame({"a": [1.0, np.nan]}),
    }
    return objects.get(value, value) if isinstance(value, str) else value


@settings(max_examples=30, deadline=None)
@given(answer=MALFORMED)
def test_any_probability_gets_feedback_never_an_exception(fitted, bird, proba, answer):
    answer = _materialise(answer, fitted, bird)
    feedback = checks.class_probability(answer, fitted, bird, "Adelie")
    assert isinstance(feedback, checks.Feedback)
    assert feedback.error == "", feedback
    expected = proba["Adelie"]
    if feedback.passed:  # only a number within 5e-4 of the answer may pass
        assert abs(float(np.ravel(np.asarray(answer, dtype=float))[0]) - expected) < 5e-4


@pytest.mark.parametrize(
    ("make_answer", "says", "hint"),
    [
        (lambda: json.dumps(FIXED), "is text (JSON in quotes), not a dict", "remove the quotes"),
        (lambda: [FIXED], "a list holding one request", "square brackets"),
        (lambda: pd.DataFrame([FIXED]), "a table, the model's side", "a dict like"),
        (lambda: pd.Series(FIXED), "a table, the model's side", "a dict like"),
        (lambda: None, "`fixed_request` is None, not a request", "a dict like"),
        (lambda: "Biscoe", "is the text 'Biscoe', not a request", "a dict like"),
        (lambda: {**FIXED, "body_mass_g": float("nan")}, "not a finite number", "body_mass_g"),
        (lambda: {**FIXED, "body_mass_g": "4500"}, "not text", "without quotes"),
        (lambda: {**FIXED, "sex": "Female"}, "unknown category 'Female'", "case-sensitive"),
        (lambda: {1: 2}, "field names must be strings", "start with"),
    ],
)
def test_a_malformed_request_gets_specific_feedback(card, make_answer, says, hint):
    feedback = checks.valid_request(make_answer(), card, BAD_REQUEST)
    assert not feedback.passed
    assert says in feedback.message, feedback
    assert hint in feedback.hint, feedback
    assert feedback.error == ""


REQUESTS = st.one_of(
    st.none(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=10),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(
        st.sampled_from([*FIXED, "colour", "Island"]),
        st.one_of(st.none(), st.booleans(), st.integers(-10, 10_000),
                  st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8),
                  st.sampled_from(["Biscoe", "Dream", "female", "male", "46.1"])),
        max_size=8,
    ),
)


@settings(max_examples=30, deadline=None)
@given(answer=REQUESTS)
def test_any_request_gets_feedback_never_an_exception(card, answer):
    feedback = checks.valid_request(answer, card, BAD_REQUEST)
    assert isinstance(feedback, checks.Feedback)
    assert feedback.error == "", feedback
    if feedback.passed:  # only the same bird, written right, passes
        assert {key: float(value) if key.endswith(("_mm", "_g")) else value
                for key, value in answer.items()} == {
            key: float(value) if key.endswith(("_mm", "_g")) else value
            for key, value in FIXED.items()}
