"""The ``course`` subcommands for notebook authors and instructors.

- ``course notebooks run|normalize|check|links``: execute, normalise and lint the course
  notebooks, and keep their Colab/Binder badges and install cell in step with course/links.py,
- ``course exercises build``: write the learner versions, solutions removed,
- ``course doctor``: check that a machine is ready for the workshop.

Each ``add_<name>_command`` registers one subcommand on the parser of ``course.cli``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from course import doctor, exercises

if TYPE_CHECKING:
    from nbformat import NotebookNode

Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
"""What ``add_subparsers`` returns: each ``add_<name>_command`` adds its parser to it."""

NOTEBOOKS_DIR = Path("notebooks")


def _notebook_paths(args: argparse.Namespace) -> list[Path]:
    """The notebooks named on the command line, or every notebook in ./notebooks."""
    if args.notebooks:
        paths = [Path(name) for name in args.notebooks]
        missing = [str(path) for path in paths if not path.is_file()]
        if missing:
            raise FileNotFoundError(f"no such notebook: {', '.join(missing)}")
        return paths
    if not NOTEBOOKS_DIR.is_dir():
        raise FileNotFoundError(
            "there is no notebooks/ folder here: run from the repository's root folder, "
            "or name the notebooks to use."
        )
    return sorted(NOTEBOOKS_DIR.glob("*.ipynb"))


def _add_notebooks_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "notebooks", nargs="*", metavar="NOTEBOOK", help="default: every notebooks/*.ipynb"
    )


def _show_usage(parser: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    """The action of a command run without its ACTION: print its help, exit code 2."""

    def show(args: argparse.Namespace) -> int:
        parser.print_help(sys.stderr)
        return 2

    return show


def _fail(message: str) -> int:
    print(f"course: error: {message}", file=sys.stderr)
    return 1


# --- course notebooks ----------------------------------------------------------------------


def add_notebooks_command(subcommands: Subcommands) -> None:
    parser = subcommands.add_parser(
        "notebooks",
        help="run, normalise or check the course notebooks (for notebook authors)",
        description="Keep the committed notebooks runnable, testable and small to diff.",
    )
    parser.set_defaults(run=_show_usage(parser))
    actions = parser.add_subparsers(title="actions", metavar="ACTION")
    for name, run, help_text in [
        ("run", run_notebooks, "execute in place in a fresh kernel, then normalise"),
        ("normalize", normalize_notebooks, "rewrite metadata and execution counts canonically"),
        ("check", check_notebooks, "list what nbval or a learner would trip over"),
        ("links", links_notebooks, "check the Colab/Binder badges and install cell (--fix)"),
    ]:
        action = actions.add_parser(name, help=help_text, description=help_text.capitalize())
        _add_notebooks_argument(action)
        action.set_defaults(run=run)
        if name == "links":
            action.add_argument(
                "--fix",
                action="store_true",
                help="rewrite them from course/links.py (after changing the repository's URL)",
            )


def run_notebooks(args: argparse.Namespace) -> int:
    from course import notebooks

    try:
        paths = _notebook_paths(args)
    except FileNotFoundError as error:
        return _fail(str(error))
    for path in paths:
        print(f"running {path} ...", flush=True)
        try:
            notebooks.run(path)
        except Exception as error:  # nbclient's CellExecutionError and kernel failures
            return _fail(f"{path} failed; the file is unchanged.\n{error}")
        try:  # the committed learner version follows its solution notebook
            for written in exercises.build([path], _learner_dir(path)):
                print(f"wrote {written}")
        except ValueError:
            pass  # broken exercise markup: the check below names it
    return check_notebooks(args)


def _learner_dir(path: Path) -> Path:
    """Where a solution notebook's learner version is committed: notebooks/learner/."""
    return path.parent / exercises.DEFAULT_LEARNER_DIR.name


def _learner_problems(path: Path, nb: NotebookNode) -> list[str]:
    """Whether notebooks/learner/ holds today's learner version of ``path`` (Colab opens it)."""
    from course import notebooks

    learner = _learner_dir(path) / path.name
    try:
        expected = notebooks.dumps(exercises.learner_version(nb, exercises.notebook_id(path)))
    except ValueError:
        return []  # exercises.problems already names the markup to fix
    if learner.is_file() and learner.read_text(encoding="utf-8") == expected:
        return []
    return [f"its learner version {learner} is out of date: run `course exercises build {path}`."]


