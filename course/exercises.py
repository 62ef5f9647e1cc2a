"""Learner versions of the notebooks: the same notebooks with the exercise solutions removed.

The course notebooks hold their solutions, so they run and are tested top to bottom. Cell tags
mark an exercise (see docs/notebooks.md):

- ``solution`` on a code cell: the lines above a ``# solution`` line are the learner's starting
  point (names set to ``...``); the lines from it on are the solution and are removed.
- ``solution`` on a markdown cell: an explanation of the answer; removed.
- ``hint`` on a markdown cell after the solution: "**Hint 1.** ...", "**Hint 2.** ..."; removed.
- ``check`` on the code cell that calls ``course.checks`` on the answer. Until the exercise is
  answered it shows "Not answered yet", so "Run all" goes on past it.
- ``quiz`` on the markdown cell with the end-of-notebook questions, and on the code cell with
  the answers (split at ``# solution`` like a solution cell).

In a learner version, each exercise's check is followed by a cell that asks for a hint or the
solution (``course.checks.hint``/``solution``: they read the removed cells from the solution
notebook), commented out so that nothing is revealed unasked. The copy is clean: no test
plumbing (``# nbval-ignore-output: ...`` comments become tags), no execution counts, no outputs
where the learner is to produce them (exercises, checks, cells whose output depends on the run);
the lesson's tables and figures stay, because they teach.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # nbformat is needed to build, not to read hints in a learner's kernel
    from nbformat import NotebookNode

__all__ = [
    "CHECK_TAG",
    "DEFAULT_LEARNER_DIR",
    "HELP_TAG",
    "HINT_TAG",
    "QUIZ_EXERCISE",
    "QUIZ_TAG",
    "SOLUTION_MARKER",
    "SOLUTION_TAG",
    "Exercise",
    "build",
    "classroom_columns",
    "exercise_ids",
    "exercises_in",
    "help_problems",
    "learner_version",
    "notebook_id",
    "problems",
]

SOLUTION_TAG = "solution"
CHECK_TAG = "check"
HINT_TAG = "hint"
QUIZ_TAG = "quiz"
HELP_TAG = "help"
SOLUTION_MARKER = "# solution"
IGNORE_OUTPUT_TAG = "nbval-ignore-output"
DEFAULT_LEARNER_DIR = Path("notebooks") / "learner"
HINTS_PER_EXERCISE = 2


def _tags(cell: Mapping[str, Any]) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _split_solution(source: str) -> tuple[str, str] | None:
    """(starting code, solution) of a solution code cell; None without a marker line."""
    lines = source.splitlines(keepends=True)
    for index, line in enumerate(lines):
        if line.strip().lower() == SOLUTION_MARKER:
            return "".join(lines[:index]).rstrip(), "".join(lines[index + 1 :])
    return None


def problems(nb: NotebookNode) -> list[str]:
    """What is wrong with a notebook's exercise markup; an empty list when nothing is."""
    found = []
    waiting_for_check = None
    for number, cell in enumerate(nb.cells, start=1):
        tags = _tags(cell)
        if CHECK_TAG in tags and cell.cell_type != "code":
            found.append(f"cell {number}: only code cells can be tagged {CHECK_TAG!r}.")
        if HINT_TAG in tags and cell.cell_type != "markdown":
            found.append(f"cell {number}: only markdown cells can be tagged {HINT_TAG!r}.")
        if SOLUTION_TAG in tags and CHECK_TAG in tags:
            found.append(
                f"cell {number}: a cell is either the {SOLUTION_TAG!r} or its {CHECK_TAG!r}, "
                "not both; put the check in the next cell."
            )
            continue
        if cell.cell_type != "code":
            continue
        if SOLUTION_TAG in tags or QUIZ_TAG in tags:
            if waiting_for_check is not None:
                found.append(_missing_check(waiting_for_check))
            waiting_for_check = number
            parts = _split_solution(cell.source)
            if parts is None:
                found.append(
                    f"cell {number} is tagged {_answer_tag(tags)!r} but has no "
                    f"{SOLUTION_MARKER!r} line: put the learner's starting code above that "
                    "line, the solution below."
                )
            elif not parts[0].strip():
                found.append(
                    f"cell {number}: nothing above {SOLUTION_MARKER!r}, so the learner starts "
                    "from an empty cell; give the starting code, e.g. `answer = ...`."
                )
        elif CHECK_TAG in tags:
            waiting_for_check = None
    if waiting_for_check is not None:
        found.append(_missing_check(waiting_for_check))
    return found


