"""The committed notebooks follow the house rules that nbval alone does not enforce.

nbval (run by plain `python -m pytest`) re-executes every notebook and compares outputs; these
tests add what it cannot see: normalised metadata, no stderr or figure reprs saved, ignored
outputs with a reason, well-formed exercises. Fix a failure with `course notebooks run NAME`.
"""

from pathlib import Path

import pytest

from course import notebooks

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_notebook_follows_the_rules(path):
    assert notebooks.problems(notebooks.read(path)) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_notebook_is_normalised(path):
    assert notebooks.is_normalized(path), f"run: course notebooks normalize {path}"


def test_notebooks_are_numbered_and_named():
    for path in NOTEBOOKS:
        number, _, topic = path.stem.partition("_")
        assert number.isdigit() and len(number) == 2 and topic, (
            f"{path.name}: name notebooks NN_topic.ipynb, e.g. 09_deep_learning.ipynb"
        )
