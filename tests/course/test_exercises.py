import importlib.util
import os
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from course import exercises, notebooks

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
    learner = exercises.learner_version(exercise_notebook())
    sources = [cell.source for cell in learner.cells]
    assert len(learner.cells) == 5  # the markdown explanation of the answer is gone
    starting = learner.cells[3]
    assert starting.source == "# Your turn: replace ... with the return of `rewards`.\nvalue = ..."
    assert "0.9**2" not in "".join(sources)
    assert "discounted twice" not in "".join(sources)
    assert starting.outputs == [] and starting.execution_count is None
    assert "tags" not in starting.metadata


def test_check_cells_may_raise_in_the_learner_version_and_show_no_answer():
    check = exercises.learner_version(exercise_notebook()).cells[4]
    assert check.metadata["tags"] == ["check", "raises-exception"]
    assert check.outputs == [] and check.execution_count is None


def test_the_source_notebook_is_left_untouched():
    nb = exercise_notebook()
    exercises.learner_version(nb)
    assert "# solution" in nb.cells[3].source


def test_learner_version_runs_and_stops_at_the_check_with_a_clear_message(tmp_path):
    learner = exercises.learner_version(exercise_notebook())
    NotebookClient(learner, timeout=120, kernel_name="python3").execute()
    errors = [
        (number, output)
        for number, cell in enumerate(learner.cells)
        for output in cell.get("outputs", [])
        if output.output_type == "error"
    ]
    assert [(number, output.ename) for number, output in errors] == [(4, "NotImplementedError")]
    assert "`value` is still `...`" in errors[0][1].evalue


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
        exercises.learner_version(new_notebook(cells=cells))


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


@pytest.mark.slow
@pytest.mark.parametrize("source", COURSE_NOTEBOOKS, ids=[path.stem for path in COURSE_NOTEBOOKS])
def test_every_learner_notebook_runs_with_only_its_checks_unanswered(source, tmp_path):
    skip_without_tensorflow(source)
    (learner_path,) = exercises.build([source], tmp_path)
    learner = nbformat.read(learner_path, as_version=4)
    assert "# solution" not in learner_path.read_text()
    client = NotebookClient(
        learner,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS)}},  # where the notebooks run
    )
    client.execute(env={**notebooks.QUIET_TENSORFLOW, **os.environ})
    for number, cell in enumerate(learner.cells, start=1):
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                assert "check" in cell.metadata.get("tags", []), f"cell {number} failed"
                assert output.ename == "NotImplementedError", f"cell {number}: {output.evalue}"
