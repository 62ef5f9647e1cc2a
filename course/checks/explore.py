"""Checks for notebook 03: explore the data."""

from __future__ import annotations

import math
from typing import Any

from course.checks._feedback import Feedback, correct, is_number, require_answer, wrong
from course.checks._guard import check


@check
def strongest_correlation(answer: Any, frame: Any, column: str) -> Feedback:
    """Check which numeric column correlates most strongly (in absolute value) with ``column``."""
    require_answer("strongest", answer)
    import pandas as pd

    numeric = frame.select_dtypes("number")
    correlations = numeric.corr()[column].drop(column)
    best = correlations.abs().idxmax()
    if isinstance(answer, pd.Series):
        return wrong(
            "that is a whole list of correlations; the answer is one column's name.",
            hint="take the name of the largest size: .abs().idxmax() gives it.",
        )
    if is_number(answer) and -1 <= answer <= 1:
        return wrong(
            f"{answer:g} is a correlation value; the exercise asks *which* column has it.",
            hint='answer with the column\'s name, in quotes, e.g. "bill_depth_mm".',
        )
    if not isinstance(answer, str):
        return wrong(
            f"the answer should be a column name, got {type(answer).__name__} {answer!r}.",
            hint='write the name in quotes, e.g. "bill_depth_mm".',
        )
    if answer == column:
        return wrong(
            "every column correlates perfectly (1.0) with itself; look at the *other* columns.",
            hint=f"read the {column!r} row of the correlation matrix, skipping the diagonal.",
        )
    if answer not in frame.columns:
        return wrong(
            f"{answer!r} is not a column.", hint=f"pick one of {list(correlations.index)}."
        )
    if answer not in correlations.index:
        return wrong(
            f"{answer!r} is not a number, so it has no correlation coefficient.",
            hint=f"pick one of the numeric columns {list(correlations.index)}.",
        )
    if answer == best:
        return correct(f"{best!r} has the strongest correlation, {correlations[best]:.2f}.")
    r = correlations[answer]
    if r < 0 and answer == correlations.idxmin():
        return wrong(
            f"{answer!r} has the most negative correlation ({r:.2f}), but strength is the size "
            "of the number, whatever its sign, and another column's is larger.",
            hint="compare the sizes, ignoring the minus signs: .abs() does that.",
        )
    message = f"{answer!r} has a correlation of {r:.2f}, but another column's is stronger."
    if abs(correlations.min()) > correlations.max() and answer == correlations.idxmax():
        return wrong(message, hint="a strong negative correlation counts too: compare sizes.")
    if answer == correlations.abs().idxmin():
        return wrong(
            f"{answer!r} has the weakest link of all ({r:.2f}): the question asks for the "
            "strongest.",
            hint="the strongest is the largest size, ignoring the sign.",
        )
    return wrong(message, hint=f"compare the numbers in the {column!r} row of the matrix.")


@check
def class_share(answer: Any, labels: Any, label: Any) -> Feedback:
    """Check the share (a fraction between 0 and 1) of rows with one label."""
    require_answer("share", answer)
    import pandas as pd

    counts = pd.Series(labels).value_counts()
    expected = counts.get(label, 0) / counts.sum()
    if isinstance(answer, pd.Series):
        return wrong(
            "that is the share of every label; the exercise asks for one number.",
            hint=f"pick the {label!r} entry: value_counts(normalize=True)[{label!r}].",
        )
    if isinstance(answer, str):
        return wrong(
            f"{answer!r} is text; the answer is a number.",
            hint="write it without quotes or a % sign, as a fraction: 0.25 for a quarter.",
        )
    if not is_number(answer):
        return wrong(
            f"the answer should be a number, got {type(answer).__name__} {answer!r}.",
            hint="divide the count of that label by the number of rows.",
        )
    if math.isclose(answer, expected, abs_tol=0.005):
        return correct(f"{expected:.1%} of the rows are {label!r}.")
    if math.isclose(answer, 100 * expected, abs_tol=0.5):
        return wrong(
            f"{answer:g} is a percentage; the answer is a fraction.",
            hint="give a number between 0 and 1, e.g. 0.25 for a quarter.",
        )
    if answer == counts.get(label, 0):
        return wrong(
            f"{answer} is the number of {label!r} rows, not their share.",
            hint="divide it by the number of rows.",
        )
    if math.isclose(answer, 1 - expected, abs_tol=0.005):
        return wrong(
            f"{answer:.3f} is the share of the rows that are *not* {label!r}.",
            hint=f"count the rows equal to {label!r} (==), not the others (!=).",
        )
    for other, count in counts.items():
        if other != label and math.isclose(answer, count / counts.sum(), abs_tol=0.005):
            return wrong(
                f"{answer:.3f} is the share of {other!r}, not {label!r}.",
                hint="check which label you counted.",
            )
    return wrong(
        f"{answer:.3f} is not the share of {label!r}.",
        hint="value_counts(normalize=True) gives the share of every label.",
    )
