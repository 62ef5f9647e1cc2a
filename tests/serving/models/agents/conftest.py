"""An in-process server with the model agents, and a small WebSocket driver for the tests."""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient, WebSocketTestSession

from serving.app import create_app
from serving.config import ServerConfig
from serving.models import ModelRegistry
from serving.sessions import SessionSettings
from serving.streams import MemoryStore
from serving.tokens import TokenSigner

SECRET = b"model-agent-tests-secret-0123456789"


def build_client(registry: ModelRegistry, data_dir: Path) -> TestClient:
    config = ServerConfig(
        store_url="memory://",
        secret=SECRET,
        data_dir=data_dir,
        sessions=SessionSettings(presence_grace_seconds=0.05),
    )
    return TestClient(create_app(config, MemoryStore(), models=registry))


class SessionDriver:
    """One session, followed over one WebSocket: send, steer, cancel, read a run's events."""

    def __init__(self, client: TestClient, created: dict[str, Any], ws: WebSocketTestSession):
        self.client = client
        self.created = created
        self.ws = ws
        self._unread: deque[dict[str, Any]] = deque()
        self._count = 0

    @property
    def id(self) -> str:
        return self.created["id"]

    def token(self, scope: str = "control") -> str:
        return self.created["tokens"][scope]

    def command(self, **fields: Any) -> dict[str, Any]:
        """Send a command; return its reply (events read meanwhile stay unread)."""
        self._count += 1
        command_id = f"c{self._count}"
        self.ws.send_text(json.dumps({"id": command_id, **fields}))
        skipped = []
        while True:
            item = self._next()
            if item.get("id") == command_id and "session" not in item:
                self._unread.extendleft(reversed(skipped))
                return item
            skipped.append(item)

    def send(self, agent: str, data: dict[str, Any], **params: Any) -> str:
        """Start a run of ``agent``; return the run id."""
        reply = self.command(type="send", agent=agent, data=data, params=params)
        assert reply["type"] == "ack", reply
        return reply["run"]

    def events(self, run: str, until: Callable[[dict[str, Any]], bool] | None = None) -> list:
        """The run's events, up to its ending (or up to the first event ``until`` accepts)."""
        until = until or (
            lambda event: event["type"].startswith("run.") and event["type"] != "run.started"
        )
        found = []
        while True:
            item = self._next()
            if item.get("run") != run or "session" not in item:
                continue
            found.append(item)
            if until(item):
                return found

    def _next(self) -> dict[str, Any]:
        if not self._unread:
            frame = json.loads(self.ws.receive_text())
            self._unread.extend(frame)
        return self._unread.popleft()


@pytest.fixture
def signer() -> TokenSigner:
    return TokenSigner(SECRET)


@pytest.fixture
def make_server(tmp_path) -> Iterator[Callable[[ModelRegistry], TestClient]]:
    clients: list[TestClient] = []

    def build(registry: ModelRegistry) -> TestClient:
        client = build_client(registry, tmp_path / "data")
        client.__enter__()
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def server(make_server, registry) -> TestClient:
    """A server over the session-wide registry (for agents that do not add versions)."""
    return make_server(registry)


@pytest.fixture
def open_session(signer) -> Iterator[Callable[[TestClient], SessionDriver]]:
    sockets = []

    def open_on(
        client: TestClient, device: str = "laptop", join: SessionDriver | None = None
    ) -> SessionDriver:
        """A new session on ``client``, or a second device on the session ``join``."""
        if join is None:
            token = signer.mint("sessions/*", ["create"])
            response = client.post("/v1/sessions", headers={"authorization": f"Bearer {token}"})
            assert response.status_code == 201, response.text
            created = response.json()
        else:
            created = join.created
        url = (
            f"/v1/sessions/{created['id']}/ws?device={device}"
            f"&access_token={created['tokens']['control']}"
        )
        context = client.websocket_connect(url)
        ws = context.__enter__()
        sockets.append(context)
        driver = SessionDriver(client, created, ws)
        assert driver.command(type="subscribe", **{"from": "start"})["type"] == "ack"
        return driver

    yield open_on
    for context in sockets:
        context.__exit__(None, None, None)


@pytest.fixture
def session(server, open_session) -> SessionDriver:
    return open_session(server)
