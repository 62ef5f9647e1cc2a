"""The learner's workspace: the learner versions of the notebooks, in a folder that is theirs.

``make lab`` (``course lab``) opens JupyterLab on this folder, not on ``notebooks/`` (the answer
key). It is rebuilt on every ``make lab`` from the solution notebooks, so a fixed notebook reaches
the learner, but a rebuild never destroys work:

- a notebook missing from the folder is written;
- a notebook whose cell sources are still the ones written (the learner has at most run it:
  outputs and execution counts do not count) is replaced when its new version differs;
- a notebook the learner edited is left alone, and the new version is written next to it
  (``04_split_and_build.new.ipynb``), with one line saying so that names both files;
- any other file (the learner's own notebooks, data they saved) is never touched.

What was written is recorded in a small manifest in the folder (``MANIFEST``, a dot file that
JupyterLab does not list): for each file, a fingerprint of the cell types and sources written.
A notebook whose fingerprint on disk is the recorded one is untouched. A notebook without a
record (the manifest deleted, or a file of the learner's with a course notebook's name) counts
as edited unless it already equals the new version: the safe side. The fingerprint is kept in the
manifest rather than in notebook metadata so a learner's "Save as" copy does not pass for an
untouched course notebook.

The folder is ``my-notebooks/`` (``DEFAULT_WORKSPACE``) rather than ``workspace/``: the name
says whose the notebooks are and sits next to ``notebooks/`` in a listing, so nobody takes one
for the other. Building all 13 from the solutions takes 0.13 s (0.11 s when all are current;
`course lab` takes 1.3 s of CPU in all, mostly imports), so ``make lab`` rebuilds every time
instead of tracking what changed.

``plan`` is the pure core (names and fingerprints in, steps out); ``prepare`` reads and writes.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from course import exercises, files

__all__ = [
    "DEFAULT_WORKSPACE",
    "MANIFEST",
    "Action",
    "Step",
    "fingerprint",
    "plan",
    "prepare",
    "report",
]

DEFAULT_WORKSPACE = Path("my-notebooks")
MANIFEST = ".course-workspace.json"
_MANIFEST_VERSION = 1
_BESIDE = ".new"  # 04_split_and_build.ipynb -> 04_split_and_build.new.ipynb, .new-2, ...


class Action(Enum):
    WRITTEN = "written"  # missing from the folder: written
    UPDATED = "updated"  # untouched by the learner and changed in the course: replaced
    BESIDE = "beside"  # edited by the learner and changed in the course: new version next to it
    CURRENT = "current"  # already the current version: nothing written


@dataclass(frozen=True)
class Step:
    """What happens to one course notebook: ``target`` is the file written (or already
    current); ``kept`` the learner's edited file left alone next to it (BESIDE only)."""

    notebook: str
    action: Action
    target: str
    kept: str = ""


def fingerprint(nb: NotebookNode) -> str:
    """A digest of the cell types and sources: what a learner types changes it, running the
    notebook (outputs, execution counts, metadata) does not."""
    cells = [[cell.cell_type, cell.source] for cell in nb.cells]
    return hashlib.sha256(json.dumps(cells).encode()).hexdigest()


def _beside_names(name: str) -> Iterable[str]:
    stem = name.removesuffix(".ipynb")
    yield f"{stem}{_BESIDE}.ipynb"
    number = 2
    while True:
        yield f"{stem}{_BESIDE}-{number}.ipynb"
        number += 1


