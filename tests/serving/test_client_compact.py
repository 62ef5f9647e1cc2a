"""The Python client reads compact deltas (protocol v1.1) and still works with a server that
does not know them: its callers get the same events either way."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from websockets.sync.client import connect

from serving.background import BackgroundServer
from serving.client import AsyncSessionClient
from serving.config import ServerConfig
from serving.sessions import Event, commands
from serving.streams import MemoryStore


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def server() -> Iterator[BackgroundServer]:
    config = ServerConfig(store_url="memory://", open_access=True)
    with BackgroundServer(config, store=MemoryStore()) as running:
        yield running


def full_events(server: BackgroundServer, session: str, count: int) -> list[Event]:
    """The first ``count`` events of the session, read in full by a raw WebSocket."""
    url = "ws" + server.url.removeprefix("http") + f"/v1/sessions/{session}/ws?device=raw"
    events: list[Event] = []
    with connect(url, max_size=None) as ws:
        ws.send(json.dumps({"type": "subscribe", "id": "s", "from": "start"}))
        while len(events) < count:
            items = json.loads(ws.recv(timeout=30))
            events += [Event.from_dict(item) for item in items if "session" in item]
    return events[:count]


async def answer_and_events(client: AsyncSessionClient) -> tuple[str, list[Event]]:
    ack = await client.send({"text": "one two three four five six"}, params={"speed": 200})
    assert ack.run is not None
    answer = await client.wait_for_answer(ack.run)
    events: list[Event] = []
    while not events or events[-1].run != ack.run or not events[-1].ends_run:
        events.append(await client.next_event())
    return answer.text, events


def recorded_frames(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every frame the client receives from now on, as it arrives."""
    frames: list[str] = []
    original = AsyncSessionClient._receive
    monkeypatch.setattr(
        AsyncSessionClient,
        "_receive",
        lambda self, frame: (frames.append(frame), original(self, frame)),
    )
    return frames


@pytest.mark.anyio
async def test_the_client_rebuilds_compact_deltas_into_the_full_events(
    server: BackgroundServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    frames = recorded_frames(monkeypatch)
    client = await AsyncSessionClient.create(server.url, device="laptop")
    async with client:
        text, events = await answer_and_events(client)
    assert text == "one two three four five six"
    assert any('"d":' in frame for frame in frames), "no compact delta was received"
    assert events == full_events(server, client.session, len(events))


@pytest.mark.anyio
async def test_an_older_server_refuses_the_field_and_the_client_reads_in_full(
    server: BackgroundServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A v1 server: subscribe knows no "deltas" field, and refuses it as unknown.
    monkeypatch.setitem(commands._FIELDS, "subscribe", ({"from"}, set()))
    frames = recorded_frames(monkeypatch)
    client = await AsyncSessionClient.create(server.url, device="laptop")
    async with client:
        text, events = await answer_and_events(client)
    assert text == "one two three four five six"
    assert any("unknown field(s) deltas" in frame for frame in frames)
    assert not any('"d":' in frame for frame in frames)
    assert events == full_events(server, client.session, len(events))
