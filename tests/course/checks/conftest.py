"""What the check tests share: the penguins and the course's split and model."""

import re
import sys
from pathlib import Path

import pytest

from course import datasets, recipes
from course.checks._feedback import Feedback, Verdict
from course.checks._mistakes import MISTAKE_ID, mistake_ids

CHECKS = str(Path(datasets.__file__).parent / "checks")
FEEDBACK = str(Path(CHECKS) / "_feedback.py")
QUIZ_ID = re.compile(r"q[0-9]+-([a-f]|not-an-option)|questions-unanswered")
"""The quiz's ids, built from its key: an option (``q3-b``), or letters still missing."""


@pytest.fixture(scope="module")
def penguins():
    return datasets.load("penguins")


@pytest.fixture(scope="module")
def split():
    X_train, y_train, test_set = recipes.penguin_split()
    X_test, y_test = test_set.open()
    return X_train, X_test, y_train, y_test


@pytest.fixture(scope="module")
def fitted(split):
    X_train, _, y_train, _ = split
    return recipes.penguin_pipeline().fit(X_train, y_train)


@pytest.fixture(scope="module", autouse=True)
def every_not_yet_names_its_mistake():
    """Every "Not yet" a check makes in these tests carries a kebab-case ``mistake`` id.

    Wraps ``Feedback.__init__`` for the module (module-scoped: hypothesis refuses
    function-scoped fixtures) and records each "Not yet" built while course.checks code is on
    the stack (not the ones a test writes by hand); they are judged when the module ends: a
    listed id (``mistake_ids()``, or the quiz's), which no learner's value can be.
    """
    made: list[tuple[Feedback, str]] = []
    original = Feedback.__init__

    def recording(self, *args, **kwargs):
        original(self, *args, **kwargs)
        if self.verdict is Verdict.NOT_YET:
            frame = sys._getframe(1)  # who asked: past wrong() itself, to the branch
            while frame is not None and frame.f_code.co_filename == FEEDBACK:
                frame = frame.f_back
            # a copy (dataclasses.replace) keeps the id it was made with, judged then; a test's
            # own wrong(...) (a toy check) is not one of the course's
            if frame is not None and frame.f_code.co_filename.startswith(CHECKS):
                made.append((self, f"{frame.f_code.co_filename}:{frame.f_lineno}"))

    Feedback.__init__ = recording
    try:
        yield made
    finally:
        Feedback.__init__ = original
    known = {name for ids in mistake_ids().values() for name in ids}
    bad = [
        f"{where}: mistake={feedback.mistake!r} for {feedback.message!r}"
        for feedback, where in made
        if not isinstance(feedback.mistake, str)
        or not MISTAKE_ID.fullmatch(feedback.mistake)
        or not (feedback.mistake in known or QUIZ_ID.fullmatch(feedback.mistake))
    ]
    assert not bad, "a \"Not yet\" without a listed kebab-case mistake id:\n" + "\n".join(bad)
