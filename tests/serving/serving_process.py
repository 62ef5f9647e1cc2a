"""``python -m serving`` as a user runs it, for the tests that need the real command.

Started with its arguments, its standard output read line by line (in a thread: the process
must never block on a full pipe) until the test says it is ready, stopped at the end with
Ctrl-C, as a user stops ``make serve``. Its log goes to a file for the failure message.
"""

from __future__ import annotations

import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

START_SECONDS = 120  # the first start may train the default model; a loaded CI machine is slow


def page_printed(printed: list[str]) -> bool:
    """Ready once the server printed "The page: <address>" (it really listens then)."""
    return any(line.startswith("The page: ") for line in printed)


def page_address(printed: list[str]) -> str:
    return next(line.split()[2] for line in printed if line.startswith("The page: "))


@contextmanager
def serving_process(
    arguments: list[str],
    log: Path,
    *,
    ready: Callable[[list[str]], bool] = page_printed,
    timeout: float = START_SECONDS,
    python: str | Path = sys.executable,
    cwd: Path | None = None,
) -> Iterator[list[str]]:
    """Run ``python -m serving ARGUMENTS``; yield the lines it printed until ``ready(lines)``
    (asked after each line, and every half second without one). ``python`` and ``cwd``: another
    environment's interpreter, another working folder (the installed wheel's test)."""
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [str(python), "-m", "serving", *arguments],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            cwd=cwd,
        )
    assert process.stdout is not None
    output = process.stdout
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in output], daemon=True).start()
    printed: list[str] = []
    try:
        deadline = time.monotonic() + timeout
        while not ready(printed):
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "".join(printed) + log.read_text()
            try:
                printed.append(lines.get(timeout=0.5))
            except queue.Empty:
                continue
        yield printed
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
