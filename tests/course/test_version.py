"""One version: pyproject.toml's, as course.__version__ and serving.__version__ report it."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import course
import serving

ROOT = Path(__file__).resolve().parents[2]
DECLARED = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
    "version"
]


def test_both_packages_report_the_version_pyproject_declares() -> None:
    assert course.__version__ == DECLARED, (
        "the installed metadata is older than pyproject.toml: reinstall with `pip install -e .`"
    )
    assert serving.__version__ == DECLARED
    from serving import __version__

    assert __version__ == DECLARED


def test_the_server_announces_that_version() -> None:
    from serving.app import create_app
    from serving.config import ServerConfig

    assert create_app(ServerConfig(open_access=True, store_url="memory://")).version == DECLARED


def test_an_uninstalled_checkout_reads_its_pyproject(tmp_path: Path) -> None:
    # A checkout that was never installed: the two packages' __init__ and pyproject.toml, run
    # with -S (no site-packages, so no installed metadata), the pyproject's version bumped.
    for package in ("course", "serving"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text(
            (ROOT / package / "__init__.py").read_text(encoding="utf-8"), encoding="utf-8"
        )
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text(
        pyproject.replace(f'version = "{DECLARED}"', 'version = "9.8.7"', 1), encoding="utf-8"
    )
    code = (
        "import importlib.metadata as m, course, serving\n"
        "try:\n    m.version(course.DISTRIBUTION)\nexcept m.PackageNotFoundError:\n"
        "    print('not installed')\n"
        "print(course.__version__, serving.__version__)\n"
    )
    done = subprocess.run(
        [sys.executable, "-S", "-c", code], cwd=tmp_path, capture_output=True, text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["not installed", "9.8.7 9.8.7"]


def test_other_names_are_still_attribute_errors() -> None:
    with pytest.raises(AttributeError, match="no attribute 'version'"):
        course.version  # noqa: B018
    with pytest.raises(AttributeError, match="no attribute 'version'"):
        serving.version  # noqa: B018
