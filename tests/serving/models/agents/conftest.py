"""An in-process server with the model agents, and a small WebSocket driver for the tests."""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient, WebSocketTestSession

from serving.app import create_app
from serving.background import BackgroundServer
from serving.client import AsyncSessionClient, Backoff
from serving.config import ServerConfig
from serving.models import ModelRegistry
from serving.sessions import Event, SessionSettings
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
        client: TestClient,
        device: str = "laptop",
        join: SessionDriver | None = None,
        operate: bool = False,
    ) -> SessionDriver:
        """A new session on ``client``, or a second device on the session ``join``;
        ``operate``: connected with an operator's token (``retrain`` needs it), not the
        session's own control token."""
        if join is None:
            token = signer.mint("sessions/*", ["create"])
            response = client.post("/v1/sessions", headers={"authorization": f"Bearer {token}"})
            assert response.status_code == 201, response.text
            created = response.json()
        else:
            created = join.created
        token = created["tokens"]["control"]
        if operate:
            scopes = ["read", "write", "control", "operate"]
            token = signer.mint(f"sessions/{created['id']}", scopes)
        url = f"/v1/sessions/{created['id']}/ws?device={device}&access_token={token}"
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


# --- a real server on 127.0.0.1, for the tests that go through serving.client ------------------

CREATE_TOKEN = TokenSigner(SECRET).mint("sessions/*", ["create"])
FAST_BACKOFF = Backoff(initial=0.02, maximum=0.3)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def start_live_server(registry: ModelRegistry, data_dir: Path) -> BackgroundServer:
    config = ServerConfig(
        store_url="memory://",
        secret=SECRET,
        data_dir=data_dir,
        sessions=SessionSettings(presence_grace_seconds=0.2),
    )
    return BackgroundServer(config, store=MemoryStore(), models=registry)


class LiveSessions:
    """Clients of serving.client on a real server: connect, follow a run, cut the network."""

    def __init__(self, server: BackgroundServer) -> None:
        self.server = server
        self.clients: list[AsyncSessionClient] = []

    async def connect(
        self, device: str, join: AsyncSessionClient | None = None, token: str | None = None
    ):
        """A client on a new session, or a second device on the session of ``join`` (with
        ``token``, else the session's control token)."""
        if join is None:
            client = await AsyncSessionClient.create(
                self.server.url, token=CREATE_TOKEN, device=device, backoff=FAST_BACKOFF
            )
        else:
            assert join.created is not None
            client = AsyncSessionClient(
                join.created["url"],
                token=token or join.created["tokens"]["control"],
                device=device,
                backoff=FAST_BACKOFF,
            )
            await client.connect()
        self.clients.append(client)
        return client

    @staticmethod
    async def run_events(client: AsyncSessionClient, run: str, on_event=None) -> list[Event]:
        """Every event of ``run`` up to its ending; ``on_event(event, so_far)`` sees each."""
        events: list[Event] = []
        async with asyncio.timeout(60):
            while True:
                event = await client.next_event()
                if event.run != run:
                    continue
                events.append(event)
                if on_event is not None:
                    on_event(event, events)
                if event.ends_run:
                    return events

    @staticmethod
    def drop(client: AsyncSessionClient) -> None:
        """The network goes away under the client (it reconnects and resumes by itself)."""
        if client._ws is not None:
            client._ws.transport.abort()

    @staticmethod
    def assert_once_in_order(events: list[Event]) -> None:
        offsets = [event.offset for event in events]
        assert offsets == sorted(offsets) and len(set(offsets)) == len(offsets)

    async def aclose(self) -> None:
        for client in self.clients:
            await client.close()


@pytest.fixture(scope="module")
def live_server(registry, tmp_path_factory) -> Iterator[BackgroundServer]:
    """A real server on 127.0.0.1 over the session-wide registry."""
    with start_live_server(registry, tmp_path_factory.mktemp("data")) as server:
        yield server


@pytest.fixture
async def live(live_server) -> AsyncIterator[LiveSessions]:
    sessions = LiveSessions(live_server)
    yield sessions
    await sessions.aclose()


@pytest.fixture
async def make_live(tmp_path) -> AsyncIterator[Callable[[ModelRegistry], LiveSessions]]:
    """Real servers over registries of their own (for agents that add versions)."""
    built: list[LiveSessions] = []

    def build(registry: ModelRegistry) -> LiveSessions:
        server = start_live_server(registry, tmp_path / f"live-{len(built)}")
        server.start()
        built.append(LiveSessions(server))
        return built[-1]

    yield build
    for sessions in built:
        await sessions.aclose()
        sessions.server.stop()
