"""Checks for notebook 03: explore the data."""

from __future__ import annotations

import math
from typing import Any

from course.checks._answers import expect_labels, expect_number, expect_table
from course.checks._feedback import Feedback, correct, is_number, require_answer, wrong
from course.checks._guard import check, describe
from course.checks._quiz import Question, Quiz


@check
def strongest_correlation(answer: Any, frame: Any, column: str) -> Feedback:
    """Check which numeric column correlates most strongly (in absolute value) with ``column``."""
    require_answer("strongest", answer)
    import pandas as pd

    expect_table("frame", frame)
    numeric = frame.select_dtypes("number")
    correlations = numeric.corr()[column].drop(column)
    best = correlations.abs().idxmax()
    if isinstance(answer, pd.Series):
        return wrong(
            "that is a whole list of correlations; the answer is one column's name.",
            hint="take the name of the largest size: .abs().idxmax() gives it.",
            mistake="list-of-correlations",
        )
    if isinstance(answer, pd.DataFrame):
        return wrong(
            f"`strongest` is {describe(answer)}: the whole matrix, not one column's name.",
            hint="start from the `body_mass_g` column of the matrix and keep only the name "
            "of its strongest entry.",
            mistake="whole-matrix",
        )
    if callable(answer):
        return wrong(
            f"`strongest` is the method {getattr(answer, '__name__', '')!r} itself, not its "
            "result: the brackets are missing.",
            hint="call it: add () at the end, as in .idxmax().",
            mistake="method-not-called",
        )
    if is_number(answer) and -1 <= answer <= 1:
        return wrong(
            f"{answer:g} is a correlation value; the exercise asks *which* column has it.",
            hint='answer with the column\'s name, in quotes, e.g. "bill_depth_mm".',
            mistake="value-not-name",
        )
    names = _names_in(answer)
    if len(names) == 1:
        return wrong(
            f"`strongest` is {describe(answer)} holding the name {names[0]!r}: the answer is "
            "the name itself, as text.",
            hint="take the name out: .idxmax() gives one name, where .nlargest(1).index gives "
            "a list of one.",
            mistake="name-in-container",
        )
    if not isinstance(answer, str):
        return wrong(
            f"the answer should be a column name, but `strongest` is {describe(answer)}.",
            hint='write the name in quotes, e.g. "bill_depth_mm".',
            mistake="not-a-name",
        )
    if answer == column:
        return wrong(
            "every column correlates perfectly (1.0) with itself; look at the *other* columns.",
            hint=f"read the {column!r} row of the correlation matrix, skipping the diagonal.",
            mistake="self-correlation",
        )
    if answer not in frame.columns:
        return wrong(
            f"{answer!r} is not a column.", hint=f"pick one of {list(correlations.index)}.",
            mistake="not-a-column"
        )
    if answer not in correlations.index:
        return wrong(
            f"{answer!r} is not a number, so it has no correlation coefficient.",
            hint=f"pick one of the numeric columns {list(correlations.index)}.",
            mistake="text-column",
        )
    if answer == best:
        return correct(f"{best!r} has the strongest correlation, {correlations[best]:.2f}.")
    r = correlations[answer]
    if r < 0 and answer == correlations.idxmin():
        return wrong(
            f"{answer!r} has the most negative correlation ({r:.2f}), but strength is the size "
            "of the number, whatever its sign, and another column's is larger.",
            hint="compare the sizes, ignoring the minus signs: .abs() does that.",
            mistake="most-negative",
        )
    message = f"{answer!r} has a correlation of {r:.2f}, but another column's is stronger."
    if abs(correlations.min()) > correlations.max() and answer == correlations.idxmax():
        return wrong(
            message, hint="a strong negative correlation counts too: compare sizes.",
            mistake="largest-positive",
        )
    if answer == correlations.abs().idxmin():
        return wrong(
            f"{answer!r} has the weakest link of all ({r:.2f}): the question asks for the "
            "strongest.",
            hint="the strongest is the largest size, ignoring the sign.",
            mistake="weakest-correlation",
        )
    return wrong(
        message, hint=f"compare the numbers in the {column!r} row of the matrix.",
        mistake="not-strongest",
    )


def _names_in(answer: Any) -> list[str]:
    """The names in a list, a tuple, an array or an Index of column names; [] for other kinds."""
    import numpy as np
    import pandas as pd

    if isinstance(answer, np.ndarray | pd.Index) and answer.ndim != 1:
        return []
    if isinstance(answer, list | tuple | np.ndarray | pd.Index):
        return [item for item in answer if isinstance(item, str)]
    return []


