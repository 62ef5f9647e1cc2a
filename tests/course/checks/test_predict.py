import numpy as np
import pandas as pd
import pytest

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
        (lambda m, b, p: None, "should be a number"),
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
