"""Learner versions of the notebooks: the same notebooks with the exercise solutions removed.

The course notebooks hold their solutions, so they run and are tested top to bottom. Three
cell tags mark an exercise (see docs/notebooks.md):

- ``solution`` on a code cell: the lines above a ``# solution`` line are the learner's starting
  point (names set to ``...``); the lines from it on are the solution and are removed.
- ``solution`` on a markdown cell: an explanation of the answer; removed entirely.
- ``check`` on the code cell that calls ``course.checks`` on the answer. In a learner version
  it raises NotImplementedError until the exercise is done, so it gets nbval's and Jupyter's
  ``raises-exception`` tag and "Run all" goes on past it.

Solution and check cells lose their saved outputs, which would give the answer away.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from pathlib import Path

import nbformat
from nbformat import NotebookNode

__all__ = [
    "CHECK_TAG",
    "DEFAULT_LEARNER_DIR",
    "SOLUTION_MARKER",
    "SOLUTION_TAG",
    "build",
    "learner_version",
    "problems",
]

SOLUTION_TAG = "solution"
CHECK_TAG = "check"
SOLUTION_MARKER = "# solution"
RAISES_TAG = "raises-exception"
DEFAULT_LEARNER_DIR = Path("build") / "learner-notebooks"


def _tags(cell: NotebookNode) -> list[str]:
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
        if SOLUTION_TAG in tags and CHECK_TAG in tags:
            found.append(
                f"cell {number}: a cell is either the {SOLUTION_TAG!r} or its {CHECK_TAG!r}, "
                "not both; put the check in the next cell."
            )
            continue
        if cell.cell_type != "code":
            continue
        if SOLUTION_TAG in tags:
            if waiting_for_check is not None:
                found.append(_missing_check(waiting_for_check))
            waiting_for_check = number
            parts = _split_solution(cell.source)
            if parts is None:
                found.append(
                    f"cell {number} is tagged {SOLUTION_TAG!r} but has no {SOLUTION_MARKER!r} "
                    "line: put the learner's starting code above that line, the solution below."
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


def _missing_check(number: int) -> str:
    return (
        f"cell {number}: the solution is not followed by a code cell tagged {CHECK_TAG!r} that "
        "calls course.checks on the answer."
    )


def learner_version(nb: NotebookNode) -> NotebookNode:
    """A copy of ``nb`` with solutions removed and check cells allowed to raise."""
    errors = problems(nb)
    if errors:
        raise ValueError("Cannot build a learner version: " + " ".join(errors))
    learner = copy.deepcopy(nb)
    cells = []
    for cell in learner.cells:
        tags = _tags(cell)
        is_solution, is_check = SOLUTION_TAG in tags, CHECK_TAG in tags
        if is_solution and cell.cell_type != "code":
            continue
        if is_solution:
            parts = _split_solution(cell.source)
            assert parts is not None  # problems() refused a solution cell without the marker
            cell.source = parts[0]
            tags.remove(SOLUTION_TAG)
        if is_check and RAISES_TAG not in tags:
            tags.append(RAISES_TAG)
        if is_solution or is_check:
            cell.outputs = []
            cell.execution_count = None
        if tags:
            cell.metadata["tags"] = tags
        else:
            cell.metadata.pop("tags", None)
        cells.append(cell)
    learner.cells = cells
    return learner


def build(notebooks: Iterable[Path], out_dir: Path) -> list[Path]:
    """Write the learner version of each notebook into ``out_dir``; return the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        try:
            learner = learner_version(nb)
        except ValueError as error:
            raise ValueError(f"{path}: {error}") from None
        target = out_dir / path.name
        nbformat.write(learner, target)
        written.append(target)
    return written
