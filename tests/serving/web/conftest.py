"""Fixtures for the browser tests: Debian's Chromium, and the server as ``make serve`` runs it."""

from __future__ import annotations

import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
START_SECONDS = 120  # the first start trains the model; a loaded CI machine is slow


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Chromium driven by Playwright (Playwright's own browser download cannot work offline)."""
    if not CHROMIUM.exists():
        pytest.skip(
            f"no {CHROMIUM}: the browser tests need Debian's chromium (apt install chromium)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``python -m serving --train-default-model`` on a free port, as ``make serve`` runs it."""
    folder = tmp_path_factory.mktemp("served")
    log = folder / "server.log"  # a file, not a pipe: a full pipe would block the server
    command = [sys.executable, "-m", "serving", "--train-default-model", "--port", "0"]
    command += ["--models", str(folder / "models"), "--data-dir", str(folder / "data")]
    command += ["--store", f"sqlite:///{folder / 'data' / 'streams.db'}"]
    with log.open("w") as stderr:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, text=True)
    assert process.stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(
        target=lambda: [lines.put(line) for line in process.stdout], daemon=True
    ).start()
    try:
        deadline = time.monotonic() + START_SECONDS
        line = ""
        while not line.startswith("The page: "):
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the server did not print its page's address"
            with suppress(queue.Empty):
                line = lines.get(timeout=0.5)
        yield line.split()[2]
    finally:
        process.send_signal(signal.SIGINT)  # Ctrl-C, as a user stops make serve
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
