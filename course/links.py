"""Where the course lives online, and the two things each notebook says about it.

Each notebook opens with "Open in Colab" and "Launch Binder" badges pointing at its *learner*
version (``notebooks/learner/<name>``), and its first code cell installs the kit where it is
missing (Colab). Both name the repository, so the repository and the branch are written here,
once: ``course notebooks check`` refuses a notebook whose badges or install cell disagree with
these constants, and ``course notebooks links --fix`` rewrites them all after a change
(docs/notebooks.md, "Colab and Binder").

Pure functions of a notebook's file name (and whether it needs TensorFlow): no I/O here.
"""

from __future__ import annotations

import copy
import re
from typing import Any
from urllib.parse import quote

__all__ = [
    "BRANCH",
    "INSTALL_CELL_MARKER",
    "LEARNER_FOLDER",
    "REPOSITORY",
    "SOURCE_VARIABLE",
    "badge_line",
    "binder_url",
    "colab_url",
    "install_cell",
    "install_source",
    "needs_tensorflow",
    "problems",
    "readme_block",
    "with_links",
    "with_readme_block",
]

REPOSITORY = "ml-course-kit/ml-course-kit"
"""The GitHub repository, ``owner/name``. Not published yet: change it here, then run
``course notebooks links --fix`` and commit the notebooks."""

BRANCH = "main"
LEARNER_FOLDER = "notebooks/learner"
SOURCE_VARIABLE = "COURSE_KIT_SOURCE"
"""Overrides what the install cell gives pip (a wheel's path, a local folder): for tests."""

INSTALL_CELL_MARKER = "# Colab: install the course kit"
"""The first line of the install cell: how ``--fix`` finds the cell to rewrite."""

_TF_IMPORT = re.compile(r"^\s*(import|from)\s+(tensorflow|keras)\b", re.MULTILINE)
_BADGES = re.compile(r"^\[!\[Open in Colab\].*$", re.MULTILINE)
README_START = "<!-- links: written by `course notebooks links --fix` from course/links.py -->"
README_END = "<!-- /links -->"
_COLAB_BADGE = "https://colab.research.google.com/assets/colab-badge.svg"
_BINDER_BADGE = "https://mybinder.org/badge_logo.svg"


def colab_url(notebook: str) -> str:
    """Colab opens a notebook straight from GitHub: no build, TensorFlow already there."""
    return (
        f"https://colab.research.google.com/github/{REPOSITORY}/blob/{BRANCH}/"
        f"{LEARNER_FOLDER}/{notebook}"
    )


def binder_url(notebook: str = "") -> str:
    """Binder builds binder/ (the kit with the lab extra) and opens JupyterLab on the notebook;
    without a notebook, on the learner folder."""
    path = f"{LEARNER_FOLDER}/{notebook}" if notebook else LEARNER_FOLDER
    return f"https://mybinder.org/v2/gh/{REPOSITORY}/{BRANCH}?labpath={quote(path, safe='')}"


def badge_line(notebook: str, *, needs_tensorflow: bool = False) -> str:
    """The markdown line of badges under a notebook's title.

    Binder leaves TensorFlow out (binder/requirements.txt says why), so a notebook that
    imports it gets only the Colab badge and a sentence saying where it runs.
    """
    colab = f"[![Open in Colab]({_COLAB_BADGE})]({colab_url(notebook)})"
    if needs_tensorflow:
        return (
            f"{colab} This notebook needs TensorFlow: open it in Colab, or run it on your "
            'machine after `pip install "ml-course-kit[tf]"` (Binder leaves TensorFlow out).'
        )
    return f"{colab} [![Launch Binder]({_BINDER_BADGE})]({binder_url(notebook)})"


def install_source() -> str:
    """What pip installs in Colab: the branch's archive (no git needed), without TensorFlow,
    which Colab has."""
    return f"ml-course-kit @ https://github.com/{REPOSITORY}/archive/refs/heads/{BRANCH}.zip"


