"""The verdict every check returns, and the helpers every check shares."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Feedback:
    """The verdict on one answer; it displays as a short readable message in a notebook."""

    passed: bool
    message: str
    hint: str = ""

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        if self.passed:
            return f"✅ Correct: {self.message}"
        text = f"❌ Not yet: {self.message}"
        return f"{text}\n💡 Hint: {self.hint}" if self.hint else text

    def __repr__(self) -> str:
        return str(self)


def correct(message: str) -> Feedback:
    return Feedback(passed=True, message=message)


def wrong(message: str, *, hint: str) -> Feedback:
    return Feedback(passed=False, message=message, hint=hint)


def require_answer(name: str, value: Any) -> None:
    """Raise NotImplementedError when an exercise's answer is still the placeholder ``...``."""
    if value is ...:
        raise NotImplementedError(
            f"`{name}` is still `...`: write your answer in the exercise cell above, run that "
            f"cell, then run this check again."
        )


def is_number(value: Any) -> bool:
    numeric = isinstance(value, int | float | np.integer | np.floating)
    return numeric and not isinstance(value, bool)


