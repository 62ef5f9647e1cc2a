
import pytest

from course import checks, recipes

MEASUREMENTS = recipes.PENGUIN_NUMERIC


@pytest.mark.parametrize(
    ("answer", "passed", "says"),
    [
        (11, True, "11 of the 344 rows"),
        (19, False, "every column"),
        (333, False, "that *have*"),
        (344, False, "number of rows"),
        (2, False, "not the number"),
        ("11", False, "should be a number"),
    ],
)
def test_missing_values_names_the_mistake(penguins, answer, passed, says):
    feedback = checks.missing_values(answer, penguins, "sex")
    assert feedback.passed is passed
    assert says in feedback.message


@pytest.mark.parametrize(
    ("answer", "passed", "says"),
    [
        (recipes.PENGUIN_FEATURES, True, "6 features"),
        (list(reversed(recipes.PENGUIN_FEATURES)), True, "6 features"),
        ([*recipes.PENGUIN_FEATURES, "species"], False, "the answer itself"),
        ([*recipes.PENGUIN_FEATURES, "year"], False, "when a bird was measured"),
        (MEASUREMENTS, False, "you left out ['island', 'sex']"),
        (["bill_lenght_mm"], False, "is not a column"),
        ("island", False, "should be a list"),
    ],
)
def test_penguin_features_names_the_mistake(penguins, answer, passed, says):
    feedback = checks.penguin_features(answer, penguins)
    assert feedback.passed is passed
    assert says in feedback.message
