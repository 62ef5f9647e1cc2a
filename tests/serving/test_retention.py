"""Retention (serving.retention): idle sessions expire with their uploads, results and .part
files, on every store; sessions in use never do; a client coming back is told SESSION_EXPIRED;
``serving gc --dry-run`` lists and removes nothing; the ledger is compacted.

The store tests drive a FakeClock (no sleeping); the end-to-end test runs the real command with
``--session-ttl 1`` and talks to it over real sockets (HTTP, SSE, WebSocket)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import websockets

from serving.retention import PART_GRACE_SECONDS, Retention, is_due, parse_duration
from serving.sessions import SessionService, demo_agents
from serving.sessions.errors import SessionExpired, SessionNotFound
from serving.sessions.events import EventType
from serving.sessions.session import PREFIX
from serving.streams import Store
from serving.streams.offsets import ZERO
from serving.streams.store import CreateRequest, ForkSpec
from serving.tokens import SECRET_ENV, TokenSigner, load_or_create_secret
from tests.serving.serving_process import serving_process
from tests.serving.streams.conftest import STORES, FakeClock

pytestmark = pytest.mark.anyio

DAY = 86400.0
TTL = 3 * DAY


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(time.time())  # files' mtimes are compared with it too


@pytest.fixture(params=sorted(STORES))
async def store(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock
) -> AsyncIterator[Store]:
    instance = STORES[request.param](request, tmp_path, clock)
    try:
        yield instance
    finally:
        await instance.aclose()


def _service(store: Store, clock: FakeClock) -> SessionService:
    return SessionService(store, agents=demo_agents(), signer=None, open_access=True, clock=clock)


def _retention(store: Store, service: SessionService, clock: FakeClock, data: Path) -> Retention:
    return Retention(
        store,
        ttl_seconds=TTL,
        data_dir=data,
        clock=clock,
        active=service.in_use,
        on_expired=service.expired,
        after_sweep=service.ledger.compact,
    )


async def _session_with_event(service: SessionService) -> str:
    created = await service.create(None)
    session = await service.open(created.id)
    await session.log.append(EventType.MESSAGE, device="d", data={"text": "hello"})
    return created.id


def _file(path: Path, when: float, size: int = 100) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    for changed in (path, path.parent):  # as if written at ``when`` (the clock is not real)
        os.utime(changed, (when, when))
    return path


def test_durations_and_the_rule() -> None:
    assert parse_duration("3d") == 3 * DAY
    assert parse_duration("12h") == 12 * 3600
    assert parse_duration("90m") == 90 * 60
    assert parse_duration("600") == 600
    assert parse_duration("none") is None
    for bad in ("-1d", "soon", "1y", "nan", "inf"):
        with pytest.raises(ValueError, match="duration"):
            parse_duration(bad)
    assert not is_due(100.0, 100.0 + TTL - 1, TTL)
    assert is_due(100.0, 100.0 + TTL, TTL)


async def test_idle_sessions_expire_with_their_files_and_used_ones_stay(
    store: Store, clock: FakeClock, tmp_path: Path
) -> None:
    service = _service(store, clock)
    await service.start()
    data = tmp_path / "data"
    retention = _retention(store, service, clock, data)
    old = [await _session_with_event(service) for _ in range(3)]
    connected = await _session_with_event(service)
    await service.attach(await service.open(connected), "phone")  # a connection: in use
    uploads = [_file(data / "uploads" / session / "u.csv", clock()) for session in old]
    orphan = _file(data / "uploads" / ("f" * 32) / "u.csv", clock())  # no such session
    result = _file(data / "results" / f"{'r' * 22}.csv", clock())
    part = _file(data / "results" / f".{'p' * 22}.csv.part", clock())
    clock.advance(TTL - DAY)
    used = await _session_with_event(service)  # created later
    reread = old[0]
    await store.read(PREFIX + reread, ZERO, 1000)  # a read renews a session too
    fresh_result = _file(data / "results" / f"{'s' * 22}.csv", clock())
    clock.advance(DAY)
    _file(data / "uploads" / used / "u.csv", clock())

    dry = await retention.collect(dry_run=True)
    assert sorted(dry.sessions) == sorted(old[1:])
    assert set(dry.files) == {*(u.parent for u in uploads[1:]), orphan.parent, result, part}
    assert all(path.exists() for path in dry.files)  # a dry run removes nothing

    done = await retention.collect()
    assert sorted(done.sessions) == sorted(old[1:])
    assert done.kept_sessions == 3  # reread, connected, used
    assert not any(path.exists() for path in dry.files)
    assert uploads[0].exists() and fresh_result.exists()
    for gone in old[1:]:
        with pytest.raises(SessionExpired, match="create a new session"):
            await service.open(gone)
    for kept in (reread, connected, used):
        await service.open(kept)
    assert (await retention.collect()).sessions == []  # nothing twice

    clock.advance(TTL)  # the connected session is renewed by every sweep
    second = await retention.collect()
    assert sorted(second.sessions) == sorted([reread, used])
    await service.open(connected)
    await service.stop()


async def test_a_session_forked_through_the_streams_api_stays_readable_by_its_fork(
    store: Store, clock: FakeClock, tmp_path: Path
) -> None:
    service = _service(store, clock)
    retention = _retention(store, service, clock, tmp_path / "data")
    session_id = await _session_with_event(service)
    await store.create("copy", CreateRequest(fork=ForkSpec(PREFIX + session_id)))
    clock.advance(TTL)
    await store.read("copy", ZERO, 1000)  # the fork is used, its source is not
    assert (await retention.collect()).sessions == [session_id]
    with pytest.raises(SessionNotFound):
        await service.open(session_id)
    assert b"hello" in b"".join((await store.read("copy", ZERO, 10_000)).records)


async def test_stale_part_files_go_and_fresh_ones_stay(
    store: Store, clock: FakeClock, tmp_path: Path
) -> None:
    service = _service(store, clock)
    session_id = await _session_with_event(service)
    data = tmp_path / "data"
    retention = _retention(store, service, clock, data)
    stale = _file(data / "uploads" / session_id / ".a.part", clock() - PART_GRACE_SECONDS)
    fresh = _file(data / "uploads" / session_id / ".b.part", clock())
    kept = _file(data / "uploads" / session_id / "c.csv", clock() - 2 * TTL)  # session is live
    collected = await retention.collect()
    assert collected.files == [stale] and collected.file_bytes == 100
    assert fresh.exists() and kept.exists()


async def test_the_ledger_is_compacted_when_nothing_is_open(
    store: Store, clock: FakeClock, tmp_path: Path
) -> None:
    service = _service(store, clock)
    await service.start()
    service.ledger.compact_after = 10
    session = await service.open(await _session_with_event(service))
    for index in range(8):  # 16 ledger writes: a device joins and leaves 8 times
        await service.attach(session, f"d{index}")
        await service._leave(session, f"d{index}", "gone", even_if_connected=True)
    await service.attach(session, "stays")
    assert not await service.ledger.compact()  # something is open: never
    await service.ledger.log.flushed()
    before = len([event async for batch in service.ledger.log.scan() for event in batch.events])
    assert before >= 16
    await service._leave(session, "stays", "gone", even_if_connected=True)
    assert await service.ledger.compact()
    assert [event async for batch in service.ledger.log.scan() for event in batch.events] == []
    await service.attach(session, "after")  # the ledger works on
    assert len([e async for batch in service.ledger.log.scan() for e in batch.events]) == 1
    await service.stop()


async def test_a_session_in_use_in_one_process_is_not_expired_by_another(
    store: Store, clock: FakeClock, tmp_path: Path
) -> None:
    here, there = _service(store, clock), _service(store, clock)  # two processes, one store
    session_id = await _session_with_event(here)
    await here.attach(await here.open(session_id), "phone")  # connected here, quiet for days
    sweep_here = _retention(store, here, clock, tmp_path / "here")
    sweep_there = _retention(store, there, clock, tmp_path / "there")
    for _ in range(4):
        clock.advance(TTL / 2)
        assert (await sweep_here.collect()).sessions == []  # reads the log: renews it
        clock.advance(TTL / 2 - 1)
        assert (await sweep_there.collect()).sessions == []
    clock.advance(TTL)  # the process that holds it stops sweeping (it died): nobody renews it
    assert (await sweep_there.collect()).sessions == [session_id]


# --- the real command, over real sockets ----------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def _server(data: Path, *extra: str) -> Iterator[str]:
    """``python -m serving`` on SQLite in ``data`` with a session TTL of one second."""
    port = _free_port()
    arguments = ["--port", str(port), "--data-dir", str(data), "--models", str(data)]
    arguments += ["--store", f"sqlite:///{data / 'streams.db'}", "--session-ttl", "1", *extra]
    with serving_process(arguments, data / f"server-{port}.log"):
        yield f"127.0.0.1:{port}"


def _expired(response: httpx.Response) -> bool:
    if response.status_code != 410:
        assert response.status_code == 200, response.text
        return False
    error = response.json()["error"]
    assert error["code"] == "SESSION_EXPIRED" and "create a new session" in error["message"]
    return True


async def _ws_close_code(address: str, session: str, token: str) -> int:
    url = f"ws://{address}/v1/sessions/{session}/ws"
    try:
        async with websockets.connect(
            url, open_timeout=20, additional_headers={"authorization": f"Bearer {token}"}
        ) as ws:
            await asyncio.wait_for(ws.recv(), 20)
    except websockets.ConnectionClosed as closed:
        assert closed.rcvd is not None
        return closed.rcvd.code
    raise AssertionError("the WebSocket stayed open")


def _gc(data: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    arguments = ["--store", f"sqlite:///{data / 'streams.db'}", "--data-dir", str(data)]
    return subprocess.run(
        [sys.executable, "-m", "serving", "gc", *arguments, "--session-ttl", "1", *extra],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def test_an_expired_session_answers_410_on_every_transport_and_gc_lists_before_removing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SECRET_ENV, raising=False)  # the server's secret: the one in ``data``
    data = tmp_path
    signer = TokenSigner(load_or_create_secret(data, environ={}))
    create = {"authorization": f"Bearer {signer.mint('sessions/*', ['create'])}"}
    with _server(data) as address:
        base = f"http://{address}/v1/sessions"
        created = httpx.post(base, headers=create)
        assert created.status_code == 201, created.text
        session, tokens = created.json()["id"], created.json()["tokens"]
        auth = {"authorization": f"Bearer {tokens['control']}"}
        upload = data / "uploads" / session / "x.csv"
        upload.parent.mkdir(parents=True)
        upload.write_text("a,b\n1,2\n")
        deadline = time.monotonic() + 60  # expires 1 s after its last use; swept every 0.25 s
        while not _expired(httpx.get(f"{base}/{session}", headers=auth)):
            assert time.monotonic() < deadline, "the session never expired"
            time.sleep(0.2)
        assert not upload.parent.exists()  # its uploads went with it
        sse = httpx.get(f"{base}/{session}/events", headers=auth, timeout=20)
        assert _expired(sse)  # an answer, not a stream that hangs
        command = {"type": "send", "id": "c-1", "data": {"text": "hi"}}
        sent = httpx.post(f"{base}/{session}/commands", headers=auth, json=command)
        assert _expired(sent) and sent.json()["error"]["id"] == "c-1"
        assert asyncio.run(_ws_close_code(address, session, tokens["read"])) == 4410
        stream = httpx.get(f"http://{address}/v1/stream/sessions/{session}", headers=auth)
        assert stream.status_code in (401, 403, 404)  # the stream itself: gone (or not yours)
        later = httpx.post(base, headers=create).json()["id"]  # left for gc below
    with _server(data) as address:  # another process: the token still says "expired"
        assert _expired(httpx.get(f"http://{address}/v1/sessions/{session}", headers=auth))
    time.sleep(1.1)  # ``later`` is now idle for longer than the TTL, and no server runs
    dry = _gc(data, "--dry-run")
    assert f"session {later}" in dry.stdout and "would remove 1 expired session" in dry.stderr
    assert _gc(data, "--dry-run").stdout == dry.stdout  # nothing was removed
    done = _gc(data)
    assert f"session {later}" in done.stdout and "removed 1 expired session" in done.stderr
    assert _gc(data, "--dry-run").stdout == ""


def test_the_cli_takes_a_duration_and_refuses_a_wrong_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from serving.cli import main

    with pytest.raises(SystemExit) as refused:
        main(["gc", "--session-ttl", "soon"])
    assert refused.value.code == 2
    assert "not a duration: 'soon'; write e.g. 3d" in capsys.readouterr().err
    assert main(["gc", "--session-ttl", "none"]) == 0
    assert "nothing expires" in capsys.readouterr().err


def test_the_server_sweeps_unless_sessions_never_expire() -> None:
    from serving.app import create_app
    from serving.config import ServerConfig
    from serving.sessions.settings import SessionSettings
    from serving.streams import MemoryStore

    default = create_app(ServerConfig(open_access=True), MemoryStore())
    assert default.state.retention.ttl_seconds == 3 * DAY
    assert default.state.retention.sweep_seconds == 600
    never = SessionSettings(session_ttl_seconds=None)
    assert (
        create_app(ServerConfig(open_access=True, sessions=never), MemoryStore()).state.retention
        is None
    )


@pytest.mark.parametrize("store", ["memory", "sqlite"], indirect=True)
async def test_a_classroom_nobody_uses_goes_with_both_its_streams(
    store: Store, clock: FakeClock, tmp_path: Path
) -> None:
    """A room's streams carry the TTL in the store, applied when a stream is looked at: before
    the sweep looked at ``classrooms/``, a room nobody opened again stayed in the file for
    ever. (Redis expires its keys by itself, on its own clock: not this test's FakeClock.)"""
    from serving.classroom.service import ClassroomService

    classrooms = ClassroomService(
        store, signer=None, open_access=True, ttl_seconds=TTL, clock=clock
    )
    service = _service(store, clock)
    retention = _retention(store, service, clock, tmp_path / "data")
    forgotten, _, _ = await classrooms.create("Monday", None, None)
    used, _, _ = await classrooms.create("Tuesday", None, None)
    clock.advance(TTL - DAY)
    await classrooms.join(used, "Ada")  # a use renews the log and the messages
    assert (await retention.collect()).classrooms == []
    clock.advance(DAY)

    collected = await retention.collect()
    assert collected.classrooms == [forgotten]
    assert "1 expired classroom(s) gone" in collected.summary()
    assert await _classroom_paths(store, [f"classrooms/{used}/log", f"classrooms/{used}/messages"])
    assert (await retention.collect()).classrooms == []  # nothing twice
    clock.advance(TTL)
    assert (await retention.collect()).classrooms == [used]
    assert await _classroom_paths(store, [])
    classrooms.stop()


async def _classroom_paths(store: Store, expected: list[str]) -> bool:
    """The store's classroom paths become ``expected`` (SQLite: the writer thread's removal
    reaches the readers' copy a moment later)."""
    for _ in range(100):
        if sorted(await store.paths("classrooms/")) == expected:
            return True
        await asyncio.sleep(0.01)
    return False
