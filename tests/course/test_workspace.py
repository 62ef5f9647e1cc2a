"""The learner's workspace (course/workspace.py): built from the solution notebooks, rebuilt
without ever losing what the learner typed. Real notebooks, real files, real rebuilds."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from course import cli, exercises, files, notebooks, workspace
from course.workspace import Action, Step

SOLUTIONS = sorted(files.notebooks_dir().glob("*.ipynb"))


@pytest.fixture
def solutions(tmp_path: Path) -> Path:
    """Two real solution notebooks in a folder of their own, to change as an author would."""
    folder = tmp_path / "solutions"
    folder.mkdir()
    for name in ("01_objective_and_data.ipynb", "04_split_and_build.ipynb"):
        shutil.copy(files.notebooks_dir() / name, folder / name)
    return folder


def build(solutions: Path, folder: Path) -> list[Step]:
    return workspace.prepare(folder, sorted(solutions.glob("*.ipynb")))


def author_edits(path: Path, text: str) -> None:
    """The course author fixes a notebook: its first markdown cell gets a new sentence."""
    nb = nbformat.read(path, as_version=4)
    first = next(cell for cell in nb.cells if cell.cell_type == "markdown")
    first.source += f"\n\n{text}"
    nbformat.write(nb, path)


def learner_runs(path: Path) -> None:
    """The learner runs every code cell: outputs and counts appear, no source changes."""
    nb = nbformat.read(path, as_version=4)
    for count, cell in enumerate((c for c in nb.cells if c.cell_type == "code"), start=1):
        cell.execution_count = count
        cell.outputs = [new_output("stream", name="stdout", text=f"ran {count}\n")]
    nbformat.write(nb, path)


def learner_types(path: Path, code: str) -> None:
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(new_code_cell(code))
    nbformat.write(nb, path)


def test_first_build_writes_every_learner_notebook_and_a_manifest(tmp_path):
    folder = tmp_path / "my-notebooks"
    steps = workspace.prepare(folder)
    assert [step.action for step in steps] == [Action.WRITTEN] * len(SOLUTIONS)
    assert sorted(path.name for path in folder.glob("*.ipynb")) == [p.name for p in SOLUTIONS]
    expected = exercises.build(SOLUTIONS, tmp_path / "learner")  # what a learner build writes
    for path in expected:
        assert (folder / path.name).read_bytes() == path.read_bytes(), path.name
    manifest = json.loads((folder / workspace.MANIFEST).read_text())
    assert set(manifest["written"]) == {path.name for path in SOLUTIONS}
    assert workspace.report(steps, folder) == [
        f"{len(SOLUTIONS)} learner notebook(s) in {folder}/: {len(SOLUTIONS)} written."
    ]


def test_a_rebuild_without_changes_writes_nothing_even_after_the_learner_ran_it(
    solutions, tmp_path
):
    folder = tmp_path / "my-notebooks"
    build(solutions, folder)
    learner_runs(folder / "01_objective_and_data.ipynb")
    before = {path.name: path.read_bytes() for path in folder.iterdir()}
    steps = build(solutions, folder)
    assert [step.action for step in steps] == [Action.CURRENT, Action.CURRENT]
    assert {path.name: path.read_bytes() for path in folder.iterdir()} == before


def test_a_changed_solution_replaces_a_copy_the_learner_only_ran(solutions, tmp_path):
    folder = tmp_path / "my-notebooks"
    build(solutions, folder)
    learner_runs(folder / "01_objective_and_data.ipynb")
    author_edits(solutions / "01_objective_and_data.ipynb", "A clearer explanation.")
    steps = build(solutions, folder)
    assert steps[0] == Step(
        "01_objective_and_data.ipynb", Action.UPDATED, "01_objective_and_data.ipynb"
    )
    assert "A clearer explanation." in (folder / "01_objective_and_data.ipynb").read_text()
    assert not list(folder.glob("*.new*.ipynb"))
    assert build(solutions, folder)[0].action is Action.CURRENT  # recorded as written


def test_a_changed_solution_never_overwrites_a_copy_the_learner_edited(solutions, tmp_path):
    folder = tmp_path / "my-notebooks"
    build(solutions, folder)
    mine = folder / "04_split_and_build.ipynb"
    learner_types(mine, "my_answer = 42")
    edited = mine.read_bytes()
    author_edits(solutions / "04_split_and_build.ipynb", "Version two.")

    steps = build(solutions, folder)
    assert mine.read_bytes() == edited
    beside = folder / "04_split_and_build.new.ipynb"
    assert steps[1] == Step(mine.name, Action.BESIDE, beside.name, kept=mine.name)
    assert "Version two." in beside.read_text()
    assert f"{mine} has your work, so it was kept; the updated version is {beside}." in (
        workspace.report(steps, folder)
    )
    assert build(solutions, folder)[1] == Step(mine.name, Action.CURRENT, beside.name, mine.name)

    # a third version replaces the .new copy the learner did not touch...
    author_edits(solutions / "04_split_and_build.ipynb", "Version three.")
    assert build(solutions, folder)[1].target == beside.name
    assert "Version three." in beside.read_text()
    # ... and once the learner works in it too, the next goes to .new-2
    learner_types(beside, "more_work = 1")
    worked_in = beside.read_bytes()
    author_edits(solutions / "04_split_and_build.ipynb", "Version four.")
    assert build(solutions, folder)[1].target == "04_split_and_build.new-2.ipynb"
    assert mine.read_bytes() == edited and beside.read_bytes() == worked_in


def test_a_deleted_notebook_is_written_again(solutions, tmp_path):
    folder = tmp_path / "my-notebooks"
    build(solutions, folder)
    (folder / "01_objective_and_data.ipynb").unlink()
    assert build(solutions, folder)[0].action is Action.WRITTEN
    assert (folder / "01_objective_and_data.ipynb").exists()


def test_the_learners_own_files_are_left_alone(solutions, tmp_path):
    folder = tmp_path / "my-notebooks"
    folder.mkdir()
    own = folder / "my_experiments.ipynb"
    nbformat.write(new_notebook(cells=[new_markdown_cell("mine")]), own)
    (folder / "results.csv").write_text("a,b\n1,2\n")
    before = {path.name: path.read_bytes() for path in folder.iterdir()}
    build(solutions, folder)
    author_edits(solutions / "01_objective_and_data.ipynb", "Changed.")
    build(solutions, folder)
    assert {name: (folder / name).read_bytes() for name in before} == before
    assert "my_experiments.ipynb" not in (folder / workspace.MANIFEST).read_text()


def test_without_a_record_a_different_notebook_counts_as_the_learners(solutions, tmp_path):
    """A lost manifest, or a learner's file with a course notebook's name: kept, never replaced."""
    folder = tmp_path / "my-notebooks"
    build(solutions, folder)
    learner_runs(folder / "01_objective_and_data.ipynb")  # untouched sources...
    (folder / workspace.MANIFEST).unlink()  # ... but nothing says so any more
    (folder / "04_split_and_build.ipynb").write_text("{ not a notebook")
    author_edits(solutions / "01_objective_and_data.ipynb", "Changed.")
    steps = build(solutions, folder)
    assert [step.action for step in steps] == [Action.BESIDE, Action.BESIDE]
    assert (folder / "04_split_and_build.ipynb").read_text() == "{ not a notebook"


@pytest.mark.parametrize(
    ("on_disk", "recorded", "expected"),
    [
        ({}, {}, Step("a.ipynb", Action.WRITTEN, "a.ipynb")),
        ({"a.ipynb": "new"}, {}, Step("a.ipynb", Action.CURRENT, "a.ipynb")),
        ({"a.ipynb": "old"}, {"a.ipynb": "old"}, Step("a.ipynb", Action.UPDATED, "a.ipynb")),
        (
            {"a.ipynb": "typed"},
            {"a.ipynb": "old"},
            Step("a.ipynb", Action.BESIDE, "a.new.ipynb", "a.ipynb"),
        ),
        (
            {"a.ipynb": ""},
            {"a.ipynb": "old"},
            Step("a.ipynb", Action.BESIDE, "a.new.ipynb", "a.ipynb"),
        ),
        (
            {"a.ipynb": "typed", "a.new.ipynb": "typed too", "a.new-2.ipynb": "old"},
            {"a.ipynb": "old", "a.new.ipynb": "older", "a.new-2.ipynb": "old"},
            Step("a.ipynb", Action.BESIDE, "a.new-2.ipynb", "a.ipynb"),
        ),
    ],
)
def test_plan(on_disk, recorded, expected):
    assert workspace.plan({"a.ipynb": "new"}, on_disk, recorded) == [expected]


def test_course_lab_prepares_the_folder_and_says_where(tmp_path, capsys):
    folder = tmp_path / "my-notebooks"
    assert cli.main(["lab", "--dir", str(folder)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        f"{len(SOLUTIONS)} learner notebook(s) in {folder}/: {len(SOLUTIONS)} written.",
        f"open it with: jupyter lab {folder}",
    ]
    assert cli.main(["lab", "--dir", str(folder)]) == 0
    assert "already up to date" in capsys.readouterr().out


def test_no_notebook_reads_files_relative_to_where_it_runs():
    """The learner versions run from the workspace, not from notebooks/: data and models must
    come from course.datasets (course.files) and temporary folders, never a relative path."""
    relative = re.compile(r"""["'](\.\./|\./)?(datasets|notebooks|data|models)/""")
    for path in SOLUTIONS:
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code":
                assert not relative.search(cell.source), f"{path.name}: {cell.source[:200]}"


