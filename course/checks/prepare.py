"""Checks for notebook 02: prepare the data."""

from __future__ import annotations

from typing import Any

import numpy as np

from course.checks._feedback import Feedback, correct, require_answer, wrong


def penguin_preprocessor(preprocessor: Any, X_train: Any) -> Feedback:
    """Check a preprocessor that fills, scales and one-hot encodes the penguin features."""
    require_answer("preprocessor", preprocessor)
    if isinstance(preprocessor, type):
        return wrong(
            f"`preprocessor` is the class {preprocessor.__name__}, not a transformer made from it.",
            hint=f"call the class to make one: {preprocessor.__name__}(...).",
        )
    if not hasattr(preprocessor, "fit_transform"):
        return wrong(
            f"`preprocessor` should be a scikit-learn transformer, got "
            f"{type(preprocessor).__name__}.",
            hint="build it with ColumnTransformer([(name, transformer, columns), ...]).",
        )
    from sklearn.base import clone

    try:
        out = clone(preprocessor).fit_transform(X_train)
        out = np.asarray(out.toarray() if hasattr(out, "toarray") else out)
    except Exception as error:  # the learner's transformer may raise anything; report it
        return wrong(
            f"fitting it on X_train raised {type(error).__name__}: {error}",
            hint="each entry is (name, transformer, list of column names); text columns need "
            "a OneHotEncoder, numbers a StandardScaler, and both a SimpleImputer first.",
        )
    if out.dtype == object:
        return wrong(
            "the output still holds text: a model needs numbers.",
            hint="encode island and sex with a OneHotEncoder.",
        )
    out = out.astype(float)
    if np.isnan(out).any():
        columns = sorted({int(c) for c in np.flatnonzero(np.isnan(out).any(axis=0))})
        return wrong(
            f"output columns {columns} still have missing values.",
            hint="put a SimpleImputer before the scaler and before the encoder.",
        )
    n_expected = 4 + int(X_train["island"].nunique()) + int(X_train["sex"].nunique())
    if out.shape[1] != n_expected:
        return wrong(
            f"the output has {out.shape[1]} columns; expected {n_expected}: 4 measurements, "
            "one column per island and one per sex.",
            hint="list the four measurements for the numeric part and island and sex for the "
            "categorical part; the ColumnTransformer drops columns it is not given.",
        )
    binary = np.isin(out, (0.0, 1.0)).all(axis=0)
    numbers = out[:, ~binary]
    if numbers.shape[1] != 4:
        return wrong(
            f"{numbers.shape[1]} output columns are measurements, expected 4.",
            hint="one-hot encode only island and sex; scale the four measurements.",
        )
    if not (
        np.allclose(numbers.mean(axis=0), 0, atol=1e-6)
        and np.allclose(numbers.std(axis=0), 1, atol=1e-6)
    ):
        return wrong(
            "the measurements are not scaled: their means and spreads differ "
            f"(means {np.round(numbers.mean(axis=0), 1).tolist()}).",
            hint="add a StandardScaler after the imputer of the numeric columns.",
        )
    return correct(
        f"{out.shape[1]} numeric columns with no missing values: 4 scaled measurements and "
        f"{out.shape[1] - 4} one-hot columns."
    )


_LEAK_EXPLANATIONS = {
    "a": "the scaler learns its mean and spread from every row, test rows included, before "
    "the split: the test rows leak into training.",
    "b": "the scaler is fitted on the training rows only, then applied to the test rows.",
    "c": "the pipeline fits its scaler inside fit, on the training rows only.",
}


def leaky_option(answer: Any) -> Feedback:
    """Check which of the three scaling recipes of notebook 02 leaks the test set ("a")."""
    require_answer("leaky", answer)
    text = str(answer).strip().lower().strip("()")
    if text not in _LEAK_EXPLANATIONS:
        return wrong(f"{answer!r} is not one of the options.", hint='answer "a", "b" or "c".')
    if text == "a":
        return correct(_LEAK_EXPLANATIONS["a"])
    return wrong(
        f"option {text} is safe: {_LEAK_EXPLANATIONS[text]}",
        hint="look for the option where fit sees rows that later serve as the test set.",
    )
