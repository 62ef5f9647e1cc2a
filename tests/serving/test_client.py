"""The client SDK against real servers: every event exactly once, across cuts and crashes.

The fault tests run real servers on 127.0.0.1: a BackgroundServer (uvicorn in a thread) behind
a TCP proxy that cuts every connection at random intervals, and a ``python -m serving``
subprocess on SQLite that is killed with SIGKILL in the middle of a run and started again.
SESSIONS_PROXY_SECONDS sets how long the proxy cuts (default 6; the issue's 20 s run is
``SESSIONS_PROXY_SECONDS=20``).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from serving.background import BackgroundServer
from serving.client import (
    AsyncSessionClient,
    Backoff,
    CommandError,
    SessionClient,
    SessionClosed,
    _parse_session_url,
)
from serving.config import ServerConfig
from serving.sessions import Event, SessionSettings
from serving.streams import MemoryStore
from serving.tokens import TokenSigner
from tests.serving.faults import FaultProxy

SECRET = b"client-tests-secret-0123456789ab"
SIGNER = TokenSigner(SECRET)
CREATE = SIGNER.mint("sessions/*", ["create"])
PROXY_SECONDS = float(os.environ.get("SESSIONS_PROXY_SECONDS", "6"))
FAST = Backoff(initial=0.02, maximum=0.3)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def server() -> Iterator[BackgroundServer]:
    config = ServerConfig(
        store_url="memory://",
        secret=SECRET,
        sessions=SessionSettings(presence_grace_seconds=0.2),
    )
    with BackgroundServer(config, store=MemoryStore()) as running:
        yield running


async def until_ending(client: AsyncSessionClient, runs: set[str]) -> list[Event]:
    """Events until every run in ``runs`` has ended."""
    events: list[Event] = []
    waiting = set(runs)
    async with asyncio.timeout(60):
        while waiting:
            event = await client.next_event()
            events.append(event)
            if event.ends_run:
                waiting.discard(event.run or "")
    return events


def assert_exactly_once_in_order(events: list[Event]) -> None:
    offsets = [event.offset for event in events]
    assert offsets == sorted(offsets), "events out of order"
    assert len(set(offsets)) == len(offsets), "an event was delivered twice"


# --- pure parts --------------------------------------------------------------------------------


def test_session_urls_and_watch_links_are_understood() -> None:
    session = "ab" * 16
    assert _parse_session_url(f"http://h:8/v1/sessions/{session}") == ("http://h:8", session, None)
    assert _parse_session_url(f"https://h/api/v1/sessions/{session}?access_token=t") == (
        "https://h/api",
        session,
        "t",
    )
    assert _parse_session_url(f"ws://h/v1/sessions/{session}/ws") == ("http://h", session, None)
    with pytest.raises(ValueError, match="not a session URL"):
        _parse_session_url("http://h/v1/stream/x")
    with pytest.raises(ValueError, match="unsupported scheme"):
        _parse_session_url(f"ftp://h/v1/sessions/{session}")


def test_backoff_doubles_up_to_the_maximum_with_jitter() -> None:
    delays = Backoff(initial=0.1, maximum=0.4).delays()
    first = [next(delays) for _ in range(6)]
    assert 0.05 <= first[0] <= 0.1
    assert 0.1 <= first[1] <= 0.2
    assert all(0.2 <= delay <= 0.4 for delay in first[3:])


# --- against a live server ---------------------------------------------------------------------


@pytest.mark.anyio
async def test_ask_send_steer_cancel_and_iterate(server: BackgroundServer) -> None:
    client = await AsyncSessionClient.create(server.url, token=CREATE, device="laptop")
    async with client:
        assert client.created is not None and set(client.created["tokens"]) == {
            "read",
            "write",
            "control",
        }
        answer = await client.ask("to be or not", params={"speed": 1000})
        assert (answer.status, answer.text, answer.result) == (
            "completed",
            "to be or not",
            {"text": "to be or not"},
        )
        slow = await client.send({"text": "a b c d e f"}, params={"speed": 2})
        steered = await client.steer(slow.run or "", speed=1000)
        assert steered.offset is not None and steered.offset > (slow.offset or "")
        assert (await client.wait_for_answer(slow.run or "")).text == "a b c d e f"
        stopped = await client.send({"text": "x y z"}, params={"speed": 0.5})
        await client.cancel(stopped.run or "")
        cancelled = await client.wait_for_answer(stopped.run or "")
        assert (cancelled.status, cancelled.error) == ("cancelled", "cancelled by laptop")
        with pytest.raises(CommandError) as refused:
            await client.cancel(stopped.run or "")
        assert refused.value.code == "RUN_NOT_ACTIVE"
        with pytest.raises(CommandError, match="INVALID_STEER"):
            await client.send({"text": "x"}, params={"speed": "fast"})
        events = await until_ending(client, {answer.run, slow.run or "", stopped.run or ""})
        assert_exactly_once_in_order(events)
        assert [e.type for e in events].count("message") == 3


@pytest.mark.anyio
async def test_a_watch_link_reads_but_cannot_act(server: BackgroundServer) -> None:
    async with await AsyncSessionClient.create(server.url, token=CREATE) as owner:
        ack = await owner.send({"text": "hello"}, params={"speed": 1000})
        assert owner.created is not None
        async with AsyncSessionClient(owner.created["watch_url"], device="tv") as watcher:
            events = await until_ending(watcher, {ack.run or ""})
            assert events[-1].type == "run.completed"
            with pytest.raises(CommandError) as refused:
                await watcher.send({"text": "mine now"})
            assert refused.value.code == "FORBIDDEN"


@pytest.mark.anyio
async def test_refused_connections_fail_fast_with_the_close_code(server: BackgroundServer) -> None:
    async with await AsyncSessionClient.create(server.url, token=CREATE) as owner:
        url = f"{server.url}/v1/sessions/{owner.session}"
        with pytest.raises(SessionClosed) as bad_token:
            await AsyncSessionClient(url, token="v1.bad.token").connect()
        assert bad_token.value.code == 4401
    with pytest.raises(SessionClosed) as unknown:
        await AsyncSessionClient(f"{server.url}/v1/sessions/{'0' * 32}", token=CREATE).connect()
    assert unknown.value.code in (4401, 4403, 4404)
    with pytest.raises(CommandError, match="UNAUTHORIZED"):
        await AsyncSessionClient.create(server.url)


@pytest.mark.anyio
async def test_a_dropped_connection_resumes_without_loss_or_duplicates(
    server: BackgroundServer,
) -> None:
    async with await AsyncSessionClient.create(server.url, token=CREATE, backoff=FAST) as client:
        ack = await client.send(
            {"text": "one two three four five six seven eight"}, params={"speed": 40}
        )
        events: list[Event] = []
        async with asyncio.timeout(30):
            while not events or not events[-1].ends_run:
                events.append(await client.next_event())
                if len(events) in (4, 7) and client._ws is not None:
                    client._ws.transport.abort()  # the network goes away mid-run
        assert client.reconnects >= 2
        assert_exactly_once_in_order(events)
        answer = await client.wait_for_answer(ack.run or "")
        assert answer.text == "one two three four five six seven eight"
        deltas = "".join(e.data["text"] for e in events if e.type == "delta")
        assert deltas == answer.text


@pytest.mark.anyio
async def test_a_command_sent_while_a_resume_is_being_answered_goes_out_at_once() -> None:
    """Between a reconnect's subscribe and its reply (a long catch-up), commands still flow.

    The peer is a bare WebSocket server that speaks just enough of the protocol: it drops the
    first connection once subscribed, then on the second one answers nothing until a command
    arrives, as a server busy sending a large backlog would. The command must not wait for
    the next reconnect.
    """
    from websockets.asyncio.server import serve

    connections = 0
    resubscribed = asyncio.Event()
    command_seen = asyncio.Event()

    async def peer(ws) -> None:
        nonlocal connections
        connections += 1
        subscribe = json.loads(await ws.recv())
        if connections == 1:
            await ws.send(
                json.dumps([{"type": "subscribed", "id": subscribe["id"], "offset": "0"}])
            )
            await ws.close()
            return
        resubscribed.set()
        command = json.loads(await ws.recv())  # before the subscription is answered
        command_seen.set()
        await ws.send(
            json.dumps(
                [
                    {"type": "subscribed", "id": subscribe["id"], "offset": "0"},
                    {"type": "ack", "id": command["id"], "offset": "1", "run": "r1"},
                ]
            )
        )
        await ws.wait_closed()

    async with serve(peer, "127.0.0.1", 0) as listener:
        port = listener.sockets[0].getsockname()[1]
        client = AsyncSessionClient(
            f"http://127.0.0.1:{port}/v1/sessions/{'ab' * 16}", backoff=FAST
        )
        await client.connect()
        async with asyncio.timeout(10):
            await resubscribed.wait()  # dropped, reconnected, subscribe sent but not answered
            await asyncio.sleep(0.05)  # the client has finished resending what was pending
            ack = await client.send({"text": "hi"})
        await client.close()
    assert command_seen.is_set()
    assert ack.run == "r1"


@pytest.mark.anyio
async def test_the_run_goes_on_when_every_client_has_gone(server: BackgroundServer) -> None:
    laptop = await AsyncSessionClient.create(server.url, token=CREATE, device="laptop")
    ack = await laptop.send({"text": "one two three four five six"}, params={"speed": 30})
    first = await laptop.next_event()
    await laptop.close()  # the lid closes mid-answer: nobody is connected any more
    assert laptop.created is not None
    url = laptop.created["url"]
    async with httpx.AsyncClient(headers={"authorization": f"Bearer {laptop.token}"}) as http:
        async with asyncio.timeout(20):  # the run finishes with no client connected
            while (await http.get(url)).json()["runs"]:
                await asyncio.sleep(0.05)
    async with AsyncSessionClient(
        url, token=laptop.token, device="laptop", start=first.offset
    ) as again:
        events = await until_ending(again, {ack.run or ""})
        answer = await again.wait_for_answer(ack.run or "")
    assert [e.type for e in events if e.run == ack.run][-1] == "run.completed", (
        "a drop never cancels"
    )
    assert answer.result == {"text": "one two three four five six"}
    assert all(event.offset > first.offset for event in events)


@pytest.mark.anyio
async def test_a_wait_that_times_out_loses_no_event(server: BackgroundServer) -> None:
    async with await AsyncSessionClient.create(server.url, token=CREATE) as client:
        assert (await client.next_event()).type == "presence.joined"
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(client.next_event(), 0.1)
        ack = await client.send({"text": "one two"}, params={"speed": 1000})
        assert (await client.next_event()).offset == ack.offset  # the message: not lost


def test_the_blocking_client_loses_no_event_when_a_wait_times_out(
    server: BackgroundServer,
) -> None:
    with SessionClient.create(server.url, token=CREATE, timeout=30) as client:
        assert client.next_event().type == "presence.joined"
        with pytest.raises(TimeoutError):
            client.next_event(timeout=0.1)
        ack = client.send({"text": "one two"}, params={"speed": 1000})
        assert client.next_event().offset == ack.offset


@pytest.mark.anyio
async def test_concurrent_waits_each_get_their_own_event(server: BackgroundServer) -> None:
    async with await AsyncSessionClient.create(server.url, token=CREATE) as client:
        await client.next_event()  # presence.joined
        waits = [asyncio.create_task(client.next_event()) for _ in range(2)]
        await asyncio.sleep(0.05)
        await client.send({"text": "one two"}, params={"speed": 1000})
        first, second = await asyncio.wait_for(asyncio.gather(*waits), 10)
        assert [first.type, second.type] == ["message", "run.started"]


def test_the_blocking_client_for_notebooks(server: BackgroundServer) -> None:
    with SessionClient.create(server.url, token=CREATE, timeout=30, device="notebook") as client:
        answer = client.ask("hello notebook", params={"speed": 1000})
        assert answer.text == "hello notebook"
        seen = []
        for event in client:
            seen.append(event)
            if event.ends_run:
                break
        assert [event.type for event in seen][-4:] == [
            "run.started",
            "delta",
            "delta",
            "run.completed",
        ]
        ack = client.send({"text": "p q r"}, params={"speed": 0.5})
        client.cancel(ack.run or "")
        assert client.wait_for_answer(ack.run or "", timeout=10).status == "cancelled"
        with pytest.raises(TimeoutError):
            client.wait_for_answer("r-never", timeout=0.1)


# --- through a proxy that cuts every connection at random (tests/serving/faults.py) ---------


@pytest.mark.anyio
async def test_through_a_proxy_cutting_every_50_to_500_ms_every_client_gets_everything_once(
    server: BackgroundServer,
) -> None:
    proxy = FaultProxy(int(server.url.rsplit(":", 1)[1]))
    proxied = f"http://127.0.0.1:{await proxy.start()}"
    proxy.cut_every(0.05, 0.5)
    owner = await AsyncSessionClient.create(server.url, token=CREATE)
    assert owner.created is not None
    token = owner.created["tokens"]["control"]
    url = f"{proxied}/v1/sessions/{owner.session}"
    clients = [
        await AsyncSessionClient(url, token=token, device=f"device-{index}", backoff=FAST).connect()
        for index in range(3)
    ]
    speed = 50.0
    try:
        # every client sends through the proxy: commands too must be done exactly once
        long_run = await clients[0].send(
            {"text": "the quick brown fox jumps over the lazy dog"},
            params={"speed": speed, "length": int(speed * PROXY_SECONDS)},
        )
        short_runs = [
            await client.send({"text": f"short {index}"}, params={"speed": speed})
            for index, client in enumerate(clients[1:])
        ]
        runs = {long_run.run or "", *(ack.run or "" for ack in short_runs)}
        received = await asyncio.gather(*(until_ending(client, runs) for client in clients))
        await proxy.stop_cutting()
        async with AsyncSessionClient(
            f"{server.url}/v1/sessions/{owner.session}", token=token, device="auditor"
        ) as auditor:
            log = await until_ending(auditor, runs)
    finally:
        for client in [*clients, owner]:
            await client.close()
        await proxy.close()
    assert proxy.cuts >= PROXY_SECONDS / 0.5
    assert sum(client.reconnects for client in clients) >= proxy.cuts
    for events in received:
        assert_exactly_once_in_order(events)
        assert events == log[: len(events)], "a client missed, repeated or reordered an event"
        assert len(events) >= len(log) - 20  # the rest are presence events after the last ending
    assert [event.type for event in log].count("message") == 3
    long_answer = [e for e in log if e.run == long_run.run and e.type == "delta"]
    assert len(long_answer) == int(speed * PROXY_SECONDS)


# --- SIGKILL in the middle of a run, on SQLite ------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start_server(port: int, database: Path) -> subprocess.Popen[bytes]:
    environment = {**os.environ, "SERVING_SECRET": SECRET.decode()}
    command = [
        sys.executable,
        "-m",
        "serving",
        "--port",
        str(port),
        "--store",
        f"sqlite:///{database}",
    ]
    process = subprocess.Popen(command, env=environment, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"server exited: {process.stderr.read().decode() if process.stderr else ''}"
            )
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return process
        time.sleep(0.05)
    process.kill()
    raise RuntimeError("server did not start")


@contextlib.asynccontextmanager
async def _killable_server(
    port: int, database: Path
) -> AsyncIterator[list[subprocess.Popen[bytes]]]:
    processes = [await asyncio.to_thread(_start_server, port, database)]
    try:
        yield processes
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()


@pytest.mark.anyio
@pytest.mark.skipif(
    importlib.util.find_spec("serving.streams.sqlite") is None, reason="needs the SQLite store"
)
async def test_sigkill_mid_run_then_restart_loses_nothing_and_interrupts_the_run(
    tmp_path: Path,
) -> None:
    port = _free_port()
    database = tmp_path / "sessions.db"
    base = f"http://127.0.0.1:{port}"
    async with _killable_server(port, database) as processes:
        client = await AsyncSessionClient.create(base, token=CREATE, device="laptop", backoff=FAST)
        words = "alpha beta gamma delta epsilon"
        ack = await client.send({"text": words}, params={"speed": 400, "length": 100_000})
        events: list[Event] = []
        async with asyncio.timeout(30):
            while sum(event.type == "delta" for event in events) < 300:
                events.append(await client.next_event())
        processes[0].kill()  # SIGKILL: no shutdown, nothing flushed on the way out
        processes[0].wait()
        processes.append(await asyncio.to_thread(_start_server, port, database))
        async with asyncio.timeout(30):
            while not events[-1].ends_run:
                events.append(await client.next_event())
        assert client.reconnects >= 1
        assert_exactly_once_in_order(events)
        ending = events[-1]
        assert (ending.type, ending.run) == ("run.interrupted", ack.run)
        assert "stopped" in ending.data["reason"]
        # the whole log, read from the start by a new client after the restart
        async with AsyncSessionClient(
            f"{base}/v1/sessions/{client.session}", token=client.token, device="auditor"
        ) as auditor:
            log = await until_ending(auditor, {ack.run or ""})
        await client.close()
    assert events == log, "the reconnected client must have exactly the log: no gap, no repeat"
    deltas = [event.data["text"].strip() for event in log if event.type == "delta"]
    vocabulary = words.split()
    assert deltas == [vocabulary[index % len(vocabulary)] for index in range(len(deltas))]
    assert [event.type for event in log].count("run.interrupted") == 1
    assert not any(event.type == "run.completed" for event in log)


def test_a_refusal_without_the_servers_error_body_gets_an_http_code() -> None:
    """A proxy in front of the server answers with its own page: the code is HTTP_<status>,
    UPPER_SNAKE like the server's codes."""

    class Gateway(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = b"Bad Gateway"
            self.send_response(502)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    gateway = ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    thread = threading.Thread(target=gateway.serve_forever, daemon=True)
    thread.start()
    try:
        with pytest.raises(CommandError) as refused:
            asyncio.run(AsyncSessionClient.create(f"http://127.0.0.1:{gateway.server_port}"))
        assert refused.value.code == "HTTP_502"
        assert str(refused.value) == "HTTP_502: Bad Gateway"
    finally:
        gateway.shutdown()
        gateway.server_close()
