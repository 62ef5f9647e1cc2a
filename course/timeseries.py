"""Split rows that follow time: train on the past, test on the future.

A random split lets a model peek at tomorrow while learning today, so its test score is
too good to be true. ``time_split`` cuts at a date instead: every test row comes after every
training row, as it will when the model is used for real. The test rows come sealed
(``course.holdout``): open them once, at the evaluation step.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from course.holdout import SealedTestSet

__all__ = ["time_split"]


def time_split(
    X: pd.DataFrame, y: pd.Series, *, dates: Any, test_from: Any
) -> tuple[pd.DataFrame, pd.Series, SealedTestSet]:
    """``X_train, y_train, test_set``: rows dated before ``test_from`` train, the rest are sealed.

    ``dates`` holds one date per row (a column of the original frame, for example), in
    increasing order; ``test_from`` is the first test date, e.g. ``"2015-01-01"``.
    """
    when = pd.Series(pd.to_datetime(pd.Series(dates)).to_numpy())
    if not len(X) == len(y) == len(when):
        raise ValueError(
            f"X has {len(X)} rows, y {len(y)} and dates {len(when)}: pass the features, the "
            "target and the dates of the same rows"
        )
    if when.isna().any():
        raise ValueError(f"{int(when.isna().sum())} rows have no date: drop or fill them first")
    if not when.is_monotonic_increasing:
        raise ValueError(
            "the rows are not in date order: sort the frame by date first "
            "(frame.sort_values('date')), so that the past comes before the future"
        )
    cut = pd.Timestamp(test_from)
    is_test = (when >= cut).to_numpy()
    first, last = when.iloc[0].date(), when.iloc[-1].date()
    if is_test.all() or not is_test.any():
        side = "training" if is_test.all() else "test"
        raise ValueError(
            f"test_from={cut.date()} leaves no {side} rows: the dates run from {first} to "
            f"{last}; choose a date in between"
        )
    return X[~is_test], y[~is_test], SealedTestSet(X[is_test], y[is_test])
