"""Checks for notebook 03: explore the data."""

from __future__ import annotations

import math
from typing import Any

from course.checks._feedback import Feedback, correct, is_number, require_answer, wrong


def strongest_correlation(answer: Any, frame: Any, column: str) -> Feedback:
    """Check which numeric column correlates most strongly (in absolute value) with ``column``."""
    require_answer("strongest", answer)
    numeric = frame.select_dtypes("number")
    correlations = numeric.corr()[column].drop(column)
    best = correlations.abs().idxmax()
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
    message = f"{answer!r} has a correlation of {r:.2f}, but another column's is stronger."
    if abs(correlations.min()) > correlations.max() and answer == correlations.idxmax():
        return wrong(message, hint="a strong negative correlation counts too: compare sizes.")
    return wrong(message, hint=f"compare the numbers in the {column!r} row of the matrix.")


def class_share(answer: Any, labels: Any, label: Any) -> Feedback:
    """Check the share (a fraction between 0 and 1) of rows with one label."""
    require_answer("share", answer)
    import pandas as pd

    counts = pd.Series(labels).value_counts()
    expected = counts.get(label, 0) / counts.sum()
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
