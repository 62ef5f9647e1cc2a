"""Where the course's own files are: the datasets and the solution notebooks.

In a clone (an editable install) they are the repository's ``datasets/`` and ``notebooks/``.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["datasets_dir", "notebooks_dir"]

_REPOSITORY = Path(__file__).resolve().parent.parent


def datasets_dir() -> Path:
    """The folder of the shipped datasets (CSV files and their datasheets)."""
    return _REPOSITORY / "datasets"


def notebooks_dir() -> Path:
    """The folder of the solution notebooks (the answer key that hints and solutions read)."""
    return _REPOSITORY / "notebooks"
