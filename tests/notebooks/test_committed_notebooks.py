"""The committed notebooks follow the house rules that nbval alone does not enforce.

nbval (run by plain `python -m pytest`) re-executes every notebook and compares outputs; these
tests add what it cannot see: normalised metadata, no stderr or figure reprs saved, ignored
outputs with a reason, well-formed exercises. Fix a failure with `course notebooks run NAME`.
"""

import json
import re
from pathlib import Path

import pytest

from course import exercises, notebooks

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


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_every_exercise_has_two_hints_and_an_explanation_and_the_notebook_a_quiz(path):
    assert exercises.help_problems(notebooks.read(path), exercises.notebook_id(path)) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_the_committed_learner_version_is_current(path):
    """Colab and Binder open notebooks/learner/: it must be what `course exercises build`
    writes from the solution notebook today (nbval runs it too)."""
    learner = path.parent / "learner" / path.name
    assert learner.exists(), f"run: course exercises build {path}"
    expected = notebooks.dumps(exercises.learner_version(notebooks.read(path),
                                                         exercises.notebook_id(path)))
    assert learner.read_text(encoding="utf-8") == expected, f"run: course exercises build {path}"


EMOJI = re.compile("[\U0001F000-\U0001FFFF\u2600-\u27BF\u2300-\u23FF\u2B00-\u2BFF]")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_no_emoji_carries_meaning_a_lab_pc_cannot_show(path):
    """Lab PCs often lack an emoji font: an emoji shows as an empty box there."""
    text = path.read_text(encoding="utf-8")
    assert not EMOJI.search(json.dumps(json.loads(text), ensure_ascii=False)), (
        f"{path.name}: {EMOJI.findall(text)} — write it in words"
    )
