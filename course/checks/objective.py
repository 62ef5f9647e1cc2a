"""Checks for notebook 01: define the objective and gather the data."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from course.checks._feedback import Feedback, correct, is_number, require_answer, wrong


def missing_values(answer: Any, frame: Any, column: str) -> Feedback:
    """Check a count of the missing values in one column of a DataFrame."""
    require_answer("n_missing", answer)
    expected = int(frame[column].isna().sum())
    if not is_number(answer):
        return wrong(
            f"the answer should be a number, got {type(answer).__name__} {answer!r}.",
            hint=f"count them with frame[{column!r}].isna().sum().",
        )
    if answer == expected:
        return correct(f"{expected} of the {len(frame)} rows have no {column!r}.")
    if answer == int(frame.isna().sum().sum()):
        return wrong(
            f"{answer} counts the missing values of every column, not only {column!r}.",
            hint=f"select the column first: frame[{column!r}].isna().sum().",
        )
    if answer == len(frame) - expected:
        return wrong(
            f"{answer} counts the rows that *have* a {column!r}.",
            hint="isna() is True where the value is missing; sum() counts the Trues.",
        )
    if answer == len(frame):
        return wrong(f"{answer} is the number of rows.", hint="count only the missing ones.")
    return wrong(
        f"{answer} is not the number of missing values in {column!r}.",
        hint=f"frame[{column!r}].isna().sum() counts them.",
    )


def penguin_features(answer: Any, frame: Any) -> Feedback:
    """Check the feature columns chosen to predict a penguin's species."""
    require_answer("features", answer)
    from course.recipes import PENGUIN_FEATURES, PENGUIN_TARGET

    if isinstance(answer, str) or not isinstance(answer, Sequence):
        return wrong(
            f"`features` should be a list of column names, got {type(answer).__name__}.",
            hint='write it as a list: features = ["bill_length_mm", ...].',
        )
    chosen = list(answer)
    unknown = [name for name in chosen if name not in frame.columns]
    if unknown:
        return wrong(
            f"{unknown} {'is not a column' if len(unknown) == 1 else 'are not columns'} of the "
            "table.",
            hint=f"copy the names exactly from the table: {list(frame.columns)}.",
        )
    if PENGUIN_TARGET in chosen:
        return wrong(
            f"{PENGUIN_TARGET!r} is the answer itself: a model given it as an input learns "
            "nothing useful, and a new bird comes without it.",
            hint="the target never goes into the features.",
        )
    if "year" in chosen:
        return wrong(
            "'year' says when a bird was measured, not what it looks like: the model would "
            "learn about 2007-2009, and every new bird comes from a later year.",
            hint="keep the columns that describe the bird: its measurements, island and sex.",
        )
    left_out = [name for name in PENGUIN_FEATURES if name not in chosen]
    if left_out:
        return wrong(
            f"you left out {left_out}: {'it describes' if len(left_out) == 1 else 'they describe'}"
            " the bird and would be known for a new one.",
            hint="use every column that describes the bird.",
        )
    return correct(f"{len(chosen)} features that describe a bird, and the target left out.")
