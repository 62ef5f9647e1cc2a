import importlib.util
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from course import exercises

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def tagged(cell, *tags):
    cell.metadata["tags"] = list(tags)
    return cell


def exercise_notebook():
    """A course notebook in miniature: a lesson, one exercise with its solution and check."""
    return new_notebook(
        cells=[
            new_markdown_cell("# Returns"),
            new_code_cell("from course import checks\nrewards = [0, 0, 10]"),
            new_markdown_cell("## Exercise 1\nCompute the discounted return."),
            tagged(
                new_code_cell(
                    "# Your turn: replace ... with the return of `rewards`.\nvalue = ...\n"
                    "# solution\nvalue = 0.9**2 * 10",
                    outputs=[new_output("stream", name="stdout", text="8.1\n")],
                    execution_count=3,
                ),
                "solution",
            ),
            tagged(new_markdown_cell("The last reward is discounted twice."), "solution"),
            tagged(
                new_code_cell(
                    "checks.discounted_return(value, rewards, discount=0.9)",
                    outputs=[new_output("stream", name="stdout", text="✅ Correct")],
                    execution_count=4,
                ),
                "check",
            ),
        ]
    )


def test_learner_version_keeps_the_starting_code_and_drops_the_solution():
    learner = exercises.learner_version(exercise_notebook(), "10")
    sources = [cell.source for cell in learner.cells]
    assert len(learner.cells) == 6  # the explanation is gone; a help cell follows the check
    starting = learner.cells[3]
    assert starting.source == "# Your turn: replace ... with the return of `rewards`.\nvalue = ..."
    assert "0.9**2" not in "".join(sources)
    assert "discounted twice" not in "".join(sources)
    assert starting.outputs == [] and starting.execution_count is None
    assert starting.metadata["tags"] == ["nbval-ignore-output"]  # the learner's own output


def test_check_cells_show_no_answer_and_are_followed_by_a_help_cell():
    learner = exercises.learner_version(exercise_notebook(), "10")
    check, help_cell = learner.cells[4], learner.cells[5]
    assert check.metadata["tags"] == ["check", "nbval-ignore-output"]
    assert check.outputs == [] and check.execution_count is None
    assert help_cell.metadata["tags"] == ["help"] and help_cell.id == "help-10-1"
    lines = help_cell.source.splitlines()
    assert lines[1].startswith('# checks.hint("10.1")')
    assert lines[2].startswith('# checks.solution("10.1")')
    assert all(line.startswith("#") for line in lines)  # "Run all" reveals nothing


def test_the_source_notebook_is_left_untouched():
    nb = exercise_notebook()
    exercises.learner_version(nb, "10")
    assert "# solution" in nb.cells[3].source


def test_learner_copies_are_clean_of_test_plumbing_and_old_runs():
    nb = exercise_notebook()
    nb.cells.insert(2, new_code_cell(
        "# nbval-ignore-output: the port changes\nprint(port)",
        outputs=[new_output("stream", name="stdout", text="8001\n")], execution_count=2,
    ))
    nb.cells.insert(2, new_code_cell("rewards", execution_count=1, outputs=[
        new_output("execute_result", data={"text/plain": "[0, 0, 10]"}, execution_count=1)]))
    learner = exercises.learner_version(nb, "10")
    lesson, plumbing = learner.cells[2], learner.cells[3]
    assert lesson.execution_count is None and lesson.outputs[0].execution_count is None
    assert lesson.outputs[0].data["text/plain"] == "[0, 0, 10]"  # a lesson's output teaches
    assert plumbing.source == "print(port)" and plumbing.outputs == []
    assert plumbing.metadata["tags"] == ["nbval-ignore-output"]


def test_hint_cells_are_left_out_and_read_back_by_exercises_in():
    nb = exercise_notebook()
    nb.cells.insert(4, tagged(new_markdown_cell("**Hint 1.** Discount."), "hint"))
    nb.cells.insert(5, tagged(new_markdown_cell("**Hint 2.** Twice."), "hint"))
    assert not any("Hint" in cell.source for cell in exercises.learner_version(nb, "10").cells)
    (exercise,) = exercises.exercises_in(nb.cells)
    assert exercise.code == "value = 0.9**2 * 10"
    assert exercise.hints == ("**Hint 1.** Discount.", "**Hint 2.** Twice.")
    assert exercise.explanation == "The last reward is discounted twice."


