"""Checks for notebook 07: the regression track."""

from __future__ import annotations

from typing import Any

import numpy as np

from course.checks._feedback import Feedback, correct, require_answer, wrong


def largest_coefficient(answer: Any, model: Any) -> Feedback:
    """Check which input has the largest coefficient (in size) in a fitted linear pipeline."""
    require_answer("largest", answer)
    final = model.steps[-1][1] if hasattr(model, "steps") else model
    coefficients = np.ravel(final.coef_)
    if hasattr(model, "steps") and len(model.steps) > 1:
        names = list(model[:-1].get_feature_names_out())
    else:
        names = list(getattr(final, "feature_names_in_", range(len(coefficients))))
    # A ColumnTransformer prefixes names with its part ("numeric__bmi"): keep the column's.
    names = [str(name).rpartition("__")[2] for name in names]
    sizes = dict(zip(names, coefficients, strict=True))
    best = max(sizes, key=lambda name: abs(sizes[name]))
    if answer == best:
        return correct(
            f"{best!r}: a change of one standard deviation moves the prediction by "
            f"{sizes[best]:+.1f}."
        )
    if answer not in sizes:
        return wrong(f"{answer!r} is not one of the model's inputs.", hint=f"pick one of {names}.")
    most_positive = max(sizes, key=lambda name: sizes[name])
    if answer == most_positive and sizes[best] < 0:
        return wrong(
            f"{answer!r} has the largest positive coefficient, but a negative one is larger.",
            hint="compare sizes: abs(coefficient).",
        )
    return wrong(
        f"{answer!r} has a coefficient of {sizes[answer]:+.1f}; another input's is larger.",
        hint="sort the coefficients by their absolute value.",
    )
