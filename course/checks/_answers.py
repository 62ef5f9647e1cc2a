"""Shared first looks at an answer: is it the kind of thing the exercise asks for?

Each helper returns the answer when it is usable and otherwise raises ``Mistake`` with feedback
that names the learner's mistake in their words ("`X_train_80` is a list of 3 items, not a
table"), which ``@check`` returns. Checks call them right after ``require_answer``, so the rest
of a check can assume what it compares.
"""

from __future__ import annotations

import math
from typing import Any

from course.checks._feedback import Mistake, is_number, wrong
from course.checks._guard import describe

__all__ = ["expect_fitted", "expect_labels", "expect_number", "expect_table"]


def expect_number(name: str, value: Any, *, what: str = "a number") -> float:
    """A real, finite number (an int, a float, a NumPy scalar; not a bool, not NaN)."""
    if not is_number(value):
        raise Mistake(wrong(
            f"`{name}` is {describe(value)}, not {what}.",
            hint="write the number itself (or the arithmetic that gives it), without quotes.",
            mistake="not-a-number",
        ))
    number = float(value)
    if not math.isfinite(number):
        raise Mistake(wrong(
            f"`{name}` is {number}, not {what}.",
            hint="a NaN or an infinity comes from a missing value or a division by zero "
            "upstream: print the values your answer is computed from.",
            mistake="not-finite",
        ))
    return number


def expect_table(name: str, value: Any) -> Any:
    """A pandas DataFrame: the features of some rows, one column per feature."""
    import pandas as pd

    if not isinstance(value, pd.DataFrame):
        raise Mistake(wrong(
            f"`{name}` is {describe(value)}, not a table of features (a DataFrame).",
            hint="check the order of the names on the left of `=`: the features come first "
            "(X_..., a table), the labels second (y_..., one column).",
            mistake="not-a-table",
        ))
    return value


def expect_labels(name: str, value: Any) -> Any:
    """One label per row: a pandas Series (or a 1-D array/list, turned into a Series)."""
    import numpy as np
    import pandas as pd

    if isinstance(value, pd.DataFrame):
        raise Mistake(wrong(
            f"`{name}` is {describe(value)}, not one column of labels.",
            hint="check the order of the names on the left of `=`: the labels (y_...) are one "
            "column, the features (X_...) the table.",
            mistake="table-as-labels",
        ))
    if isinstance(value, pd.Series):
        return value
    if isinstance(value, np.ndarray | list | tuple) and np.ndim(value) == 1:
        return pd.Series(value)
    raise Mistake(wrong(
        f"`{name}` is {describe(value)}, not one column of labels.",
        hint="the labels are a column of the table, e.g. penguins[\"species\"].",
        mistake="not-labels",
    ))


def expect_fitted(name: str, value: Any) -> Any:
    """A fitted scikit-learn estimator or pipeline."""
    from sklearn.base import BaseEstimator
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    if not isinstance(value, BaseEstimator):
        raise Mistake(wrong(
            f"`{name}` is {describe(value)}, not a scikit-learn model.",
            hint="build it with make_pipeline(...) or a model class, then call .fit(...) on it.",
            mistake="not-a-model",
        ))
    try:
        check_is_fitted(value)
    except NotFittedError:
        raise Mistake(wrong(
            f"`{name}` ({type(value).__name__}) has not been fitted yet.",
            hint="end the line with .fit(X_train, y_train), or call it on the next line.",
            mistake="model-not-fitted",
        )) from None
    return value
