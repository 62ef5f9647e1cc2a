import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from course import cli, links, notebooks
from course.checks import _quiz
from course.checks._quiz import Question, Quiz


def tagged(cell, *tags):
    cell.metadata["tags"] = list(tags)
    return cell


KEY = Quiz((Question("a", "yes.", {"b": "no."}),))


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """A folder laid out like the repository, with one small course notebook."""
    (tmp_path / "notebooks").mkdir()
    monkeypatch.setattr(_quiz, "quiz_of", lambda notebook: KEY)
    nb = new_notebook(
        cells=[
            new_markdown_cell("# Demo"),
            new_code_cell("from course import checks\nprint('hello')"),
            tagged(new_code_cell("value = ...\n# solution\nvalue = 10.0"), "solution"),
            tagged(new_code_cell("checks.discounted_return(value, [10], 0.9)"), "check"),
            tagged(new_markdown_cell("**Hint 1.** Look."), "hint"),
            tagged(new_markdown_cell("**Hint 2.** Closer."), "hint"),
            tagged(new_markdown_cell("**Solution.** Ten."), "solution"),
            tagged(new_markdown_cell("## Quiz\n**1.** Yes?\na) yes\nb) no"), "quiz"),
            tagged(new_code_cell("quiz_answers = {1: ...}\n# solution\nquiz_answers = {1: 'a'}"),
                   "quiz"),
            tagged(new_code_cell("1 + 1"), "check"),
        ]
    )
    nb = links.with_links(nb, "01_demo.ipynb")  # Colab/Binder badges, install cell: cell 2
    nbformat.write(nb, tmp_path / "notebooks" / "01_demo.ipynb")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_notebooks_check_run_and_normalize(repo, capsys):
    assert cli.main(["notebooks", "check"]) == 1
    out = capsys.readouterr().out
    assert "notebooks/01_demo.ipynb: cell 3 has not been executed" in out
    assert "its learner version notebooks/learner/01_demo.ipynb is out of date" in out
    assert "1 of 1 notebook(s) need attention." in out

    assert cli.main(["notebooks", "run"]) == 0
    out = capsys.readouterr().out
    assert "running notebooks/01_demo.ipynb" in out
    assert "wrote notebooks/learner/01_demo.ipynb" in out  # run keeps the learner copy current
    assert "1 notebook(s) checked: no problems." in out
    executed = notebooks.read(repo / "notebooks" / "01_demo.ipynb")
    assert executed.cells[4].outputs[0].data["text/plain"].startswith("Correct: ")


def test_notebooks_check_asks_for_hints_and_a_quiz(repo, capsys):
    path = repo / "notebooks" / "01_demo.ipynb"
    nb = notebooks.read(path)
    nb.cells = [cell for cell in nb.cells if "hint" not in cell.metadata.get("tags", [])]
    nbformat.write(nb, path)
    assert cli.main(["notebooks", "check"]) == 1
    assert "exercise 01.1 has 0 hint cell(s)" in capsys.readouterr().out


def test_notebooks_normalize_rewrites_only_what_needs_it(repo, capsys):
    path = repo / "notebooks" / "01_demo.ipynb"
    assert cli.main(["notebooks", "normalize", str(path)]) == 0
    assert capsys.readouterr().out == f"normalised {path}\n"
    assert cli.main(["notebooks", "normalize", str(path)]) == 0
    assert capsys.readouterr().out == ""


def test_a_failing_notebook_is_reported_and_left_unchanged(repo, capsys):
    path = repo / "notebooks" / "02_broken.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell("1 / 0")]), path)
    before = path.read_text()
    assert cli.main(["notebooks", "run", str(path)]) == 1
    err = capsys.readouterr().err
    assert "02_broken.ipynb failed; the file is unchanged" in err
    assert "ZeroDivisionError" in err
    assert path.read_text() == before


def test_exercises_build_writes_learner_versions(repo, capsys):
    assert cli.main(["exercises", "build", "--out", "learner"]) == 0
    assert "1 learner notebook(s) in learner/" in capsys.readouterr().out
    learner = (repo / "learner" / "01_demo.ipynb").read_text()
    assert "value = 10.0" not in learner and 'checks.hint(\\"01.1\\")' in learner


def test_exercises_build_explains_broken_markup(repo, capsys):
    path = repo / "notebooks" / "01_demo.ipynb"
    nbformat.write(new_notebook(cells=[tagged(new_code_cell("x = 1"), "solution")]), path)
    assert cli.main(["exercises", "build"]) == 1
    assert "01_demo.ipynb: Cannot build a learner version" in capsys.readouterr().err


def test_missing_notebooks_are_named(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["notebooks", "check"]) == 1
    assert "there is no notebooks/ folder here" in capsys.readouterr().err
    assert cli.main(["exercises", "build", "nope.ipynb"]) == 1
    assert "no such notebook: nope.ipynb" in capsys.readouterr().err


def test_a_command_without_its_action_prints_usage(capsys):
    assert cli.main(["notebooks"]) == 2
    assert "run" in capsys.readouterr().err


def test_doctor_reports_and_sets_the_exit_code(capsys):
    code = cli.main(["doctor", "--skip-tensorflow"])
    out = capsys.readouterr().out
    assert "[ok  ] Python 3." in out
    assert "tensorflow" not in out.lower()
    assert code == (1 if "[FAIL]" in out else 0)