def _answer_tag(tags: list[str]) -> str:
    return SOLUTION_TAG if SOLUTION_TAG in tags else QUIZ_TAG


def _missing_check(number: int) -> str:
    return (
        f"cell {number}: the solution is not followed by a code cell tagged {CHECK_TAG!r} that "
        "calls course.checks on the answer."
    )


@dataclass(frozen=True)
class Exercise:
    """One exercise as its solution notebook tells it: what ``checks.hint``/``solution`` show."""

    code: str
    """The solution: the lines after ``# solution``."""
    hints: tuple[str, ...]
    explanation: str
    """The markdown cells tagged ``solution`` after it, joined."""


def exercises_in(cells: Sequence[Mapping[str, Any]]) -> list[Exercise]:
    """The exercises of a notebook's cells, in order: exercise 1 is the first solution cell.

    ``cells`` may be nbformat cells or the plain dicts of the ``.ipynb`` JSON (sources joined).
    """
    found: list[tuple[str, list[str], list[str]]] = []
    collecting = False
    for cell in cells:
        tags = _tags(cell)
        if cell["cell_type"] == "code" and SOLUTION_TAG in tags:
            parts = _split_solution(cell["source"])
            found.append((parts[1] if parts else "", [], []))
            collecting = True
        elif cell["cell_type"] == "code" and QUIZ_TAG in tags:
            collecting = False
        elif collecting and cell["cell_type"] == "markdown" and HINT_TAG in tags:
            found[-1][1].append(cell["source"].strip())
        elif collecting and cell["cell_type"] == "markdown" and SOLUTION_TAG in tags:
            found[-1][2].append(cell["source"].strip())
    return [Exercise(code, tuple(hints), "\n\n".join(text)) for code, hints, text in found]


