"""``@check``: whatever a learner passes, a check answers with feedback, never a traceback.

A beginner reads a traceback as "I broke it". So every check is wrapped: an answer still left
at ``...`` becomes a calm "Not answered yet" naming the learner's own variable (read from the
call in their cell: ``checks.stratified_split(X_train_80, ...)`` names ``X_train_80``, not the
check's parameter ``X_train``); a ``Mistake`` raised by a validation helper becomes its
feedback; and any other exception the answer provokes (wrong order, wrong type, a model not
fitted) becomes feedback that describes what the learner passed, with the exception kept for
the instructor behind a disclosure.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import inspect
import itertools
import linecache
import sys
import warnings
from collections.abc import Callable
from types import FrameType
from typing import Any, ParamSpec

from course.checks._feedback import (
    Feedback,
    Mistake,
    Unanswered,
    Verdict,
    answers_read,
    not_answered,
)

__all__ = ["PLACES", "check", "describe"]

P = ParamSpec("P")

PLACES: dict[str, Callable[..., tuple[str, str] | None]] = {}
"""Check name -> (notebook, exercise) from the check's own arguments, for a check whose
exercise its call names (``checks.quiz("04", ...)`` is ``04.quiz``); every other check's
exercise is where the notebooks call it (course.classroom.exercise_of)."""


def check(function: Callable[P, Feedback]) -> Callable[P, Feedback]:
    """Make ``function`` answer every input with a ``Feedback``."""
    signature = inspect.signature(function)

    @functools.wraps(function)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> Feedback:
        feedback = answer(sys._getframe(1), *args, **kwargs)
        classroom = sys.modules.get("course.classroom")  # imported by a notebook's join cell
        if classroom is None:  # a learner who never joined: not one more instruction
            return feedback
        place = None
        place_of = PLACES.get(function.__name__)
        if place_of is not None:
            try:
                place = place_of(*args, **kwargs)
            except Exception:  # arguments the check refused: its feedback says so
                place = None
        published: Feedback = classroom.after_check(function.__name__, feedback, place=place)
        return published

    def answer(caller: FrameType, *args: P.args, **kwargs: P.kwargs) -> Feedback:
        try:
            signature.bind(*args, **kwargs)
        except TypeError as error:
            return Feedback(
                Verdict.NOT_YET,
                f"this check cell calls `{function.__name__}` with other arguments than it "
                f"takes ({error}).",
                hint="put the check cell back as the notebook gave it (Edit > Undo, or copy it "
                "from the notebook's original), and change only the exercise cell.",
                mistake="check-cell-changed",
            )
        reading = answers_read.set(())
        try:
            with warnings.catch_warnings():  # a check speaks through its feedback alone: no
                warnings.simplefilter("ignore")  # library warnings printed under the box
                feedback = function(*args, **kwargs)
        except Unanswered as unanswered:
            names = learner_names(caller, signature)
            return not_answered(names.get(unanswered.parameter, unanswered.parameter))
        except Mistake as mistake:
            feedback = mistake.feedback
        except Exception as error:
            names = learner_names(caller, signature)
            bound = signature.bind(*args, **kwargs).arguments
            placeholder = next((key for key, value in bound.items() if value is ...), None)
            if placeholder is not None:  # e.g. a model from an earlier exercise, not done yet
                return not_answered(names.get(placeholder, placeholder))
            answers = {
                names.get(key, key): value
                for key, value in bound.items()
                if key in answers_read.get()
            }
            return unreadable(error, answers)
        finally:
            answers_read.reset(reading)
        if feedback.passed:
            return feedback
        return in_learner_words(feedback, learner_names(caller, signature))

    return guarded


def learner_names(frame: FrameType, signature: inspect.Signature) -> dict[str, str]:
    """Each parameter's expression in the learner's call, e.g. {"X_train": "X_train_80"}.

    Read from the source of the call being executed in ``frame`` (its exact position, from the
    code object's positions table); empty when the source is not available, as in a REPL.
    """
    try:
        code = frame.f_code
        positions = next(itertools.islice(code.co_positions(), frame.f_lasti // 2, None))
        first, last, start, end = positions
        if None in positions:
            return {}
        assert first is not None and last is not None and start is not None and end is not None
        lines = [
            line.encode()
            for line in linecache.getlines(code.co_filename, frame.f_globals)[first - 1 : last]
        ]
        lines[-1] = lines[-1][:end]
        lines[0] = lines[0][start:]
        call = ast.parse(b"".join(lines).decode().strip(), mode="eval").body
        if not isinstance(call, ast.Call):
            return {}
        keywords = {keyword.arg: keyword.value for keyword in call.keywords if keyword.arg}
        bound = signature.bind(*call.args, **keywords).arguments
    except (SyntaxError, TypeError, ValueError, IndexError, StopIteration, UnicodeError):
        return {}
    return {
        name: ast.unparse(node)
        for name, node in bound.items()
        if isinstance(node, ast.AST) and not isinstance(node, ast.Constant)
    }


def in_learner_words(feedback: Feedback, names: dict[str, str]) -> Feedback:
    """``feedback`` with each `parameter` written as the learner's variable for it."""
    message, hint = feedback.message, feedback.hint
    for parameter, expression in names.items():
        if not expression.isidentifier():
            continue  # `X[:80]` reads worse in a sentence than the check's own name
        message = message.replace(f"`{parameter}`", f"`{expression}`")
        hint = hint.replace(f"`{parameter}`", f"`{expression}`")
    return dataclasses.replace(feedback, message=message, hint=hint)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def describe(value: Any) -> str:
    """A beginner's description of a value: "a DataFrame with 274 rows and 6 columns"."""
    kind = "NumPy array" if type(value).__name__ == "ndarray" else type(value).__name__
    shape = getattr(value, "shape", None)
    if isinstance(shape, tuple) and len(shape) == 2:
        return f"a {kind} with {_count(shape[0], 'row')} and {_count(shape[1], 'column')}"
    if isinstance(shape, tuple) and len(shape) == 1:
        return f"a {kind} of {_count(shape[0], 'value')}"
    if value is None:
        return "None"
    if isinstance(value, str):
        return f"the text {value[:40]!r}"
    if isinstance(value, list | tuple | dict | set):
        return f"a {kind} of {_count(len(value), 'item')}"
    if isinstance(value, bool | int | float):
        return f"the number {value!r}" if not isinstance(value, bool) else f"{value!r}"
    article = "an" if kind[:1].lower() in "aeiou" else "a"
    return f"{article} {kind}"


def unreadable(error: Exception, answers: dict[str, Any]) -> Feedback:
    """Feedback for an answer that made the check fail in a way it did not foresee."""
    kind = type(error).__name__
    text = str(error)
    if isinstance(error, NotImplementedError):
        return Feedback(
            Verdict.NOT_ANSWERED,
            "your code still raises NotImplementedError, its starting line: replace that line "
            "with your answer, run that cell, then run this check again.",
        )
    if kind == "NotFittedError":
        message = "a model in your answer has not been fitted yet."
        mistake = "model-not-fitted"
        hint = "call .fit(X_train, y_train) on it (or on the pipeline) before the check."
    elif "NaN" in text or "nan" in text.split():
        message = "your answer contains missing values (NaN), which the check cannot use."
        mistake = "missing-values"
        hint = "fill them first (SimpleImputer in a pipeline) or look for the step that made them."
    else:
        given = "; ".join(f"`{name}` is {describe(value)}" for name, value in answers.items())
        message = f"the check could not work with your answer ({given or 'nothing given'})."
        mistake = "unreadable-answer"
        hint = (
            "compare each part with what the exercise asks for: its type, its size and the order "
            "of the names on the left of `=`."
        )
    return Feedback(
        Verdict.NOT_YET, message, hint=hint, error=f"{kind}: {text}"[:300], mistake=mistake
    )
