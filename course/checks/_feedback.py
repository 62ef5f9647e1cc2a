"""The verdict every check returns, and how a notebook shows it.

A ``Feedback`` is a small value (a verdict, a message, a hint) that renders itself: as a
coloured box with a title in JupyterLab, Colab and VS Code (``_repr_html_``), and as plain text
in a terminal and in the saved outputs nbval compares (``__repr__``). Meaning never rests on a
colour or an emoji alone (lab PCs often lack an emoji font): the title says it in words, and the
icon is decoration hidden from screen readers.
"""

from __future__ import annotations

import html
import re
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np


class Verdict(Enum):
    """What a check concluded; the value is the title the learner reads."""

    CORRECT = "Correct"
    NOT_YET = "Not yet"
    NOT_ANSWERED = "Not answered yet"


@dataclass(frozen=True)
class Feedback:
    """The verdict on one answer, with what to do next."""

    verdict: Verdict
    message: str
    hint: str = ""
    hint_gives_answer: bool = False
    """The hint all but states the answer: it waits behind a "Show the hint" disclosure."""
    label: str = ""
    """What was checked, when one result holds several (a quiz's "Question 2")."""
    parts: tuple[Feedback, ...] = ()
    """The results this one sums up (a quiz's questions), shown as a list inside its box."""
    error: str = ""
    """The exception a check met on an answer it could not read, for the instructor (never a
    traceback); empty when the check recognised what was wrong."""
    mistake: str | None = None
    """Which mistake the check recognised, as a stable kebab-case id unique within the check
    (``test-size-wrong``): what a classroom publishes to the instructor's grid, never the
    learner's values. Every "Not yet" has one; None for "Correct" and "Not answered yet"."""
    messages: tuple[str, ...] = ()
    """What the classroom's instructor sent since the last check ("From your instructor: ..."),
    shown under this feedback; always empty for a learner who did not join a classroom."""

    @property
    def passed(self) -> bool:
        return self.verdict is Verdict.CORRECT

    def __bool__(self) -> bool:
        return self.passed

    @property
    def title(self) -> str:
        return f"{self.label} · {self.verdict.value}" if self.label else self.verdict.value

    def __str__(self) -> str:
        lines = [f"{self.title}: {self.message}"]
        if self.hint:
            lines.append(f"Hint: {self.hint}")
        lines.extend(f"  {part}".replace("\n", "\n  ") for part in self.parts)
        if self.error:
            lines.append(f"(for your instructor: {self.error})")
        lines.extend(self.messages)
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        return render_html(self)


def correct(message: str) -> Feedback:
    return Feedback(Verdict.CORRECT, message)


def wrong(
    message: str, *, hint: str, mistake: str, hint_gives_answer: bool = False
) -> Feedback:
    """A "Not yet": what is wrong, what to do next, and the id of the mistake recognised.

    ``mistake`` has no default, so a new branch cannot forget it: a short kebab-case slug
    naming the mistake (``fit-on-test-set``), unique within its check and never built from the
    learner's values; the classroom grid counts learners by it (docs/instructor.md lists them).
    """
    return Feedback(
        Verdict.NOT_YET, message, hint=hint, hint_gives_answer=hint_gives_answer, mistake=mistake
    )


def not_answered(name: str) -> Feedback:
    """The calm answer to an exercise still left at ``...``, naming the learner's variable."""
    return Feedback(
        Verdict.NOT_ANSWERED,
        f"fill in `{name}` in the exercise cell above, run that cell, then run this check again.",
    )


class Unanswered(Exception):
    """An answer is still the placeholder ``...``; ``@check`` turns it into ``not_answered``."""

    def __init__(self, parameter: str) -> None:
        super().__init__(parameter)
        self.parameter = parameter


class Mistake(Exception):
    """Raised by a shared validation helper with the feedback to give; ``@check`` returns it.

    It lets helpers such as "is this a fitted model?" stop a check from any depth with a
    specific message, instead of every check testing their return values.
    """

    def __init__(self, feedback: Feedback) -> None:
        super().__init__(feedback.message)
        self.feedback = feedback


answers_read: ContextVar[tuple[str, ...]] = ContextVar("answers_read", default=())
"""The parameters the running check has taken as answers: what its feedback may describe."""


def require_answer(name: str, value: Any) -> None:
    """Stop the check with "not answered yet" while ``value`` is still the placeholder ``...``.

    ``name`` is the check's parameter; ``@check`` shows the learner's own variable instead.
    """
    answers_read.set((*answers_read.get(), name))
    if value is ...:
        raise Unanswered(name)


