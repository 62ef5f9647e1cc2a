"""Start-up failures, as a learner meets them: one line with the fix, no traceback, status 1.

Each failure is real: a socket listening on the port, a SQLite file locked by a store open in
this process, a Redis port nobody listens on, a real redis-server refusing a password.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.redis_server import RedisServer
from serving.startup import (
    QUIET_TENSORFLOW,
    port_problem,
    quiet_tensorflow,
    redis_problem,
    shown_url,
)
from serving.streams.sqlite import SQLiteStore


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_serving(tmp_path: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    """``python -m serving`` with no models, expected to give up before it listens."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "serving",
            "--models",
            str(tmp_path / "no-models"),
            "--data-dir",
            str(tmp_path / "data"),
            *flags,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )


def the_one_line(finished: subprocess.CompletedProcess[str]) -> str:
    """The failure's line; asserts it is the only one from serving, with no traceback."""
    assert finished.returncode == 1, finished.stderr
    assert "Traceback" not in finished.stderr and "The page" not in finished.stdout
    lines = [line for line in finished.stderr.splitlines() if line.startswith("serving: ")]
    assert len(lines) == 1, finished.stderr
    assert finished.stderr.rstrip().endswith(lines[0])  # the last word, nothing after it
    return lines[0].removeprefix("serving: ")


def test_a_taken_port_names_the_port_variable(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        line = the_one_line(start_serving(tmp_path, "--store", "memory://", "--port", str(port)))
    assert line.startswith(f"port {port} is taken (another server is running there")
    suggested = int(line.split("make serve PORT=")[1].split(" ")[0])
    assert suggested > port and f"(or serving --port {suggested})" in line


def test_port_problem_is_none_for_a_free_port_and_port_zero() -> None:
    assert port_problem("127.0.0.1", _free_port()) is None
    assert port_problem("127.0.0.1", 0) is None
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        assert f"port {port} is taken" in (port_problem("127.0.0.1", port) or "")
        assert f"port {port} is taken" in (port_problem("localhost", port) or "")


def test_a_host_that_is_not_this_computers_is_said(tmp_path: Path) -> None:
    line = port_problem("192.0.2.1", _free_port())  # TEST-NET-1: never a local address
    assert line == (
        "192.0.2.1 is not an address of this computer: use --host 127.0.0.1 (this computer "
        "only) or --host 0.0.0.0 (other devices too)"
    )


def test_a_sqlite_file_held_by_another_server_names_the_store_flag(tmp_path: Path) -> None:
    database = tmp_path / "streams.db"
    holder = SQLiteStore(database)  # as a first server holds it
    try:
        finished = start_serving(
            tmp_path, "--store", f"sqlite:///{database}", "--port", str(_free_port())
        )
    finally:
        asyncio.run(holder.aclose())
    assert the_one_line(finished) == (
        f"{database} is already used by another server: stop it, or use another store with "
        "--store sqlite:///other.db"
    )


def test_an_unreachable_redis_says_which_url_and_how_to_start_it(tmp_path: Path) -> None:
    port = _free_port()  # nothing listens there
    url = f"redis://127.0.0.1:{port}/0"
    line = the_one_line(start_serving(tmp_path, "--store", url, "--port", str(_free_port())))
    assert line == (
        f"cannot reach Redis at {url} (connection refused: nothing listens there): start it "
        f"with: redis-server --port {port}; or run make serve without --store redis://... to "
        "keep the streams in SQLite (data/streams.db)"
    )


def test_a_redis_refusing_the_password_is_told_apart_and_hides_it(
    redis_server: RedisServer,
) -> None:
    assert redis_problem(redis_server.url) is None
    wrong_user = redis_server.url.replace("redis://", "redis://bob:hunter2@")
    line = redis_problem(wrong_user) or ""
    assert line.startswith(f"Redis at {shown_url(wrong_user)} refused the connection (WRONGPASS")
    assert line.endswith(
        "check the user, password and database number in the --store URL "
        "(redis://user:password@host:port/0)"
    )
    assert "hunter2" not in line and "bob:***@" in line


def test_the_store_options_of_a_redis_url_pass_and_a_bad_one_is_one_line(
    redis_server: RedisServer,
) -> None:
    assert redis_problem(f"{redis_server.url}?prefix=app-1:&idle_seconds=none") is None
    line = redis_problem(f"{redis_server.url}?prefx=app-1:") or ""
    assert line.startswith(f"the --store URL {redis_server.url}?prefx=app-1: is not one")
    assert "prefx" in line and "\n" not in line


def test_shown_url_hides_only_the_password() -> None:
    assert shown_url("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"
    assert shown_url("redis://:pw@host:6380/1") == "redis://:***@host:6380/1"
    assert shown_url("rediss://me:pw@[::1]/0?x=1") == "rediss://me:***@[::1]/0?x=1"


def test_quiet_tensorflow_keeps_what_the_user_set() -> None:
    environ = {"TF_CPP_MIN_LOG_LEVEL": "0"}
    quiet_tensorflow(environ)
    assert environ == {"TF_CPP_MIN_LOG_LEVEL": "0", "TF_ENABLE_ONEDNN_OPTS": "0"}
    environ = {}
    quiet_tensorflow(environ)
    assert environ == QUIET_TENSORFLOW


EXPORT_A_KERAS_MODEL = """
import sys
import keras
import numpy as np
import pandas as pd
from course.export import export_model
keras.utils.set_random_seed(0)
X = pd.DataFrame({"a": np.linspace(0, 1, 40), "b": np.linspace(1, 0, 40)})
y = (X["a"] > 0.5).astype(int).to_numpy()
model = keras.Sequential(
    [keras.Input((2,)), keras.layers.Dense(4), keras.layers.Dense(2, activation="softmax")]
)
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.fit(X.to_numpy(), y, epochs=1, verbose=0)
export_model(model, X, y, name="tiny-net", models_dir=sys.argv[1])
"""


@pytest.mark.slow
def test_the_server_silences_tensorflows_cpp_log(tmp_path: Path) -> None:
    """A real server, started without the TF_* variables, predicts with a Keras model: its
    stderr holds none of TensorFlow's C++ lines (oneDNN, CPU features, absl)."""
    pytest.importorskip("keras", reason="TensorFlow/Keras is not installed: pip install -e '.[tf]'")
    from serving.client import SessionClient

    models = tmp_path / "models"
    quiet = {**os.environ, **QUIET_TENSORFLOW}
    subprocess.run([sys.executable, "-c", EXPORT_A_KERAS_MODEL, str(models)], env=quiet, check=True)
    loud = {key: value for key, value in os.environ.items() if key not in QUIET_TENSORFLOW}
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "serving",
            "--open",
            "--store",
            "memory://",
            "--port",
            str(port),
            "--models",
            str(models),
            "--data-dir",
            str(tmp_path / "data"),
        ],
        env=loud,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        assert "The page" in server.stdout.readline()  # printed once it listens
        client = SessionClient.create(f"http://127.0.0.1:{port}", device="test")
        try:
            run = client.send({"model": "tiny-net", "row": {"a": 0.9, "b": 0.1}}, agent="predict")
            answer = client.wait_for_answer(run.run, timeout=120)
        finally:
            client.close()
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=30)
    assert answer.status == "completed", answer
    for noise in ("oneDNN", "cpu_feature_guard", "absl", "I0000", "tensorflow/core"):
        assert noise not in stderr, stderr
