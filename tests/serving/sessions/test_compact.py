"""Compact deltas (protocol v1.1): the compact stream decodes to exactly the full stream.

The encoder slices stored bytes instead of decoding events, so it borrows the shape of
serving.sessions.events' output; these tests hold it to that: random events (texts with quotes,
backslashes, escapes and control characters; other types; data that is not only a text;
interleaved runs and agents; several events per record) decode, compact, to the events of the
full stream, json.loads of each. First in memory, then over the sockets of a real server, on
SSE and on the WebSocket, where the bytes of a delta token are counted too.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.sync.client import connect

from serving.background import BackgroundServer
from serving.config import ServerConfig
from serving.sessions.agents import TEXT_AGENT, Agent, AgentRegistry
from serving.sessions.compact import DeltaDecoder, DeltaEncoder
from serving.sessions.events import EventType, encode_event
from serving.sessions.offsets import START, join_record, label_records
from serving.sessions.runs import RunContext
from serving.sessions.settings import SessionSettings
from serving.streams import MemoryStore
from serving.streams.offsets import Offset

SESSION = "ab" * 16

TEXTS = st.lists(
    st.one_of(
        st.sampled_from(['"', "\\", "\n", "\t", "\x00", "\x1f", "/", "\u2028", "é", "😀", "}"]),
        st.sampled_from(['\\"', '"}}', '","', '\\\\"', "\\u0022", ',"ts":', ',"data":{"text":"']),
        st.characters(),
    ),
    max_size=10,
).map("".join)
DATA = st.one_of(
    TEXTS.map(lambda text: {"text": text}),
    TEXTS.map(lambda text: {"text": text}),
    TEXTS.map(lambda text: {"text": text, "more": 1}),
    TEXTS.map(lambda text: {"text": text, "b": text}),
    TEXTS.map(lambda text: {"other": text}),
    TEXTS.map(lambda text: {"y": 1, "data": {"text": text}}),
    st.just({"text": 5}),
    st.just({}),
)
EVENT = st.fixed_dictionaries(
    {
        "type": st.sampled_from(
            [EventType.DELTA] * 6 + [EventType.PROGRESS, EventType.PREDICTION, EventType.MESSAGE]
        ),
        "run": st.sampled_from(["r-1", "r-2", None]),
        "agent": st.sampled_from(["text", "shouter", None]),
        "device": st.sampled_from([None, "laptop"]),
        "ts": st.one_of(
            st.integers(0, 4_000_000_000_000).map(lambda ms: ms / 1000),
            st.floats(0, 4e9, allow_nan=False),
        ),
        "data": DATA,
        "flush": st.booleans(),
    }
)


def encoded(spec: Mapping[str, Any], session: str = SESSION) -> bytes:
    return encode_event(
        spec["type"],
        session,
        ts=spec["ts"],
        run=spec["run"],
        agent=spec["agent"],
        device=spec["device"],
        data=spec["data"],
    )


def labelled(specs: list[dict[str, Any]]) -> list[bytes]:
    """The events as a reader gets them: in records (a ``flush`` ends one), with offsets."""
    records: list[bytes] = []
    current: list[bytes] = []
    for spec in specs:
        current.append(encoded(spec))
        if spec["flush"]:
            records.append(join_record(current))
            current = []
    if current:
        records.append(join_record(current))
    size = sum(map(len, records))
    events, _ = label_records(records, START, Offset(len(records), size))
    return events


def decode_ws(frames: list[str]) -> list[dict[str, Any]]:
    """WebSocket frames -> every event, compact ones rebuilt (what a client does)."""
    decoder = DeltaDecoder()
    events: list[dict[str, Any]] = []
    for frame in frames:
        for item in json.loads(frame):
            if "session" in item:
                decoder.event(item)
                events.append(item)
            elif "d" in item:
                events.append(decoder.item(item))
    return events


def decode_sse(text: str) -> list[dict[str, Any]]:
    """An SSE body -> every event (the ``subscribed`` one left out), compact ones rebuilt."""
    decoder = DeltaDecoder()
    events: list[dict[str, Any]] = []
    for block in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "data" not in fields or "event" in fields:
            continue
        item = json.loads(fields["data"])
        if "session" in item:
            decoder.event(item)
            events.append(item)
        else:
            events.append(decoder.delta(fields["id"], item["d"], item["t"]))
    return events


# --- in memory ---------------------------------------------------------------------------------


@given(st.lists(EVENT, min_size=1, max_size=40))
@settings(max_examples=400, deadline=None)
def test_compact_items_decode_to_exactly_the_full_events(specs: list[dict[str, Any]]) -> None:
    events = labelled(specs)
    full = [json.loads(event) for event in events]
    items = DeltaEncoder().ws_items(events)
    assert decode_ws(["[" + b",".join(items).decode() + "]"]) == full
    assert decode_sse(DeltaEncoder().sse(events).decode()) == full
    # The same events sent several frames at a time keep one state across frames.
    encoder = DeltaEncoder()
    frames = [encoder.ws_items(events[i : i + 3]) for i in range(0, len(events), 3)]
    assert decode_ws(["[" + b",".join(frame).decode() + "]" for frame in frames]) == full


def test_which_deltas_go_compact() -> None:
    def spec(run: str | None = "r-1", agent: str = "text", **data: Any) -> dict[str, Any]:
        return {
            "type": EventType.DELTA,
            "run": run,
            "agent": agent,
            "device": None,
            "ts": 1767225600.25,
            "data": data or {"text": "x"},
            "flush": True,
        }

    message = {**spec(), "type": EventType.MESSAGE, "data": {"text": "hi"}}
    specs = [
        message,  # not a delta: full
        spec(),  # the first delta: full
        spec(),  # same envelope: compact
        message,  # full, and it changes nothing for the deltas
        spec(),  # compact
        spec(agent="shouter"),  # another agent: full
        spec(),  # back: full
        spec(text="a", more=1),  # data not only a text: full
        spec(),  # full again? no: the previous delta (full) has this envelope: compact
        spec(run="r-2"),  # another run: full
    ]
    items = DeltaEncoder().ws_items(labelled(specs))
    compact = ["session" not in json.loads(item) for item in items]
    assert compact == [False, False, True, False, True, False, False, False, True, False]


def test_t_counts_from_the_last_full_delta() -> None:
    times = [1767225600.0, 1767225600.02, 1767225600.045, 1767225599.999]
    specs = [
        {
            "type": EventType.DELTA,
            "run": "r-1",
            "agent": "text",
            "device": None,
            "ts": ts,
            "data": {"text": "x"},
            "flush": True,
        }
        for ts in times
    ]
    items = [json.loads(item) for item in DeltaEncoder().ws_items(labelled(specs))]
    assert [item.get("t") for item in items] == [None, 20, 45, -1]


# --- over a real server ------------------------------------------------------------------------


async def replay(request: Mapping[str, Any], run: RunContext) -> str:
    """A test agent: writes the events of ``request["events"]`` as they are, in the records
    their ``flush`` marks end (several events in one record get sub-offsets)."""
    log = run._run.log
    for spec in request["events"]:
        log.publish_encoded(encoded({**spec, "type": EventType(spec["type"])}, run.session))
        if spec["flush"]:
            await log.flushed()
    return "done"


@pytest.fixture(scope="module")
def server() -> Iterator[BackgroundServer]:
    agents = AgentRegistry([TEXT_AGENT, Agent("replay", replay)])
    config = ServerConfig(
        store_url="memory://", open_access=True, sessions=SessionSettings(sse_max_seconds=30)
    )
    with BackgroundServer(config, store=MemoryStore(), agents=agents) as running:
        yield running


def new_session(server: BackgroundServer) -> str:
    response = httpx.post(f"{server.url}/v1/sessions")
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def send(server: BackgroundServer, session: str, agent: str, data: Any, **params: Any) -> str:
    body = {"type": "send", "id": "s1", "agent": agent, "data": data, "params": params}
    response = httpx.post(
        f"{server.url}/v1/sessions/{session}/commands",
        content=json.dumps(body),  # ASCII: lone surrogates travel as escapes
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 200, response.text
    return str(response.json()["run"])


def ws_read(
    server: BackgroundServer, session: str, run: str, deltas: str | None
) -> tuple[dict[str, Any], list[str]]:
    """The subscribe ack and every frame up to ``run``'s ending."""
    url = "ws" + server.url.removeprefix("http") + f"/v1/sessions/{session}/ws?device=reader"
    subscribe: dict[str, Any] = {"type": "subscribe", "id": "sub", "from": "start"}
    if deltas is not None:
        subscribe["deltas"] = deltas
    frames: list[str] = []
    ack: dict[str, Any] = {}
    with connect(url, max_size=None) as ws:
        ws.send(json.dumps(subscribe))
        while True:
            frame = str(ws.recv(timeout=30))
            items = json.loads(frame)
            for item in items:
                if item.get("id") == "sub":
                    ack = item
            frames.append(frame)
            if any(item.get("run") == run and item["type"] == "run.completed" for item in items):
                return ack, frames


