"""Readers that stop reading (serving.slowclients.WriteStallLimit): an SSE or WebSocket client
that takes none of the server's bytes is dropped, one that reads slowly is not, and the server
goes on serving everyone else.

Over real sockets, with the bound shortened to 0.5 s without a byte taken; the waits are
bounded, and what is asserted is what happened to the connection, not how long it took. The
measurements with the real bound (RSS, connections) are in docs/SCALING.md, "Slow readers".
"""

from __future__ import annotations

import base64
import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import httpx
import psutil
import pytest

from serving.background import BackgroundServer
from serving.config import ServerConfig
from serving.slowclients import WriteStallLimit
from serving.streams import MemoryStore

BOUND = 30.0  # far above the shortened limits: a wait that ends much sooner when all is well
WORDS = " ".join(["w" * 100] * 500)  # 50 KB: under the 64 KiB command limit


@pytest.fixture(scope="module")
def server() -> Iterator[BackgroundServer]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(WriteStallLimit, "write_stall_seconds", 0.5)
        config = ServerConfig(store_url="memory://", open_access=True)
        with BackgroundServer(config, store=MemoryStore()) as running:
            yield running


@pytest.fixture(scope="module")
def session(server: BackgroundServer) -> str:
    """A session whose log (about 15 MB) is far more than the socket buffers hold."""
    with httpx.Client(base_url=server.url, timeout=BOUND) as http:
        created = http.post("/v1/sessions").json()["id"]
        sent = http.post(
            f"/v1/sessions/{created}/commands",
            json={
                "type": "send",
                "data": {"text": WORDS},
                "params": {"speed": 1e6, "length": 60_000},
            },
        )
        assert sent.status_code == 200, sent.text
        deadline = time.monotonic() + BOUND
        while http.get(f"/v1/sessions/{created}").json()["runs"]:
            assert time.monotonic() < deadline, "the run did not end"
            time.sleep(0.05)
    return created


def _silent_reader(
    server: BackgroundServer, request: bytes, then: bytes | None = None
) -> socket.socket:
    """A connection with a tiny receive buffer that sends ``request`` and never reads (but
    for the answer's head, when ``then`` is to be sent after it: a WebSocket's subscribe)."""
    parts = urlsplit(server.url)
    assert parts.hostname is not None and parts.port is not None
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(BOUND)
    sock.connect((parts.hostname, parts.port))
    sock.sendall(request)
    if then is not None:
        head = b""
        while b"\r\n\r\n" not in head:
            head += sock.recv(1)
        assert head.startswith(b"HTTP/1.1 101"), head
        sock.sendall(then)
    return sock


def _server_side_open(server: BackgroundServer, client: socket.socket) -> bool:
    """Whether the server still holds its end of ``client``'s connection (this process)."""
    port = urlsplit(server.url).port
    mine = client.getsockname()[1]
    return any(
        c.laddr and c.raddr and c.laddr.port == port and c.raddr.port == mine
        for c in psutil.Process().net_connections("tcp")
    )


def _dropped(server: BackgroundServer, client: socket.socket) -> bool:
    """True once the server, having taken the connection, no longer holds it (bounded)."""
    return _waited(lambda: _server_side_open(server, client)) and _waited(
        lambda: not _server_side_open(server, client)
    )


def _waited(condition: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + BOUND
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def _websocket(session: str) -> tuple[bytes, bytes]:
    """A WebSocket handshake, and a (masked) subscribe frame to send once it is accepted."""
    key = base64.b64encode(os.urandom(16)).decode()
    handshake = (
        f"GET /v1/sessions/{session}/ws?device=frozen HTTP/1.1\r\nHost: test\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ).encode()
    payload = json.dumps({"type": "subscribe", "id": "s", "from": "start"}).encode()
    mask = os.urandom(4)
    masked = bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
    return handshake, bytes([0x81, 0x80 | len(payload)]) + mask + masked


def test_an_sse_reader_that_never_reads_is_dropped(server: BackgroundServer, session: str) -> None:
    reader = _silent_reader(
        server, f"GET /v1/sessions/{session}/events?from=start HTTP/1.1\r\nHost: t\r\n\r\n".encode()
    )
    try:
        assert _dropped(server, reader)
    finally:
        reader.close()
    with httpx.Client(base_url=server.url, timeout=BOUND) as http:  # everyone else: served
        assert http.get(f"/v1/sessions/{session}").status_code == 200


def test_a_websocket_reader_that_never_reads_is_dropped(
    server: BackgroundServer, session: str
) -> None:
    reader = _silent_reader(server, *_websocket(session))
    try:
        assert _dropped(server, reader)
    finally:
        reader.close()
    with httpx.Client(base_url=server.url, timeout=BOUND) as http:
        assert http.get(f"/v1/sessions/{session}").status_code == 200


def test_a_reader_that_reads_is_not_dropped(server: BackgroundServer, session: str) -> None:
    """The whole log, read at the client's own pace (slower than the server writes), arrives:
    only a reader that takes nothing for the whole bound is dropped."""
    received = 0
    url = f"{server.url}/v1/sessions/{session}/events?from=start"
    with httpx.Client(timeout=BOUND) as http, http.stream("GET", url) as response:
        for chunk in response.iter_bytes(256 * 1024):
            received += len(chunk)
            if received > 10_000_000:  # most of the log: far more than any buffer holds
                break
            time.sleep(0.05)  # well under the bound, far slower than the server writes
    assert received > 10_000_000
