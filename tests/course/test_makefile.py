"""The Makefile's install logic: `make serve` installs what serving needs, `make test` everything,
one .venv for both, never reinstalling what is there, from a wheelhouse when there is one; and
what `make lab` runs (`make -n`, with `id -u` answered by a stand-in).

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
ALL = "-m pip install --quiet -e .[test,tf,browser,redis,lab]"
BASE = "-m pip install --quiet --no-compile -e ."

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def _outside_make() -> dict[str, str]:
    """The environment less what a calling make adds: under `make test`, MAKELEVEL makes every
    make these tests run print "Entering directory" lines into the output they compare."""
    return {k: v for k, v in os.environ.items() if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")}

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
    env = {**_outside_make(), "MAKEFLAGS": ""}
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


def test_a_wheelhouse_makes_every_install_come_from_it(repo):
    """The offline workshop (docs/instructor.md): with wheelhouse/ present, pip never looks
    at an index, not even for its own upgrade."""
    (repo / "wheelhouse").mkdir()
    offline = "--no-index --find-links wheelhouse"
    assert make(repo, "setup") == [
        f"-m pip install --quiet {offline} --upgrade pip",
        f"-m pip install --quiet {offline} -e .[test,tf,browser,redis,lab]",
    ]
    os.utime(repo / ".venv" / ".installed-stamp", (1, 1))
    assert make(repo, "serve") == [f"-m pip install --quiet --no-compile {offline} -e ."]


def lab_commands(repo: Path, *arguments: str, uid: int = 1000) -> list[str]:
    """The commands `make lab...` runs once setup is done (make -n), as the user ``uid``."""
    make(repo, "setup")
    bin_dir = repo / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "id").write_text(f"#!/bin/sh\necho {uid}\n")  # what `id -u` answers
    (bin_dir / "id").chmod(0o755)
    env = {**_outside_make(), "MAKEFLAGS": "", "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    env.pop("PORT", None)
    done = subprocess.run(
        ["make", "-n", f"PYTHON={repo / 'python3'}", *arguments],
        cwd=repo, env=env, check=True, capture_output=True, text=True, timeout=60,
    )
    return [" ".join(line.split()) for line in done.stdout.splitlines()]  # spaces as the shell


def test_lab_opens_the_learner_workspace_after_preparing_it_without_installing(repo):
    assert lab_commands(repo, "lab") == [
        ".venv/bin/course lab --dir my-notebooks",
        ".venv/bin/jupyter lab --ip 127.0.0.1 --port 8888 --notebook-dir my-notebooks",
    ]


def test_lab_solutions_opens_the_answer_key(repo):
    assert lab_commands(repo, "lab-solutions") == [
        ".venv/bin/jupyter lab --ip 127.0.0.1 --port 8888 --notebook-dir notebooks"
    ]


def test_lab_takes_port_and_host_like_serve(repo):
    (_, jupyter) = lab_commands(repo, "lab", "PORT=8890", "HOST=0.0.0.0")
    assert "--ip 0.0.0.0 --port 8890 " in jupyter
    serve = lab_commands(repo, "serve")  # PORT's own default stays the server's
    assert any("--port 8000" in line for line in serve)


def test_lab_allows_root_only_as_root(repo):
    (_, jupyter) = lab_commands(repo, "lab", uid=0)
    assert jupyter.endswith("--port 8888 --allow-root --notebook-dir my-notebooks")
    (jupyter,) = lab_commands(repo, "lab-solutions", uid=0)
    assert "--allow-root" in jupyter
    assert all("--allow-root" not in line for line in lab_commands(repo, "lab", uid=1000))


@pytest.mark.slow
@pytest.mark.skipif(not (ROOT / ".venv" / "bin" / "jupyter").exists(), reason="no JupyterLab")
def test_make_lab_serves_the_learner_notebooks_in_a_real_jupyterlab(tmp_path):
    """The commands `make lab` runs, run for real: JupyterLab's contents API lists the learner
    folder, not notebooks/."""
    import json
    import socket
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    folder = tmp_path / "my-notebooks"
    env = {**_outside_make(), "MAKEFLAGS": "", "JUPYTER_TOKEN": "t0ken", "BROWSER": "true",
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
    planned = subprocess.run(
        ["make", "-n", "lab", f"WORKSPACE={folder}", f"PORT={port}"],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True, timeout=60,
    ).stdout.splitlines()
    prepare, start = planned[-2:]  # after setup's lines, if pyproject.toml changed since
    assert prepare.startswith(".venv/bin/course lab ") and start.startswith(".venv/bin/jupyter ")
    subprocess.run(prepare, shell=True, cwd=ROOT, env=env, check=True, capture_output=True)
    lab = subprocess.Popen(
        start, shell=True, cwd=ROOT, env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}/api/contents?token=t0ken"
        no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        deadline = time.monotonic() + 60
        while True:
            try:
                with no_proxy.open(url, timeout=2) as answer:
                    contents = json.load(answer)
                break
            except OSError:
                assert lab.poll() is None, "JupyterLab exited"
                assert time.monotonic() < deadline, "JupyterLab did not answer within 60 s"
                time.sleep(0.5)
    finally:
        os.killpg(lab.pid, 15)
        lab.wait(timeout=30)
    names = sorted(item["name"] for item in contents["content"])
    assert names == sorted(path.name for path in (ROOT / "notebooks").glob("*.ipynb"))
    assert names == sorted(path.name for path in folder.glob("*.ipynb"))


def test_classroom_serves_every_interface_and_opens_a_classroom_on_it(repo):
    """`make classroom` (docs/instructor.md, "Run the room"): the server as `make serve LAN=1`
    would listen, then `course classroom start` on the LAN address, waiting for the server."""

    def script(*arguments: str) -> str:
        lines = " ".join(lab_commands(repo, "classroom", *arguments)).replace("\\ ", "")
        return lines[lines.index(".venv/bin/python -m serving"):]

    started = script("AGENDA=one-day")
    assert started.startswith(
        ".venv/bin/python -m serving --train-default-model --host 0.0.0.0 --port 8000 & "
        "server=$!;"
    )
    assert "course classroom start --lan --port 8000 --wait 300 --agenda one-day" in started
    assert started.endswith("wait $server")
    named = script("LAN=10.0.0.5", "PORT=8080")
    assert ".venv/bin/course classroom start --url http://10.0.0.5:8080 --wait 300" in named


def test_the_readme_points_make_classroom_at_the_guide_and_keeps_its_two_commands():
    """One line for `make classroom` (a Makefile target) to docs/instructor.md's "Run the
    room", whose heading the link's anchor names; the README's two commands stay first."""
    readme = (ROOT / "README.md").read_text()
    assert "make serve   # the main job" in readme and "make test    # install" in readme
    line = next(line for line in readme.splitlines() if "`make classroom`" in line)
    assert "(docs/instructor.md#5-run-the-room)" in readme[readme.index(line):][:400]
    assert "\n## 5. Run the room\n" in (ROOT / "docs" / "instructor.md").read_text()
    assert "\nclassroom:" in (ROOT / "Makefile").read_text()
