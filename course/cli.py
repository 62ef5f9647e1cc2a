"""The ``course`` command: the kit's helpers from a terminal.

Each subcommand is one ``add_<name>_command`` function that registers its parser and sets
``run`` to the function doing the work; ``main`` only parses and dispatches. To add a
subcommand, write such a function and list it in ``COMMANDS``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from course import datasets, workspace
from course.cli_classroom import add_classroom_command
from course.cli_notebooks import (
    Subcommands,
    add_doctor_command,
    add_exercises_command,
    add_notebooks_command,
)


def add_datasets_command(subcommands: Subcommands) -> None:
    parser = subcommands.add_parser(
        "datasets",
        help="list the datasets shipped with the course, or show one's datasheet",
        description="List the datasets shipped with the course (name, rows, title).",
        usage="course datasets [-h] [show NAME]",
    )
    parser.set_defaults(run=list_datasets)
    actions = parser.add_subparsers(title="actions", metavar="ACTION")
    show = actions.add_parser(
        "show",
        help="print the datasheet of one dataset",
        description="Print a dataset's datasheet: source, licence, columns, quirks.",
    )
    show.add_argument("name", help="dataset name, as listed by `course datasets`")
    show.set_defaults(run=show_datasheet)


def list_datasets(args: argparse.Namespace) -> int:
    sheets = [datasets.datasheet(name) for name in datasets.names()]
    width = max([len("NAME"), *(len(sheet.name) for sheet in sheets)])
    print(f"{'NAME':<{width}}  {'ROWS':>6}  TITLE")
    for sheet in sheets:
        print(f"{sheet.name:<{width}}  {sheet.rows:>6}  {sheet.title}")
    return 0


def show_datasheet(args: argparse.Namespace) -> int:
    print(datasets.datasheet(args.name))
    return 0


def add_lab_command(subcommands: Subcommands) -> None:
    parser = subcommands.add_parser(
        "lab",
        help="prepare your notebooks folder (the learner versions) for JupyterLab",
        description="Write the learner versions of the course notebooks into a folder of "
        "yours, or bring it up to date: a notebook you edited is never overwritten (the new "
        "version goes next to it). `make lab` runs this, then opens JupyterLab on the folder.",
    )
    parser.add_argument(
        "--dir",
        type=Path,
        default=workspace.DEFAULT_WORKSPACE,
        help=f"the folder to prepare (default: {workspace.DEFAULT_WORKSPACE})",
    )
    parser.set_defaults(run=prepare_lab)


def prepare_lab(args: argparse.Namespace) -> int:
    try:
        steps = workspace.prepare(args.dir)
    except ValueError as error:  # no solution notebooks, or one's exercise markup is broken
        print(f"course: error: {error}", file=sys.stderr)
        return 1
    for line in workspace.report(steps, args.dir):
        print(line)
    print(f"open it with: jupyter lab {args.dir}")
    return 0


COMMANDS: tuple[Callable[[Subcommands], None], ...] = (
    add_datasets_command,
    add_notebooks_command,
    add_exercises_command,
    add_doctor_command,
    add_lab_command,
    add_classroom_command,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="course",
        description="Helpers for the ML course: datasets and more.",
    )
    subcommands = parser.add_subparsers(title="commands", metavar="COMMAND")
    for add_command in COMMANDS:
        add_command(subcommands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``course`` command; returns the process exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse exits after --help (0) and on usage errors (2)
        return int(exit_.code or 0)
    if not hasattr(args, "run"):
        parser.print_help(sys.stderr)
        return 2
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except datasets.DatasetError as error:
        print(f"course: error: {error}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # output piped into a reader that stopped early, e.g. `head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
