"""The kit installed from a wheel, outside any clone: what a learner's ``pip install`` gets.

One wheel is built from this checkout, offline (``pip wheel --no-deps --no-build-isolation``),
and installed into a fresh virtual environment whose only other packages are this .venv's
(a .pth line: a path in a .pth file is added to sys.path without running that folder's own
.pth files, so the clone's editable install is not among them). From an empty folder it must
load every dataset, train and serve the default model, and keep its files in that folder:
nothing written into site-packages. The same wheel is what the notebooks' install cell
(course/links.py) installs in a fresh environment, as in Colab.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path

import pytest

from course import links, notebooks
from course.files import datasets_dir, notebooks_dir
from tests.serving.serving_process import page_printed, serving_process

pytestmark = pytest.mark.slow

REPOSITORY = Path(__file__).resolve().parents[2]
NOT_SOURCES = {".git", "build", "data", "models", "wheelhouse", "my-notebooks"}  # at the top
NEVER_SOURCES = shutil.ignore_patterns(
    ".venv*", "__pycache__", "*.egg-info", ".*_cache", ".hypothesis", "node_modules"
)


def _sources(folder: str, names: list[str]) -> set[str]:
    """What not to copy: the clone's own outputs (top level) and caches (anywhere)."""
    ignored = set(NEVER_SOURCES(folder, names))
    if Path(folder).resolve() == REPOSITORY:
        ignored |= NOT_SOURCES & set(names)
    return ignored


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel of this checkout, built offline from a copy (the build writes build/ and
    *.egg-info into the tree it builds, which in the clone others are using)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        setuptools = version("setuptools")
    except PackageNotFoundError:  # a Python 3.12+ venv has none
        setuptools = "0 (none)"
    if int(setuptools.split(".")[0]) < 77:
        pytest.fail(
            f"setuptools {setuptools} in {sys.prefix} cannot build the kit offline "
            "(pyproject.toml's build-system needs >=77): `pip install 'setuptools>=77'` there."
        )
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    shutil.copytree(REPOSITORY, source, ignore=_sources)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--no-index", "--wheel-dir", str(work / "dist"), str(source)],
        check=True,
        env=_clean_env(),
    )
    (built,) = (work / "dist").glob("ml_course_kit-*.whl")
    return built


def _clean_env(**extra: str) -> dict[str, str]:
    """The environment without PYTHONPATH, which could put the clone back on sys.path."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    return {**env, **extra}


def _fresh_venv(folder: Path) -> tuple[Path, Path]:
    """A new venv (no pip: this .venv's pip installs into it) seeing this .venv's packages
    after its own; its python and its site-packages."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    python = folder / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            check=True, capture_output=True, text=True,
        ).stdout.strip()
    )
    (site / "kit-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return python, site


def _install(python: Path, wheel: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
         "--no-deps", "--no-index", str(wheel)],
        check=True,
        env=_clean_env(),
    )


