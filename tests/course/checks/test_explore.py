
import pandas as pd
import pytest

from course import checks


@pytest.mark.parametrize(
    ("answer", "passed", "says"),
    [
        ("flipper_length_mm", True, "0.87"),
        ("body_mass_g", False, "with itself"),
        ("bill_depth_mm", False, "-0.47"),
        ("island", False, "not a number"),
        ("wings", False, "not a column"),
        (0.87, False, "should be a column name"),
    ],
)
def test_strongest_correlation_names_the_mistake(penguins, answer, passed, says):
    feedback = checks.strongest_correlation(answer, penguins, "body_mass_g")
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
        (0.5, False, "not the share"),
    ],
)
def test_class_share_names_the_mistake(penguins, answer, passed, says):
    feedback = checks.class_share(answer, penguins["species"], "Chinstrap")
    assert feedback.passed is passed
    assert says in feedback.message
