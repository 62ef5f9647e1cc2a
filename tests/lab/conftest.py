"""A real JupyterLab 4 and a real Chromium, for the tests of what a learner sees.

One JupyterLab server for the whole session (it takes about 3 s to start, a kernel about 2 s),
on a free port, serving a temporary folder that holds learner versions built from the current
solution notebooks (``course.exercises.build``), not the committed ``notebooks/learner/``: other
people rebuild those, and the tests must not depend on when. Everything JupyterLab writes
(runtime files, workspaces, settings, IPython's history) goes under the session's temporary
folder, never into the repository or the home folder.

Two settings make the page testable: ``windowingMode: none`` (JupyterLab 4 otherwise leaves
the cells outside the viewport out of the page, so "no traceback in any output area" could not
be seen), and no news or update check (its pop-up would cover the notebook, and it reaches the
network).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from course import exercises

ROOT = Path(__file__).resolve().parents[2]
JUPYTER = Path(sys.executable).with_name("jupyter")
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
NOTEBOOKS = ("04_split_and_build.ipynb", "11_ship_it.ipynb")
START_SECONDS = 90
SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}


@dataclass(frozen=True)
class Lab:
    """A running JupyterLab: its address, token and the folder it serves."""

    url: str
    token: str
    root: Path
    log: Path

    def page(self, path: str) -> str:
        """The address that opens ``path`` (relative to ``root``) in JupyterLab."""
        return f"{self.url}/lab/tree/{path}?token={self.token}"

    def api(self, path: str, data: object = None, *, base: str = "api") -> object:
        """A call of the server's REST API (PUT with ``data``, else GET); its JSON answer.
        ``base="lab/api"``: JupyterLab's own (its settings)."""
        body = None if data is None else json.dumps(data).encode()
        request = urllib.request.Request(
            f"{self.url}/{base}/{path}",
            data=body,
            method="GET" if data is None else "PUT",
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read() or b"null")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _log_tail(log: Path) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-30:]) if log.exists() else ""


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """``jupyter lab`` as ``make lab`` runs it, on learner notebooks 04 and 11."""
    pytest.importorskip("jupyterlab", reason="no lab extra: pip install -e '.[lab]'")
    if not JUPYTER.exists():
        pytest.skip(f"no {JUPYTER}: install the lab extra in the environment running pytest")
    home = tmp_path_factory.mktemp("lab")
    root = home / "my-notebooks"
    exercises.build([ROOT / "notebooks" / name for name in NOTEBOOKS], root)
    settings = home / "user-settings"
    for name, values in SETTINGS.items():
        (settings / name).parent.mkdir(parents=True, exist_ok=True)
        (settings / name).write_text(json.dumps(values))
    env = {
        **os.environ,
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_DATA_DIR": str(home / "data"),
        "IPYTHONDIR": str(home / "ipython"),
    }
    port, token = free_port(), "course-lab-tests"
    command = [
        str(JUPYTER), "lab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
        f"--ServerApp.token={token}", f"--ServerApp.root_dir={root}",
        f"--LabApp.workspaces_dir={home / 'workspaces'}",
        f"--LabApp.user_settings_dir={settings}",
    ]
    if os.geteuid() == 0:  # containers, Codespaces: JupyterLab refuses root without it
        command.append("--allow-root")
    log = home / "jupyter.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            command, cwd=home, env=env, stdout=output, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    served = Lab(f"http://127.0.0.1:{port}", token, root, log)
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail(f"jupyter lab exited with {process.returncode}:\n{_log_tail(log)}")
            try:
                served.api("status")
                break
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline:
                    pytest.fail(f"jupyter lab did not answer in {START_SECONDS} s:\n"
                                f"{_log_tail(log)}")
                time.sleep(0.3)
        yield served
    finally:
        process.send_signal(signal.SIGTERM)  # shuts its kernels down, then exits
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        shutil.rmtree(home / "runtime", ignore_errors=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's Chromium driven by Playwright (Playwright's own download cannot work offline).

    Module-scoped, never session-scoped: while Playwright's sync API runs, this thread has a
    running event loop, and every asyncio test collected after this module would fail with
    "using Playwright Sync API inside the asyncio loop" (seen in CI: 376 errors)."""
    if not CHROMIUM.exists():
        pytest.skip(f"no {CHROMIUM}: the JupyterLab tests need Debian's chromium "
                    "(apt install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()
