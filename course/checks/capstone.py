"""Checks for notebook 12: the capstone, will it rain tomorrow in Seattle?"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from course.checks._feedback import Feedback, correct, is_number, require_answer, wrong


def model_ready_features(X: Any, table: Any, *, target: str) -> Feedback:
    """Check a feature table built from ``table``: same rows, numbers only, no gaps, no target."""
    require_answer("X", X)
    import pandas as pd

    if not isinstance(X, pd.DataFrame):
        return wrong(
            f"`X` should be a DataFrame of features, got {type(X).__name__}.",
            hint="select the feature columns of the table: table[[...]].",
        )
    if len(X) != len(table):
        return wrong(
            f"`X` has {len(X)} rows but the table has {len(table)}.",
            hint="build X from `table`, with one row per row of the table.",
        )
    if target in X.columns:
        return wrong(
            f"`X` contains the target {target!r}: the model would be handed the answer.",
            hint=f"leave it out: table.drop(columns=[{target!r}, ...]).",
        )
    dates = [str(c) for c in X.columns if pd.api.types.is_datetime64_any_dtype(X[c])]
    if dates:
        return wrong(
            f"{dates} hold dates, and a model needs numbers.",
            hint="turn a date into numbers a model can use, such as the month: "
            "table['date'].dt.month.",
        )
    numeric = X.select_dtypes(["number", "bool"]).columns
    text = [str(c) for c in X.columns if c not in numeric]
    if text:
        return wrong(
            f"{text} hold labels, not numbers.",
            hint="drop them, or one-hot encode them in a pipeline (and check the datasheet: "
            "some labels are unreliable).",
        )
    if not len(X.columns):
        return wrong("`X` has no columns.", hint="choose at least one feature.")
    gaps = [str(c) for c in X.columns if X[c].isna().any()]
    if gaps:
        return wrong(f"{gaps} have missing values.", hint="fill or drop them first.")
    y = pd.Series(table[target]).to_numpy()
    for column in X.columns:
        if X[column].nunique() > 1 and ((X[column].to_numpy() > 0) == y).mean() > 0.99:
            return wrong(
                f"{column!r} gives the target away: it is positive exactly on the rows where "
                f"{target!r} is true, so it must come from the future.",
                hint="use only what is known on the day of the prediction.",
            )
    return correct(f"{X.shape[1]} numeric features for {len(X)} rows: {[str(c) for c in X]}.")


def time_ordered_split(X_train: Any, X_test: Any, table: Any, *, date: str = "date") -> Feedback:
    """Check that every test row comes after every training row of ``table`` (by ``date``)."""
    require_answer("X_train", X_train)
    require_answer("X_test", X_test)
    require_answer("table", table)
    import pandas as pd

    dates = pd.to_datetime(table[date])
    missing = [index for index in (*X_train.index, *X_test.index) if index not in dates.index]
    if missing:
        return wrong(
            f"{len(missing)} rows of X_train and X_test are not rows of the table.",
            hint="split the X and y built from the table, without resetting their index.",
        )
    train, test = dates.loc[X_train.index], dates.loc[X_test.index]
    if not len(train) or not len(test):
        return wrong("one of the two parts is empty.", hint="choose a cut inside the dates.")
    overlap = set(X_train.index) & set(X_test.index)
    if overlap:
        return wrong(
            f"{len(overlap)} rows are in both parts.",
            hint="split once, at a date: time_split(X, y, dates=..., test_from=...).",
        )
    if train.max() >= test.min():
        later = int((train > test.min()).sum())
        return wrong(
            f"{later} training days come after the first test day ({test.min().date()}): the "
            "model would learn from the future it is tested on.",
            hint="do not shuffle: train on the earlier days, test on the later ones "
            "(course.timeseries.time_split).",
        )
    share = len(test) / (len(train) + len(test))
    if not 0.1 <= share <= 0.4:
        return wrong(
            f"the test set holds {share:.0%} of the days.",
            hint="keep between 10% and 40% of the days (the latest ones) for testing.",
        )
    return correct(
        f"trained on {train.min().date()} to {train.max().date()}, tested on the "
        f"{len(test)} days from {test.min().date()} to {test.max().date()}."
    )


def persistence_accuracy(
    answer: Any, X_test: Any, y_test: Any, *, column: str = "precipitation"
) -> Feedback:
    """Check the test accuracy of the rule "tomorrow like today": rain when ``column`` > 0."""
    require_answer("persistence", answer)
    truth = np.asarray(y_test).astype(bool)
    rule = np.asarray(X_test[column]) > 0
    expected = float((rule == truth).mean())
    if not is_number(answer):
        return wrong(
            f"the answer should be a number, got {type(answer).__name__} {answer!r}.",
            hint="compare the rule's answers with y_test and take the mean.",
        )
    if math.isclose(answer, expected, abs_tol=5e-4):
        return correct(f"tomorrow is like today on {expected:.1%} of the test days.")
    if math.isclose(answer, 100 * expected, abs_tol=0.05):
        return wrong(f"{answer:g} is a percentage.", hint="give it as a number from 0 to 1.")
    if math.isclose(answer, 1 - expected, abs_tol=5e-4):
        return wrong(
            f"{answer:.3f} is the share of days the rule gets wrong.",
            hint="count the days where the rule's answer equals the truth.",
        )
    if math.isclose(answer, float(truth.mean()), abs_tol=5e-4):
        return wrong(
            f"{answer:.3f} is the share of rainy days, not the rule's accuracy.",
            hint=f"the rule predicts rain when {column} > 0; compare that with y_test.",
        )
    return wrong(
        f"{answer:.3f} is not the accuracy of the rule on the test days.",
        hint=f"((X_test[{column!r}] > 0) == y_test).mean(), on the test days only.",
    )
