"""Redis outages, idle expiry and a wiped Redis, with two ``python -m serving`` processes
(instances a and b) on one real redis-server run as docs/SCALING.md recommends
(``appendonly yes``, ``appendfsync always``).

What docs/SCALING.md ("What happens when things fail") promises, and these tests check:

- through an outage of any length, every run ends exactly once: a run whose process lives
  goes on when Redis is back (its events wait in memory, the agent slowed by backpressure)
  and ends as it would have; a run whose process died meanwhile gets one ``run.interrupted``
  from the survivor once Redis is back;
- while Redis is away every session endpoint answers 503 with Retry-After (never 500) and a
  WebSocket is closed with 4503 (the 503 of a socket: retry later); after it, ``send`` works
  on both processes without a restart;
- the internal streams (ledgers, the instance registry) never expire, and are re-created when
  Redis lost them (restarted empty).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from benchmarks.redis_server import RedisServer, redis_server_path
from benchmarks.servers import free_port
from serving.client import SessionClient

pytestmark = pytest.mark.skipif(redis_server_path() is None, reason="redis-server is not installed")
LEASE_SECONDS = 2
WAIT_SECONDS = 60.0
"""Bound of every wait for something to happen (never a timed assertion)."""


class Server:
    """``python -m serving`` as instance ``name`` on the shared Redis."""

    def __init__(self, name: str, store_url: str, log: str) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "serving", "--open", "--store", store_url]
        command += ["--instance", name, "--lease-seconds", str(LEASE_SECONDS)]
        command += ["--port", str(self.port), "--models", "/nonexistent"]
        self.log = log
        with open(log, "w") as stderr:
            self.process = subprocess.Popen(
                command,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )

    def wait_until_listening(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"server {self.name} exited: {self.logged()}"
            with contextlib.suppress(httpx.TransportError):
                httpx.get(f"{self.url}/v1/sessions/x", timeout=1)
                return
            time.sleep(0.05)
        raise RuntimeError(f"server {self.name} did not start: {self.logged()}")

    def logged(self) -> str:
        with open(self.log) as file:
            return file.read()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextlib.contextmanager
def two_servers(redis: RedisServer, tmp_path, query: str = "") -> Iterator[tuple[Server, Server]]:
    store_url = f"{redis.url}?prefix=outage-{uuid.uuid4().hex[:8]}:{query}"
    pair = (
        Server("a", store_url, str(tmp_path / "a.log")),
        Server("b", store_url, str(tmp_path / "b.log")),
    )
    try:
        for server in pair:
            server.wait_until_listening()
        yield pair
    finally:
        for server in pair:
            server.stop()
        for server in pair:  # what uvicorn logs when an endpoint raised: a 500
            assert "Exception in ASGI application" not in server.logged(), server.logged()


@pytest.fixture
def redis(redis_server: RedisServer) -> Iterator[RedisServer]:
    """A redis-server of this test alone (it is stopped and wiped), persisting every write."""
    del redis_server  # the shared one stays untouched
    with RedisServer(appendonly=True, appendfsync="always") as server:
        yield server


def create(server: Server) -> str:
    answer = httpx.post(f"{server.url}/v1/sessions", timeout=10)
    assert answer.status_code == 201, answer.text
    session: str = answer.json()["id"]
    return session


def send(server: Server, session: str, params: dict[str, float]) -> str:
    command = {"type": "send", "data": {"text": "one two three"}, "params": params}
    answer = httpx.post(f"{server.url}/v1/sessions/{session}/commands", json=command, timeout=30)
    assert answer.status_code == 200, answer.text
    run: str = answer.json()["run"]
    return run


def events(server: Server, session: str) -> list[dict[str, object]]:
    """Every event of the session's log, through the Durable Streams read."""
    url = f"{server.url}/v1/stream/sessions/{session}?offset=-1"
    answer = httpx.get(url, timeout=10)
    assert answer.status_code == 200, answer.text
    found: list[dict[str, object]] = answer.json()
    return found


def run_events(server: Server, session: str, run: str) -> list[dict[str, object]]:
    return [event for event in events(server, session) if event.get("run") == run]


def endings(found: list[dict[str, object]]) -> list[object]:
    return [event["type"] for event in found if str(event["type"]).split(".")[-1] in ENDS]


ENDS = {"completed", "failed", "cancelled", "interrupted"}


