import numpy as np
import pytest

from course import datasets
from serving.models import check_table, score_table


@pytest.fixture(scope="module")
def checked(penguin):
    table = datasets.load("penguins").astype({"island": object})
    table.loc[[3, 10, 11], "island"] = "Atlantis"
    return check_table(penguin.card, table)


def test_chunks_cover_every_input_row_once_in_order(penguin, checked):
    chunks = list(score_table(penguin, checked, chunk_size=50))
    assert [(c.start, c.stop) for c in chunks][:2] == [(0, 50), (50, 100)]
    rows = [row for chunk in chunks for row in chunk.rows]
    assert rows == list(range(checked.n_rows))
    assert all(chunk.total == checked.n_rows for chunk in chunks)


def test_predictions_are_the_models_and_invalid_rows_get_none(penguin, checked):
    chunks = list(score_table(penguin, checked, chunk_size=7))
    predictions = [p for chunk in chunks for p in chunk.predictions]
    errors = dict(pair for chunk in chunks for pair in chunk.errors)
    expected = penguin.model.predict(checked.frame).tolist()
    assert [p for p in predictions if p is not None] == expected
    assert [i for i, p in enumerate(predictions) if p is None] == [3, 10, 11]
    assert sorted(errors) == [3, 10, 11]  # only the rows with a message
    assert errors[3].startswith("island: unknown category 'Atlantis'")
    assert sum(chunk.n_invalid for chunk in chunks) == 3


def test_warnings_travel_with_their_rows(penguin):
    table = datasets.load("penguins").head(40)
    table.loc[[5, 33], "body_mass_g"] = 99_999.0  # far outside the training range
    check = check_table(penguin.card, table)
    chunks = list(score_table(penguin, check, chunk_size=16))
    warnings = [pair for chunk in chunks for pair in chunk.warnings]
    assert [row for row, _ in warnings] == [5, 33]
    assert all(text.startswith("body_mass_g: 99999 is far outside") for _, text in warnings)
    assert [c.warnings for c in chunks][1] == []  # rows 16 to 31 have nothing to say


def test_probabilities_when_asked_for_with_nan_for_invalid_rows(penguin, checked):
    chunk = next(score_table(penguin, checked, chunk_size=20, probabilities=True))
    assert chunk.classes == penguin.card.classes
    assert chunk.probabilities.shape == (20, 3)
    assert np.isnan(chunk.probabilities[[3, 10, 11]]).all()
    valid = [i for i in range(20) if i not in (3, 10, 11)]
    assert np.allclose(chunk.probabilities[valid].sum(axis=1), 1.0)
    assert next(score_table(penguin, checked, chunk_size=20)).probabilities is None


def test_scoring_can_start_again_from_a_row(penguin, checked):
    everything = [p for c in score_table(penguin, checked, chunk_size=64) for p in c.predictions]
    rest = list(score_table(penguin, checked, chunk_size=64, start=100))
    assert rest[0].start == 100
    assert [p for c in rest for p in c.predictions] == everything[100:]


def test_a_chunk_of_only_invalid_rows_does_not_call_the_model(penguin, checked):
    chunk = next(score_table(penguin, checked, chunk_size=1, start=3))
    assert chunk.predictions == [None] and chunk.n_invalid == 1


def test_the_chunk_size_must_be_positive(penguin, checked):
    with pytest.raises(ValueError, match="chunk_size must be at least 1"):
        next(score_table(penguin, checked, chunk_size=0))
