import pandas as pd
import pytest
from sklearn.model_selection import train_test_split

from course import datasets
from course.holdout import SealedTestSet, split_and_seal


@pytest.fixture(scope="module")
def penguins():
    frame = datasets.load("penguins")
    return frame.drop(columns="species"), frame["species"]


def test_split_and_seal_picks_the_rows_train_test_split_picks(penguins):
    X, y = penguins
    X_train, y_train, test_set = split_and_seal(X, y, test_size=0.25, stratify=y, random_state=0)
    expected = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    X_test, y_test = test_set.open()
    for got, want in zip((X_train, X_test, y_train, y_test), expected, strict=True):
        pd.testing.assert_index_equal(got.index, want.index)
    pd.testing.assert_series_equal(y_test, expected[3])


def test_the_envelope_says_its_size_rows_and_shares_without_opening(penguins):
    X, y = penguins
    _, y_train, test_set = split_and_seal(X, y, test_size=0.25, stratify=y, random_state=0)
    assert len(test_set) == 86
    assert not set(test_set.index) & set(y_train.index)
    assert test_set.label_shares.round(2).to_dict() == {"Adelie": 0.44, "Gentoo": 0.36,
                                                        "Chinstrap": 0.2}
    assert test_set.times_opened == 0
    assert "sealed" in repr(test_set)


def test_every_opening_is_counted_and_shown(penguins):
    X, y = penguins
    *_, test_set = split_and_seal(X, y, test_size=0.25, random_state=0)
    test_set.open()
    assert repr(test_set) == "<test set of 86 rows, opened once>"
    test_set.open()
    assert test_set.times_opened == 2
    assert "report the first score, choose nothing" in repr(test_set)


def test_rows_and_labels_of_different_lengths_are_refused():
    with pytest.raises(ValueError, match="X has 3 rows but y has 2"):
        SealedTestSet(pd.DataFrame({"a": [1, 2, 3]}), pd.Series([0, 1]))