def install_cell() -> str:
    """The source of every notebook's first code cell.

    It runs before ``course`` can be imported, so it is the one piece of logic a notebook may
    hold that the package cannot. It prints nothing where the kit is installed (a clone, Binder),
    so its saved output is empty and nbval compares nothing.
    """
    return f'''{INSTALL_CELL_MARKER} (about a minute); where it is installed, nothing happens.
import importlib.util
import os
import subprocess
import sys

if importlib.util.find_spec("course") is None:
    source = os.environ.get(
        "{SOURCE_VARIABLE}",
        "{install_source()}",
    )
    print("Installing the course kit from", source)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", source], check=True)
    importlib.invalidate_caches()'''



def needs_tensorflow(nb: Any) -> bool:
    return any(cell.cell_type == "code" and _TF_IMPORT.search(cell.source) for cell in nb.cells)


def problems(nb: Any, notebook: str) -> list[str]:
    """Where a notebook's badges or install cell disagree with this module (``nb`` is an
    nbformat notebook, ``notebook`` its file name)."""
    fix = f"run `course notebooks links --fix notebooks/{notebook}`."
    found = []
    first = nb.cells[0] if nb.cells else None
    expected = badge_line(notebook, needs_tensorflow=needs_tensorflow(nb))
    if first is None or first.cell_type != "markdown":
        found.append("the first cell is not the markdown title that carries the badges.")
    else:
        line = _BADGES.search(first.source)
        if line is None:
            found.append(f"the first cell has no Colab/Binder badges: {fix}")
        elif line.group(0) != expected:
            found.append(f"the badges do not point at {REPOSITORY}@{BRANCH}: {fix}")
    code = next((cell for cell in nb.cells if cell.cell_type == "code"), None)
    if code is None or code.source != install_cell():
        found.append(
            "the first code cell is not the install cell of course/links.py (Colab needs it "
            f"to install the kit): {fix}"
        )
    return found


def with_links(nb: Any, notebook: str) -> Any:
    """A copy of ``nb`` with today's badges under its title and today's install cell first
    among its code cells (rewritten if there, added if not). Normalise it afterwards: a new
    install cell is numbered 1 like a cell just run, with no output, as in a clone."""
    import nbformat

    nb = copy.deepcopy(nb)
    expected = badge_line(notebook, needs_tensorflow=needs_tensorflow(nb))
    first = nb.cells[0]
    if first.cell_type != "markdown":
        raise ValueError(f"{notebook}: the first cell must be the markdown title; add one.")
    if _BADGES.search(first.source):
        first.source = _BADGES.sub(lambda _: expected, first.source, count=1)
    else:
        title, _, rest = first.source.partition("\n")
        first.source = f"{title}\n\n{expected}\n" + (f"\n{rest.lstrip(chr(10))}" if rest else "")
    index = next(
        (i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"), len(nb.cells)
    )
    if index < len(nb.cells) and nb.cells[index].source.startswith(INSTALL_CELL_MARKER):
        nb.cells[index].source = install_cell()
    else:
        cell = nbformat.v4.new_code_cell(install_cell())
        cell.id, cell.execution_count = "install-the-kit", 1
        nb.cells.insert(index, cell)
    return nb


def readme_block(notebook_names: list[str]) -> str:
    """The README's lines (between its two marker comments) that open the course online."""
    colab = " · ".join(f"[{name.removesuffix('.ipynb')}]({colab_url(name)})"
                       for name in notebook_names)
    return "\n".join([
        README_START,
        f"[![Launch Binder]({_BINDER_BADGE})]({binder_url()}) JupyterLab on the learner "
        "notebooks, nothing to install (all but notebook 09: Binder has no TensorFlow).",
        "",
        f"[![Open in Colab]({_COLAB_BADGE})](https://colab.research.google.com/) one notebook "
        f"at a time: {colab}.",
        "",
        f'Without a clone: `pip install "{install_source()}"` (what the install cell runs).',
        README_END,
    ])


def with_readme_block(readme: str, notebook_names: list[str]) -> str:
    """``readme`` with today's block between its markers; ValueError if the markers are missing."""
    start, end = readme.find(README_START), readme.find(README_END)
    if start < 0 or end < start:
        raise ValueError(
            f"README.md has no links block: put the lines {README_START!r} and {README_END!r} "
            "where the Colab and Binder links belong, then run this again."
        )
    return readme[:start] + readme_block(notebook_names) + readme[end + len(README_END):]