def is_number(value: Any) -> bool:
    numeric = isinstance(value, int | float | np.integer | np.floating)
    return numeric and not isinstance(value, bool)


# --- HTML -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Look:
    border: str
    background: str
    ink: str
    icon: str = field(repr=False)


# Colours pass WCAG AA (4.5:1) for the title on its background; the icons are 24x24 paths.
_LOOKS = {
    Verdict.CORRECT: _Look(
        "#1a7f37", "#e9f7ee", "#0f5323", "M9 16.2 4.8 12l-1.4 1.4L9 19 21 7l-1.4-1.4z"
    ),
    Verdict.NOT_YET: _Look(
        "#bc4c00", "#fff3e8", "#8a3a00",
        "M11 7h2v7h-2zm0 9h2v2h-2zM12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20z",
    ),
    Verdict.NOT_ANSWERED: _Look(
        "#57606a", "#f1f3f5", "#32383f",
        "M3 17.2V21h3.8l11-11-3.8-3.8zM20.7 7a1 1 0 0 0 0-1.4l-2.3-2.3a1 1 0 0 0-1.4 0l-1.8 "
        "1.8 3.8 3.8z",
    ),
}
_CODE = re.compile(r"`([^`]+)`")
_CODE_HTML = (  # the box is light in every theme, so its code is too (a dark theme's is white)
    r'<code style="color:inherit;background:#e4e7eb;padding:0 0.2em">\1</code>'
)


def _inline(text: str) -> str:
    """Escape ``text`` for HTML, with `backticked` names as code."""
    return _CODE.sub(_CODE_HTML, html.escape(text, quote=False))


def _icon(look: _Look) -> str:
    return (
        '<svg aria-hidden="true" focusable="false" width="20" height="20" viewBox="0 0 24 24" '
        f'style="flex:none;fill:{look.border}"><path d="{look.icon}"/></svg>'
    )


def _heading(feedback: Feedback, look: _Look) -> str:
    return (
        f'<div style="display:flex;gap:0.5em;align-items:flex-start">{_icon(look)}<div>'
        f'<strong style="color:{look.ink}">{html.escape(feedback.title)}</strong>: '
        f"{_inline(feedback.message)}</div></div>"
    )


def _hint(feedback: Feedback) -> str:
    if not feedback.hint:
        return ""
    if feedback.hint_gives_answer:
        return (
            '<details style="margin:0.4em 0 0 1.75em"><summary>Show the hint (it gives the '
            f"answer away)</summary>{_inline(feedback.hint)}</details>"
        )
    return f'<p style="margin:0.4em 0 0 1.75em"><strong>Hint</strong>: {_inline(feedback.hint)}</p>'


def _error(feedback: Feedback) -> str:
    if not feedback.error:
        return ""
    return (
        '<details style="margin:0.4em 0 0 1.75em;color:#57606a"><summary>Details for your '
        f"instructor</summary><code>{html.escape(feedback.error)}</code></details>"
    )


def _part(part: Feedback) -> str:
    look = _LOOKS[part.verdict]
    return f'<li style="list-style:none;margin:0.5em 0">{_heading(part, look)}{_hint(part)}</li>'


def render_html(feedback: Feedback) -> str:
    """The box a notebook shows: a ``role="status"`` region, so a screen reader reads it out."""
    look = _LOOKS[feedback.verdict]
    parts = "".join(_part(part) for part in feedback.parts)
    listing = f'<ul style="margin:0.4em 0 0 0;padding:0">{parts}</ul>' if parts else ""
    return (
        f'<div role="status" class="course-feedback" data-verdict="{feedback.verdict.name}" '
        f'style="border-left:0.35em solid {look.border};background:{look.background};'
        "color:#1f2328;padding:0.6em 0.9em;margin:0.3em 0;border-radius:0.25em;"
        'line-height:1.45;overflow-wrap:break-word;max-width:60em">'
        f"{_heading(feedback, look)}{_hint(feedback)}{listing}{_error(feedback)}</div>"
        f"{_messages(feedback)}"
    )


def _messages(feedback: Feedback) -> str:
    """The instructor's messages, in a box of their own under the verdict's (blue: neither)."""
    if not feedback.messages:
        return ""
    items = "".join(f'<p style="margin:0.2em 0">{_inline(line)}</p>' for line in feedback.messages)
    return (
        '<div role="status" class="course-classroom-messages" style="border-left:0.35em solid '
        "#0969da;background:#ddf4ff;color:#1f2328;padding:0.5em 0.9em;margin:0.3em 0;"
        f'border-radius:0.25em;max-width:60em">{items}</div>'
    )