def sse_read(server: BackgroundServer, session: str, run: str, query: str = "") -> str:
    """The SSE body up to ``run``'s ending."""
    url = f"{server.url}/v1/sessions/{session}/events?from=start{query}"
    ending = f'"type":"run.completed","session":"{session}","run":"{run}"'
    body = ""
    with httpx.stream("GET", url, timeout=30) as response:
        assert response.status_code == 200, response.read()
        for chunk in response.iter_text():
            body += chunk
            if ending in body and body.endswith("\n\n"):
                return body
    raise AssertionError("the SSE response ended before the run did")


def until_ending(events: list[dict[str, Any]], run: str) -> list[dict[str, Any]]:
    for index, event in enumerate(events):
        if event["run"] == run and event["type"] == "run.completed":
            return events[: index + 1]
    raise AssertionError(f"no ending of {run}")


@given(st.lists(EVENT, min_size=1, max_size=25))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_over_sockets_the_compact_streams_carry_exactly_the_full_events(
    server: BackgroundServer, specs: list[dict[str, Any]]
) -> None:
    session = new_session(server)
    run = send(server, session, "replay", {"events": specs})
    ack, frames = ws_read(server, session, run, None)
    assert "deltas" not in ack
    full = until_ending([i for f in frames for i in json.loads(f) if "session" in i], run)
    written = [event for event in full if not event["type"].startswith("presence.")]
    assert len(written) == len(specs) + 3  # message, run.started, the events, run.completed
    ack, frames = ws_read(server, session, run, "compact")
    assert ack["deltas"] == "compact"
    assert until_ending(decode_ws(frames), run) == full
    assert until_ending(decode_sse(sse_read(server, session, run, "&deltas=compact")), run) == full
    assert until_ending(decode_sse(sse_read(server, session, run)), run) == full


