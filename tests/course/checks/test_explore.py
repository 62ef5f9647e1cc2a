
import pandas as pd
import pytest

from course import checks, recipes


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
