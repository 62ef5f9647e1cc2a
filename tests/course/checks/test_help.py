"""Hints and solutions on demand, read from the solution notebooks."""

import json

import pytest

from course import checks, exercises, files
from course.checks import _help


@pytest.fixture()
def notebook(tmp_path, monkeypatch):
    """A solution notebook 42 with one exercise: two hints and an explanation."""
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": "### Exercise 1"},
        {"cell_type": "code", "metadata": {"tags": ["solution"]},
         "source": ["answer = ...\n", "# solution\n", "answer = 42\n"]},
        {"cell_type": "code", "metadata": {"tags": ["check"]}, "source": "checks.x(answer)"},
        {"cell_type": "markdown", "metadata": {"tags": ["hint"]}, "source": "**Hint 1.** Think."},
        {"cell_type": "markdown", "metadata": {"tags": ["hint"]}, "source": "**Hint 2.** Six x 7."},
        {"cell_type": "markdown", "metadata": {"tags": ["solution"]},
         "source": "**Solution.** The answer."},
    ]
    (tmp_path / "42_demo.ipynb").write_text(json.dumps({"cells": cells}))
    monkeypatch.setattr(files, "notebooks_dir", lambda: tmp_path)
    _help._exercises.cache_clear()
    monkeypatch.setattr(_help, "_hints_shown", {})
    yield
    _help._exercises.cache_clear()


def test_hints_come_one_at_a_time_then_point_to_the_solution(notebook):
    first, second, again = (checks.hint("42.1")._repr_markdown_() for _ in range(3))
    assert first.startswith("**Hint 1.** Think.") and 'hint("42.1")` again for hint 2' in first
    assert second.startswith("**Hint 2.** Six x 7.") and 'checks.solution("42.1")' in second
    assert again == second


def test_the_solution_is_the_notebooks_code_and_explanation(notebook):
    text = checks.solution("42.1")._repr_markdown_()
    assert "```python\nanswer = 42\n```" in text and "**Solution.** The answer." in text
    assert "answer = ..." not in text


@pytest.mark.parametrize(
    ("name", "says"),
    [("42.2", "exercises 42.1 to 42.1"), ("43.1", "no notebook 43"), ("4.1", "not an exercise"),
     (4.1, "not an exercise")],
)
def test_a_wrong_exercise_name_says_what_exists(notebook, name, says):
    assert says in str(checks.hint(name)) and says in str(checks.solution(name))


def test_every_exercise_of_the_course_gives_two_hints_then_its_solution(monkeypatch):
    monkeypatch.setattr(_help, "_hints_shown", {})
    for path in sorted(files.notebooks_dir().glob("[0-9][0-9]_*.ipynb")):
        number = exercises.notebook_id(path)
        found = _help._exercises(number)
        assert found, path
        for index, exercise in enumerate(found, start=1):
            name = f"{number}.{index}"
            assert exercise.code.strip(), f"{name} has no solution code"
            assert str(checks.hint(name)).startswith("**Hint 1.**"), name
            assert str(checks.hint(name)).startswith("**Hint 2.**"), name
            solution = str(checks.solution(name))
            assert f"```python\n{exercise.code.strip()}\n```" in solution
            assert "**Solution.**" in solution, f"{name} has no explanation"
