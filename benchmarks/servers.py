"""The servers a benchmark compares: ours and the Node reference, each on a free loopback port.

Every server runs in its own process, started the way a user starts it (``python -m serving``;
``node benchmarks/peers/reference_server.mjs``), so the benchmark measures the whole stack
(HTTP parsing, event loop, store). The reference server is pinned in benchmarks/peers/ and
installed there with ``npm ci`` the first time it is needed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

PEERS_DIR = Path(__file__).resolve().parent / "peers"
REFERENCE_PACKAGE = "@durable-streams/server"
REFERENCE_VERSION = "0.3.7"
STARTUP_TIMEOUT = 20.0


class ServerStartError(RuntimeError):
    """A server could not be started; the message says why and what to do."""


@dataclass(frozen=True)
class ServerSpec:
    """How to start one server under test."""

    name: str
    """Short name used in tables: ``ours-memory``, ``reference-file``..."""
    implementation: str
    """``ours`` or ``reference``."""
    durable: bool
    """True for the stores that keep data on disk (our SQLite, the reference file store)."""

    def command(self, port: int, data_dir: Path) -> list[str]:
        if self.implementation == "ours":
            store = f"sqlite:///{data_dir / 'streams.db'}" if self.durable else "memory://"
            return [
                sys.executable,
                *("-m", "serving", "--open", "--store", store, "--port", str(port)),
                *("--data-dir", str(data_dir)),
            ]
        node = shutil.which("node")
        if node is None:
            raise ServerStartError(
                "node is not installed: the reference server needs Node.js 18+ "
                "(https://nodejs.org), or pass --servers ours-memory,ours-sqlite"
            )
        command = [node, str(PEERS_DIR / "reference_server.mjs"), "--port", str(port)]
        if self.durable:
            command += ["--data-dir", str(data_dir / "reference")]
        return command


SERVERS: dict[str, ServerSpec] = {
    spec.name: spec
    for spec in (
        ServerSpec("ours-sqlite", "ours", durable=True),
        ServerSpec("reference-file", "reference", durable=True),
        ServerSpec("ours-memory", "ours", durable=False),
        ServerSpec("reference-memory", "reference", durable=False),
    )
}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def installed_version(folder: Path, package: str) -> str | None:
    """The version of ``package`` installed in ``folder``'s node_modules, if any."""
    manifest = folder / "node_modules" / package / "package.json"
    if not manifest.exists():
        return None
    return str(json.loads(manifest.read_text())["version"])


def ensure_installed(folder: Path, package: str, version: str, *, instead: str = "") -> None:
    """Install a pinned Node peer into ``folder`` with ``npm ci`` (its package-lock.json) if
    ``package`` is not there at ``version``; ``instead`` says what to do without npm."""
    if installed_version(folder, package) == version:
        return
    npm = shutil.which("npm")
    if npm is None:
        raise ServerStartError(
            f"npm is not installed: it is needed once to install {package} {version} "
            f"into {folder}{instead}"
        )
    print(f"installing {package} {version} with npm ci...", file=sys.stderr)
    install = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if install.returncode != 0 or installed_version(folder, package) != version:
        raise ServerStartError(
            f"npm ci in {folder} failed (is the npm registry reachable?):\n"
            f"{install.stdout}{install.stderr}"
        )


class RunningServer:
    """A started server process; stop it with ``stop()`` (or use it as a context manager)."""

    def __init__(self, spec: ServerSpec, *, startup_timeout: float = STARTUP_TIMEOUT) -> None:
        if spec.implementation == "reference":
            ensure_installed(PEERS_DIR, REFERENCE_PACKAGE, REFERENCE_VERSION)
        self.spec = spec
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._data_dir = tempfile.TemporaryDirectory(prefix=f"bench-{spec.name}-")
        data_dir = Path(self._data_dir.name)
        self._log_path = data_dir / "server.log"
        with self._log_path.open("wb") as log:
            self.process = subprocess.Popen(
                spec.command(self.port, data_dir),
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=data_dir,
            )
        try:
            self._wait_until_listening(startup_timeout)
        except BaseException:
            self.stop()
            raise

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        """What the server printed so far."""
        return self._log_path.read_text(errors="replace") if self._log_path.exists() else ""

    def cpu_seconds(self) -> float | None:
        """CPU time the server's live threads used so far, to the nanosecond; None off Linux.

        Read from /proc/PID/task/*/schedstat rather than /proc/PID/stat, whose 10 ms ticks are
        too coarse for short trials. Threads that already ended are not counted.
        """
        total = 0
        try:
            tasks = list(Path(f"/proc/{self.pid}/task").iterdir())
        except OSError:
            return None
        for task in tasks:
            try:
                total += int((task / "schedstat").read_text().split()[0])
            except (OSError, ValueError, IndexError):
                continue  # the thread ended while we looked
        return total / 1e9

    def stop(self) -> None:
        """Ask the server to stop (SIGTERM), kill it after 5 s, and delete its data."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._data_dir.cleanup()

    def _wait_until_listening(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerStartError(
                    f"{self.spec.name} exited with code {self.process.returncode} "
                    f"before listening:\n{self.log().strip()}"
                )
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise ServerStartError(
            f"{self.spec.name} did not listen on port {self.port} within {timeout:.0f} s:\n"
            f"{self.log().strip()}"
        )


def our_server_names(parser: argparse.ArgumentParser, servers: str) -> list[str]:
    """The ``--servers`` option of a benchmark that runs only our servers, checked."""
    names = [name.strip() for name in servers.split(",") if name.strip()]
    unknown = [name for name in names if name not in SERVERS or not name.startswith("ours")]
    if unknown:
        parser.error(
            f"unknown server(s) {', '.join(unknown)}; choose from ours-memory, ours-sqlite"
        )
    return names
