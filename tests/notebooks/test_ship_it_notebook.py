"""Notebook 11 under Run All: its server keeps running for the web page link, and the first
explanation streams in the cell the learner is looking at (issue 22).

Run All used to end with `server.stop()`, so the "Open the web page" link above it refused
connections; and the first run was sent one cell before the one that printed it, so on a
learner's pace it had finished before its cell ran. Both are properties of the cells' code,
checked here on the solution and the learner version alike (nbval runs them; tests/lab clicks
the link after Run All in JupyterLab)."""

import ast
from pathlib import Path

import pytest

from course import notebooks

ROOT = Path(__file__).resolve().parents[2] / "notebooks"
VERSIONS = [ROOT / "11_ship_it.ipynb", ROOT / "learner" / "11_ship_it.ipynb"]


def _code(path):
    return [cell.source for cell in notebooks.read(path).cells if cell.cell_type == "code"]


def _calls(source, name):
    """The calls of `.name(...)` that run (not commented out) in a cell's source."""
    return [
        node for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
        and node.func.attr == name
    ]


@pytest.mark.parametrize("path", VERSIONS, ids=["solution", "learner"])
def test_run_all_leaves_the_server_running(path):
    cells = _code(path)
    assert not any(_calls(source, "stop") for source in cells), "a cell stops the server"
    optional = [source for source in cells if "# server.stop()" in source]
    assert len(optional) == 1 and optional[0] is cells[-1], "stopping is the last, optional cell"


@pytest.mark.parametrize("path", VERSIONS, ids=["solution", "learner"])
def test_the_first_explanation_is_sent_in_the_cell_that_prints_it(path):
    cells = _code(path)
    first_send = next(source for source in cells if _calls(source, "send"))
    assert "follow(laptop, ack.run)" in first_send and 'print(event.data["text"]' in first_send