def test_a_bad_deltas_value_is_refused_naming_both(server: BackgroundServer) -> None:
    session = new_session(server)
    response = httpx.get(f"{server.url}/v1/sessions/{session}/events?deltas=small")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "INVALID_COMMAND"
    assert '"full"' in error["message"] and '"compact"' in error["message"]
    url = "ws" + server.url.removeprefix("http") + f"/v1/sessions/{session}/ws?device=reader"
    with connect(url) as ws:
        ws.send(json.dumps({"type": "subscribe", "id": "s", "from": "start", "deltas": 1}))
        [reply] = json.loads(ws.recv(timeout=30))
        assert (reply["type"], reply["code"], reply["id"]) == ("error", "INVALID_COMMAND", "s")
        assert '"full"' in reply["message"] and '"compact"' in reply["message"]
        ws.send(json.dumps({"type": "subscribe", "id": "s2", "from": "start"}))
        [reply] = json.loads(ws.recv(timeout=30))
        assert (reply["type"], reply["id"]) == ("ack", "s2")  # the connection lives on


# --- bytes on the wire -------------------------------------------------------------------------

TOKENS = 200


def sse_chunks(
    server: BackgroundServer, session: str, query: str, ready: Barrier
) -> list[tuple[int, bytes]]:
    """A live SSE response up to a run's ending: each HTTP chunk as on the wire (framing too)."""
    parts = urlsplit(server.url)
    assert parts.hostname is not None and parts.port is not None
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        path = f"/v1/sessions/{session}/events?from=start{query}"
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\n\r\n".encode())
        received = b""
        while b"event: subscribed" not in received:
            received += sock.recv(65536)
        ready.wait()
        while b'"run.completed"' not in received or not received.endswith(b"\n\n\r\n"):
            chunk = sock.recv(65536)
            assert chunk, "the response ended before the run did"
            received += chunk
    body = received.split(b"\r\n\r\n", 1)[1]
    chunks: list[tuple[int, bytes]] = []
    while body:
        size_line = body.split(b"\r\n", 1)[0]
        end = len(size_line) + 2 + int(size_line, 16) + 2
        chunks.append((end, body[:end]))
        body = body[end:]
    return chunks


