"""Slow clients over real sockets (serving.slowclients): headers that never finish and bodies
that stop are closed; kept-alive idle connections and WebSockets are not.

The limits are shortened for the test (0.3 s for headers, 0.5 s for a paused body); the waits
are bounded, and what is asserted is what happened (closed with nothing answered, or answered),
not how long it took.
"""

from __future__ import annotations

import json
import socket
import time
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from websockets.sync.client import connect

from serving.background import BackgroundServer
from serving.config import ServerConfig
from serving.slowclients import SlowClientLimits
from serving.streams import MemoryStore

HEADER = 0.3
BODY_IDLE = 0.5
BOUND = 10.0  # far above the limits: a wait that ends sooner on a healthy machine


@pytest.fixture(scope="module", params=[True, False], ids=["lane", "lane-off"])
def server(request: pytest.FixtureRequest) -> Iterator[BackgroundServer]:
    """The limits hold with the append lane on and off (uvicorn's own protocol)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(SlowClientLimits, "header_seconds", HEADER)
        patch.setattr(SlowClientLimits, "body_idle_seconds", BODY_IDLE)
        config = ServerConfig(store_url="memory://", open_access=True, append_lane=request.param)
        with BackgroundServer(config, store=MemoryStore()) as running:
            yield running


def _connect(server: BackgroundServer) -> socket.socket:
    parts = urlsplit(server.url)
    assert parts.hostname is not None and parts.port is not None
    return socket.create_connection((parts.hostname, parts.port), timeout=BOUND)


def _closed_without_answer(sock: socket.socket, trickle: bytes = b"") -> bool:
    """Send ``trickle`` a byte at a time (every 50 ms) while waiting; True if the server closed
    the connection having sent nothing, False if it answered or is still open after BOUND."""
    deadline = time.monotonic() + BOUND
    sock.settimeout(0.05)
    position = 0
    while time.monotonic() < deadline:
        try:
            received = sock.recv(4096)
        except TimeoutError:
            if position < len(trickle):
                try:
                    sock.sendall(trickle[position : position + 1])
                except OSError:
                    return True  # closed under us
                position += 1
            continue
        except ConnectionResetError:
            return True
        return received == b""
    return False


def _request(stream: str, body: bytes, declared: int | None = None) -> bytes:
    length = len(body) if declared is None else declared
    head = (
        f"POST /v1/stream/{stream} HTTP/1.1\r\nhost: test\r\ncontent-type: text/plain\r\n"
        f"content-length: {length}\r\n\r\n"
    )
    return head.encode() + body


def _create(server: BackgroundServer) -> str:
    stream = f"slow-{uuid.uuid4().hex[:8]}"
    with _connect(server) as sock:
        sock.sendall(
            f"PUT /v1/stream/{stream} HTTP/1.1\r\nhost: t\r\ncontent-type: text/plain\r\n"
            "content-length: 0\r\n\r\n".encode()
        )
        assert sock.recv(4096).startswith(b"HTTP/1.1 201")
    return stream


def _read(server: BackgroundServer, stream: str) -> bytes:
    with _connect(server) as sock:
        sock.sendall(f"GET /v1/stream/{stream}?offset=-1 HTTP/1.1\r\nhost: t\r\n\r\n".encode())
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 200"), answer
    return answer.split(b"\r\n\r\n", 1)[1]


def test_a_connection_that_sends_nothing_is_closed(server: BackgroundServer) -> None:
    with _connect(server) as sock:
        assert _closed_without_answer(sock)


def test_headers_sent_a_byte_at_a_time_are_cut_off(server: BackgroundServer) -> None:
    stream = _create(server)
    with _connect(server) as sock:
        slowloris = _request(stream, b"late", declared=4)[:-4] * 3  # far more than 0.3 s of it
        assert _closed_without_answer(sock, trickle=slowloris)
    assert _read(server, stream) == b""


def test_a_body_that_stops_is_cut_off_and_nothing_is_appended(server: BackgroundServer) -> None:
    stream = _create(server)
    for declared in (10, 200_000):  # the append lane's path and a body past uvicorn's buffer
        with _connect(server) as sock:
            sock.sendall(_request(stream, b"half!", declared=declared))
            assert _closed_without_answer(sock)
    assert _read(server, stream) == b""


def test_kept_alive_connections_and_websockets_outlive_the_limits(
    server: BackgroundServer,
) -> None:
    stream = _create(server)
    with _connect(server) as sock:
        sock.sendall(_request(stream, b"one"))
        assert sock.recv(4096).startswith(b"HTTP/1.1 204")
        time.sleep(3 * BODY_IDLE)  # idle between requests: uvicorn's keep-alive (65 s) rules
        sock.sendall(_request(stream, b"two"))
        assert sock.recv(4096).startswith(b"HTTP/1.1 204")
    session = httpx.post(f"{server.url}/v1/sessions").json()["id"]
    with connect(f"{server.url.replace('http', 'ws')}/v1/sessions/{session}/ws") as ws:
        time.sleep(3 * BODY_IDLE)
        ws.send('{"type": "heartbeat", "id": "h"}')
        assert json.loads(ws.recv(timeout=BOUND))[0]["type"] == "ack"
    assert _read(server, stream) == b"onetwo"
