"""Keep the committed notebooks runnable, testable and small to diff.

The ``.ipynb`` files in notebooks/ are the source of truth, committed with their outputs. This
module executes them the way nbval does (``run``), rewrites their metadata into one canonical
form (``normalize``), and lists what would make them fail or flicker under nbval
(``problems``). The ``course notebooks`` command wraps these; docs/notebooks.md has the rules.
"""

from __future__ import annotations

import ast
import copy
import hashlib
import os
import re
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from course import exercises

__all__ = [
    "KERNELSPEC",
    "QUIET_TENSORFLOW",
    "execute",
    "is_normalized",
    "normalize",
    "problems",
    "read",
    "run",
    "test_set_problems",
    "write",
]

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
QUIET_TENSORFLOW = {"TF_CPP_MIN_LOG_LEVEL": "2", "TF_ENABLE_ONEDNN_OPTS": "0"}
IGNORE_TAGS = ("nbval-ignore-output", "nbval-skip")
_FIGURE_REPR = re.compile(r"<(Figure size|Axes[:>]|matplotlib\.)")
_TF_IMPORT = re.compile(r"^\s*(import|from)\s+(tensorflow|keras)\b", re.MULTILINE)
_TEST_ROWS = re.compile(r"^[Xy]_test")  # X_test, y_test, X_test_20: the rows of a test set
EVALUATION_TAG = "evaluation"
FIGURE_DESCRIPTION = "Figure: "


def read(path: Path) -> NotebookNode:
    nb: NotebookNode = nbformat.read(path, as_version=4)  # nbformat's read is unannotated
    return nb


def write(nb: NotebookNode, path: Path) -> None:
    path.write_text(dumps(nb), encoding="utf-8")


def dumps(nb: NotebookNode) -> str:
    """The canonical text of a notebook: what nbformat writes, ending with a newline."""
    text: str = nbformat.writes(nb)  # unannotated too
    return text + "\n"


