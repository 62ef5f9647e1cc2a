"""Hints and solutions on demand, read from the solution notebooks so they never drift.

``checks.hint("04.1")`` shows exercise 1 of notebook 04's first hint; run again, its second;
``checks.solution("04.1")`` shows the solution code and the explanation under it. Both come from
the solution notebook (``course.files.notebooks_dir()``): its code cell tagged ``solution``
(the lines after ``# solution``), the markdown cells tagged ``hint`` after it, and the markdown
cell tagged ``solution``. Learner versions leave those cells out, and give every exercise a
cell that calls these two, commented out, so nothing is revealed by "Run all".
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache

from course import exercises, files

__all__ = ["Help", "hint", "solution"]

_EXERCISE_ID = re.compile(r"^(\d\d)\.(\d+)$")
_hints_shown: dict[str, int] = {}
"""Exercise id -> how many hints this kernel has shown, so each call gives the next one."""


@dataclass(frozen=True)
class Help:
    """A hint or a solution as notebook output: Markdown, which every notebook front end renders."""

    text: str

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.text

    def _repr_markdown_(self) -> str:
        return self.text


@cache
def _exercises(notebook: str) -> tuple[exercises.Exercise, ...] | None:
    found = sorted(files.notebooks_dir().glob(f"{notebook}_*.ipynb"))
    if not found:
        return None
    cells = json.loads(found[0].read_text(encoding="utf-8"))["cells"]
    for cell in cells:
        if isinstance(cell.get("source"), list):
            cell["source"] = "".join(cell["source"])
    return tuple(exercises.exercises_in(cells))


def _find(exercise: str) -> exercises.Exercise | Help:
    match = _EXERCISE_ID.match(exercise.strip()) if isinstance(exercise, str) else None
    if match is None:
        return Help(
            f"**{exercise!r} is not an exercise name.** Write the notebook's number and the "
            'exercise\'s, as text: `checks.hint("04.1")` is exercise 1 of notebook 04.'
        )
    notebook, number = match.group(1), int(match.group(2))
    found = _exercises(notebook)
    if found is None:
        return Help(f"**There is no notebook {notebook}** in {files.notebooks_dir()}.")
    if not 1 <= number <= len(found):
        return Help(
            f"**Notebook {notebook} has exercises {notebook}.1 to {notebook}.{len(found)}**; "
            f"there is no {exercise}."
        )
    return found[number - 1]


def hint(exercise: str) -> Help:
    """The next hint for ``exercise`` ("04.1"); after the last, the last again and what is next."""
    found = _find(exercise)
    if isinstance(found, Help):
        return found
    if not found.hints:
        return Help(f'Exercise {exercise} has no hint: `checks.solution("{exercise}")` shows '
                    "the solution.")
    shown = min(_hints_shown.get(exercise, 0) + 1, len(found.hints))
    _hints_shown[exercise] = shown
    if shown < len(found.hints):
        after = f'*Still stuck? Run `checks.hint("{exercise}")` again for hint {shown + 1}.*'
    else:
        after = (f'*That was the last hint. When you are ready to compare, '
                 f'`checks.solution("{exercise}")` shows the solution.*')
    return Help(f"{found.hints[shown - 1]}\n\n{after}")


def solution(exercise: str) -> Help:
    """The solution of ``exercise`` ("04.1"): its code, then why it works."""
    found = _find(exercise)
    if isinstance(found, Help):
        return found
    parts = [f"**Solution of exercise {exercise}**", f"```python\n{found.code.strip()}\n```"]
    if found.explanation:
        parts.append(found.explanation)
    parts.append("*Type it in yourself rather than pasting it: then run the check again.*")
    return Help("\n\n".join(parts))
