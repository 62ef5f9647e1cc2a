"""nbval on the learner versions: their lesson outputs are compared like the solutions'.

A learner version keeps the lesson's tables and figures but resets every execution count
(course/exercises.py), so that a learner sees no "[12]" before running anything. nbval refuses
such a cell ("Unrun reference cell has outputs"): it takes a missing count for a cell never
run. Here each learner cell that kept its outputs gets a count back, in memory only, so nbval
runs it and compares those outputs as it does in the solution notebook.
"""

from pathlib import Path

import pytest

LEARNER_DIR = Path(__file__).resolve().parent / "learner"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        cell = getattr(item, "cell", None)
        if cell is None or Path(str(item.fspath)).parent != LEARNER_DIR:
            continue
        if cell.get("execution_count") is None and cell.get("outputs"):
            cell.execution_count = 1