def normalize(nb: NotebookNode) -> NotebookNode:
    """A copy of ``nb`` with only the metadata worth committing.

    Kept: cell tags, outputs, a fixed python3 kernel spec. Dropped: per-cell metadata other
    than tags (timings, collapsed state), output metadata, the Python patch version.
    Execution counts are renumbered 1, 2, 3... over the executed code cells, as a clean
    top-to-bottom run would number them.
    """
    nb = copy.deepcopy(nb)
    nb.nbformat, nb.nbformat_minor = 4, 5
    nb.metadata = nbformat.from_dict(
        {"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}}
    )
    count = 0
    seen_ids: set[str] = set()
    for index, cell in enumerate(nb.cells):
        tags = list(dict.fromkeys(cell.get("metadata", {}).get("tags", [])))
        cell.metadata = nbformat.from_dict({"tags": tags} if tags else {})
        cell.id = _stable_id(cell, index, seen_ids)
        if cell.cell_type != "code":
            continue
        if cell.execution_count is not None:
            count += 1
            cell.execution_count = count
        cell.outputs = _merge_streams(cell.outputs)
        for output in cell.outputs:
            if "metadata" in output:
                output.metadata = nbformat.from_dict({})
            if output.output_type == "execute_result":
                output.execution_count = cell.execution_count
    return nb


def _merge_streams(outputs: list[NotebookNode]) -> list[NotebookNode]:
    """Join consecutive pieces of the same stream.

    The kernel flushes printed text in chunks that depend on timing, so one ``print`` loop may
    be saved as one output or as three; merged, a rerun gives the same file.
    """
    merged: list[NotebookNode] = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (
            previous is not None
            and output.output_type == "stream"
            and previous.output_type == "stream"
            and previous.name == output.name
        ):
            previous.text += output.text
        else:
            merged.append(output)
    return merged


def _stable_id(cell: NotebookNode, index: int, seen: set[str]) -> str:
    """Keep a cell's id; give a missing or duplicated one an id derived from its content."""
    cell_id: str | None = cell.get("id")
    salt = 0
    while not cell_id or cell_id in seen:
        digest = hashlib.sha1(f"{index}:{salt}:{cell.source}".encode()).hexdigest()
        cell_id, salt = digest[:8], salt + 1
    seen.add(cell_id)
    return cell_id


def is_normalized(path: Path) -> bool:
    return path.read_text(encoding="utf-8") == dumps(normalize(read(path)))


def problems(nb: NotebookNode) -> list[str]:
    """Everything that would make a committed notebook fail, flicker or mislead under nbval."""
    found = list(exercises.problems(nb)) + test_set_problems(nb)
    quiet_tensorflow = False
    for number, cell in enumerate(nb.cells, start=1):
        if cell.cell_type != "code":
            continue
        tags = cell.get("metadata", {}).get("tags", [])
        if all(name in cell.source for name in QUIET_TENSORFLOW):
            quiet_tensorflow = True
        if _TF_IMPORT.search(cell.source) and not quiet_tensorflow:
            found.append(
                f"cell {number} imports TensorFlow/Keras before the notebook sets "
                "TF_CPP_MIN_LOG_LEVEL and TF_ENABLE_ONEDNN_OPTS: set both in os.environ in an "
                "earlier cell, or TensorFlow's start-up messages end up in the outputs."
            )
        for tag in IGNORE_TAGS:
            if tag in tags and not re.search(rf"^\s*# {tag}: \S", cell.source, re.MULTILINE):
                found.append(
                    f"cell {number} is tagged {tag!r} without a reason: add a comment line "
                    f"'# {tag}: <why this output cannot be stable>'."
                )
        if cell.source.rstrip().endswith(";"):
            found.append(
                f"cell {number} ends with ';' to hide its result, which nbval does not honour "
                "(it runs cells outside IPython's history): assign the result to a name, or "
                "end a plotting cell with plt.show()."
            )
        if cell.execution_count is None and "nbval-skip" not in tags:
            found.append(
                f"cell {number} has not been executed: run `course notebooks run` on the "
                "notebook so learners see its outputs before they run it."
            )
        for output in cell.outputs:
            found.extend(_output_problems(number, output, tags))
        if _shows_a_figure(cell) and not _describes_its_figure(cell):
            found.append(
                f"cell {number} shows a figure without a description: end it with "
                "plots.show(\"what a reader should see\") so the figure has a text alternative."
            )
    return found


def _shows_a_figure(cell: NotebookNode) -> bool:
    return any("image/png" in output.get("data", {}) for output in cell.outputs)


def _describes_its_figure(cell: NotebookNode) -> bool:
    return any(
        output.output_type == "stream" and FIGURE_DESCRIPTION in output.text
        for output in cell.outputs
    )


def test_set_problems(nb: NotebookNode) -> list[str]:
    """Where a notebook looks at its test set before its evaluation step, or scores on it twice.

    The rule of the course (docs/notebooks.md): test rows come only from a ``SealedTestSet``
    (``course.holdout``), opened once, in a cell after the markdown cell tagged
    ``evaluation``; nothing before it touches ``X_test``/``y_test``, and no check cell scores
    learner work on them. Read from the code, so a notebook cannot pass by luck.
    """
    found: list[str] = []
    marker = next(
        (index for index, cell in enumerate(nb.cells)
         if EVALUATION_TAG in cell.get("metadata", {}).get("tags", [])),
        len(nb.cells),
    )
    openings = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        number = index + 1
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue  # an unanswered exercise or a magic: exercises.problems reports those
        tags = cell.get("metadata", {}).get("tags", [])
        for node in ast.walk(tree):
            if _is_opening(node):
                openings.append(number)
                if index < marker:
                    found.append(
                        f"cell {number} opens the test set before the evaluation step: choose "
                        "with cross-validation on the training rows, and open it once, after "
                        f"the markdown cell tagged {EVALUATION_TAG!r}."
                    )
            elif isinstance(node, ast.Attribute) and node.attr in ("_X", "_y"):
                found.append(f"cell {number} reaches inside a sealed test set: call .open().")
            elif isinstance(node, ast.Name) and _TEST_ROWS.match(node.id):
                if index < marker:
                    found.append(
                        f"cell {number} uses test rows ({node.id}) before the evaluation step: "
                        "keep them sealed (course.holdout.split_and_seal) until then."
                    )
                elif "check" in tags and isinstance(node.ctx, ast.Load):
                    found.append(
                        f"cell {number} is a check given test rows ({node.id}): checks judge "
                        "learner work on the training rows (cross-validation), never the test set."
                    )
    if len(openings) > 1:
        cells = ", ".join(str(number) for number in openings)
        found.append(f"cells {cells} open the test set {len(openings)} times: open it once.")
    return list(dict.fromkeys(found))  # one message per cell and name, however often it is used


def _is_opening(node: ast.AST) -> bool:
    """``something_test_something.open()``: opening a sealed test set."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
        return False
    owner = node.func.value
    return node.func.attr == "open" and isinstance(owner, ast.Name) and "test" in owner.id


def _output_problems(number: int, output: NotebookNode, tags: list[str]) -> list[str]:
    kind = output.output_type
    if kind == "error" and "raises-exception" not in tags:
        return [
            f"cell {number} failed with {output.ename}: fix it, or tag the cell "
            "'raises-exception' if the error is the lesson."
        ]
    if kind == "stream" and output.name == "stderr":
        first = output.text.strip().splitlines()[0] if output.text.strip() else ""
        return [
            f"cell {number} writes to stderr ({first[:60]!r}): nbval compares stderr too, so "
            "silence it (verbose=0 for Keras, fix the warning's cause)."
        ]
    # A figure's own display carries "<Figure size ...>" as the image's text fallback; the
    # repr is a problem only when it is printed or returned, or shown without the image.
    data = output.get("data", {})
    shown_as_image = kind == "display_data" and "image/png" in data
    text = output.get("text", "") + ("" if shown_as_image else data.get("text/plain", ""))
    if _FIGURE_REPR.search(text):
        return [f"cell {number} prints a matplotlib object's repr: end the cell with plt.show()."]
    return []


def execute(nb: NotebookNode, *, cwd: Path, timeout: int = 300) -> NotebookNode:
    """Run every cell top to bottom in a fresh python3 kernel, as nbval does."""
    from nbclient import NotebookClient

    nb = copy.deepcopy(nb)
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
    )
    client.execute(env={**QUIET_TENSORFLOW, **os.environ})
    return nb


def run(path: Path, *, timeout: int = 300) -> None:
    """Execute a notebook in place and normalise it: what to do after editing one."""
    executed = execute(read(path), cwd=path.parent, timeout=timeout)
    write(normalize(executed), path)