@pytest.mark.slow
def test_a_learner_notebook_loads_its_dataset_when_run_from_the_workspace(tmp_path):
    folder = tmp_path / "my-notebooks"
    workspace.prepare(folder, [files.notebooks_dir() / "01_objective_and_data.ipynb"])
    nb = nbformat.read(folder / "01_objective_and_data.ipynb", as_version=4)
    client = NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
    )
    client.execute(env={**notebooks.QUIET_TENSORFLOW, **os.environ})
    errors = [
        (number, output.ename)
        for number, cell in enumerate(nb.cells, start=1)
        for output in cell.get("outputs", [])
        if output.output_type == "error" and "check" not in cell.metadata.get("tags", [])
    ]
    assert errors == []
    shown = "".join(
        output.get("text", "") + str(output.get("data", {}).get("text/plain", ""))
        for cell in nb.cells
        for output in cell.get("outputs", [])
    )
    assert "344" in shown  # the penguins: 344 rows, loaded from the shipped datasets


def test_without_course_notebooks_course_lab_says_what_to_do(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(files, "notebooks_dir", lambda: tmp_path / "nowhere")
    assert cli.main(["lab", "--dir", str(tmp_path / "my-notebooks")]) == 1
    error = capsys.readouterr().err
    assert error.startswith(f"course: error: no course notebooks in {tmp_path / 'nowhere'}: ")
    assert "make lab" in error
    assert not (tmp_path / "my-notebooks").exists()
