"""The Makefile's install logic: `make serve` installs what serving needs, `make test` everything,
one .venv for both, never reinstalling what is there.

The real Makefile and pyproject.toml run under the real `make`, in a copy of the repository's
top: ``PYTHON`` is a stand-in that creates a ``.venv/bin/python`` which records its arguments
instead of running pip or the server, so each test reads which installs a sequence of make
commands did (milliseconds, where the real installs take a minute).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ALL = "-m pip install --quiet -e .[test,tf,browser,redis]"
BASE = "-m pip install --quiet --no-compile -e ."

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")

RECORDER = """#!/bin/sh
echo "$*" >> "{log}"
"""
FAKE_PYTHON = """#!/bin/sh
# python3 -m venv DIR: a venv whose python records what it is asked to do
mkdir -p "$3/bin"
cat > "$3/bin/python" <<'EOF'
{recorder}EOF
chmod +x "$3/bin/python"
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    fake = tmp_path / "python3"
    fake.write_text(FAKE_PYTHON.format(recorder=RECORDER.format(log=tmp_path / "calls.log")))
    fake.chmod(0o755)
    return tmp_path


def make(repo: Path, *arguments: str) -> list[str]:
    """Run make in ``repo``; return the installs it asked the venv's python for."""
    log = repo / "calls.log"
    log.unlink(missing_ok=True)
    env = {**os.environ, "MAKEFLAGS": ""}
    subprocess.run(
        ["make", "-s", f"PYTHON={repo / 'python3'}", *arguments],
        cwd=repo, env=env, check=True, capture_output=True, timeout=60,
    )
    calls = log.read_text().splitlines() if log.exists() else []
    return [call for call in calls if "pip install" in call]


def test_serve_installs_only_the_base_package(repo):
    installs = make(repo, "serve")
    assert installs == ["-m pip install --quiet --upgrade pip", BASE]
    assert make(repo, "serve") == []  # installed once


def test_serve_with_extras_adds_them_to_the_same_venv(repo):
    make(repo, "serve")
    assert make(repo, "serve", "EXTRAS=tf") == [BASE + "[tf]"]
    assert make(repo, "serve", "EXTRAS=tf") == []


def test_test_after_serve_installs_everything_in_the_same_venv(repo):
    make(repo, "serve")
    assert make(repo, "setup") == [ALL]
    assert make(repo, "setup") == []


def test_serve_after_test_installs_nothing(repo):
    assert make(repo, "setup") == ["-m pip install --quiet --upgrade pip", ALL]
    assert make(repo, "serve") == []
    assert make(repo, "serve", "EXTRAS=tf,redis") == []  # everything holds every extra


def test_a_changed_pyproject_is_installed_again(repo):
    make(repo, "serve")
    stamp = repo / ".venv" / ".installed-serve"
    os.utime(stamp, (1, 1))  # older than pyproject.toml, as after an edit of it
    assert make(repo, "serve") == [BASE]