def test_help_problems_ask_for_two_hints_an_explanation_and_a_quiz():
    found = exercises.help_problems(exercise_notebook(), "10")
    assert any("exercise 10.1 has 0 hint cell(s)" in problem for problem in found)
    assert any("needs one quiz at its end" in problem for problem in found)


def test_learner_version_runs_and_its_check_says_not_answered_yet():
    learner = exercises.learner_version(exercise_notebook(), "10")
    NotebookClient(learner, timeout=120, kernel_name="python3").execute()
    assert not [o for c in learner.cells for o in c.get("outputs", []) if o.output_type == "error"]
    (shown,) = learner.cells[4].outputs
    assert shown.data["text/plain"].startswith("Not answered yet: fill in `value`")


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        (
            [tagged(new_code_cell("x = 1"), "solution"), tagged(new_code_cell("c"), "check")],
            "no '# solution' line",
        ),
        (
            [
                tagged(new_code_cell("# solution\nx = 1"), "solution"),
                tagged(new_code_cell("c"), "check"),
            ],
            "nothing above '# solution'",
        ),
        (
            [tagged(new_code_cell("x = ...\n# solution\nx = 1"), "solution")],
            "not followed by a code cell tagged 'check'",
        ),
        (
            [
                tagged(new_code_cell("x = ...\n# solution\nx = 1"), "solution"),
                tagged(new_code_cell("y = ...\n# solution\ny = 1"), "solution"),
                tagged(new_code_cell("c"), "check"),
            ],
            "cell 1: the solution is not followed",
        ),
        ([tagged(new_markdown_cell("c"), "check")], "only code cells"),
        ([tagged(new_code_cell("x"), "solution", "check")], "either the 'solution' or its 'check'"),
    ],
)
def test_problems_explain_broken_exercise_markup(cells, message):
    found = exercises.problems(new_notebook(cells=cells))
    assert any(message in problem for problem in found), found
    with pytest.raises(ValueError, match="Cannot build a learner version"):
        exercises.learner_version(new_notebook(cells=cells), "10")


def test_a_well_formed_notebook_has_no_problems():
    assert exercises.problems(exercise_notebook()) == []


def test_build_writes_one_learner_notebook_per_source(tmp_path):
    source = tmp_path / "10_demo.ipynb"
    nbformat.write(exercise_notebook(), source)
    written = exercises.build([source], tmp_path / "learner")
    assert written == [tmp_path / "learner" / "10_demo.ipynb"]
    assert "# solution" not in written[0].read_text()


def test_build_names_the_notebook_with_broken_markup(tmp_path):
    source = tmp_path / "broken.ipynb"
    nbformat.write(new_notebook(cells=[tagged(new_code_cell("x = 1"), "solution")]), source)
    with pytest.raises(ValueError, match=r"broken\.ipynb: Cannot build"):
        exercises.build([source], tmp_path / "learner")


COURSE_NOTEBOOKS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
TF_IMPORT = re.compile(r"^\s*(import|from)\s+(tensorflow|keras)\b", re.MULTILINE)


def needs_tensorflow(source: Path) -> bool:
    cells = nbformat.read(source, as_version=4).cells
    return any(cell.cell_type == "code" and TF_IMPORT.search(cell.source) for cell in cells)


def test_only_the_deep_learning_notebook_needs_tensorflow():
    """So only it is skipped where TensorFlow is not installed (the tf extra)."""
    assert [path.stem for path in COURSE_NOTEBOOKS if needs_tensorflow(path)] == [
        "09_deep_learning"
    ]


def skip_without_tensorflow(source: Path) -> None:
    """Skip a notebook that imports TensorFlow or Keras where they are not installed (found,
    not imported: the notebook's kernel imports them, not this process)."""
    if importlib.util.find_spec("keras") is None and needs_tensorflow(source):
        pytest.skip(f"{source.name} needs TensorFlow/Keras: pip install -e '.[tf]'")
