
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