def normalize_notebooks(args: argparse.Namespace) -> int:
    from course import notebooks

    try:
        paths = _notebook_paths(args)
    except FileNotFoundError as error:
        return _fail(str(error))
    for path in paths:
        if not notebooks.is_normalized(path):
            notebooks.write(notebooks.normalize(notebooks.read(path)), path)
            print(f"normalised {path}")
    return 0


def check_notebooks(args: argparse.Namespace) -> int:
    from course import links, notebooks

    try:
        paths = _notebook_paths(args)
    except FileNotFoundError as error:
        return _fail(str(error))
    failed = 0
    for path in paths:
        nb = notebooks.read(path)
        found = (
            notebooks.problems(nb)
            + links.problems(nb, path.name)
            + exercises.help_problems(nb, exercises.notebook_id(path))
            + _learner_problems(path, nb)
        )
        if not notebooks.is_normalized(path):
            found.append(f"not normalised: run `course notebooks normalize {path}`.")
        for problem in found:
            print(f"{path}: {problem}")
        failed += bool(found)
    if failed:
        print(f"{failed} of {len(paths)} notebook(s) need attention.")
        return 1
    print(f"{len(paths)} notebook(s) checked: no problems.")
    return 0


def links_notebooks(args: argparse.Namespace) -> int:
    """Check, or with --fix rewrite, what each notebook says about where the course lives."""
    from course import links, notebooks

    try:
        paths = _notebook_paths(args)
    except FileNotFoundError as error:
        return _fail(str(error))
    failed = 0
    for path in paths:
        nb = notebooks.read(path)
        found = links.problems(nb, path.name)
        if found and args.fix:
            try:
                notebooks.write(notebooks.normalize(links.with_links(nb, path.name)), path)
            except ValueError as error:
                return _fail(str(error))
            print(f"rewrote the badges and install cell of {path}")
            continue
        for problem in found:
            print(f"{path}: {problem}")
        failed += bool(found)
    readme = Path("README.md")
    if not args.notebooks and readme.is_file():  # the whole course: the README's links too
        text = readme.read_text(encoding="utf-8")
        try:
            expected = links.with_readme_block(text, [path.name for path in paths])
        except ValueError as error:
            return _fail(str(error))
        if expected != text and args.fix:
            readme.write_text(expected, encoding="utf-8")
            print("rewrote the Colab and Binder links of README.md")
        elif expected != text:
            print("README.md: its Colab and Binder links disagree with course/links.py.")
            failed += 1
    if failed:
        print(f"{failed} file(s) disagree with course/links.py: add --fix.")
        return 1
    print(f"{len(paths)} notebook(s) point at {links.REPOSITORY}@{links.BRANCH}.")
    return 0


# --- course exercises ----------------------------------------------------------------------


def add_exercises_command(subcommands: Subcommands) -> None:
    parser = subcommands.add_parser(
        "exercises",
        help="write the learner versions of the notebooks, solutions removed",
        description="Exercises live in the notebooks with their solutions.",
    )
    parser.set_defaults(run=_show_usage(parser))
    actions = parser.add_subparsers(title="actions", metavar="ACTION")
    build = actions.add_parser(
        "build",
        help="write learner versions (solutions removed) to a separate folder",
        description="Write each notebook's learner version: solution code replaced by its "
        "starting code, solution explanations and the saved answers removed.",
    )
    _add_notebooks_argument(build)
    build.add_argument(
        "--out",
        type=Path,
        default=exercises.DEFAULT_LEARNER_DIR,
        help=f"folder to write to (default: {exercises.DEFAULT_LEARNER_DIR})",
    )
    build.set_defaults(run=build_exercises)


def build_exercises(args: argparse.Namespace) -> int:
    try:
        written = exercises.build(_notebook_paths(args), args.out)
    except (FileNotFoundError, ValueError) as error:
        return _fail(str(error))
    for path in written:
        print(f"wrote {path}")
    print(f"{len(written)} learner notebook(s) in {args.out}/: hand out this folder.")
    return 0


# --- course doctor -------------------------------------------------------------------------


def add_doctor_command(subcommands: Subcommands) -> None:
    parser = subcommands.add_parser(
        "doctor",
        help="check this machine is ready for the course, and say how to fix what is not",
        description="Check Python, the packages, TensorFlow, the free ports and the datasets.",
    )
    parser.add_argument(
        "--skip-tensorflow",
        action="store_true",
        help="skip the TensorFlow check (it takes a few seconds)",
    )
    parser.set_defaults(run=run_doctor)


def run_doctor(args: argparse.Namespace) -> int:
    findings = doctor.examine(tensorflow=not args.skip_tensorflow)
    print(doctor.report(findings))
    return 1 if any(finding.status is doctor.Status.PROBLEM for finding in findings) else 0
