import subprocess
import sys
from pathlib import Path

from course.cli import main


def test_datasets_lists_every_dataset_with_rows_and_title(capsys):
    assert main(["datasets"]) == 0

    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["NAME", "ROWS", "TITLE"]
    assert [line.split()[:2] for line in lines[1:]] == [
        ["breast_cancer", "569"],
        ["diabetes", "442"],
        ["digits", "1797"],
        ["penguins", "344"],
        ["seattle_weather", "1461"],
    ]
    assert lines[4].endswith("Palmer Penguins")


def test_datasets_show_prints_the_datasheet(capsys):
    assert main(["datasets", "show", "penguins"]) == 0

    out = capsys.readouterr().out
    assert out.startswith("Palmer Penguins (penguins): 344 rows, 8 columns")
    assert "Licence: CC0-1.0" in out
    assert "sex" in out and "(11 missing)" in out


def test_unknown_dataset_is_an_error_with_a_suggestion(capsys):
    assert main(["datasets", "show", "digit"]) == 1

    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("course: error: unknown dataset 'digit'.")
    assert "Did you mean 'digits'?" in captured.err


def test_damaged_datasets_folder_is_reported_not_raised(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATASETS_DIR", str(tmp_path / "missing"))

    assert main(["datasets"]) == 1
    assert "COURSE_DATASETS_DIR" in capsys.readouterr().err


def test_no_command_prints_help_and_fails(capsys):
    assert main([]) == 2

    assert "datasets" in capsys.readouterr().err


def test_usage_errors_and_help_return_argparse_codes(capsys):
    assert main(["no-such-command"]) == 2
    assert "invalid choice: 'no-such-command'" in capsys.readouterr().err
    assert main(["datasets", "show"]) == 2
    assert main(["--help"]) == 0
    assert "usage: course" in capsys.readouterr().out


def test_the_installed_course_command_runs():
    script = Path(sys.executable).with_name("course")

    result = subprocess.run(
        [str(script), "datasets"], capture_output=True, text=True, timeout=60, check=False
    )

    assert result.returncode == 0, result.stderr
    assert "seattle_weather" in result.stdout
