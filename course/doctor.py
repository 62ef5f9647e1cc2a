"""``course doctor``: check that this machine can run the course, and say how to fix it if not.

Made for the first ten minutes of a workshop: each check returns a ``Finding`` with what it
saw and, when something is wrong, the command or step that fixes it. Checks never raise; a
broken machine is exactly what they are there to describe.
"""

from __future__ import annotations

import errno
import importlib.metadata
import socket
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum

from packaging.requirements import InvalidRequirement, Requirement

__all__ = [
    "COURSE_PORTS",
    "Finding",
    "Status",
    "check_datasets",
    "check_jupyterlab",
    "check_packages",
    "check_ports",
    "check_python",
    "check_tensorflow",
    "examine",
    "report",
]

DISTRIBUTION = "ml-course-kit"
INSTALL = ".venv/bin/python -m pip install -e '.[test,tf]'  (or: make setup)"
COURSE_PORTS = {8000: "the course server (make serve)", 8888: "JupyterLab (make lab)"}
KIT_SERVER_TITLE = "ML course kit server"
"""The title in the kit's server's GET /openapi.json (serving.app): how the doctor tells a
running ``make serve`` from a stranger on its port (tests/course/test_doctor.py holds the two
together)."""
_TENSORFLOW_PROBE = """
import os
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"
import tensorflow as tf
print(tf.__version__, float(tf.reduce_sum(tf.ones((2, 2)))))
"""


class Status(Enum):
    OK = "ok"
    WARNING = "warning"  # the course runs, but something will get in the way
    PROBLEM = "problem"  # part of the course will not run until this is fixed


@dataclass(frozen=True)
class Finding:
    """The result of one check: what was seen, and how to fix it when it is not OK."""

    check: str
    status: Status
    detail: str
    fix: str = ""


def check_python(version: tuple[int, ...] = tuple(sys.version_info[:3])) -> Finding:
    shown = ".".join(map(str, version))
    if version[:2] >= (3, 11):
        return Finding("python", Status.OK, f"Python {shown}")
    return Finding(
        "python",
        Status.PROBLEM,
        f"Python {shown} is too old: the course needs 3.11 or newer.",
        "install Python 3.11+ (python.org or your package manager), then recreate the "
        "environment: rm -rf .venv && make setup",
    )


def _requirements(extras: Iterable[str]) -> list[Requirement]:
    """The kit's declared dependencies, plus those of the given extras."""
    declared = importlib.metadata.requires(DISTRIBUTION) or []
    wanted = []
    for line in declared:
        requirement = Requirement(line)
        marker = requirement.marker
        if marker is None or any(marker.evaluate({"extra": extra}) for extra in ("", *extras)):
            wanted.append(requirement)
    return wanted


def check_packages(requirements: Iterable[str] | None = None) -> list[Finding]:
    """Each required package is installed in a version the course supports.

    One finding per package that is missing or outdated, then one for all the others.
    """
    if requirements is None:
        try:
            parsed = _requirements(extras=["test"])
        except importlib.metadata.PackageNotFoundError:
            return [
                Finding(
                    "packages",
                    Status.PROBLEM,
                    f"the course kit ({DISTRIBUTION}) is not installed in this Python.",
                    f"from the repository's folder run: {INSTALL}",
                )
            ]
    else:
        try:
            parsed = [Requirement(line) for line in requirements]
        except InvalidRequirement as error:
            raise ValueError(f"Invalid requirement: {error}") from None
    findings = [_check_requirement(requirement) for requirement in parsed]
    problems = [finding for finding in findings if finding.status is not Status.OK]
    fine = [finding.detail for finding in findings if finding.status is Status.OK]
    if fine:
        summary = "packages installed in supported versions: " + ", ".join(fine)
        problems.append(Finding("packages", Status.OK, summary))
    return problems