def ws_frames(
    server: BackgroundServer, session: str, deltas: str, ready: Barrier
) -> list[tuple[int, bytes]]:
    """A live subscription's WebSocket frames up to a run's ending, each as on the wire: its
    header (2 bytes up to 125, 4 up to 65,535; neither masked nor compressed here), then the
    payload."""
    url = "ws" + server.url.removeprefix("http") + f"/v1/sessions/{session}/ws?device=reader"
    subscribe = {"type": "subscribe", "id": "sub", "from": "start", "deltas": deltas}
    frames: list[tuple[int, bytes]] = []
    with connect(url, max_size=None, compression=None) as ws:
        ws.send(json.dumps(subscribe))
        while True:
            frame = str(ws.recv(timeout=30)).encode()
            frames.append((len(frame) + (2 if len(frame) < 126 else 4), frame))
            if b'"type":"ack","id":"sub"' in frame:
                ready.wait()
            if b'"run.completed"' in frame:
                return frames


def per_delta(units: list[tuple[int, bytes]]) -> float:
    """Bytes per delta token over the chunks or frames that carry only deltas (at a reading
    pace, one token each): every other event is left out, and its share of the fixed costs."""
    total = count = 0
    for size, unit in units:
        deltas = unit.count(b'"d":') + unit.count(b'"type":"delta"')
        if deltas and deltas == unit.count(b'"d":') + unit.count(b'"type":'):
            total += size
            count += deltas
    assert count >= TOKENS // 2, "most tokens came alone in their frame"
    return round(total / count, 1)


def test_a_delta_token_costs_at_most_100_bytes_on_the_wire(server: BackgroundServer) -> None:
    """The demo text agent at a reading pace (50 tokens a second: one record, one SSE chunk
    and one WebSocket frame per token), read live by four readers at once: bytes per delta
    token, full and compact, on SSE and on the WebSocket."""
    session = new_session(server)
    ready = Barrier(5)
    readers: dict[str, Callable[[], list[tuple[int, bytes]]]] = {
        "SSE full": lambda: sse_chunks(server, session, "", ready),
        "SSE compact": lambda: sse_chunks(server, session, "&deltas=compact", ready),
        "WebSocket full": lambda: ws_frames(server, session, "full", ready),
        "WebSocket compact": lambda: ws_frames(server, session, "compact", ready),
    }
    with ThreadPoolExecutor(len(readers)) as pool:
        futures = {name: pool.submit(read) for name, read in readers.items()}
        ready.wait(30)
        send(server, session, "text", {"text": "word " * TOKENS}, speed=50)
        per_token = {name: per_delta(future.result(timeout=60)) for name, future in futures.items()}
    print("bytes per delta token:", per_token)
    assert per_token["SSE compact"] <= 100, per_token
    assert per_token["WebSocket compact"] <= 100, per_token
    assert per_token["SSE full"] > 200 and per_token["WebSocket full"] > 200, per_token
