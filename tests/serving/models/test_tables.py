import io

import numpy as np
import pandas as pd
import pytest

from course import datasets
from course.schema import RowValidationError
from serving.models import TableError, check_table


@pytest.fixture(scope="module")
def uploaded():
    """The penguins as a learner's CSV upload would arrive: text, with some bad values."""
    text = datasets.load("penguins").to_csv(index=False)
    table = pd.read_csv(io.StringIO(text), dtype=str)
    table.loc[0, "island"] = "Atlantis"  # a category never seen
    table.loc[1, "body_mass_g"] = "99999"  # far outside the range: a warning only
    table.loc[2, "bill_length_mm"] = "long"  # not a number
    table.loc[4, "flipper_length_mm"] = "inf"  # not finite
    table.loc[5, "island"] = np.nan  # island was never missing in training
    table.loc[6, "sex"] = "MALE"  # categories are exact
    table.loc[7, ["island", "bill_depth_mm"]] = ["Mars", "deep"]  # two problems in one row
    return table


def test_the_table_check_agrees_with_validate_row_on_every_row(penguin, uploaded):
    check = check_table(penguin.card, uploaded)
    for position, record in enumerate(uploaded.to_dict("records")):
        row = {f.name: _json_value(f, record[f.name]) for f in penguin.card.features}
        try:
            _, warnings = penguin.validate(row)
        except RowValidationError as error:
            assert check.errors[position], position
            named = {f.name: (f"{f.name}:", f.sentence_start) for f in penguin.card.features}
            for problem in error.problems:  # each field named, by its column or in a sentence
                assert any(name in check.errors[position] for name in named[problem.field])
        else:
            assert check.errors[position] == "", (position, check.errors[position])
            assert bool(check.warnings[position]) == bool(warnings)


def test_errors_name_the_field_and_what_was_expected(penguin, uploaded):
    errors = check_table(penguin.card, uploaded).errors
    assert errors[0] == (
        "island: unknown category 'Atlantis', never seen in training; "
        "expected one of 'Biscoe', 'Dream', 'Torgersen'"
    )
    assert errors[2] == "bill_length_mm: got 'long'; expected a number (or null)"
    assert errors[4] == (
        "flipper_length_mm: got 'inf', which is not a finite number; expected a number (or null)"
    )
    assert errors[5].startswith("Island is required: no missing values were seen in training")
    assert errors[6].startswith("sex: unknown category 'MALE'")
    assert errors[7].startswith("bill_depth_mm: got 'deep'") and "; island: unknown" in errors[7]


def test_invalid_rows_never_reach_the_frame(penguin, uploaded):
    check = check_table(penguin.card, uploaded)
    assert check.n_rows == len(uploaded) and check.n_invalid == 6
    assert 0 not in check.positions and 1 in check.positions
    assert len(check.frame) == len(check.positions)
    assert check.warnings[1].startswith("body_mass_g: 99999 is far outside the range")
    assert check.ignored_columns == ("species", "year")


def test_warned_lists_exactly_the_rows_with_a_warning(penguin, uploaded):
    check = check_table(penguin.card, uploaded)
    assert check.warned.tolist() == [i for i, text in enumerate(check.warnings) if text]
    assert check.warned.tolist() == [1]


def test_the_frame_is_the_training_frame_the_model_expects(penguin, uploaded):
    check = check_table(penguin.card, uploaded)
    records = uploaded.iloc[check.positions].to_dict("records")
    rows = [
        penguin.validate({f.name: _json_value(f, r[f.name]) for f in penguin.card.features})[0]
        for r in records
    ]
    expected = penguin.frame(rows)
    pd.testing.assert_frame_equal(check.frame, expected)


def test_a_typed_dataset_passes_as_it_is(penguin):
    penguins = datasets.load("penguins")
    check = check_table(penguin.card, penguins)
    assert check.n_invalid == 0
    predictions = penguin.predict(check.frame).labels
    assert predictions.tolist() == penguin.model.predict(penguins).tolist()


def test_a_missing_column_refuses_the_whole_table(penguin, uploaded):
    with pytest.raises(TableError, match="the table has no column 'island', 'sex'"):
        check_table(penguin.card, uploaded.drop(columns=["island", "sex"]))


def test_an_empty_table_is_refused(penguin, uploaded):
    with pytest.raises(TableError, match="no rows"):
        check_table(penguin.card, uploaded.iloc[:0])


def test_whole_numbers_and_their_range_for_integer_features(registry):
    served = registry.latest("diabetes-linear")
    table = datasets.load("diabetes").head(3).astype(object)
    table.loc[0, "age"] = 40.5
    table.loc[1, "age"] = 400
    check = check_table(served.card, table)
    assert check.errors[0] == "Age (years) must be a whole number, like 40"
    assert check.errors[1] == "" and check.warnings[1].startswith("age: 400 is far outside")
    assert check.frame["age"].dtype == "int64"


def _json_value(feature, text):
    """What a JSON client would send for this CSV cell."""
    if isinstance(text, float) and np.isnan(text):
        return None
    if feature.is_numeric:
        try:
            number = float(text)
        except ValueError:
            return text
        return number
    return text
