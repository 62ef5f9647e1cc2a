import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from course.card import ModelCard
from course.datasets import load
from course.evaluate import ProblemKind
from course.schema import (
    FeatureKind,
    FeatureSpec,
    FieldProblem,
    RowValidationError,
    infer_features,
    to_frame,
    validate_row,
)


@pytest.fixture(scope="module")
def penguins() -> pd.DataFrame:
    return load("penguins").drop(columns="species")


def card_for(features: tuple[FeatureSpec, ...]) -> ModelCard:
    return ModelCard(
        name="m",
        version="1",
        created="2024-01-01T00:00:00+00:00",
        problem_kind=ProblemKind.CLASSIFICATION,
        description="",
        features=features,
        target_name="species",
        classes=("Adelie", "Chinstrap", "Gentoo"),
        metrics=None,
        data_sha256="0" * 64,
        library_versions={},
        model_file="model.skops",
        model_sha256="0" * 64,
    )


@pytest.fixture(scope="module")
def card(penguins: pd.DataFrame) -> ModelCard:
    return card_for(infer_features(penguins))


GOOD_ROW = {
    "island": "Dream",
    "bill_length_mm": 43.2,
    "bill_depth_mm": 16.6,
    "flipper_length_mm": 187,
    "body_mass_g": 2900.0,
    "sex": "female",
    "year": 2008,
}


def problems_of(card: ModelCard, row: object) -> dict[str, FieldProblem]:
    with pytest.raises(RowValidationError) as caught:
        validate_row(card, row)
    return {problem.field: problem for problem in caught.value.problems}


# infer_features


def test_infer_features_describes_every_penguin_column_in_order(penguins):
    features = {feature.name: feature for feature in infer_features(penguins)}

    assert list(features) == list(penguins.columns)
    island = features["island"]
    assert island.kind is FeatureKind.CATEGORY
    assert island.categories == ("Biscoe", "Dream", "Torgersen")
    assert not island.missing_seen
    assert features["sex"].missing_seen
    body_mass = features["body_mass_g"]
    assert body_mass.kind is FeatureKind.NUMBER
    assert body_mass.missing_seen
    assert body_mass.min == penguins["body_mass_g"].min()
    assert body_mass.max == penguins["body_mass_g"].max()
    assert body_mass.mean == pytest.approx(penguins["body_mass_g"].mean())
    assert features["year"].kind is FeatureKind.INTEGER


def test_infer_features_keeps_only_categories_seen_in_training():
    column = pd.Categorical(["a", "b", "a"], categories=["c", "b", "a"])

    (feature,) = infer_features(pd.DataFrame({"letter": column}))

    assert feature.categories == ("b", "a")  # the dtype's order, without the unseen "c"


def test_infer_features_reads_strings_and_booleans():
    frame = pd.DataFrame({"colour": ["red", None, "blue"], "flag": [True, False, True]})

    colour, flag = infer_features(frame)

    assert (colour.kind, colour.categories, colour.missing_seen) == (
        FeatureKind.CATEGORY,
        ("blue", "red"),
        True,
    )
    assert flag.kind is FeatureKind.BOOLEAN


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"when": pd.to_datetime(["2024-01-01"])}), "convert it to numbers"),
        (pd.DataFrame({"mixed": pd.Series(["a", 1], dtype=object)}), "mixes value types"),
        (pd.DataFrame({"empty": [np.nan, np.nan]}), "no finite values"),
        (pd.DataFrame([[1, 2]], columns=["a", "a"]), "duplicate column names"),
    ],
)
def test_infer_features_refuses_columns_it_cannot_describe(frame, message):
    with pytest.raises(ValueError, match=message):
        infer_features(frame)


def test_infer_features_needs_column_names():
    with pytest.raises(TypeError, match="needs column names"):
        infer_features(np.zeros((3, 2)))


# validate_row


def test_a_good_row_comes_back_clean_in_training_order(card):
    clean, warnings = validate_row(card, dict(reversed(GOOD_ROW.items())))

    assert list(clean) == card.feature_names
    assert clean == {**GOOD_ROW, "flipper_length_mm": 187.0}
    assert type(clean["flipper_length_mm"]) is float  # an int is fine for a number
    assert warnings == []


def test_a_whole_float_is_accepted_for_an_integer(card):
    clean, _ = validate_row(card, {**GOOD_ROW, "year": 2008.0})

    assert clean["year"] == 2008
    assert type(clean["year"]) is int


def test_null_is_accepted_only_where_training_had_missing_values(card):
    clean, _ = validate_row(card, {**GOOD_ROW, "sex": None, "body_mass_g": None})
    assert clean["sex"] is None
    assert clean["body_mass_g"] is None

    problem = problems_of(card, {**GOOD_ROW, "island": None})["island"]
    assert "no missing values were seen in training" in problem.problem


