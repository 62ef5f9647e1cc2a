"""Checks for notebook 06: predict on unseen data."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from course.checks._feedback import Feedback, correct, is_number, require_answer, wrong
from course.checks._guard import check


@check
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
    classes = [_plain(c) for c in model.classes_]
    expected = float(probabilities[classes.index(label)])
    predicted = classes[int(np.argmax(probabilities))]
    column = f"model.predict_proba(row)[0, {classes.index(label)}]"
    if _is_sequence(answer):
        values = np.asarray(answer, dtype=object).ravel()
        if len(values) == 1:  # predict(...) or predict_proba(...)[:, k]: judge the one value
            answer = _plain(values[0])
        elif len(values) == len(classes) and all(is_number(v) for v in values):
            return wrong(
                "that is one probability per class (the whole row of predict_proba); the "
                f"question asks for the probability of {label!r} only.",
                hint=f"pick the column of {label!r}: the columns follow model.classes_ = "
                f"{classes}, so take {column}.",
            )
        else:
            return wrong(
                f"that holds {len(values)} values; the question asks for one number.",
                hint=f"predict_proba on the one new row, then its column of {label!r}: {column}.",
            )
    if isinstance(answer, str | bool) or (answer in classes and not is_number(answer)):
        said = "the class the model predicts" if answer == predicted else "a class label"
        return wrong(
            f"{answer!r} is {said} (what predict gives); the question asks for a probability.",
            hint=f"use predict_proba, not predict: {column} is the probability of {label!r}.",
        )
    if not is_number(answer):
        return wrong(
            f"the answer should be a number, got {type(answer).__name__}.",
            hint=f"{column} is a number.",
        )
    answer = float(answer)
    if math.isclose(answer, expected, abs_tol=5e-4):
        return correct(f"the model gives {label!r} a probability of {expected:.3f}.")
    if answer > 1 and math.isclose(answer, 100 * expected, abs_tol=0.05):
        return wrong(
            f"{answer:g} is a percentage ({answer:g}%).",
            hint=f"a probability is a number from 0 to 1: give {expected:.3f}, not {answer:g}.",
        )
    if answer < 0 or answer > 1:
        return wrong(
            f"{answer:g} cannot be a probability: probabilities go from 0 to 1.",
            hint=f"{column} is the probability of {label!r}.",
        )
    for other, probability in zip(classes, probabilities, strict=True):
        if other != label and math.isclose(answer, probability, abs_tol=5e-4):
            return wrong(
                f"{answer:.3f} is the probability of {other!r}, not of {label!r}.",
                hint=f"the columns follow model.classes_ = {classes}: {label!r} is column "
                f"{classes.index(label)}.",
            )
    if math.isclose(answer, 1 - expected, abs_tol=5e-4):
        return wrong(
            f"{answer:.3f} is the probability that the bird is NOT {label!r}.",
            hint=f"take the column of {label!r} itself: {column}.",
        )
    if math.isclose(answer, expected, abs_tol=0.006):
        return wrong(
            f"{answer:g} is {label!r}'s probability rounded too much.",
            hint="give the value as predict_proba returns it; round only when you print it.",
        )
    return wrong(
        f"{answer:.3f} is not the probability the model gives {label!r} for this row.",
        hint=f"ask the model about the new row itself (not a test or training row): {column}.",
    )


@check
def valid_request(row: Any, card: Any, original: Any = None) -> Feedback:
    """Check that a prediction request passes the model card's schema, as the server does.

    With ``original`` (the refused request), also check that the answer is the *same bird*:
    every value the server accepted is kept, a number written as text becomes that number, a
    category gets its right case, a value in another unit is converted (4.5 kg is 4500 g).
    """
    require_answer("fixed_request", row)
    from course.schema import RowValidationError, validate_row

    try:
        clean, warnings = validate_row(card, row)
    except RowValidationError as error:
        first = error.problems[0]
        return wrong(f"the server would refuse it: {error}", hint=_fix_hint(first, card, row))
    if warnings:
        warning = warnings[0]
        return wrong(
            f"the server accepts it but warns: {warning}",
            hint=_unit_hint(card, warning.field, clean[warning.field])
            or "a value far outside the training range makes the prediction a guess.",
        )
    if original is not None:
        for feature in card.features:
            kept = _same_bird(feature, original.get(feature.name), clean[feature.name])
            if not kept:
                before = original.get(feature.name)
                return wrong(
                    f"{feature.name} is {clean[feature.name]!r}, but the bird of the refused "
                    f"request has {before!r}: that is another bird.",
                    hint="fix how each value is written (type, case, unit), never the bird's "
                    "measurements themselves.",
                )
    return correct("the server would accept this request and predict from it.")


def _fix_hint(problem: Any, card: Any, row: Any) -> str:
    """A hint aimed at the first problem the server found."""
    feature = next((f for f in card.features if f.name == problem.field), None)
    value = row.get(problem.field) if isinstance(row, dict) else None
    if problem.problem == "unknown field":
        return f"delete the field {problem.field!r}: the model was never trained on it."
    if feature is not None and feature.is_numeric and isinstance(value, str):
        return f"write the number without quotes: {problem.field} is a number, not text."
    if feature is not None and feature.categories and isinstance(value, str):
        match = [c for c in feature.categories if str(c).lower() == value.strip().lower()]
        if match:
            return f"categories are case-sensitive: write {match[0]!r}, as in training."
    return f"start with {problem.field!r}: {problem.problem}; expected {problem.expected}."


def _unit_hint(card: Any, field: str, value: Any) -> str:
    feature = next(f for f in card.features if f.name == field)
    for factor in (1000, 100, 10, 0.1, 0.01, 0.001):
        if is_number(value) and feature.min <= value * factor <= feature.max:
            return (
                f"{field} was between {feature.min:g} and {feature.max:g} in training: {value:g} "
                f"looks like another unit (x{factor:g} gives {value * factor:g})."
            )
    return ""


def _same_bird(feature: Any, before: Any, after: Any) -> bool:
    """Whether ``after`` (accepted by the server) says the same as ``before`` (refused)."""
    if before is None or after is None:
        return before is after
    if feature.is_numeric:
        try:
            number = float(before)
        except (TypeError, ValueError):
            return True  # nothing to compare with
        if math.isclose(after, number, rel_tol=1e-9):
            return True
        units = [number * factor for factor in (1000, 100, 10, 0.1, 0.01, 0.001)]
        outside = not feature.min <= number <= feature.max
        return outside and any(math.isclose(after, u, rel_tol=1e-9) for u in units)
    if isinstance(before, str) and isinstance(after, str):
        return before.strip().lower() == after.lower()
    return bool(before == after)  # NumPy values compare to a NumPy bool


def _is_sequence(value: Any) -> bool:
    return isinstance(value, np.ndarray | list | tuple) or hasattr(value, "to_numpy")


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
