
import pytest

from course import checks, recipes
from course.export import read_card


def test_class_probability_names_the_mistake(split, fitted):
    row = split[1].head(1)
    probabilities = fitted.predict_proba(row)[0]
    classes = list(fitted.classes_)
    label = "Chinstrap"
    expected = probabilities[classes.index(label)]
    assert checks.class_probability(expected, fitted, row, label).passed
    assert checks.class_probability(round(expected, 3), fitted, row, label).passed
    other = next(
        c for c in classes if c != label and abs(probabilities[classes.index(c)] - expected) > 0.01
    )
    cases = [
        (probabilities[classes.index(other)], f"probability of {other!r}"),
        (100 * expected, "percentage") if expected > 0.01 else (label, "is a label"),
        (label, "is a label"),
        (probabilities, "one probability per class"),
        (None, "should be a number"),
    ]
    for answer, says in cases:
        feedback = checks.class_probability(answer, fitted, row, label)
        assert not feedback.passed
        assert says in feedback.message


@pytest.fixture(scope="module")
def card(tmp_path_factory):
    return read_card(recipes.train_penguin_model(tmp_path_factory.mktemp("models")))


GOOD_REQUEST = {
    "bill_length_mm": 39.1,
    "bill_depth_mm": 18.7,
    "flipper_length_mm": 181,
    "body_mass_g": 3750,
    "island": "Torgersen",
    "sex": "male",
}


@pytest.mark.parametrize(
    ("change", "passed", "says"),
    [
        ({}, True, "would accept"),
        ({"sex": None}, True, "would accept"),
        ({"island": "torgersen"}, False, "unknown category 'torgersen'"),
        ({"bill_length_mm": "39.1"}, False, "a string ('39.1')"),
        ({"body_mass_g": 375000}, False, "far outside the range"),
        ({"name": "Pingu"}, False, "unknown field"),
    ],
)
def test_valid_request_reports_what_the_server_would_say(card, change, passed, says):
    feedback = checks.valid_request({**GOOD_REQUEST, **change}, card)
    assert feedback.passed is passed
    assert says in feedback.message
    assert passed or feedback.hint


def test_valid_request_lists_a_missing_field(card):
    request = dict(GOOD_REQUEST)
    del request["body_mass_g"]
    feedback = checks.valid_request(request, card)
    assert "body_mass_g: missing field" in feedback.message
    assert feedback.hint.startswith("start with 'body_mass_g'")
