"""Promote and roll back across two server processes on one real redis-server.

Two ``python -m serving`` processes share a models folder (the penguin classifier in versions
1 and 2), a secret and a Redis store, as a course server with several workers does. A promote
or a rollback sent to one is written into the model's control log (``models/<name>/control``)
and followed by the other (serving.models.live), so both serve the same live version; a run
already under way on one finishes on the version it started with; a request can pin a version;
a session's own tokens are refused; the prediction records say which version answered.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from benchmarks.redis_server import RedisServer, redis_server_path
from course import recipes
from serving.tokens import TokenSigner
from tests.serving.serving_process import page_address, serving_process

pytestmark = [
    pytest.mark.timeout(300),
    pytest.mark.skipif(redis_server_path() is None, reason="redis-server is not installed"),
]

PENGUIN = "penguin-classifier"
SECRET = "promote-redis-tests-secret-0123456789"
SIGNER = TokenSigner(SECRET.encode())
OPERATOR = {"authorization": f"Bearer {SIGNER.mint('models/*', ['operate'])}"}
READER = {"authorization": f"Bearer {SIGNER.mint('models/*', ['read'])}"}
SEEN_SECONDS = 30  # bounded waits for the other process (it is told at once; the box is shared)


@pytest.fixture(scope="module")
def two_processes(
    tmp_path_factory: pytest.TempPathFactory, redis_server: RedisServer
) -> Iterator[tuple[str, str]]:
    folder = tmp_path_factory.mktemp("promote")
    models = folder / "models"
    recipes.train_penguin_model(models)
    recipes.train_penguin_model(models)  # version 2
    store = f"{redis_server.url}?prefix=promote-{uuid.uuid4().hex[:8]}:"
    os.environ["SERVING_SECRET"] = SECRET  # the children inherit it
    try:
        with (
            serving_process(_arguments(folder, models, store, "a"), folder / "a.log") as a,
            serving_process(_arguments(folder, models, store, "b"), folder / "b.log") as b,
        ):
            yield page_address(a).rstrip("/"), page_address(b).rstrip("/")
    finally:
        os.environ.pop("SERVING_SECRET", None)


def _arguments(folder: Path, models: Path, store: str, name: str) -> list[str]:
    return [
        "--port", "0", "--store", store, "--models", str(models),
        "--data-dir", str(folder / f"data-{name}"),
    ]  # fmt: skip


def _bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def live(url: str) -> str:
    response = httpx.get(f"{url}/v1/models/{PENGUIN}", headers=READER)
    assert response.status_code == 200, response.text
    return str(response.json()["live"])


def wait_for(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + SEEN_SECONDS
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


class Session:
    """A session on the two processes: commands to either, events read from either."""

    def __init__(self, url: str) -> None:
        create = _bearer(SIGNER.mint("sessions/*", ["create"]))
        response = httpx.post(f"{url}/v1/sessions", headers=create)
        assert response.status_code == 201, response.text
        self.created: dict[str, Any] = response.json()
        self.id = self.created["id"]

    def send(self, url: str, data: dict[str, Any], **params: Any) -> str:
        command = {"type": "send", "agent": "predict", "data": data, "params": params}
        response = httpx.post(
            f"{url}/v1/sessions/{self.id}/commands",
            headers=_bearer(self.created["tokens"]["write"]),
            json=command,
        )
        assert response.status_code == 200, response.text
        return str(response.json()["run"])

    def steer(self, url: str, run: str, **params: Any) -> None:
        response = httpx.post(
            f"{url}/v1/sessions/{self.id}/commands",
            headers=_bearer(self.created["tokens"]["control"]),
            json={"type": "steer", "run": run, "params": params},
        )
        assert response.status_code == 200, response.text

    def events(self, url: str, run: str) -> list[dict[str, Any]]:
        response = httpx.get(
            f"{url}/v1/stream/sessions/{self.id}?offset=-1",
            headers=_bearer(self.created["tokens"]["read"]),
        )
        assert response.status_code == 200, response.text
        return [event for event in response.json() if event.get("run") == run]

    def wait(self, url: str, run: str, kind: str) -> dict[str, Any]:
        """The run's first event of type ``kind`` (a bounded wait)."""
        found: list[dict[str, Any]] = []

        def arrived() -> bool:
            found[:] = [event for event in self.events(url, run) if event["type"] == kind]
            return bool(found)

        wait_for(arrived, f"run {run} wrote no {kind}")
        return found[0]

    def version(self, url: str, **request: Any) -> str:
        """The version that answered a predict sent to ``url``."""
        run = self.send(url, {"model": PENGUIN, "row": recipes.PENGUIN_EXAMPLE, **request})
        prediction = self.wait(url, run, "prediction")
        return str(prediction["data"]["version"])


