"""The benchmarks' HTTP/1.1 client, against a small real server on 127.0.0.1 that answers each
path in one of the ways HTTP/1.1 allows (Content-Length, chunked, Connection: close...)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import pytest
import uvloop

from benchmarks.http_client import Client, ClientError

Runner = Callable[[Coroutine[Any, Any, Any]], Any]


@pytest.fixture(params=["asyncio", "uvloop"])
def run(request: pytest.FixtureRequest) -> Runner:
    """The client runs on both event loops (uvloop's transports are not asyncio.Transports)."""
    return asyncio.run if request.param == "asyncio" else uvloop.run


def _chunked(*parts: bytes) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in parts) + b"0\r\n\r\n"


async def _serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, number: int) -> None:
    """Answer requests on one connection until the client or the path closes it."""
    while True:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            break
        request_line, *header_lines = head.decode().split("\r\n")
        method, target, _ = request_line.split(" ")
        headers = dict(line.lower().split(": ", 1) for line in header_lines if line)
        body = await reader.readexactly(int(headers.get("content-length", 0)))
        if target == "/echo":
            answer = f"{method} {target} {headers.get('x-probe', '')} ".encode() + body
            writer.write(
                b"HTTP/1.1 200 OK\r\nConnection-Number: %d\r\nContent-Length: %d\r\n\r\n%s"
                % (number, len(answer), answer)
            )
        elif target == "/chunked":
            writer.write(b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n")
            writer.write(_chunked(b"hello, ", b"world"))
        elif target == "/close":
            writer.write(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
            await writer.drain()
            break
        elif target == "/stream":
            writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            for part in (b"one", b"two", b"three"):
                writer.write(b"%x\r\n%s\r\n" % (len(part), part))
                await writer.drain()
                await asyncio.sleep(0.01)
            writer.write(b"0\r\n\r\n")
        elif target == "/garbage":
            writer.write(b"SMTP READY\r\n\r\n")
        elif target == "/hang-up":
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
            await writer.drain()
            break
        await writer.drain()
    writer.close()


async def _with_server(test: Callable[[str], Awaitable[Any]]) -> Any:
    connections = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await _serve(reader, writer, connections)

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        return await test(f"http://127.0.0.1:{port}")


def test_requests_reuse_one_keep_alive_connection(run: Runner) -> None:
    async def test(url: str) -> None:
        async with Client(url) as client:
            first = await client.request("POST", "/echo", b"body", {"X-Probe": "a"})
            second = await client.request("GET", "/echo")
        assert (first.status, first.body) == (200, b"POST /echo a body")
        assert first.headers["connection-number"] == second.headers["connection-number"] == "1"

    run(_with_server(test))


def test_concurrent_requests_get_a_connection_each(run: Runner) -> None:
    async def test(url: str) -> None:
        async with Client(url) as client:
            answers = await asyncio.gather(*(client.request("GET", "/echo") for _ in range(3)))
        assert sorted(answer.headers["connection-number"] for answer in answers) == ["1", "2", "3"]

    run(_with_server(test))


def test_a_chunked_body_is_joined(run: Runner) -> None:
    async def test(url: str) -> None:
        async with Client(url) as client:
            answer = await client.request("PUT", "/chunked")
        assert (answer.status, answer.body) == (201, b"hello, world")

    run(_with_server(test))


def test_connection_close_is_honoured(run: Runner) -> None:
    async def test(url: str) -> None:
        async with Client(url) as client:
            closed = await client.request("POST", "/close")
            after = await client.request("GET", "/echo")
        assert closed.status == 204
        assert after.headers["connection-number"] == "2"

    run(_with_server(test))


def test_a_streamed_body_arrives_chunk_by_chunk(run: Runner) -> None:
    async def test(url: str) -> None:
        async with Client(url) as client, client.stream("GET", "/stream") as response:
            assert response.status == 200
            return [chunk async for chunk in response.chunks()]

    assert run(_with_server(test)) == [b"one", b"two", b"three"]


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("/garbage", "invalid HTTP response"),
        ("/hang-up", "the server closed the connection"),
    ],
)
def test_a_broken_answer_is_a_client_error(run: Runner, target: str, message: str) -> None:
    async def test(url: str) -> None:
        async with Client(url) as client:
            with pytest.raises(ClientError, match=message):
                await client.request("GET", target)

    run(_with_server(test))


def test_a_refused_connection_is_a_client_error(run: Runner) -> None:
    async def test(url: str) -> None:
        async with Client(url) as client:
            await client.request("GET", "/echo")

    async def closed_port() -> str:
        server = await asyncio.start_server(lambda reader, writer: None, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        server.close()
        await server.wait_closed()
        return f"http://127.0.0.1:{port}"

    url = run(closed_port())
    with pytest.raises(ClientError, match=r"cannot connect to 127\.0\.0\.1"):
        run(test(url))


def test_only_plain_http_urls_with_a_port() -> None:
    with pytest.raises(ValueError, match="use an http://host:port URL"):
        Client("https://example.org")
