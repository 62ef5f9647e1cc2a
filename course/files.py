"""Where the course's own files are: the datasets, the solution notebooks, the project folder.

In a clone (an editable install) they are the repository's ``datasets/`` and ``notebooks/``.
Installed from a wheel there is no repository: setup.py bundles copies of both folders into
the package, as ``course/_bundled/datasets`` and ``course/_bundled/notebooks``, and these
functions return those. A clone never has ``course/_bundled`` (the build writes it into the
build tree only), so which one is used does not depend on the working folder.

``project_dir`` says where the files the kit *writes* belong (the server's ``data/`` and
``models/``): the repository in a clone, as always; in an installed wheel the working folder,
because site-packages is no place to write (it may be read-only, is shared by every project of
the environment, and is wiped by the next ``pip install``) and a learner running
``python -m serving`` from a folder expects to find its files there, as with ``git`` or ``make``.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["bundled", "datasets_dir", "in_clone", "notebooks_dir", "project_dir"]

_PACKAGE = Path(__file__).resolve().parent
_REPOSITORY = _PACKAGE.parent
_BUNDLED = _PACKAGE / "_bundled"


def bundled() -> bool:
    """True in an installed wheel, which carries its own copies of the course's files."""
    return _BUNDLED.is_dir()


def in_clone() -> bool:
    """True when the package is imported from a clone of the repository (editable install)."""
    return not bundled() and (_REPOSITORY / "pyproject.toml").is_file()


def datasets_dir() -> Path:
    """The folder of the shipped datasets (CSV files, their datasheets, README.md)."""
    return _BUNDLED / "datasets" if bundled() else _REPOSITORY / "datasets"


def notebooks_dir() -> Path:
    """The folder of the solution notebooks (the answer key that hints and solutions read)."""
    return _BUNDLED / "notebooks" if bundled() else _REPOSITORY / "notebooks"


def project_dir() -> Path:
    """Where the server keeps ``data/`` and ``models/``: the clone, else the working folder.

    Read when called: an installed kit follows ``cd`` (``Path.cwd()`` at that moment).
    """
    return _REPOSITORY if in_clone() else Path.cwd()