def test_promote_and_rollback_reach_both_processes_and_a_run_in_flight_keeps_its_version(
    two_processes: tuple[str, str],
) -> None:
    a, b = two_processes
    assert live(a) == live(b) == "2"  # never promoted: the newest
    session = Session(a)
    slow = session.send(a, {"model": PENGUIN, "row": recipes.PENGUIN_EXAMPLE}, speed=0.2)
    assert session.wait(a, slow, "prediction")["data"]["version"] == "2"

    promoted = httpx.post(
        f"{b}/v1/models/{PENGUIN}/promote", json={"version": "1"}, headers=OPERATOR
    )
    assert promoted.status_code == 200, promoted.text
    assert live(b) == "1"  # the process that wrote it: at once
    wait_for(lambda: live(a) == "1", "process a never saw the promote written by b")
    assert session.version(a) == session.version(b) == "1"
    assert session.version(a, version="2") == "2"  # a pinned request

    # the run that started on version 2 before the promote finishes on version 2
    session.steer(a, slow, speed=1000)
    completed = session.wait(a, slow, "run.completed")
    assert completed["data"]["result"]["version"] == "2"

    rolled = httpx.post(f"{a}/v1/models/{PENGUIN}/rollback", headers=OPERATOR)
    assert rolled.status_code == 200, rolled.text
    assert rolled.json()["version"] == "2"
    wait_for(lambda: live(b) == "2", "process b never saw the rollback written by a")
    assert session.version(b) == "2"

    # the records, read through the Durable Streams API of either process, say who answered
    def records() -> list[dict[str, Any]]:
        log = httpx.get(f"{b}/v1/stream/models/{PENGUIN}/predictions?offset=-1", headers=READER)
        assert log.status_code == 200, log.text
        return [r for r in log.json() if r["kind"] == "prediction"]

    wait_for(lambda: len(records()) == 5, "the five predictions' records never all arrived")
    by_run = {r["run"]: r["version"] for r in records()}
    assert by_run[slow] == "2"
    assert sorted(by_run.values()) == ["1", "1", "2", "2", "2"]
    control = httpx.get(f"{a}/v1/stream/models/{PENGUIN}/control?offset=-1", headers=READER)
    assert [(r["kind"], r["version"]) for r in control.json()] == [
        ("promote", "1"),
        ("rollback", "2"),
    ]


def test_session_tokens_are_refused_and_change_nothing(two_processes: tuple[str, str]) -> None:
    a, b = two_processes
    session = Session(b)
    before = live(a)
    for kind in ("write", "control"):
        headers = _bearer(session.created["tokens"][kind])
        refused = httpx.post(
            f"{b}/v1/models/{PENGUIN}/promote", json={"version": "1"}, headers=headers
        )
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"]["code"] == "FORBIDDEN"
        rolled = httpx.post(f"{a}/v1/models/{PENGUIN}/rollback", headers=headers)
        assert rolled.status_code == 403, rolled.text
    assert live(a) == live(b) == before
