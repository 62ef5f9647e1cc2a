"""Checks for notebook 01: define the objective and gather the data.

A count of missing values goes wrong in a few ways a beginner really takes (the whole table,
a yes/no, one True/False per row, a share); a list of features in a few others (the table
itself, one name as text, the target or the year kept in). Each has its own message.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from course.checks._answers import expect_table
from course.checks._feedback import Feedback, correct, is_number, require_answer, wrong
from course.checks._guard import check, describe
from course.checks._quiz import Question, Quiz


@check
def missing_values(answer: Any, frame: Any, column: str) -> Feedback:
    """Check a count of the missing values in one column of a DataFrame."""
    require_answer("n_missing", answer)
    import numpy as np
    import pandas as pd

    expect_table("frame", frame)
    if column not in frame.columns:
        return wrong(
            f"the table has no column {column!r}.",
            hint="put the check cell back as the notebook gave it: it names the column.",
            mistake="no-such-column",
        )
    expected = int(frame[column].isna().sum())
    if isinstance(answer, np.ndarray) and answer.ndim == 0:
        answer = answer.item()  # np.sum(...) of a column can give a 0-d array
    if isinstance(answer, bool | np.bool_):
        return wrong(
            f"{answer} says whether some {column!r} values are missing, not how many.",
            hint="isna().any() answers yes or no; isna().sum() counts them.",
            mistake="any-not-count",
        )
    if isinstance(answer, pd.Series) and answer.index.equals(frame.columns):
        return wrong(
            "that is a count for every column of the table; the exercise asks about one.",
            hint=f"pick the {column!r} entry, or start from the column: "
            f"frame[{column!r}].isna().sum().",
            mistake="every-column-counts",
        )
    if isinstance(answer, pd.Series) and len(answer) == len(frame):
        return wrong(
            "that is one True/False per row (missing or not), not a count.",
            hint="add .sum() at the end: it counts the Trues.",
            mistake="per-row-booleans",
        )
    if isinstance(answer, pd.Series) and len(answer) == 1:
        return wrong(
            f"that is a Series holding one count ({answer.index[0]!r}), not the number itself.",
            hint="select the column with single brackets, penguins[\"sex\"], so that the count "
            "comes out as a plain number.",
            mistake="one-item-series",
        )
    if isinstance(answer, pd.DataFrame):
        return wrong(
            f"`n_missing` is {describe(answer)}: a True/False (or a value) for every cell, not "
            "a count.",
            hint=f"start from the {column!r} column alone, then count its missing values.",
            mistake="per-cell-booleans",
        )
    if isinstance(answer, str):
        return wrong(
            f"`n_missing` is {describe(answer)}: a number in quotes is text.",
            hint="compute the count from `penguins` (no quotes): the exercise asks you not to "
            "copy it from the table.",
            mistake="number-as-text",
        )
    if not is_number(answer):
        return wrong(
            f"the answer should be a number, but `n_missing` is {describe(answer)}.",
            hint="isna() marks the missing cells of a column; sum() counts them.",
            mistake="not-a-number",
        )
    if not math.isfinite(answer):
        return wrong(
            f"`n_missing` is {answer}, not a count.",
            hint="a count of missing values is a whole number: isna() marks them, sum() "
            "counts them.",
            mistake="not-a-count",
        )
    if answer == expected:
        return correct(f"{expected} of the {len(frame)} rows have no {column!r}.")
    if answer == int(frame.isna().sum().sum()):
        return wrong(
            f"{answer} counts the missing values of every column, not only {column!r}.",
            hint=f"select the {column!r} column first, then count.",
            mistake="whole-table-count",
        )
    if answer == len(frame) - expected:
        return wrong(
            f"{answer} counts the rows that *have* a {column!r}.",
            hint="isna() is True where the value is missing; sum() counts the Trues.",
            mistake="present-count",
        )
    if answer == len(frame):
        return wrong(
            f"{answer} is the number of rows.", hint="count only the missing ones.",
            mistake="row-count",
        )
    if 0 < answer < 1 and math.isclose(answer, expected / len(frame), rel_tol=1e-3):
        return wrong(
            f"{answer:.3f} is the share of rows with no {column!r} (mean), not their number.",
            hint="use .sum() instead of .mean(): the exercise asks how many.",
            mistake="share-not-count",
        )
    return wrong(
        f"{answer} is not the number of missing values in {column!r}.",
        hint=f"select the {column!r} column, mark its missing values with isna(), count the "
        "marks with sum().",
        mistake="wrong-count",
    )


@check
def penguin_features(answer: Any, frame: Any) -> Feedback:
    """Check the feature columns chosen to predict a penguin's species.

    The inputs are what describes a bird and can be known for a new one: the four
    measurements, the island, and the sex when the bird has been sexed (the model accepts it
    missing: the pipeline fills it in).
    """
    require_answer("features", answer)
    import numpy as np
    import pandas as pd

    from course.recipes import PENGUIN_FEATURES, PENGUIN_TARGET

    expect_table("frame", frame)
    if isinstance(answer, np.ndarray) and answer.ndim == 1:
        answer = answer.tolist()
    if isinstance(answer, pd.Series):
        return wrong(
            "that is a column of the table (its values); `features` is the list of column "
            "names.",
            hint='write the names in a list: features = ["bill_length_mm", ...].',
            mistake="column-values-not-names",
        )
    if isinstance(answer, pd.DataFrame):
        return wrong(
            "that is the table of those columns; `features` is the list of their names.",
            hint='write the names in a list: features = ["bill_length_mm", ...].',
            mistake="table-not-names",
        )
    if isinstance(answer, str) or not isinstance(answer, Sequence | pd.Index):
        return wrong(
            f"`features` should be a list of column names, but it is {describe(answer)}.",
            hint='write it as a list, in square brackets: features = ["bill_length_mm", ...].',
            mistake="not-a-list",
        )
    chosen = list(answer)
    not_names = [name for name in chosen if not isinstance(name, str)]
    if not_names:
        return wrong(
            f"every entry should be a column name in quotes, but one is {describe(not_names[0])}.",
            hint='write each name as text: ["bill_length_mm", "bill_depth_mm", ...].',
            mistake="entry-not-a-name",
        )
    unknown = [name for name in chosen if name not in frame.columns]
    if unknown:
        return wrong(
            f"{unknown} {'is not a column' if len(unknown) == 1 else 'are not columns'} of the "
            "table.",
            hint=f"copy the names exactly from the table: {list(frame.columns)}.",
            mistake="unknown-column",
        )
    twice = sorted({name for name in chosen if chosen.count(name) > 1})
    if twice:
        return wrong(
            f"{twice} {'is' if len(twice) == 1 else 'are'} in the list more than once.",
            hint="name each column once.",
            mistake="repeated-name",
        )
    if PENGUIN_TARGET in chosen:
        return wrong(
            f"{PENGUIN_TARGET!r} is the answer itself: a model given it as an input learns "
            "nothing useful, and a new bird comes without it.",
            hint="the target never goes into the features.",
            mistake="target-as-feature",
        )
    if "year" in chosen:
        return wrong(
            "'year' says when a bird was measured, not what it looks like: the model would "
            "learn about 2007-2009, and every new bird comes from a later year.",
            hint="keep the columns that describe the bird: its measurements, island and sex.",
            mistake="year-as-feature",
        )
    left_out = [name for name in PENGUIN_FEATURES if name not in chosen]
    if left_out == ["sex"]:
        return wrong(
            "you left out 'sex'. It is known only for birds that were sexed (by a DNA test), "
            "but when it is known it helps, and the model accepts it missing: the pipeline "
            "fills it in (notebook 02).",
            hint="a column that is sometimes missing is still a feature: keep 'sex'.",
            mistake="sex-left-out",
        )
    if left_out == ["island"]:
        return wrong(
            "you left out 'island': the assistant always knows where the bird was measured.",
            hint="keep every column that describes the bird or where it lives.",
            mistake="island-left-out",
        )
    if left_out:
        return wrong(
            f"you left out {left_out}: {'it describes' if len(left_out) == 1 else 'they describe'}"
            " the bird and can be known for a new one.",
            hint="use every column that describes the bird.",
            mistake="feature-left-out",
        )
    return correct(
        f"{len(chosen)} features that describe a bird, and the target left out; the model "
        "must accept 'sex' missing, since only sexed birds have it."
    )


QUIZ = Quiz((
    Question(
        answer="c",
        why="90% is exactly what \"always answer not spam\" scores on this data: the model has "
        "not shown it learned anything until it clearly beats that baseline.",
        wrong={
            "a": "a score means nothing alone: with 90% of emails not spam, a program that never "
            "says \"spam\" is also 90% right, and useless.",
            "b": "the score cannot tell: a model that ignores every word and always answers "
            "\"not spam\" gets the same 90%.",
            "d": "nothing points at an error in the data; the number simply equals the share of "
            "the most common answer, the baseline.",
        },
    ),
    Question(
        answer="a",
        why="the days in intensive care are recorded at discharge, after the moment the model "
        "is used: a feature must be known when the prediction is made, or the model learns "
        "from the future (it is almost the answer itself).",
        wrong={
            "b": "the age is known at admission and may well help: keep it.",
            "c": "blood pressure measured at admission is known when the model is used: a fine "
            "feature.",
            "d": "the reason for admission is known at admission: it may be the most useful "
            "input of all.",
        },
    ),
    Question(
        answer="d",
        why="new birds in the field are often not sexed, so the model must accept the sex "
        "missing: keep it as a feature and fill the gap in the pipeline (notebook 02).",
        wrong={
            "a": "the sex helps when it is known; dropping it throws away information the "
            "assistant often has.",
            "b": "dropping the 11 birds hides the problem in training only: the next unsexed "
            "bird in the field would still get no prediction.",
            "c": "guessing by hand invents data nobody measured, and it is exactly the kind of "
            "rule the model should learn (or not) from the data.",
        },
    ),
    Question(
        answer="b",
        why="all 68 Chinstraps come from Dream, so island gives a lot away on this table: a "
        "model may lean on it, and could be wrong for a Chinstrap measured elsewhere. Worth "
        "knowing before trusting a score, and a reason to check results per island.",
        wrong={
            "a": "island is text, but notebook 02 turns it into numbers (one-hot encoding): "
            "text is no reason to drop a useful column.",
            "c": "it is not just a label: a quirk like this shapes what a model learns, and "
            "how far its score holds for birds from other places.",
        },
    ),
    Question(
        answer="c",
        why="19 counts missing cells, not birds: the 2 birds without measurements miss 5 "
        "values each, and also count among the 11 without a sex. penguins.isna().any(axis=1)"
        ".sum() counts birds with at least one gap: 11.",
        wrong={
            "a": "19 is the number of empty cells; a bird with five empty cells counts five "
            "times in it.",
            "b": "19 / 344 would be a share of rows only if each empty cell were a different "
            "bird; it is not, so it is not the share of birds with a gap either.",
        },
    ),
))
"""Notebook 01's quiz: its questions are in the notebook's last markdown cell."""