@functools.cache
def exercise_ids() -> tuple[str, ...]:
    """Every exercise of the course in notebook order: ``("00.1", "01.1", "01.2", ...)``.

    Read once per process from the solution notebooks (``course.files.notebooks_dir()``, the
    same files ``checks.hint`` reads), so the classroom's grid has a column for every exercise
    before anyone tried it; 14 notebooks are read in about 20 ms.
    """
    import json

    from course import files

    found: list[str] = []
    for path in sorted(files.notebooks_dir().glob("[0-9][0-9]_*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        for cell in cells:
            if isinstance(cell.get("source"), list):
                cell["source"] = "".join(cell["source"])
        number = notebook_id(path)
        found += [f"{number}.{index}" for index in range(1, len(exercises_in(cells)) + 1)]
    return tuple(found)


QUIZ_EXERCISE = "quiz"
"""A notebook's quiz on the classroom's grid is the exercise ``<notebook>.quiz``."""


@functools.cache
def classroom_columns() -> tuple[str, ...]:
    """The classroom grid's columns: every exercise (``exercise_ids``) and, after each
    notebook's, its quiz (``04.quiz``) when the notebook has one (a code cell tagged ``quiz``):
    ``checks.quiz`` publishes like a check under that id (course.classroom)."""
    import json

    from course import files

    found: list[str] = []
    ids = exercise_ids()
    for path in sorted(files.notebooks_dir().glob("[0-9][0-9]_*.ipynb")):
        number = notebook_id(path)
        found += [each for each in ids if each.startswith(f"{number}.")]
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        if any(cell["cell_type"] == "code" and QUIZ_TAG in _tags(cell) for cell in cells):
            found.append(f"{number}.{QUIZ_EXERCISE}")
    return tuple(found)


def help_problems(nb: NotebookNode, notebook_id: str) -> list[str]:
    """What a committed notebook lacks for learners asking for help, or its quiz; empty if none.

    Every exercise has two hints ("**Hint 1.** ...", "**Hint 2.** ...") and an explanation;
    the notebook ends with a quiz whose questions agree with its key in course.checks.
    """
    from course.checks._quiz import quiz_problems

    found = []
    for number, exercise in enumerate(exercises_in(nb.cells), start=1):
        name = f"exercise {notebook_id}.{number}"
        if len(exercise.hints) != HINTS_PER_EXERCISE:
            found.append(
                f"{name} has {len(exercise.hints)} hint cell(s): give it {HINTS_PER_EXERCISE} "
                f"markdown cells tagged {HINT_TAG!r} after its solution, a nudge first."
            )
        for index, text in enumerate(exercise.hints, start=1):
            if not text.startswith(f"**Hint {index}.**"):
                found.append(f"{name}: hint {index} should start with '**Hint {index}.**'.")
        if not exercise.explanation:
            found.append(
                f"{name} has no explanation: add a markdown cell tagged {SOLUTION_TAG!r} that "
                "starts with '**Solution.**' and says why the answer is right."
            )
    quiz_cells = [cell for cell in nb.cells if QUIZ_TAG in _tags(cell)]
    questions = [cell for cell in quiz_cells if cell.cell_type == "markdown"]
    if len(questions) != 1 or len(quiz_cells) != 2:
        found.append(
            f"notebook {notebook_id} needs one quiz at its end: a markdown cell tagged "
            f"{QUIZ_TAG!r} with the questions, then a code cell tagged {QUIZ_TAG!r} with "
            "`quiz_answers`, then its check cell (see docs/notebooks.md)."
        )
    else:
        found.extend(quiz_problems(notebook_id, questions[0].source))
    return found


def _help_cell(notebook_id: str, number: int) -> NotebookNode:
    import nbformat

    exercise = f"{notebook_id}.{number}"
    cell: NotebookNode = nbformat.v4.new_code_cell(
        "# Stuck? Delete the # in front of one line below and run this cell.\n"
        f'# checks.hint("{exercise}")      # a hint; run it again for a second one\n'
        f'# checks.solution("{exercise}")  # the solution, with why it works'
    )
    cell.id = f"help-{notebook_id}-{number}"
    cell.metadata["tags"] = [HELP_TAG]
    return cell


def _strip_ignore_comments(cell: NotebookNode, tags: list[str]) -> None:
    """Turn a ``# nbval-ignore-output: why`` line into its tag: test plumbing, not lesson."""
    lines = cell.source.splitlines(keepends=True)
    kept = [line for line in lines if not line.lstrip().startswith(f"# {IGNORE_OUTPUT_TAG}")]
    if len(kept) != len(lines):
        cell.source = "".join(kept).rstrip("\n")
        if IGNORE_OUTPUT_TAG not in tags:
            tags.append(IGNORE_OUTPUT_TAG)


def learner_version(nb: NotebookNode, notebook_id: str) -> NotebookNode:
    """A copy of ``nb`` (notebook ``notebook_id``, e.g. "04") for learners: see the module."""
    errors = problems(nb)
    if errors:
        raise ValueError("Cannot build a learner version: " + " ".join(errors))
    learner = copy.deepcopy(nb)
    cells = []
    exercise = 0
    answering_quiz = False
    for cell in learner.cells:
        tags = _tags(cell)
        is_answer = cell.cell_type == "code" and (SOLUTION_TAG in tags or QUIZ_TAG in tags)
        is_check = CHECK_TAG in tags
        if cell.cell_type == "markdown" and (SOLUTION_TAG in tags or HINT_TAG in tags):
            continue
        if cell.cell_type == "code":
            _strip_ignore_comments(cell, tags)
            cell.execution_count = None
            for output in cell.outputs:
                if output.output_type == "execute_result":
                    output.execution_count = None
        if is_answer:
            parts = _split_solution(cell.source)
            assert parts is not None  # problems() refused an answer cell without the marker
            cell.source = parts[0]
            answering_quiz = QUIZ_TAG in tags
            exercise += SOLUTION_TAG in tags
            if SOLUTION_TAG in tags:
                tags.remove(SOLUTION_TAG)
        if (is_answer or is_check) and IGNORE_OUTPUT_TAG not in tags:
            tags.append(IGNORE_OUTPUT_TAG)  # the learner's own output: nothing to compare
        if IGNORE_OUTPUT_TAG in tags:
            cell.outputs = []
        if tags:
            cell.metadata["tags"] = tags
        else:
            cell.metadata.pop("tags", None)
        cells.append(cell)
        if is_check and not answering_quiz:
            cells.append(_help_cell(notebook_id, exercise))
    learner.cells = cells
    return learner


def notebook_id(path: Path) -> str:
    """A course notebook's number, from its file name: "04" for 04_split_and_build.ipynb."""
    return path.name.split("_", 1)[0]


def build(notebooks: Iterable[Path], out_dir: Path) -> list[Path]:
    """Write the learner version of each notebook into ``out_dir``; return the paths written."""
    from course import notebooks as course_notebooks

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in notebooks:
        nb = course_notebooks.read(path)
        try:
            learner = learner_version(nb, notebook_id(path))
        except ValueError as error:
            raise ValueError(f"{path}: {error}") from None
        target = out_dir / path.name
        course_notebooks.write(learner, target)
        written.append(target)
    return written
