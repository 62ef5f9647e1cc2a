"""``make serve``: the default model trained once, the page's address printed once it answers.

These tests run ``python -m serving --train-default-model`` (what ``make serve`` runs) as a
real process on a free port, with a temporary models folder and SQLite store.
"""

from __future__ import annotations

import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx
import pytest

from serving.launch import ensure_default_model, page_url
from serving.tokens import SECRET_ENV

START_SECONDS = 120  # a first start trains a model; a loaded CI machine is slow


@pytest.fixture(autouse=True)
def no_secret_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SECRET_ENV, raising=False)


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:8000/"),
        ("0.0.0.0", "http://127.0.0.1:8000/"),
        ("::", "http://127.0.0.1:8000/"),
        ("::1", "http://[::1]:8000/"),
        ("localhost", "http://localhost:8000/"),
        ("192.168.1.10", "http://192.168.1.10:8000/"),
    ],
)
def test_page_url(host: str, url: str) -> None:
    assert page_url(host, 8000) == url


def test_an_exported_default_model_is_not_trained_again(tmp_path: Path) -> None:
    version = tmp_path / "penguin-classifier" / "4"
    version.mkdir(parents=True)
    (version / "card.json").write_text("{}")
    assert ensure_default_model(tmp_path) is None
    assert [path.name for path in (tmp_path / "penguin-classifier").iterdir()] == ["4"]


class Served:
    """A running ``python -m serving``: its page URL, and its output so far."""

    def __init__(self, process: subprocess.Popen[str], url: str, stdout: list[str]) -> None:
        self.process = process
        self.url = url
        self.stdout = stdout

    def stop(self) -> tuple[int, str]:
        """Ctrl-C, as a user would; the exit code and everything written to stderr."""
        self.process.send_signal(signal.SIGINT)
        _, stderr = self.process.communicate(timeout=30)
        return self.process.returncode, stderr


@contextmanager
def serve(*flags: str) -> Iterator[Served]:
    """``python -m serving FLAGS --port 0``, until it prints the page's address."""
    process = subprocess.Popen(
        [sys.executable, "-m", "serving", "--port", "0", *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None
    threading.Thread(
        target=lambda: [lines.put(line) for line in process.stdout], daemon=True
    ).start()
    stdout: list[str] = []
    try:
        deadline = time.monotonic() + START_SECONDS
        while not any(line.startswith("The page: ") for line in stdout):
            assert process.poll() is None, process.communicate()[1]
            assert time.monotonic() < deadline, "the server did not print its page's address"
            with suppress(queue.Empty):
                stdout.append(lines.get(timeout=0.5))
        url = stdout[-1].split()[2]
        yield Served(process, url, stdout)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.mark.slow
def test_make_serve_trains_once_serves_the_page_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    models = tmp_path / "models"
    flags = (
        "--train-default-model",
        "--models",
        str(models),
        "--data-dir",
        str(tmp_path / "data"),
        "--store",
        f"sqlite:///{tmp_path / 'data' / 'streams.db'}",
    )
    with serve(*flags) as first:
        # The address is printed once the server listens: it answers at once.
        page = httpx.get(first.url)
        assert page.status_code == 200 and "Ask the model" in page.text
        create = httpx.post(f"{first.url}web/token").json()["create"]
        session = httpx.post(
            f"{first.url}v1/sessions", headers={"authorization": f"Bearer {create}"}
        ).json()
        # The catalog is read with a session's token, as the page does.
        read = {"authorization": f"Bearer {session['tokens']['read']}"}
        listed = httpx.get(f"{first.url}v1/models", headers=read).json()["models"]
        assert [(model["name"], model["latest"]) for model in listed] == [
            ("penguin-classifier", "1")
        ]
        code, stderr = first.stop()
    assert code == 0, stderr
    assert "training the course's default model" in stderr
    assert "Trained and exported" in stderr and "Stopped." in stderr
    assert "Traceback" not in stderr
    assert [path.name for path in (models / "penguin-classifier").iterdir()] == ["1"]

    with serve(*flags) as second:
        # The same model, not trained again; the session survived in the SQLite store.
        info = httpx.get(
            session["url"].replace(first.url, second.url),
            headers={"authorization": f"Bearer {session['tokens']['read']}"},
        )
        assert info.status_code == 200
        code, stderr = second.stop()
    assert code == 0, stderr
    assert "training" not in stderr
    assert "Models from" in stderr and "penguin-classifier (version 1)" in stderr
    assert [path.name for path in (models / "penguin-classifier").iterdir()] == ["1"]


@pytest.mark.slow
def test_a_taken_port_is_said_plainly(tmp_path: Path) -> None:
    flags = ("--store", "memory://", "--data-dir", str(tmp_path), "--models", str(tmp_path))
    with serve(*flags) as running:
        port = running.url.rsplit(":", 1)[1].strip("/")
        taken = subprocess.run(
            [sys.executable, "-m", "serving", *flags, "--port", port],
            capture_output=True,
            text=True,
            timeout=60,
        )
        running.stop()
    assert taken.returncode == 1
    assert "The page" not in taken.stdout  # never announce a server that is not there
    assert f"serving: port {port} is taken" in taken.stderr  # tests/serving/test_startup.py
    assert "Traceback" not in taken.stderr