def wait_for_ending(server: Server, session: str, run: str) -> list[dict[str, object]]:
    """The run's events once it has an ending (bounded wait)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        with contextlib.suppress(httpx.TransportError):
            found = run_events(server, session, run)
            if endings(found):
                return found
        assert time.monotonic() < deadline, f"run {run} has no ending: {found[-3:]}"
        time.sleep(0.2)


def assert_unavailable_everywhere(server: Server, session: str) -> None:
    """Every session endpoint answers 503 + Retry-After (never 500); the socket closes 4503."""
    base = f"{server.url}/v1/sessions"
    command = {"type": "send", "data": {"text": "hello"}}
    answers = {
        "create": httpx.post(base, timeout=30),
        "info": httpx.get(f"{base}/{session}", timeout=30),
        "commands": httpx.post(f"{base}/{session}/commands", json=command, timeout=30),
        "events": httpx.get(f"{base}/{session}/events", timeout=30),
    }
    for name, answer in answers.items():
        assert answer.status_code == 503, f"{server.name} {name}: {answer.text}"
        assert answer.headers["retry-after"].isdigit(), name
        assert answer.json()["error"]["code"] == "STORE_UNAVAILABLE", name
    ws_url = f"ws://127.0.0.1:{server.port}/v1/sessions/{session}/ws"
    with connect(ws_url, open_timeout=30) as socket, pytest.raises(ConnectionClosed) as closed:
        socket.send(json.dumps({"type": "subscribe", "from": "start"}))
        socket.recv(timeout=30)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4503, closed.value


def wait_until_answering(server: Server, session: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while httpx.get(f"{server.url}/v1/sessions/{session}", timeout=30).status_code != 200:
        assert time.monotonic() < deadline, f"{server.name} did not come back"
        time.sleep(0.2)


def check_sends_work(servers: tuple[Server, Server]) -> None:
    """After the trouble: on each process a new session and a run that ends exactly once."""
    for server in servers:
        session = create(server)
        run = send(server, session, {"speed": 1000, "length": 5})
        found = wait_for_ending(server, session, run)
        assert endings(found) == ["run.completed"], found


def outage(redis: RedisServer, seconds: float, during: list[Server], session: str) -> None:
    """Stop Redis (a crash) for ``seconds``, checking the 503s meanwhile, then restart it."""
    redis.kill()
    stopped = time.monotonic()
    for server in during:
        assert_unavailable_everywhere(server, session)
    time.sleep(max(0.0, seconds - (time.monotonic() - stopped)))
    redis.start()


def first_delta(server: Server, session: str, run: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not any(event["type"] == "delta" for event in run_events(server, session, run)):
        assert time.monotonic() < deadline, "the run never streamed"
        time.sleep(0.05)


@pytest.mark.parametrize("seconds", [8, pytest.param(60, marks=pytest.mark.slow)])
def test_a_run_goes_on_through_a_redis_outage_and_ends_once(redis, tmp_path, seconds) -> None:
    with two_servers(redis, tmp_path) as (a, b):
        session = create(a)
        length = 40
        run = send(a, session, {"speed": 10, "length": length})  # about 4 s of streaming
        first_delta(b, session, run)
        outage(redis, seconds, [a, b], session)
        for server in (a, b):
            wait_until_answering(server, session)
        found = wait_for_ending(b, session, run)
        assert endings(found) == ["run.completed"], found
        assert found[-1]["type"] == "run.completed", "an event of the run after its ending"
        assert sum(event["type"] == "delta" for event in found) == length, "lost or repeated"
        time.sleep(3 * LEASE_SECONDS)  # a reaper that took the live a for dead would act now
        assert endings(run_events(b, session, run)) == ["run.completed"]
        check_sends_work((a, b))
        send(a, session, {"speed": 1000, "length": 3})  # the outage's session works too


def test_a_run_whose_process_died_in_an_outage_is_interrupted_once(redis, tmp_path) -> None:
    with two_servers(redis, tmp_path) as (a, b):
        session = create(a)
        run = send(a, session, {"speed": 10, "length": 1000})
        first_delta(b, session, run)
        redis.kill()
        a.process.send_signal(signal.SIGKILL)
        a.process.wait()
        time.sleep(3)
        redis.start()
        found = wait_for_ending(b, session, run)
        assert endings(found) == ["run.interrupted"], found
        time.sleep(3 * LEASE_SECONDS)
        assert endings(run_events(b, session, run)) == ["run.interrupted"]
        check_sends_work((b, b))


def test_internal_streams_outlive_the_idle_expiry(redis, tmp_path) -> None:
    """``idle_seconds=2`` (a store URL parameter, docs/SCALING.md): sessions left idle expire,
    the ledgers and the registry do not, and sends go on working."""
    with two_servers(redis, tmp_path, "&idle_seconds=2") as servers:
        check_sends_work(servers)
        time.sleep(8)  # four idle periods with nothing but heartbeats
        check_sends_work(servers)


def test_a_redis_restarted_empty_is_recovered_without_restarts(redis, tmp_path) -> None:
    with two_servers(redis, tmp_path) as (a, b):
        check_sends_work((a, b))
        redis.kill()
        for name in os.listdir(redis.directory):  # restarted with nothing: as without appendonly
            path = redis.directory / name
            if path.is_dir():
                for inner in path.iterdir():
                    inner.unlink()
            elif name != "redis.log":
                path.unlink()
        redis.start()
        check_sends_work((a, b))
        # The registry is back: b, alone, still ends a's runs when a dies.
        session = create(a)
        run = send(a, session, {"speed": 10, "length": 1000})
        first_delta(b, session, run)
        a.process.send_signal(signal.SIGKILL)
        a.process.wait()
        found = wait_for_ending(b, session, run)
        assert endings(found) == ["run.interrupted"], found


def test_the_python_client_waits_out_an_outage(redis, tmp_path) -> None:
    """The SDK resends a command refused with STORE_UNAVAILABLE and retries a 503 create."""
    with two_servers(redis, tmp_path) as (a, _):
        with SessionClient.create(a.url, timeout=WAIT_SECONDS) as client:
            assert client.ask("before", params={"speed": 1000}).status == "completed"
            redis.kill()
            back = threading.Timer(15, redis.start)  # past the store's own 5 s recovery wait
            back.start()
            try:
                answer = client.ask("during", params={"speed": 1000})
            finally:
                back.join()
            assert answer.status == "completed"
        redis.kill()
        back = threading.Timer(8, redis.start)
        back.start()
        try:
            with SessionClient.create(a.url, timeout=WAIT_SECONDS) as client:
                assert client.ask("after", params={"speed": 1000}).status == "completed"
        finally:
            back.join()
