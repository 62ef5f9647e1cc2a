"""Sessions across processes: two ``python -m serving`` processes (instances a and b) on one
real redis-server, clients spread across both through a small load balancer.

- a cancel or a steer sent through b reaches the run executing in a (control events travel
  through the session's log; serving.sessions.control);
- when a is SIGKILLed in the middle of a streamed run, its clients reconnect to b and resume
  with no lost and no repeated event, and b ends the run with one ``run.interrupted`` once a's
  lease expires (serving.sessions.leases; a 2 s lease keeps the test short).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from benchmarks.redis_server import RedisServer, redis_server_path
from benchmarks.servers import free_port
from serving.client import AsyncSessionClient, Backoff
from serving.sessions.events import Event

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.slow,
    pytest.mark.skipif(redis_server_path() is None, reason="redis-server is not installed"),
]
LEASE_SECONDS = 2
SLOW = {"speed": 0.5, "length": 1000}
"""A run that would stream for half an hour unless stopped or steered."""
QUICK_BACKOFF = Backoff(initial=0.02, maximum=0.2)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Server:
    """``python -m serving`` as instance ``name`` on the shared Redis."""

    def __init__(self, name: str, store_url: str) -> None:
        self.name = name
        self.port = free_port()
        command = [sys.executable, "-m", "serving", "--open", "--store", store_url]
        command += ["--instance", name, "--lease-seconds", str(LEASE_SECONDS)]
        command += ["--port", str(self.port), "--models", "/nonexistent"]
        self.process = subprocess.Popen(
            command, env={**os.environ, "PYTHONUNBUFFERED": "1"}, stderr=subprocess.DEVNULL
        )

    def wait_until_listening(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"server {self.name} exited"
            with contextlib.suppress(httpx.TransportError):
                httpx.get(f"http://127.0.0.1:{self.port}/v1/sessions/x", timeout=1)
                return
            time.sleep(0.05)
        raise RuntimeError(f"server {self.name} did not start")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


@pytest.fixture
def servers(redis_server: RedisServer) -> Iterator[tuple[Server, Server]]:
    store_url = f"{redis_server.url}?prefix=sessions-{uuid.uuid4().hex[:8]}:"
    pair = (Server("a", store_url), Server("b", store_url))
    try:
        for server in pair:
            server.wait_until_listening()
        yield pair
    finally:
        for server in pair:
            server.stop()


class LoadBalancer:
    """A TCP load balancer in miniature: each connection goes to the first server, in this
    balancer's order, that accepts it (so a dead server's clients land on the other)."""

    def __init__(self, *ports: int) -> None:
        self.ports = ports
        self._server: asyncio.Server | None = None
        self.url = ""

    async def __aenter__(self) -> LoadBalancer:
        self._server = await asyncio.start_server(self._forward, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()

    async def _forward(self, client: asyncio.StreamReader, to_client: asyncio.StreamWriter) -> None:
        for port in self.ports:
            try:
                upstream, to_upstream = await asyncio.open_connection("127.0.0.1", port)
                break
            except OSError:
                continue
        else:
            to_client.close()
            return
        await asyncio.gather(_pipe(client, to_upstream), _pipe(upstream, to_client))


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    try:
        while data := await source.read(65536):
            sink.write(data)
            await sink.drain()
    except OSError:
        pass
    finally:
        sink.close()


@contextlib.asynccontextmanager
async def clients_on_both(
    servers: tuple[Server, Server],
) -> AsyncIterator[tuple[AsyncSessionClient, AsyncSessionClient]]:
    """A session created through a, and a client on each server (each fails over to the other)."""
    a, b = servers
    async with LoadBalancer(a.port, b.port) as to_a, LoadBalancer(b.port, a.port) as to_b:
        on_a = await AsyncSessionClient.create(to_a.url, device="laptop", backoff=QUICK_BACKOFF)
        on_b = AsyncSessionClient(
            f"{to_b.url}/v1/sessions/{on_a.session}", device="phone", backoff=QUICK_BACKOFF
        )
        async with on_a, await on_b.connect():
            yield on_a, on_b


async def events_until_ended(client: AsyncSessionClient, run: str) -> list[Event]:
    events = []
    while True:
        event = await client.next_event()
        events.append(event)
        if event.run == run and event.ends_run:
            return events


async def test_a_cancel_sent_through_b_stops_a_run_executing_in_a(servers) -> None:
    async with clients_on_both(servers) as (on_a, on_b):
        run = (await on_a.send({"text": "one two three"}, params=SLOW)).run
        assert run is not None
        while (await on_b.next_event()).type != "delta":  # the run is streaming in a
            pass
        sent = time.perf_counter()
        await on_b.cancel(run)
        answer = await asyncio.wait_for(on_b.wait_for_answer(run), 10)
        stopped = time.perf_counter() - sent
        assert (answer.status, answer.error) == ("cancelled", "cancelled by phone")
        seen_in_a = await asyncio.wait_for(on_a.wait_for_answer(run), 10)
        assert seen_in_a.status == "cancelled"
        print(f"cross-process cancel: ack and run.cancelled after {stopped * 1000:.1f} ms")


async def test_a_steer_sent_through_b_reaches_a_run_executing_in_a(servers) -> None:
    async with clients_on_both(servers) as (on_a, on_b):
        run = (await on_a.send({"text": "one two three"}, params=SLOW)).run
        assert run is not None
        while (await on_b.next_event()).type != "delta":
            pass
        await on_b.steer(run, speed=1_000_000)  # a half-hour answer now takes a moment
        answer = await asyncio.wait_for(on_a.wait_for_answer(run), 10)
        assert answer.status == "completed"
        assert len(answer.result["text"].split()) == 1000


async def test_sigkill_of_the_process_executing_a_run_clients_resume_on_the_other(
    servers,
) -> None:
    a, b = servers
    async with clients_on_both(servers) as (on_a, on_b):
        run = (await on_a.send({"text": "one two three"}, params={"speed": 20, "length": 1000})).run
        assert run is not None
        following = [asyncio.create_task(events_until_ended(c, run)) for c in (on_a, on_b)]
        await asyncio.sleep(0.6)  # about a dozen deltas in
        a.process.send_signal(signal.SIGKILL)
        a.process.wait()
        killed = time.perf_counter()
        seen = await asyncio.wait_for(asyncio.gather(*following), 6 * LEASE_SECONDS + 10)
        interrupted_after = time.perf_counter() - killed
        assert on_a.reconnects >= 1, "the client on a should have reconnected (to b)"
        async with AsyncSessionClient(
            f"http://127.0.0.1:{b.port}/v1/sessions/{on_a.session}", device="auditor"
        ) as auditor:
            logged = await events_until_ended(auditor, run)
    offsets = [event.offset for event in logged]
    assert offsets == sorted(set(offsets)), "the log repeats or reorders an event"
    for events in seen:  # both clients followed the session from its start
        assert events == logged, "a client lost or repeated an event"
    ours = [event for event in logged if event.run == run]
    assert [event.type for event in ours if event.ends_run] == ["run.interrupted"]
    assert ours[-1].type == "run.interrupted"
    assert sum(event.type == "delta" for event in ours) >= 3, "the run streamed before the kill"
    print(f"run.interrupted written by b {interrupted_after:.1f} s after the SIGKILL of a")
