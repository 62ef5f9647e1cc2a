"""Checks for notebook 01: define the objective and gather the data."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from course.checks._feedback import Feedback, correct, is_number, require_answer, wrong
from course.checks._guard import check


@check
def missing_values(answer: Any, frame: Any, column: str) -> Feedback:
    """Check a count of the missing values in one column of a DataFrame."""
    require_answer("n_missing", answer)
    import numpy as np
    import pandas as pd

    expected = int(frame[column].isna().sum())
    if isinstance(answer, bool | np.bool_):
        return wrong(
            f"{answer} says whether some {column!r} values are missing, not how many.",
            hint="isna().any() answers yes or no; isna().sum() counts them.",
        )
    if isinstance(answer, pd.Series) and answer.index.equals(frame.columns):
        return wrong(
            "that is a count for every column of the table; the exercise asks about one.",
            hint=f"pick the {column!r} entry, or start from the column: "
            f"frame[{column!r}].isna().sum().",
        )
    if isinstance(answer, pd.Series) and len(answer) == len(frame):
        return wrong(
            "that is one True/False per row (missing or not), not a count.",
            hint="add .sum() at the end: it counts the Trues.",
        )
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
    if 0 < answer < 1 and math.isclose(answer, expected / len(frame), rel_tol=1e-3):
        return wrong(
            f"{answer:.3f} is the share of rows with no {column!r} (mean), not their number.",
            hint="use .sum() instead of .mean(): the exercise asks how many.",
        )
    return wrong(
        f"{answer} is not the number of missing values in {column!r}.",
        hint=f"frame[{column!r}].isna().sum() counts them.",
    )


@check
def penguin_features(answer: Any, frame: Any) -> Feedback:
    """Check the feature columns chosen to predict a penguin's species.

    The inputs are what describes a bird and can be known for a new one: the four
    measurements, the island, and the sex when the bird has been sexed (the model accepts it
    missing: the pipeline fills it in).
    """
    require_answer("features", answer)
    import pandas as pd

    from course.recipes import PENGUIN_FEATURES, PENGUIN_TARGET

    if isinstance(answer, pd.DataFrame):
        return wrong(
            "that is the table of those columns; `features` is the list of their names.",
            hint='write the names in a list: features = ["bill_length_mm", ...].',
        )
    if isinstance(answer, str) or not isinstance(answer, Sequence | pd.Index):
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
    twice = sorted({name for name in chosen if chosen.count(name) > 1})
    if twice:
        return wrong(
            f"{twice} {'is' if len(twice) == 1 else 'are'} in the list more than once.",
            hint="name each column once.",
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
    if left_out == ["sex"]:
        return wrong(
            "you left out 'sex'. It is known only for birds that were sexed (by a DNA test), "
            "but when it is known it helps, and the model accepts it missing: the pipeline "
            "fills it in (notebook 02).",
            hint="a column that is sometimes missing is still a feature: keep 'sex'.",
        )
    if left_out == ["island"]:
        return wrong(
            "you left out 'island': the assistant always knows where the bird was measured.",
            hint="keep every column that describes the bird or where it lives.",
        )
    if left_out:
        return wrong(
            f"you left out {left_out}: {'it describes' if len(left_out) == 1 else 'they describe'}"
            " the bird and can be known for a new one.",
            hint="use every column that describes the bird.",
        )
    return correct(
        f"{len(chosen)} features that describe a bird, and the target left out; the model "
        "must accept 'sex' missing, since only sexed birds have it."
    )