def test_every_problem_is_reported_at_once(card):
    row = {**GOOD_ROW, "body_mass_g": "heavy", "colour": "blue"}
    del row["island"]

    problems = problems_of(card, row)

    assert set(problems) == {"body_mass_g", "colour", "island"}
    assert problems["island"].problem == "missing field"
    assert problems["colour"].problem == "unknown field"
    assert "bill_length_mm" in problems["colour"].expected
    assert problems["body_mass_g"].problem == (
        "Body mass (g) must be a number, like 4202; got a string ('heavy')"
    )
    assert problems["body_mass_g"].expected == "a number (or null)"


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("body_mass_g", True, "got a boolean (true)"),
        ("body_mass_g", "4000", "Body mass (g) must be a number, not text: send 4000 without"),
        ("body_mass_g", "12,5", "Use a dot for decimals: 12.5"),
        ("body_mass_g", " ", "Body mass (g) must be a number, like 4202; it was left empty"),
        ("body_mass_g", [4000], "got a list"),
        ("body_mass_g", math.nan, "not a finite number"),
        ("body_mass_g", math.inf, "not a finite number"),
        ("body_mass_g", 10**400, "too large"),
        ("year", 2008.5, "Year must be a whole number, like 2008"),
        ("year", 2**70, "too large"),
        ("year", False, "Year must be a whole number, like 2008; got a boolean (false)"),
        ("island", "Atlantis", "unknown category 'Atlantis', never seen in training"),
        ("island", 3, "got a number (3)"),
        ("island", {"name": "Dream"}, "got an object"),
    ],
)
def test_a_wrong_value_is_named_with_what_was_expected(card, field, value, problem):
    found = problems_of(card, {**GOOD_ROW, field: value})

    assert list(found) == [field]
    assert problem in found[field].problem


def test_an_unknown_category_lists_the_allowed_ones(card):
    problem = problems_of(card, {**GOOD_ROW, "island": "dream"})["island"]

    assert problem.expected == "one of 'Biscoe', 'Dream', 'Torgersen'"
    assert "island: unknown category 'dream'" in str(problem)


def test_a_boolean_is_never_taken_for_an_integer_category():
    (feature,) = infer_features(pd.DataFrame({"grade": pd.Categorical([1, 2])}))
    card = card_for((feature,))

    assert validate_row(card, {"grade": 1})[0] == {"grade": 1}
    assert "got a boolean" in problems_of(card, {"grade": True})["grade"].problem


def test_a_row_that_is_not_an_object_is_refused(card):
    problems = problems_of(card, [GOOD_ROW])

    assert problems["<row>"].problem == "got a list"


def test_the_error_message_lists_every_problem(card):
    with pytest.raises(RowValidationError) as caught:
        validate_row(card, {})

    message = str(caught.value)
    assert message.startswith("the row has 7 problems:")
    assert "  - island: missing field; expected one of 'Biscoe', 'Dream', 'Torgersen'" in message


def test_values_far_outside_training_are_accepted_with_a_warning(card):
    clean, warnings = validate_row(card, {**GOOD_ROW, "body_mass_g": 20000})

    assert clean["body_mass_g"] == 20000.0
    [warning] = warnings
    assert warning.field == "body_mass_g"
    assert "20000 is far outside the range seen in training (2700 to 6300)" in warning.problem


def test_values_just_outside_training_bring_no_warning(card):
    _, warnings = validate_row(card, {**GOOD_ROW, "body_mass_g": 6400})

    assert warnings == []


# to_frame


def test_to_frame_rebuilds_the_training_dtypes(penguins, card):
    rows = [
        validate_row(card, {k: None if pd.isna(v) else v for k, v in record.items()})[0]
        for record in penguins.to_dict("records")
    ]

    frame = to_frame(card, rows)

    pd.testing.assert_frame_equal(frame, penguins.reset_index(drop=True))


# Any JSON a client can send: the validator answers with its own error, never a crash.

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(["Dream", "female", "male", "Biscoe"]),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3)
    ),
    max_leaves=10,
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(row=json_values)
def test_any_json_value_as_a_row_is_validated_or_refused_cleanly(card, row):
    try:
        validate_row(card, row)
    except RowValidationError as error:
        assert error.problems
        assert all(isinstance(problem, FieldProblem) for problem in error.problems)


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.fixed_dictionaries({name: json_values for name in GOOD_ROW}))
def test_any_json_values_in_the_right_fields_are_validated_or_refused_cleanly(card, values):
    try:
        clean, _ = validate_row(card, values)
    except RowValidationError as error:
        assert {problem.field for problem in error.problems} <= set(GOOD_ROW)
    else:
        assert to_frame(card, [clean]).shape == (1, len(GOOD_ROW))


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    mass=st.floats(allow_nan=False, allow_infinity=False),
    year=st.integers(min_value=-(2**63), max_value=2**63 - 1),
    island=st.sampled_from(["Biscoe", "Dream", "Torgersen"]),
)
def test_well_typed_rows_always_pass(card, mass, year, island):
    clean, _ = validate_row(card, {**GOOD_ROW, "body_mass_g": mass, "year": year, "island": island})

    assert (clean["body_mass_g"], clean["year"], clean["island"]) == (mass, year, island)