def plan(
    versions: Mapping[str, str], on_disk: Mapping[str, str], recorded: Mapping[str, str]
) -> list[Step]:
    """The steps that bring a workspace up to date, without losing the learner's work.

    ``versions``: each course notebook's file name and the fingerprint of its new learner
    version; ``on_disk``: the fingerprint of each notebook in the folder ("" for one that cannot
    be read); ``recorded``: the fingerprint written to each file last time (the manifest).
    """
    steps = []
    for name, new in versions.items():
        if name not in on_disk:
            steps.append(Step(name, Action.WRITTEN, name))
        elif on_disk[name] == new:
            steps.append(Step(name, Action.CURRENT, name))
        elif on_disk[name] == recorded.get(name):
            steps.append(Step(name, Action.UPDATED, name))
        else:
            for candidate in _beside_names(name):
                if on_disk.get(candidate) == new:  # written by an earlier rebuild, still current
                    steps.append(Step(name, Action.CURRENT, candidate, kept=name))
                    break
                if candidate not in on_disk or on_disk[candidate] == recorded.get(candidate):
                    steps.append(Step(name, Action.BESIDE, candidate, kept=name))
                    break
    return steps


def report(steps: Iterable[Step], folder: Path) -> list[str]:
    """The lines ``course lab`` prints: one per notebook kept for the learner's work, then a
    summary."""
    steps = list(steps)
    lines = [
        f"{folder / step.kept} has your work, so it was kept; the updated version is "
        f"{folder / step.target}."
        for step in steps
        if step.action is Action.BESIDE
    ]
    counts = {action: sum(step.action is action for step in steps) for action in Action}
    done = ", ".join(
        f"{counts[action]} {label}"
        for action, label in (
            (Action.WRITTEN, "written"),
            (Action.UPDATED, "updated"),
            (Action.BESIDE, "written next to your copy"),
            (Action.CURRENT, "already up to date"),
        )
        if counts[action]
    )
    lines.append(f"{len(steps)} learner notebook(s) in {folder}/: {done}.")
    return lines


def _read_fingerprint(path: Path) -> str:
    try:
        return fingerprint(nbformat.read(path, as_version=4))
    except (OSError, ValueError, KeyError, AttributeError):  # NotJSONError is a ValueError
        return ""  # unreadable: never equal to a recorded fingerprint, so it is kept


def _read_manifest(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text())
        written = data["written"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}  # no manifest (or a broken one): every existing notebook counts as edited
    if not isinstance(written, dict):
        return {}
    return {str(name): str(value) for name, value in written.items()}


def prepare(
    folder: Path = DEFAULT_WORKSPACE,
    notebooks: Iterable[Path] | None = None,
    build: Callable[[Iterable[Path], Path], list[Path]] = exercises.build,
) -> list[Step]:
    """Bring ``folder`` up to date with the learner versions of ``notebooks`` (by default the
    solution notebooks of ``course.files.notebooks_dir()``); return what was done.

    The learner versions are what ``build`` (``course exercises build``) writes, byte for byte:
    built in a temporary folder, then copied where the plan says.
    """
    if notebooks is None:
        notebooks = sorted(files.notebooks_dir().glob("*.ipynb"))
        if not notebooks:
            raise ValueError(
                f"no course notebooks in {files.notebooks_dir()}: run this from a clone of the "
                "kit (git clone, then make lab), or reinstall it: pip install --force-reinstall "
                "ml-course-kit"
            )
    folder.mkdir(parents=True, exist_ok=True)
    manifest = folder / MANIFEST
    with tempfile.TemporaryDirectory(prefix="learner-") as scratch:
        built = {path.name: path for path in build(list(notebooks), Path(scratch))}
        versions = {name: _read_fingerprint(path) for name, path in built.items()}
        recorded = _read_manifest(manifest)
        on_disk = {path.name: _read_fingerprint(path) for path in folder.glob("*.ipynb")}
        steps = plan(versions, on_disk, recorded)
        for step in steps:
            if step.action is not Action.CURRENT:
                shutil.copyfile(built[step.notebook], folder / step.target)
            recorded[step.target] = versions[step.notebook]
    document = {"version": _MANIFEST_VERSION, "written": dict(sorted(recorded.items()))}
    manifest.write_text(json.dumps(document, indent=1) + "\n")
    return steps
