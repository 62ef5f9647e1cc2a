"""Checks for notebook 06: predict on unseen data."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from course.checks._feedback import Feedback, correct, is_number, require_answer, wrong


def class_probability(answer: Any, model: Any, row: Any, label: Any) -> Feedback:
    """Check the probability a fitted classifier gives to ``label`` for one row (a 1-row frame)."""
    require_answer("probability", answer)
    try:
        probabilities = np.asarray(model.predict_proba(row))[0]
    except Exception as error:  # a row the model cannot read: say so instead of crashing
        return wrong(
            f"the model cannot score the row: {type(error).__name__}: {error}",
            hint="give the row the same columns, in the same order, as the training features.",
        )
    classes = list(model.classes_)
    expected = float(probabilities[classes.index(label)])
    if isinstance(answer, str):
        return wrong(
            f"{answer!r} is a label; the question asks for a probability.",
            hint="model.predict_proba(row) gives one probability per class.",
        )
    if isinstance(answer, np.ndarray | list | tuple):
        return wrong(
            "that is one probability per class; the question asks for one of them.",
            hint=f"pick the column of {label!r}: the columns follow model.classes_ = {classes}.",
        )
    if not is_number(answer):
        return wrong(
            f"the answer should be a number, got {type(answer).__name__}.",
            hint="model.predict_proba(row)[0, column] is a number.",
        )
    if math.isclose(answer, expected, abs_tol=5e-4):
        return correct(f"the model gives {label!r} a probability of {expected:.3f}.")
    if math.isclose(answer, 100 * expected, abs_tol=0.05):
        return wrong(f"{answer:g} is a percentage.", hint="give it as a number from 0 to 1.")
    for other, probability in zip(classes, probabilities, strict=True):
        if other != label and math.isclose(answer, probability, abs_tol=5e-4):
            return wrong(
                f"{answer:.3f} is the probability of {other!r}.",
                hint=f"the columns follow model.classes_ = {classes}.",
            )
    return wrong(
        f"{answer:.3f} is not the probability of {label!r}.",
        hint="use model.predict_proba on the new row, not on the test set.",
    )


def valid_request(row: Any, card: Any) -> Feedback:
    """Check that a prediction request passes the model card's schema, as the server does."""
    require_answer("fixed_request", row)
    from course.schema import RowValidationError, validate_row

    try:
        _, warnings = validate_row(card, row)
    except RowValidationError as error:
        first = error.problems[0]
        return wrong(
            f"the server would refuse it: {error}",
            hint=f"start with {first.field!r}: {first.problem}; expected {first.expected}.",
        )
    if warnings:
        return wrong(
            f"the server accepts it but warns: {warnings[0]}",
            hint="a value far outside the training range makes the prediction a guess.",
        )
    return correct("the server would accept this request and predict from it.")
