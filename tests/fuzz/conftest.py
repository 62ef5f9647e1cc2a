"""Fuzzing fixtures: one in-process server (demo agents and a real penguin model), and the
hypothesis budget.

``make test`` runs a short budget (the ``fuzz-quick`` profile); ``make fuzz`` sets
``FUZZ_PROFILE=fuzz-long`` for thousands of examples. Tests take the budget with
``@settings(settings.get_profile("fuzz"))``, so other test folders keep their own settings.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from starlette.testclient import TestClient

from course import recipes
from serving.app import create_app
from serving.config import ServerConfig
from serving.models import ModelRegistry
from serving.sessions.settings import SessionSettings
from serving.streams import MemoryStore
from serving.tokens import TokenSigner

_COMMON = {"deadline": None, "suppress_health_check": list(HealthCheck), "derandomize": False}
settings.register_profile("fuzz-quick", max_examples=25, **_COMMON)
settings.register_profile("fuzz-long", max_examples=2000, **_COMMON)
PROFILE = os.environ.get("FUZZ_PROFILE", "fuzz-quick")
settings.register_profile("fuzz", settings.get_profile(PROFILE))

SECRET = b"fuzz-tests-secret-0123456789abcdef"
ZERO = "0000000000000000_0000000000000000"


@pytest.fixture(scope="session")
def signer() -> TokenSigner:
    return TokenSigner(SECRET)


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("fuzz-models")
    recipes.train_penguin_model(directory)
    return directory


@pytest.fixture(scope="session")
def server(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The whole server in process: sessions, streams, the penguin model, secured by tokens."""
    config = ServerConfig(
        store_url="memory://",
        secret=SECRET,
        data_dir=tmp_path_factory.mktemp("fuzz-data"),
        long_poll_timeout=0.05,
        sse_max_seconds=0.05,
        sessions=SessionSettings(
            presence_grace_seconds=0.05,
            sse_max_seconds=0.05,
            client_rates={},  # one client creates thousands of sessions on purpose here
        ),
    )
    app = create_app(config, MemoryStore(), models=ModelRegistry.open(models_dir))
    with TestClient(app) as client:
        yield client


class Sessions:
    """Create sessions on the fuzz server and check that one is still whole."""

    def __init__(self, server: TestClient, signer: TokenSigner) -> None:
        self.server = server
        self.signer = signer

    def create(self) -> dict[str, Any]:
        token = self.signer.mint("sessions/*", ["create"])
        response = self.server.post("/v1/sessions", headers=_bearer(token))
        assert response.status_code == 201, response.text
        return response.json()

    def info(self, created: dict[str, Any]) -> dict[str, Any]:
        response = self.server.get(
            f"/v1/sessions/{created['id']}", headers=_bearer(created["tokens"]["read"])
        )
        assert response.status_code == 200, response.text
        return response.json()

    def command(self, created: dict[str, Any], **fields: Any) -> Any:
        return self.server.post(
            f"/v1/sessions/{created['id']}/commands?device=checker",
            headers=_bearer(created["tokens"]["control"]),
            json=fields,
        )

    def settle(self, created: dict[str, Any]) -> None:
        """Cancel every active run and wait until none is left (bounded)."""
        deadline = time.monotonic() + 10
        while runs := self.info(created)["runs"]:
            assert time.monotonic() < deadline, f"runs never ended: {runs}"
            for run in runs:
                if run["state"] == "running":
                    self.command(created, type="cancel", run=run["run"])
            time.sleep(0.02)

    def assert_still_works(self, created: dict[str, Any]) -> None:
        """A normal message still gets a whole answer, and the log is whole: offsets strictly
        increase, every run has exactly one ending, and the WebSocket and the Durable Stream
        views hold the same events."""
        self.settle(created)
        ack = self.command(
            created, type="send", data={"text": "still here"}, params={"speed": 1_000_000}
        )
        assert ack.status_code == 200, ack.text
        run = ack.json()["run"]
        deadline = time.monotonic() + 10
        while self.info(created)["runs"]:
            assert time.monotonic() < deadline, "the normal message never finished"
            time.sleep(0.01)
        events = self.log(created)
        offsets = [event["offset"] for event in events]
        assert offsets == sorted(set(offsets)), "offsets repeat or go backwards"
        endings: dict[str, int] = {}
        started = set()
        for event in events:
            if event["type"] == "run.started":
                started.add(event["run"])
            if event["type"].startswith("run.") and event["type"] != "run.started":
                endings[event["run"]] = endings.get(event["run"], 0) + 1
        assert started == set(endings), "a run without an ending, or an ending without a run"
        assert set(endings.values()) == {1}, f"a run with several endings: {endings}"
        final = [e for e in events if e["run"] == run and e["type"] == "run.completed"]
        assert final and final[0]["data"]["result"]["text"] == "still here"
        stream = self.server.get(
            f"/v1/stream/sessions/{created['id']}?offset=-1",
            headers=_bearer(created["tokens"]["read"]),
        )
        assert stream.status_code == 200, stream.text
        as_stream = stream.json()[: len(events)]  # presence may have been written since
        assert [{k: v for k, v in e.items() if k != "offset"} for e in events] == as_stream

    def log(self, created: dict[str, Any]) -> list[dict[str, Any]]:
        """The whole log, read over the WebSocket up to the session's last offset."""
        last = self.info(created)["offset"]
        url = f"/v1/sessions/{created['id']}/ws?access_token={created['tokens']['read']}"
        events: list[dict[str, Any]] = []
        with self.server.websocket_connect(url) as ws:
            ws.send_text(json.dumps({"type": "subscribe", "id": "s", "from": "start"}))
            while last != ZERO and (not events or events[-1]["offset"] < last):
                for item in json.loads(ws.receive_text()):
                    if "session" in item:
                        events.append(item)
        return events


def _bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


@pytest.fixture(scope="session")
def sessions(server: TestClient, signer: TokenSigner) -> Sessions:
    return Sessions(server, signer)
