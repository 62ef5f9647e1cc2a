"""A lean HTTP/1.1 client for benchmarks: keep-alive connections, httptools parsing, no frills.

Why not aiohttp or httpx: on the 2-core machines we benchmark on, the client shares the CPU
with the server under test. Measured on the concurrent-append workload, aiohttp spent about
160 µs of client CPU per request (httpx several times that), more than the Node reference
server spends answering it (about 100 µs), so with those clients the benchmark measured the
client. With this one a whole append costs the client about 60 µs: an asyncio.Protocol per
connection, the response parsed by httptools (the C parser uvicorn uses), each request written
as one buffer. It does only what the benchmarks need: one request at a time per connection,
Content-Length request bodies, whole or streamed (SSE) response bodies.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import cast
from urllib.parse import urlsplit

import httptools


class ClientError(Exception):
    """The connection failed or the server's answer was not valid HTTP/1.1."""


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    """Header names in lower case; a repeated header keeps its last value."""
    body: bytes


class _Connection(asyncio.Protocol):
    """One keep-alive connection; the parser's callbacks fill the response being read.

    A caller waits on ``_waiter``: the end of the response for ``request``, the end of the
    headers for ``open_stream`` (whose body then flows through ``_chunks``).
    """

    def __init__(self) -> None:
        self._transport: asyncio.Transport | None = None
        self._parser = httptools.HttpResponseParser(self)
        self._waiter: asyncio.Future[None] | None = None
        self._chunks: asyncio.Queue[bytes | None] | None = None
        self._status = 0
        self._headers: dict[str, str] = {}
        self._body: list[bytes] = []
        self._keep_alive = False
        self.closed = False

    # --- asyncio.Protocol ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as error:
            self._fail(ClientError(f"invalid HTTP response: {error}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(ClientError(f"the server closed the connection ({exc or 'EOF'})"))

    # --- httptools callbacks ---------------------------------------------------------------

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        self._status = self._parser.get_status_code()
        if self._chunks is not None:
            self._wake()

    def on_body(self, body: bytes) -> None:
        if self._chunks is not None:
            self._chunks.put_nowait(body)
        else:
            self._body.append(body)

    def on_message_complete(self) -> None:
        # Asked later, the parser would answer for the next message already.
        self._keep_alive = self._parser.should_keep_alive()
        if self._chunks is not None:
            self._chunks.put_nowait(None)
        else:
            self._wake()

    # --- requests --------------------------------------------------------------------------

    async def request(self, request: bytes) -> Response:
        await self._send(request, streaming=False)
        return Response(self._status, self._headers, b"".join(self._body))

    async def open_stream(self, request: bytes) -> tuple[int, dict[str, str]]:
        await self._send(request, streaming=True)
        return self._status, self._headers

    async def chunks(self) -> AsyncIterator[bytes]:
        """The streamed body as it arrives, until the response ends or the connection drops."""
        assert self._chunks is not None
        while (chunk := await self._chunks.get()) is not None:
            yield chunk

    @property
    def reusable(self) -> bool:
        return not self.closed and self._keep_alive

    def close(self) -> None:
        """Close from our side: nobody is told, since nobody is waiting any more."""
        self.closed = True
        if self._waiter is not None:
            self._waiter.cancel()
        if self._transport is not None:
            self._transport.close()

    async def _send(self, request: bytes, *, streaming: bool) -> None:
        if self.closed or self._transport is None:
            raise ClientError("the connection is closed")
        self._waiter = asyncio.get_running_loop().create_future()
        self._chunks = asyncio.Queue() if streaming else None
        self._status, self._headers, self._body, self._keep_alive = 0, {}, [], False
        self._transport.write(request)
        await self._waiter

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def _fail(self, error: ClientError) -> None:
        """The connection is unusable: fail the waiting caller, end a streamed body."""
        self.closed = True
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(error)
        if self._chunks is not None:
            self._chunks.put_nowait(None)
        if self._transport is not None:
            self._transport.close()


class StreamedResponse:
    """A response whose body is read as it arrives: ``async for chunk in response.chunks()``."""

    def __init__(self, status: int, headers: dict[str, str], connection: _Connection) -> None:
        self.status = status
        self.headers = headers
        self._connection = connection

    def chunks(self) -> AsyncIterator[bytes]:
        return self._connection.chunks()


class Client:
    """Keep-alive connections to one server (``http://host:port``), opened as needed.

    Each request takes an idle connection or opens one, so N concurrent tasks use N
    connections. Close the client with ``await client.aclose()`` (or ``async with``).
    """

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or not parts.hostname or not parts.port:
            raise ValueError(f"use an http://host:port URL, not {base_url!r}")
        self._host, self._port = parts.hostname, parts.port
        self._host_header = f"{parts.hostname}:{parts.port}".encode()
        self._idle: list[_Connection] = []
        self._open: set[_Connection] = set()

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def request(
        self, method: str, target: str, body: bytes = b"", headers: Mapping[str, str] | None = None
    ) -> Response:
        """Send one request (``target`` is the path and query) and read the whole response."""
        connection = await self._connection()
        try:
            response = await connection.request(self._encode(method, target, body, headers))
        except BaseException:
            self._discard(connection)
            raise
        if connection.reusable:
            self._idle.append(connection)
        else:
            self._discard(connection)
        return response

    @asynccontextmanager
    async def stream(
        self, method: str, target: str, headers: Mapping[str, str] | None = None
    ) -> AsyncIterator[StreamedResponse]:
        """Send a request and read its body as it comes; the connection closes afterwards."""
        connection = await self._connection()
        try:
            status, response_headers = await connection.open_stream(
                self._encode(method, target, b"", headers)
            )
            yield StreamedResponse(status, response_headers, connection)
        finally:
            self._discard(connection)

    async def aclose(self) -> None:
        for connection in list(self._open):
            self._discard(connection)

    async def _connection(self) -> _Connection:
        while self._idle:
            connection = self._idle.pop()
            if not connection.closed:
                return connection
            self._open.discard(connection)
        loop = asyncio.get_running_loop()
        try:
            _, connection = await loop.create_connection(_Connection, self._host, self._port)
        except OSError as error:
            raise ClientError(f"cannot connect to {self._host}:{self._port}: {error}") from None
        self._open.add(connection)
        return connection

    def _discard(self, connection: _Connection) -> None:
        connection.close()
        self._open.discard(connection)

    def _encode(
        self, method: str, target: str, body: bytes, headers: Mapping[str, str] | None
    ) -> bytes:
        lines = [
            b"%s %s HTTP/1.1" % (method.encode(), target.encode()),
            b"host: " + self._host_header,
            b"content-length: %d" % len(body),
            *(f"{name}: {value}".encode("latin-1") for name, value in (headers or {}).items()),
        ]
        return b"\r\n".join(lines) + b"\r\n\r\n" + body
