"""The shared first looks at an answer name the mistake, not a traceback."""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from course.checks._answers import expect_fitted, expect_labels, expect_number, expect_table
from course.checks._feedback import Mistake


def mistake(call, *args):
    with pytest.raises(Mistake) as raised:
        call(*args)
    return raised.value.feedback.message


def test_expect_number():
    assert expect_number("n", np.int64(3)) == 3.0
    assert mistake(expect_number, "n", "3") == "`n` is the text '3', not a number."
    assert "is True" in mistake(expect_number, "n", True)
    assert "`n` is nan" in mistake(expect_number, "n", float("nan"))


def test_expect_table_and_labels_catch_the_parts_in_the_wrong_order():
    table = pd.DataFrame({"a": [1, 2]})
    assert expect_table("X", table) is table
    assert "not a table" in mistake(expect_table, "X", table["a"])
    assert "not one column of labels" in mistake(expect_labels, "y", table)
    assert list(expect_labels("y", ["a", "b"])) == ["a", "b"]
    assert "not one column" in mistake(expect_labels, "y", 3)


def test_expect_fitted():
    model = LogisticRegression()
    assert "has not been fitted yet" in mistake(expect_fitted, "model", model)
    assert "not a scikit-learn model" in mistake(expect_fitted, "model", "LogisticRegression")
    fitted = model.fit([[0], [1]], [0, 1])
    assert expect_fitted("model", fitted) is fitted
