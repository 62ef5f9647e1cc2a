"""Checks for notebook 06: predict on unseen data."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from course.checks._feedback import Feedback, correct, is_number, require_answer, wrong
from course.checks._guard import check, describe
from course.checks._quiz import Question, Quiz


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
            mistake="cannot-score-row",
        )
    classes = [_plain(c) for c in model.classes_]
    expected = float(probabilities[classes.index(label)])
    predicted = classes[int(np.argmax(probabilities))]
    order = f"the columns follow model.classes_ = {classes}"
    mistake = _not_a_probability(answer, row)
    if mistake is not None:
        return mistake
    if _is_sequence(answer):
        values = np.asarray(answer, dtype=object).ravel()
        if len(values) == 1:  # predict(...) or predict_proba(...)[:, k]: judge the one value
            answer = _plain(values[0])
        elif len(values) == len(classes) and all(is_number(v) for v in values):
            return wrong(
                "that is one probability per class (the whole row of predict_proba); the "
                f"question asks for the probability of {label!r} only.",
                hint=f"{order}: keep only the column of {label!r}.",
                mistake="whole-probability-row",
            )
        else:
            return wrong(
                f"`probability` holds {len(values)} values; the question asks for one number.",
                hint=f"ask predict_proba about the one new row only, then keep the column of "
                f"{label!r}.",
                mistake="several-values",
            )
    if isinstance(answer, str) and _as_number(answer) is not None:
        return wrong(
            f"`probability` is the text {answer!r}: a number in quotes.",
            hint="write the number without quotes, or better, the code that computes it.",
            mistake="number-as-text",
        )
    if isinstance(answer, bool) and answer not in classes:
        return wrong(
            f"`probability` is {answer}: a yes/no, not a probability.",
            hint="predict_proba gives a number from 0 to 1 for each class.",
            mistake="yes-no-not-probability",
        )
    if isinstance(answer, str) or (answer in classes and not is_number(answer)):
        said = "the class the model predicts" if answer == predicted else "a class label"
        return wrong(
            f"{answer!r} is {said} (what predict gives); the question asks for a probability.",
            hint=f"use predict_proba, not predict; {order}.",
            mistake="predicted-label",
        )
    if not is_number(answer):
        return wrong(
            f"`probability` is {describe(answer)}, not a number.",
            hint="predict_proba gives a table of numbers: keep one of them.",
            mistake="not-a-number",
        )
    answer = float(answer)
    if not math.isfinite(answer):
        return wrong(
            f"`probability` is {answer}, not a probability.",
            hint="a NaN comes from a missing value upstream: print what you computed it from.",
            mistake="not-a-probability",
        )
    if math.isclose(answer, expected, abs_tol=5e-4):
        return correct(f"the model gives {label!r} a probability of {expected:.3f}.")
    if answer > 1 and math.isclose(answer, 100 * expected, abs_tol=0.05):
        return wrong(
            f"{answer:g} is a percentage ({answer:g}%).",
            hint="a probability is a number from 0 to 1: do not multiply by 100.",
            mistake="percentage-not-probability",
        )
    if answer < 0 or answer > 1:
        return wrong(
            f"{answer:g} cannot be a probability: probabilities go from 0 to 1.",
            hint=f"use predict_proba, then the column of {label!r}.",
            mistake="out-of-range",
        )
    for other, probability in zip(classes, probabilities, strict=True):
        if other != label and math.isclose(answer, probability, abs_tol=5e-4):
            return wrong(
                f"{answer:.3f} is the probability of {other!r}, not of {label!r}.",
                hint=f"{order}: {label!r} is column {classes.index(label)}.",
                mistake="other-class-probability",
            )
    if math.isclose(answer, 1 - expected, abs_tol=5e-4):
        return wrong(
            f"{answer:.3f} is the probability that the bird is NOT {label!r}.",
            hint=f"take the column of {label!r} itself, without subtracting it from 1.",
            mistake="complement-probability",
        )
    if math.isclose(answer, expected, abs_tol=0.006):
        return wrong(
            f"{answer:g} is {label!r}'s probability rounded too much.",
            hint="give the value as predict_proba returns it; round only when you print it.",
            mistake="rounded-too-much",
        )
    return wrong(
        f"{answer:.3f} is not the probability the model gives {label!r} for this row.",
        hint="ask the model about the new row itself (not a test or training row), with "
        "predict_proba.",
        mistake="wrong-probability",
    )


def _not_a_probability(answer: Any, row: Any) -> Feedback | None:
    """Feedback for an answer that is some other object of the exercise, else None."""
    import pandas as pd
    from sklearn.base import BaseEstimator

    if isinstance(answer, BaseEstimator | type):
        return wrong(
            f"`probability` is {describe(answer)}: the model itself, not what it answers.",
            hint="ask the model about the new row with its predict_proba method.",
            mistake="model-not-answer",
        )
    same_columns = isinstance(answer, pd.DataFrame) and isinstance(row, pd.DataFrame)
    if same_columns and list(answer.columns) == list(row.columns):
        return wrong(
            "`probability` is the row of features itself, not a probability.",
            hint="give that row to the model's predict_proba method.",
            mistake="features-not-probability",
        )
    if isinstance(answer, dict | set):
        return wrong(
            f"`probability` is {describe(answer)}, not a number.",
            hint="predict_proba gives a table of numbers: keep one of them.",
            mistake="not-a-number",
        )
    return None


def _as_number(text: str) -> float | None:
    try:
        return float(text.strip().rstrip("%"))
    except ValueError:
        return None


@check
def valid_request(row: Any, card: Any, original: Any = None) -> Feedback:
    """Check that a prediction request passes the model card's schema, as the server does.

    With ``original`` (the refused request), also check that the answer is the *same bird*:
    every value the server accepted is kept, a number written as text becomes that number, a
    category gets its right case, a value in another unit is converted (4.5 kg is 4500 g).
    """
    require_answer("fixed_request", row)
    from course.schema import RowValidationError, validate_row

    if not isinstance(row, dict):
        return _not_a_request(row)

    try:
        clean, warnings = validate_row(card, row)
    except RowValidationError as error:
        first = error.problems[0]
        return wrong(
            f"the server would refuse it: {error}", hint=_fix_hint(first, card, row),
            mistake="server-refuses",
        )
    if warnings:
        warning = warnings[0]
        return wrong(
            f"the server accepts it but warns: {warning}",
            hint=_unit_hint(card, warning.field, clean[warning.field])
            or "a value far outside the training range makes the prediction a guess.",
            mistake="server-warns",
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
                    mistake="other-bird",
                )
    return correct("the server would accept this request and predict from it.")


def _not_a_request(row: Any) -> Feedback:
    """Feedback for a request that is not a dict: JSON text, a list of one, a table..."""
    import json

    import pandas as pd

    like = "a dict like `bad_request`: {\"field\": value, ...}, one key per feature"
    if isinstance(row, str):
        try:
            parsed = json.loads(row)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            return wrong(
                "`fixed_request` is text (JSON in quotes), not a dict.",
                hint=f"remove the quotes around the braces: write {like}.",
                mistake="json-text-not-dict",
            )
        return wrong(
            f"`fixed_request` is {describe(row)}, not a request.", hint=f"write {like}.",
            mistake="not-a-request",
        )
    if isinstance(row, list | tuple) and len(row) == 1 and isinstance(row[0], dict):
        return wrong(
            f"`fixed_request` is a {type(row).__name__} holding one request; the server takes "
            "the request itself.",
            hint="remove the square brackets (or parentheses) around the braces.",
            mistake="request-in-container",
        )
    if isinstance(row, pd.DataFrame | pd.Series):
        return wrong(
            f"`fixed_request` is {describe(row)}: a table, the model's side; the server "
            "receives JSON, which Python writes as a dict.",
            hint=f"write {like}.",
            mistake="table-not-request",
        )
    return wrong(
        f"`fixed_request` is {describe(row)}, not a request.", hint=f"write {like}.",
        mistake="not-a-request",
    )


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


QUIZ = Quiz((
    Question(
        answer="c",
        why="13 birds all right is a real result, but a small one: its interval (about 0.77 to "
        "1) says the accuracy on Torgersen birds could well be below the others. The card gives "
        "the score with its count and interval, so nobody reads 1.000 as a promise.",
        wrong={
            "a": "1.000 on 13 birds is what a model right 90% of the time would often score too: "
            "with so few birds, the interval, not the point, says what is known.",
            "b": "hiding a small group hides exactly what users of the card need: that the model "
            "is barely tested there. Report it, with its count and interval.",
            "d": "the test birds are for measuring once, never for choosing or training: a "
            "model tuned on these 13 birds would score well on them and prove nothing.",
        },
    ),
    Question(
        answer="a",
        why="with every measurement missing, the pipeline filled in the training medians: the "
        "model scored an invented typical bird from its island. A highest probability near "
        "0.5 is the warning sign: send such birds to an expert or measure them again.",
        wrong={
            "b": "a probability is the model's own estimate; whether 0.5 means \"right half the "
            "time\" is calibration, which must be measured, and here there was nothing to "
            "measure the bird by.",
            "c": "the pipeline is built to accept missing values (its imputers fill them in), so "
            "nothing is broken; what matters is to read the low probability as a doubt.",
            "d": "a probability says how sure the model is between the species, not that the "
            "bird is a mixture of them.",
        },
    ),
    Question(
        answer="d",
        why="permutation importance measures what this model needs given all the other "
        "columns: bill depth and body mass also set the Gentoos apart, so shuffling the "
        "flippers alone costs nothing. Columns that carry the same information share the credit.",
        wrong={
            "a": "notebook 03 showed that flippers do separate the Gentoos; an importance near 0 "
            "says the model can do without them, not that they say nothing.",
            "b": "measuring on the test birds is the right place for describing the final model; "
            "the near-zero comes from the other columns, not from where it was measured.",
            "c": "the pipeline was trained on all six columns, flipper length included.",
        },
    ),
    Question(
        answer="b",
        why="a local explanation answers for one bird: replace one of its features by a "
        "typical value, ask the model again, and the change is that feature's effect. That is "
        "what the server's streamed explanation tells.",
        wrong={
            "a": "permutation importance is global: it says what the model relies on over all "
            "the test birds, not why it answered what it did for this one.",
            "c": "partial dependence averages over many birds: it shows how the model's answer "
            "moves in general, not the reasons for one bird's answer.",
            "d": "the scores per group say how often the model is right on an island or sex, "
            "not why it answered this bird as it did.",
        },
    ),
    Question(
        answer="c",
        why="unpickling an untrusted file can run any code it carries. The course saves models "
        "with skops, records a checksum in the card, and load_model refuses a file whose "
        "checksum differs or that holds a type outside scikit-learn, NumPy and SciPy.",
        wrong={
            "a": "a pickle holds instructions to rebuild objects, and those instructions can "
            "call any function: loading one from a stranger is running their code.",
            "b": "the size is not the danger: a small pickle can run anything when loaded.",
        },
    ),
))
"""Notebook 06's quiz: its questions are in the notebook's last markdown cell."""