def _check_requirement(requirement: Requirement) -> Finding:
    name = requirement.name
    try:
        installed = importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return Finding(
            f"package {name}",
            Status.PROBLEM,
            f"{name} is not installed.",
            f"run: {INSTALL}",
        )
    if requirement.specifier and not requirement.specifier.contains(installed, prereleases=True):
        return Finding(
            f"package {name}",
            Status.PROBLEM,
            f"{name} {installed} is installed; the course needs {name}{requirement.specifier}.",
            f"run: .venv/bin/python -m pip install '{name}{requirement.specifier}'",
        )
    return Finding(f"package {name}", Status.OK, f"{name} {installed}")


LAB_REQUIREMENT = "jupyterlab>=4.2,<5"
"""The ``lab`` extra's pin, for when the kit's own metadata cannot be read (not installed)."""


def check_jupyterlab(requirement: str | None = None) -> Finding:
    """JupyterLab, which `make lab` opens, is installed in the range the course is tested with
    (the ``lab`` extra of pyproject.toml; tests/lab drive JupyterLab 4's interface)."""
    if requirement is None:
        try:
            declared = [r for r in _requirements(extras=["lab"]) if r.name == "jupyterlab"]
        except importlib.metadata.PackageNotFoundError:
            declared = []
        wanted = declared[0] if declared else Requirement(LAB_REQUIREMENT)
    else:
        wanted = Requirement(requirement)
    pin = f"{wanted.name}{wanted.specifier}"
    install = f".venv/bin/python -m pip install '{pin}'  (or: make setup: the lab extra)"
    try:
        installed = importlib.metadata.version(wanted.name)
    except importlib.metadata.PackageNotFoundError:
        return Finding(
            "jupyterlab",
            Status.PROBLEM,
            "JupyterLab is not installed, so `make lab` cannot open the notebooks.",
            f"run: {install}",
        )
    if not wanted.specifier.contains(installed, prereleases=True):
        return Finding(
            "jupyterlab",
            Status.PROBLEM,
            f"JupyterLab {installed} is installed; the course is tested with {pin}.",
            f"run: {install}",
        )
    return Finding("jupyterlab", Status.OK, f"JupyterLab {installed} (make lab)")