def _files(folder: Path) -> set[str]:
    """Every file under ``folder``, less Python's own bytecode cache (written on import)."""
    return {
        str(path.relative_to(folder))
        for path in folder.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    python, site = _fresh_venv(tmp_path_factory.mktemp("venv") / "venv")
    _install(python, wheel)
    yield python, site


def _run(python: Path, cwd: Path, code: str) -> str:
    done = subprocess.run(
        [str(python), "-c", code], cwd=cwd, capture_output=True, text=True, env=_clean_env()
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_an_installed_wheel_serves_from_an_empty_folder_and_writes_only_there(
    installed: tuple[Path, Path], tmp_path: Path
) -> None:
    python, site = installed
    before = _files(site)
    folder = tmp_path / "empty"
    folder.mkdir()

    found = json.loads(_run(python, folder, """if True:
        import json
        import course
        from course import datasets, files
        print(json.dumps({
            "module": course.__file__,
            "rows": {name: len(datasets.load(name)) for name in datasets.names()},
            "notebooks": sorted(path.name for path in files.notebooks_dir().glob("*.ipynb")),
        }))"""))

    assert Path(found["module"]).is_relative_to(site), "the clone was imported, not the wheel"
    shipped = {path.stem for path in datasets_dir().glob("*.toml")}
    assert set(found["rows"]) == shipped and all(found["rows"].values())
    assert found["notebooks"] == sorted(path.name for path in notebooks_dir().glob("*.ipynb"))
    assert len(found["notebooks"]) >= 14  # 00 to 13: the learner folder is not bundled

    port = _free_port()
    arguments = ["--train-default-model", "--port", str(port)]
    log = tmp_path / "serving.log"
    with serving_process(arguments, log, ready=page_printed, python=python, cwd=folder):
        answer = json.loads(_run(python, folder, f"""if True:
            import json, httpx
            from course import recipes
            from serving.client import SessionClient
            url = "http://127.0.0.1:{port}"
            token = httpx.post(url + "/web/token").json()["create"]
            with SessionClient.create(url, token=token) as laptop:
                ack = laptop.send(
                    {{"model": recipes.PENGUIN_MODEL_NAME, "row": recipes.PENGUIN_EXAMPLE}},
                    agent="predict",
                )
                answer = laptop.wait_for_answer(ack.run, timeout=60)
            print(json.dumps({{"status": answer.status, "result": answer.result}}))"""))

    assert answer["status"] == "completed", answer
    assert answer["result"]["prediction"] in {"Adelie", "Chinstrap", "Gentoo"}
    written = _files(folder)
    assert "data/secret.key" in written and "data/streams.db" in written, written
    assert any(name.startswith("models/penguin-classifier/1/") for name in written), written
    assert _files(site) == before, "the kit wrote into site-packages"


def test_the_install_cell_installs_the_kit_where_it_is_missing(
    wheel: Path, tmp_path: Path
) -> None:
    """What Colab does: a fresh environment without the kit runs the notebook's first code
    cell (its exact source, read from a notebook), which installs it; then it imports."""
    cell = next(c for c in notebooks.read(notebooks_dir() / "00_landscape.ipynb").cells
                if c.cell_type == "code")
    assert cell.source == links.install_cell()
    python, _ = _fresh_venv(tmp_path / "colab")
    # The fresh venv has no pip of its own (Colab's has): the cell's `python -m pip` comes
    # from the dependencies' folder, this .venv's, which the .pth line puts on sys.path.
    env = _clean_env(**{links.SOURCE_VARIABLE: str(wheel), "PIP_NO_INDEX": "1",
                        "PIP_NO_DEPS": "1"})
    then = "\nimport course\nprint(course.__file__)"  # the next cell, in the same kernel
    done = subprocess.run([str(python), "-c", cell.source + then], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    said, module = done.stdout.splitlines()
    assert said == f"Installing the course kit from {wheel}"
    assert Path(module).is_relative_to(tmp_path / "colab")


def test_the_install_cell_does_nothing_in_a_clone(tmp_path: Path) -> None:
    env = _clean_env(**{links.SOURCE_VARIABLE: str(tmp_path / "never-used.whl")})
    done = subprocess.run([sys.executable, "-c", links.install_cell()], env=env,
                          cwd=REPOSITORY / "notebooks", capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_binder_installs_the_clone_with_jupyterlab(tmp_path: Path) -> None:
    """binder/postBuild, run as repo2docker runs it (its python first on PATH), installs the
    kit from the clone it is in, editable: notebooks, datasets and data/ stay the clone's."""
    clone = tmp_path / "clone"
    shutil.copytree(REPOSITORY, clone, ignore=_sources)
    python, _ = _fresh_venv(tmp_path / "binder")
    # Offline: the dependencies are this .venv's (the .pth line); PIP_NO_BUILD_ISOLATION=0 is
    # pip's (inverted) spelling of --no-build-isolation.
    env = _clean_env(PATH=f"{python.parent}:{os.environ['PATH']}", PIP_NO_INDEX="1",
                     PIP_NO_BUILD_ISOLATION="0")
    subprocess.run([str(clone / "binder" / "postBuild")], cwd=tmp_path, env=env, check=True,
                   timeout=120)
    found = _run(python, tmp_path, "import course.files as f; print(f.__file__, f.in_clone())")
    assert found.split() == [str(clone / "course" / "files.py"), "True"]
