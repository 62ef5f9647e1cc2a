"""The fault proxy breaks what it says it breaks and nothing else (a real echo server behind it)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from tests.serving.faults import FaultProxy, ThreadedFaultProxy


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


async def _echo_server() -> tuple[asyncio.Server, int]:
    server = await asyncio.start_server(_echo, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def _round_trip(port: int, payload: bytes) -> bytes:
    """What comes back for ``payload``; b"" when the connection was reset or closed."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(payload)
        await writer.drain()
        return await asyncio.wait_for(reader.readexactly(len(payload)), 10)
    except (ConnectionError, asyncio.IncompleteReadError):
        return b""
    finally:
        writer.transport.abort()


@pytest.mark.anyio
async def test_bytes_pass_both_ways_until_a_cut_aborts_every_open_connection() -> None:
    server, port = await _echo_server()
    proxy = FaultProxy(port)
    proxied = await proxy.start()
    try:
        assert await _round_trip(proxied, b"hello" * 10000) == b"hello" * 10000
        reader, writer = await asyncio.open_connection("127.0.0.1", proxied)
        writer.write(b"ping")
        assert await reader.readexactly(4) == b"ping"
        proxy.cut()
        with pytest.raises((ConnectionError, asyncio.IncompleteReadError)):
            await asyncio.wait_for(reader.readexactly(1), 10)
        writer.transport.abort()
        assert proxy.cuts == 1
        proxy.cut()  # nothing open: not counted
        assert proxy.cuts == 1
        assert await _round_trip(proxied, b"again") == b"again"
    finally:
        await proxy.close()
        server.close()


@pytest.mark.anyio
async def test_refused_connections_fail_until_allowed_again() -> None:
    server, port = await _echo_server()
    proxy = FaultProxy(port)
    proxied = await proxy.start()
    try:
        proxy.refuse()
        assert await _round_trip(proxied, b"lost") == b""
        assert await _round_trip(proxied, b"lost") == b""
        assert proxy.refused == 2
        proxy.allow()
        assert await _round_trip(proxied, b"back") == b"back"
        outage = asyncio.create_task(proxy.outage(0.3))
        await asyncio.sleep(0.05)
        assert await _round_trip(proxied, b"lost") == b""
        await outage
        assert await _round_trip(proxied, b"back") == b"back"
        assert proxy.refused == 3
    finally:
        await proxy.close()
        server.close()


@pytest.mark.anyio
async def test_random_cuts_happen_until_stopped() -> None:
    server, port = await _echo_server()
    proxy = FaultProxy(port)
    proxied = await proxy.start()
    try:
        proxy.cut_every(0.01, 0.03)
        broken = 0
        for _ in range(40):  # each connection stays open until a cut breaks it
            reader, writer = await asyncio.open_connection("127.0.0.1", proxied)
            try:
                await asyncio.wait_for(reader.read(1), 10)
                broken += 1
            except ConnectionError:
                broken += 1
            finally:
                writer.transport.abort()
            if broken >= 5:
                break
        await proxy.stop_cutting()
        cuts = proxy.cuts
        assert cuts >= 5
        assert await _round_trip(proxied, b"calm") == b"calm"
        await asyncio.sleep(0.1)
        assert proxy.cuts == cuts
    finally:
        await proxy.close()
        server.close()


@pytest.fixture
def echo_port() -> Iterator[int]:
    """A blocking echo server in a thread (the threaded proxy's clients are threads too)."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve(connection: socket.socket) -> None:
        with connection:
            try:
                while data := connection.recv(65536):
                    connection.sendall(data)
            except OSError:
                pass

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=serve, args=(connection,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    listener.close()


def _blocking_round_trip(port: int, payload: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        try:
            connection.sendall(payload)
            return connection.recv(len(payload))
        except OSError:
            return b""


def test_the_threaded_proxy_cuts_refuses_and_comes_back_for_threads(echo_port: int) -> None:
    with ThreadedFaultProxy(echo_port) as proxy:
        assert proxy.url == f"http://127.0.0.1:{proxy.port}"
        assert _blocking_round_trip(proxy.port, b"one") == b"one"
        connection = socket.create_connection(("127.0.0.1", proxy.port), timeout=10)
        connection.sendall(b"x")
        assert connection.recv(1) == b"x"
        proxy.cut()
        with contextlib.suppress(ConnectionError):
            assert connection.recv(1) == b""
        connection.close()
        assert proxy.cuts == 1
        proxy.refuse()
        assert _blocking_round_trip(proxy.port, b"two") == b""
        proxy.allow()
        assert _blocking_round_trip(proxy.port, b"three") == b"three"
        started = time.monotonic()
        proxy.outage(0.2)
        assert time.monotonic() - started >= 0.2
        assert _blocking_round_trip(proxy.port, b"four") == b"four"
        assert proxy.refused == 1


@pytest.mark.anyio
async def test_truncating_cuts_a_response_one_byte_into_its_body() -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n")
        await writer.drain()
        await asyncio.sleep(0.05)  # the body in a second packet: cut there too
        writer.write(b"hello")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    proxy = FaultProxy(server.sockets[0].getsockname()[1])
    proxied = await proxy.start()

    async def get() -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", proxied)
        writer.write(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
        try:
            return await asyncio.wait_for(reader.read(-1), 10)
        except ConnectionError:
            return b"reset"
        finally:
            writer.transport.abort()

    try:
        assert (await get()).endswith(b"\r\n\r\nhello")
        proxy.truncating = True
        assert (await get()).endswith(b"\r\n\r\nh")
        assert proxy.truncated == 1
        proxy.truncating = False
        assert (await get()).endswith(b"\r\n\r\nhello")
    finally:
        await proxy.close()
        server.close()