def check_tensorflow(timeout: float = 180.0) -> Finding:
    """TensorFlow imports and computes, tried in a child process so a crash is reported."""
    try:
        importlib.metadata.distribution("tensorflow-cpu")
    except importlib.metadata.PackageNotFoundError:
        try:
            importlib.metadata.distribution("tensorflow")
        except importlib.metadata.PackageNotFoundError:
            return Finding(
                "tensorflow",
                Status.PROBLEM,
                "TensorFlow is not installed, so notebook 09 (deep learning) cannot run.",
                f"run: {INSTALL}",
            )
    try:
        probe = subprocess.run(
            [sys.executable, "-c", _TENSORFLOW_PROBE],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return Finding(
            "tensorflow",
            Status.WARNING,
            f"importing TensorFlow took more than {timeout:.0f} s.",
            "the machine is very busy or slow; close other programs and run `course doctor` "
            "again. Notebook 09 will be slow here.",
        )
    if probe.returncode != 0:
        lines = probe.stderr.strip().splitlines()
        last = lines[-1] if lines else f"exit status {probe.returncode}"
        if probe.returncode < 0:
            last = f"the process was killed by signal {-probe.returncode}"
        return Finding(
            "tensorflow",
            Status.PROBLEM,
            f"TensorFlow is installed but does not run: {last}",
            "reinstall it with: .venv/bin/python -m pip install --force-reinstall "
            "tensorflow-cpu. A crash by signal 4 (illegal instruction) means this CPU lacks "
            "AVX: use another machine for notebook 09.",
        )
    version = probe.stdout.split()[0]
    return Finding("tensorflow", Status.OK, f"TensorFlow {version} runs")


def is_kit_server(host: str, port: int, timeout: float = 0.5) -> bool:
    """Whether the program on ``host:port`` answers as the kit's server: GET /openapi.json (the
    schema FastAPI serves) with the title KIT_SERVER_TITLE. A program that does not speak HTTP
    costs ``timeout`` seconds at most."""
    import json
    import urllib.request

    no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # this computer
    try:
        with no_proxy.open(f"http://{host}:{port}/openapi.json", timeout=timeout) as answer:
            schema = json.loads(answer.read(4_000_000))
    except (OSError, ValueError):  # refused, timed out, not HTTP, not JSON
        return False
    info = schema.get("info") if isinstance(schema, dict) else None
    return isinstance(info, dict) and info.get("title") == KIT_SERVER_TITLE


def check_ports(ports: Mapping[int, str] = COURSE_PORTS, host: str = "127.0.0.1") -> list[Finding]:
    """The ports the course's servers listen on are free, or held by the kit's own server
    (a ``make serve`` already running is no problem)."""
    findings = []
    for port, user in ports.items():
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((host, port))
            except OSError as error:
                if error.errno != errno.EADDRINUSE:
                    raise
                if is_kit_server(host, port):
                    detail = f"port {port}: the kit's server is already running there (that's fine)"
                    findings.append(Finding(f"port {port}", Status.OK, detail))
                    continue
                findings.append(
                    Finding(
                        f"port {port}",
                        Status.PROBLEM,
                        f"port {port} on {host}, used by {user}, is taken by another program.",
                        f"find it with `lsof -i :{port}` (macOS/Linux) or "
                        f"`netstat -ano | findstr {port}` (Windows) and stop it, or use another "
                        "port: `make serve PORT=8001`, `jupyter lab --port 8889`.",
                    )
                )
                continue
        findings.append(Finding(f"port {port}", Status.OK, f"port {port} is free for {user}"))
    return findings


def check_datasets() -> list[Finding]:
    """Every shipped dataset loads and matches its datasheet."""
    from course import datasets

    try:
        available = datasets.names()
    except datasets.DatasetError as error:
        return [Finding("datasets", Status.PROBLEM, str(error), "run from a clone of the kit.")]
    if not available:
        return [
            Finding(
                "datasets",
                Status.PROBLEM,
                f"no datasets found in {datasets.datasets_dir()}.",
                "restore them with: git checkout -- datasets/",
            )
        ]
    findings = []
    for name in available:
        try:
            rows = len(datasets.load(name))
        except datasets.DatasetError as error:
            findings.append(
                Finding(f"dataset {name}", Status.PROBLEM, str(error), "see the message above.")
            )
            continue
        findings.append(Finding(f"dataset {name}", Status.OK, f"{name}: {rows} rows, verified"))
    return findings


def examine(*, tensorflow: bool = True) -> list[Finding]:
    """Run every check, in the order a workshop room meets them."""
    findings = [check_python(), *check_packages(), check_jupyterlab()]
    if tensorflow:
        findings.append(check_tensorflow())
    return [*findings, *check_ports(), *check_datasets()]


_MARKS = {Status.OK: "ok  ", Status.WARNING: "warn", Status.PROBLEM: "FAIL"}


def report(findings: Iterable[Finding]) -> str:
    """A plain-text report: one line per check, a fix under each that needs one, a summary."""
    findings = list(findings)
    lines = []
    for finding in findings:
        lines.append(f"[{_MARKS[finding.status]}] {finding.detail}")
        if finding.fix:
            lines.append(f"       fix: {finding.fix}")
    problems = sum(finding.status is Status.PROBLEM for finding in findings)
    warnings = sum(finding.status is Status.WARNING for finding in findings)
    if problems or warnings:
        lines.append(f"\n{problems} problem(s), {warnings} warning(s): see the fixes above.")
    else:
        lines.append(f"\nAll {len(findings)} checks passed: this machine is ready for the course.")
    return "\n".join(lines)