@check
def class_share(answer: Any, labels: Any, label: Any) -> Feedback:
    """Check the share (a fraction between 0 and 1) of rows with one label."""
    require_answer("share", answer)
    import numpy as np
    import pandas as pd

    counts = expect_labels("labels", labels).value_counts()
    expected = counts.get(label, 0) / counts.sum()
    if isinstance(answer, pd.Series) and answer.dtype == bool:
        return wrong(
            f"`share` is {describe(answer)}, True or False for every row: one step short of "
            "the share.",
            hint="the mean of True/False values is the share of True: add .mean().",
            hint_gives_answer=True,
            mistake="per-row-booleans",
        )
    if isinstance(answer, pd.Series):
        return wrong(
            "that is the share of every label; the exercise asks for one number.",
            hint=f"pick the {label!r} entry: value_counts(normalize=True)[{label!r}].",
            hint_gives_answer=True,
            mistake="every-label-share",
        )
    if isinstance(answer, str):
        return wrong(
            f"{answer!r} is text; the answer is a number.",
            hint="write it without quotes or a % sign, as a fraction: 0.25 for a quarter.",
            mistake="number-as-text",
        )
    if callable(answer):
        return wrong(
            f"`share` is the method {getattr(answer, '__name__', '')!r} itself, not its "
            "result: the brackets are missing.",
            hint="call it: add () at the end, as in .mean().",
            mistake="method-not-called",
        )
    if isinstance(answer, bool | np.bool_):
        return wrong(
            f"`share` is {bool(answer)}, a yes or no; the answer is a number between 0 and 1.",
            hint="compare the whole column with the label, then take the mean of the "
            "True/False values.",
            mistake="yes-no-not-share",
        )
    if not is_number(answer):
        return wrong(
            f"the answer should be a number, but `share` is {describe(answer)}.",
            hint="divide the count of that label by the number of rows.",
            mistake="not-a-number",
        )
    answer = expect_number("share", answer, what="a share between 0 and 1")
    if math.isclose(answer, expected, abs_tol=0.005):
        return correct(f"{expected:.1%} of the rows are {label!r}.")
    if math.isclose(answer, 100 * expected, abs_tol=0.5):
        return wrong(
            f"{answer:g} is a percentage; the answer is a fraction.",
            hint="give a number between 0 and 1, e.g. 0.25 for a quarter.",
            mistake="percentage-not-share",
        )
    if answer == counts.get(label, 0):
        return wrong(
            f"{answer} is the number of {label!r} rows, not their share.",
            hint="divide it by the number of rows.",
            mistake="count-not-share",
        )
    if math.isclose(answer, 1 - expected, abs_tol=0.005):
        return wrong(
            f"{answer:.3f} is the share of the rows that are *not* {label!r}.",
            hint=f"count the rows equal to {label!r} (==), not the others (!=).",
            mistake="complement-share",
        )
    if not 0 <= answer <= 1:
        return wrong(
            f"{answer:g} cannot be a share: a share lies between 0 (no row) and 1 (every row).",
            hint="divide the number of rows with that label by the number of all rows.",
            mistake="not-a-share",
        )
    for other, count in counts.items():
        if other != label and math.isclose(answer, count / counts.sum(), abs_tol=0.005):
            return wrong(
                f"{answer:.3f} is the share of {other!r}, not {label!r}.",
                hint="check which label you counted.",
                mistake="other-label-share",
            )
    return wrong(
        f"{answer:.3f} is not the share of {label!r}.",
        hint="value_counts(normalize=True) gives the share of every label.",
        mistake="wrong-share",
    )


QUIZ = Quiz((
    Question(
        answer="c",
        why="looking is a kind of learning: a choice made after seeing the test birds fits "
        "those birds, so the test score no longer measures birds the whole process never saw. "
        "Explore the training rows only.",
        wrong={
            "a": "the test rows are not data like any other: they stand for the birds the model "
            "will meet later. Once they guide a choice, their score is no longer an honest "
            "estimate for new birds.",
            "b": "training on the training rows is not enough: the *decision* to build the "
            "model around that measurement was taken from the test birds, and it is part of "
            "the model. The test score comes out too optimistic.",
        },
    ),
    Question(
        answer="a",
        why="the overall correlation summarises the whole mixture, where species with "
        "long-but-shallow bills (Gentoo) and short-but-deep ones (Adelie) pull the trend "
        "downwards. Inside each group the link is positive: look at the groups before "
        "concluding.",
        wrong={
            "b": "both computations can be right: a correlation over a mixture of groups can "
            "have the opposite sign of the correlation inside every group (Simpson's paradox).",
            "c": "a correlation is not a cause, and here even its direction comes from mixing "
            "species: inside each species longer bills are *deeper*.",
        },
    ),
    Question(
        answer="b",
        why="a correlation runs from -1 to 1; its size says how tightly the two columns move "
        "together along a line, its sign only whether one rises or falls with the other. "
        "-0.85 is a strong link, 0.05 almost none.",
        wrong={
            "a": "the sign gives the direction, not the strength: 0.05 is close to no linear "
            "link at all, -0.85 is a strong one (high pressure, lower temperature).",
            "c": "a negative correlation is a link too: one column falls when the other rises. "
            "No link is a correlation near 0.",
            "d": "a heat map only draws the same numbers as colours; the numbers already answer "
            "the question.",
        },
    ),
    Question(
        answer="d",
        why="two humps usually mean two groups with different typical values (Gentoos are "
        "heavier than the other two species). One histogram per group, on the same bins, "
        "shows who is who.",
        wrong={
            "a": "more bins make a histogram noisier, not smoother, and two clear humps do not "
            "come from the bin count: they are in the data.",
            "b": "missing values are left out of a histogram: they cannot draw a hump.",
            "c": "a hump of many rows is a pattern, not an error: removing it would throw away a "
            "whole group of birds (or patients) the model must handle.",
        },
    ),
    Question(
        answer="c",
        why="with 1% sick patients, always answering \"healthy\" scores 0.99 accuracy and finds "
        "no one. The class balance tells you to judge a model by how many sick patients it "
        "finds (recall) and to stratify the split so the 10 are shared fairly.",
        wrong={
            "a": "having some rows is not enough: with 990 against 10, accuracy rewards a model "
            "that ignores the rare class entirely (0.99 for always answering \"healthy\").",
            "b": "deleting 980 patients throws away most of the data, and a test set balanced by "
            "hand no longer looks like the clinic's patients. Keep the rows; choose the metric "
            "and stratify instead.",
        },
    ),
))
