"""The notebooks' Colab/Binder badges and install cell, kept in step with course/links.py."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from course import cli, links, notebooks
from course.files import notebooks_dir

COMMITTED = sorted(notebooks_dir().glob("*.ipynb"))


@pytest.mark.parametrize("path", COMMITTED, ids=lambda path: path.name)
def test_every_committed_notebook_points_at_its_learner_version(path: Path) -> None:
    nb = notebooks.read(path)
    assert links.problems(nb, path.name) == []
    first = nb.cells[0].source
    assert f"/{links.REPOSITORY}/blob/{links.BRANCH}/notebooks/learner/{path.name})" in first
    if not links.needs_tensorflow(nb):
        assert f"labpath=notebooks%2Flearner%2F{path.name})" in first


def test_binder_is_offered_only_where_it_can_run() -> None:
    """binder/ leaves TensorFlow out: notebook 09 says to use Colab instead."""
    with_tf = links.badge_line("09_deep_learning.ipynb", needs_tensorflow=True)
    assert "mybinder.org" not in with_tf and "Colab" in with_tf
    assert "mybinder.org" in links.badge_line("00_landscape.ipynb")
    assert links.needs_tensorflow(notebooks.read(notebooks_dir() / "09_deep_learning.ipynb"))
    assert not links.needs_tensorflow(notebooks.read(notebooks_dir() / "00_landscape.ipynb"))


def _plain_notebook() -> nbformat.NotebookNode:
    return new_notebook(
        cells=[
            new_markdown_cell("# 01 · Demo\n\nWhat this notebook teaches."),
            new_markdown_cell("Some words first."),
            new_code_cell("print('hello')", execution_count=1),
        ]
    )


def test_with_links_adds_the_badges_under_the_title_and_the_install_cell_first() -> None:
    nb = links.with_links(_plain_notebook(), "01_demo.ipynb")
    title, blank, badges, blank2, text = nb.cells[0].source.split("\n")
    assert (title, blank, blank2, text) == ("# 01 · Demo", "", "", "What this notebook teaches.")
    assert badges == links.badge_line("01_demo.ipynb")
    assert [cell.cell_type for cell in nb.cells] == ["markdown", "markdown", "code", "code"]
    assert nb.cells[2].source == links.install_cell() and nb.cells[2].outputs == []
    assert links.problems(nb, "01_demo.ipynb") == []
    assert links.with_links(nb, "01_demo.ipynb") == nb  # rewriting twice changes nothing


def test_problems_name_what_disagrees_and_how_to_fix_it(monkeypatch: pytest.MonkeyPatch) -> None:
    found = links.problems(_plain_notebook(), "01_demo.ipynb")
    assert found[0].startswith("the first cell has no Colab/Binder badges")
    assert found[1].startswith("the first code cell is not the install cell")
    assert all("course notebooks links --fix notebooks/01_demo.ipynb" in f for f in found)

    nb = links.with_links(_plain_notebook(), "01_demo.ipynb")
    monkeypatch.setattr(links, "REPOSITORY", "someone/elsewhere")
    found = links.problems(nb, "01_demo.ipynb")
    assert found[0] == (
        "the badges do not point at someone/elsewhere@main: run "
        "`course notebooks links --fix notebooks/01_demo.ipynb`."
    )
    assert found[1].startswith("the first code cell is not the install cell")


def test_a_new_url_is_one_constant_and_one_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "notebooks").mkdir()
    path = tmp_path / "notebooks" / "01_demo.ipynb"
    notebooks.write(notebooks.normalize(links.with_links(_plain_notebook(), path.name)), path)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["notebooks", "links"]) == 0
    assert "1 notebook(s) point at ml-course-kit/ml-course-kit@main." in capsys.readouterr().out

    monkeypatch.setattr(links, "REPOSITORY", "someone/elsewhere")
    monkeypatch.setattr(links, "BRANCH", "published")
    assert cli.main(["notebooks", "check"]) == 1
    assert "the badges do not point at someone/elsewhere@published" in capsys.readouterr().out
    assert cli.main(["notebooks", "links"]) == 1
    assert "disagree with course/links.py: add --fix." in capsys.readouterr().out

    assert cli.main(["notebooks", "links", "--fix"]) == 0
    out = capsys.readouterr().out
    assert "rewrote the badges and install cell of notebooks/01_demo.ipynb\n" in out
    text = path.read_text()
    assert "someone/elsewhere/blob/published/notebooks/learner/01_demo.ipynb" in text
    assert "someone/elsewhere/archive/refs/heads/published.zip" in text
    assert text.count(links.INSTALL_CELL_MARKER) == 1  # rewritten, not added twice
    assert notebooks.is_normalized(path)
    assert cli.main(["notebooks", "links"]) == 0
    capsys.readouterr()
    cli.main(["notebooks", "check"])  # the demo has no quiz: check names that, not the links
    assert "badges" not in capsys.readouterr().out


def test_the_readme_links_every_notebook_from_the_same_constants() -> None:
    readme = (notebooks_dir().parent / "README.md").read_text(encoding="utf-8")
    names = [path.name for path in COMMITTED]
    assert links.with_readme_block(readme, names) == readme
    for name in names:
        assert links.colab_url(name) in readme
    assert links.binder_url() in readme and links.install_source() in readme


def test_the_readme_block_is_rewritten_between_its_markers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "notebooks").mkdir()
    path = tmp_path / "notebooks" / "01_demo.ipynb"
    notebooks.write(notebooks.normalize(links.with_links(_plain_notebook(), path.name)), path)
    readme = tmp_path / "README.md"
    readme.write_text(f"# Kit\n\n{links.README_START}\nold\n{links.README_END}\n\nThe end.\n")
    monkeypatch.chdir(tmp_path)
    assert cli.main(["notebooks", "links"]) == 1
    assert "README.md: its Colab and Binder links disagree" in capsys.readouterr().out
    assert cli.main(["notebooks", "links", "--fix"]) == 0
    assert readme.read_text() == f"# Kit\n\n{links.readme_block(['01_demo.ipynb'])}\n\nThe end.\n"

    readme.write_text("# Kit without markers\n")
    assert cli.main(["notebooks", "links", "--fix"]) == 1
    assert "README.md has no links block: put the lines" in capsys.readouterr().err
