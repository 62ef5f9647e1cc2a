"""The concept quiz at the end of each notebook: questions in the notebook, the key here.

The questions and their options are written in the notebook's markdown cell tagged ``quiz``
(where a learner reads them); each check module holds its notebook's ``QUIZ``: for every
question the right letter, why it is right, and for every wrong letter what that choice
misunderstands. ``course notebooks check`` compares the two, so they cannot drift apart.
The learner answers in a dict, ``quiz_answers = {1: "b", 2: "d", ...}``.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from course.checks._feedback import Feedback, Verdict
from course.checks._guard import PLACES, check, describe

__all__ = ["QUIZ_MODULES", "Question", "Quiz", "quiz", "quiz_problems"]

QUIZ_MODULES = {
    "00": "landscape",
    "01": "objective",
    "02": "prepare",
    "03": "explore",
    "04": "build",
    "05": "evaluation",
    "06": "predict",
    "07": "regression",
    "08": "unsupervised",
    "09": "deep_learning",
    "10": "reinforcement",
    "11": "ship_it",
    "12": "capstone",
    "13": "operate",
}
"""Notebook number -> the module of ``course.checks`` that holds its checks and its QUIZ."""


@dataclass(frozen=True)
class Question:
    answer: str
    """The right option's letter."""
    why: str
    """Why the right option is right: shown when the learner picks it."""
    wrong: Mapping[str, str]
    """Every other option's letter -> what picking it misunderstands."""

    @property
    def options(self) -> list[str]:
        return sorted({self.answer, *self.wrong})


@dataclass(frozen=True)
class Quiz:
    questions: tuple[Question, ...]


def quiz_of(notebook: str) -> Quiz | None:
    module = QUIZ_MODULES.get(notebook)
    if module is None:
        return None
    found = getattr(importlib.import_module(f"course.checks.{module}"), "QUIZ", None)
    return found if isinstance(found, Quiz) else None


def _mark(number: int, question: Question, given: Any) -> Feedback:
    label = f"Question {number}"
    if given is ... or given is None or given == "":
        return Feedback(Verdict.NOT_ANSWERED, "no letter yet.", label=label)
    letter = str(given).strip().strip("()").lower() if isinstance(given, str) else None
    options = ", ".join(question.options[:-1]) + f" or {question.options[-1]}"
    if letter not in question.options:
        return Feedback(
            Verdict.NOT_YET,
            f"{given!r} is not one of the options.",
            hint=f'answer with one letter in quotes: {options}, e.g. {number}: "a".',
            label=label,
            mistake=f"q{number}-not-an-option",
        )
    if letter == question.answer:
        return Feedback(Verdict.CORRECT, question.why, label=label)
    return Feedback(
        Verdict.NOT_YET, question.wrong[letter], label=label, mistake=f"q{number}-{letter}"
    )


def _unanswered() -> Feedback:
    return Feedback(
        Verdict.NOT_ANSWERED,
        'write a letter for each question in `quiz_answers` above (e.g. {1: "b", ...}), run '
        "that cell, then run this check again.",
        label="Quiz",
    )


@check
def quiz(notebook: str, quiz_answers: Any) -> Feedback:
    """Check ``quiz_answers`` (question number -> letter) against notebook ``notebook``'s key."""
    key = quiz_of(notebook)
    if key is None:
        return Feedback(
            Verdict.NOT_YET,
            f"there is no quiz for notebook {notebook!r}.",
            hint=f"name the notebook by its number: one of {', '.join(QUIZ_MODULES)}.",
            mistake="no-such-quiz",
        )
    if quiz_answers is ...:
        return _unanswered()
    numbers = range(1, len(key.questions) + 1)
    if not isinstance(quiz_answers, Mapping):
        return Feedback(
            Verdict.NOT_YET,
            f"`quiz_answers` is {describe(quiz_answers)}, not a dict of answers.",
            hint='write one letter per question number: {1: "b", 2: "a", ...}.',
            mistake="not-a-dict",
        )
    unknown = [number for number in quiz_answers if number not in numbers]
    if unknown:
        return Feedback(
            Verdict.NOT_YET,
            f"the quiz has questions 1 to {len(key.questions)}; there is no question "
            f"{unknown[0]!r}.",
            hint="use the question numbers as keys, without quotes: {1: \"b\", ...}.",
            mistake="no-such-question",
        )
    parts = tuple(
        _mark(number, question, quiz_answers.get(number))
        for number, question in zip(numbers, key.questions, strict=True)
    )
    right = sum(part.passed for part in parts)
    if all(part.verdict is Verdict.NOT_ANSWERED for part in parts):
        return _unanswered()
    verdict = Verdict.CORRECT if right == len(parts) else Verdict.NOT_YET
    message = f"{right} of {len(parts)} right."
    if verdict is Verdict.NOT_YET:
        message += " Read the notes under each answer, change the letters and run this again."
    # One id for the grid: the first question answered wrongly (each part keeps its own), or
    # "questions-unanswered" when every letter given is right but some are missing.
    mistake = None
    if verdict is Verdict.NOT_YET:
        mistake = next(
            (part.mistake for part in parts if part.verdict is Verdict.NOT_YET),
            "questions-unanswered",
        )
    return Feedback(verdict, message, label="Quiz", parts=parts, mistake=mistake)


def _place(notebook: Any, quiz_answers: Any = None) -> tuple[str, str] | None:
    """A quiz is exercise ``<notebook>.quiz`` of the classroom's grid (course.exercises
    .classroom_columns): correct when every answer is, its mistake the first wrong question's
    (``q3-b``), its attempts counted like a check's. None for a notebook without a quiz."""
    return (notebook, f"{notebook}.quiz") if notebook in QUIZ_MODULES else None


PLACES["quiz"] = _place


_QUESTION = re.compile(r"^\*\*(\d+)\.\*\*", re.MULTILINE)
_OPTION = re.compile(r"^\s*[-*]?\s*\(?([a-f])\)\s", re.MULTILINE)


def quiz_problems(notebook: str, markdown: str) -> list[str]:
    """Where a notebook's quiz cell and the key in course.checks disagree; empty when none.

    The cell numbers its questions ``**1.**``, ``**2.**``... and lists options as ``a) ...``.
    """
    key = quiz_of(notebook)
    if key is None:
        module = QUIZ_MODULES.get(notebook, "?")
        return [f"notebook {notebook} has a quiz cell but course/checks/{module}.py no QUIZ."]
    chunks = _QUESTION.split(markdown)[1:]
    asked = [(int(number), sorted(_OPTION.findall(text))) for number, text in zip(
        chunks[::2], chunks[1::2], strict=True
    )]
    expected = [(number, question.options) for number, question in enumerate(key.questions, 1)]
    if asked == expected:
        return []
    return [
        f"notebook {notebook}'s quiz cell asks {asked} (question, options) but its QUIZ key "
        f"expects {expected}: make them agree."
    ]
