"""The HTTP face of the streams: a plain ASGI app serving /v1/stream/{name}.

A thin asyncio layer: it reads the request, asks serving.streams.protocol to validate it, calls
the store, and writes the answer. It is plain ASGI rather than FastAPI routes because this is
the hot path (every append and every live read) and routing/validation layers cost more than
the work itself. Answers are StreamAnswer values; ``StreamsApp.append`` also serves the append
lane (serving.lane), which calls it without ASGI. A refusal is a StreamError, whose class
carries its code and status (serving.errors); error_answer turns it into the answer.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, NamedTuple
from urllib.parse import parse_qs, quote

from serving.origins import normalise_origin, same_origin
from serving.streams import protocol, sse
from serving.streams.cursor import next_cursor
from serving.streams.errors import (
    InvalidRequest,
    MethodNotAllowed,
    PayloadTooLarge,
    ProducerSeqGap,
    ProducerStaleEpoch,
    StoreUnavailable,
    StreamClosed,
    StreamError,
    StreamForbidden,
    StreamGone,
    StreamNotFound,
    StreamReadOnly,
    StreamUnauthorized,
)
from serving.streams.offsets import TAIL
from serving.streams.protocol import Limits, Live, ReadQuery
from serving.streams.store import ReadResult, Store, StreamMeta
from serving.tokens import (
    ACCESS_TOKEN_PARAMETER,
    DuplicateTokenParameter,
    TokenError,
    TokenSigner,
    bearer_token,
    query_token,
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]

READ, WRITE = "read", "write"

_ALLOW_HEADERS = (
    "authorization, content-type, if-none-match, stream-seq, stream-ttl, stream-expires-at, "
    "stream-closed, producer-id, producer-epoch, producer-seq, stream-forked-from, "
    "stream-fork-offset, stream-fork-sub-offset"
)
_EXPOSE_HEADERS = (
    "stream-next-offset, stream-cursor, stream-up-to-date, stream-closed, stream-ttl, "
    "stream-expires-at, stream-sse-data-encoding, producer-epoch, producer-seq, "
    "producer-expected-seq, producer-received-seq, etag, content-type, location"
)
_COMMON: Headers = [
    (b"x-content-type-options", b"nosniff"),
    (b"cross-origin-resource-policy", b"cross-origin"),
]
_CORS: Headers = [
    (b"access-control-expose-headers", _EXPOSE_HEADERS.encode()),
]
"""Only a browser's cross-origin request (it carries Origin) needs these; sent on every
response they were the priciest part of a small append's answer (uvicorn checks each header)."""
_VARY_ORIGIN = (b"vary", b"origin")
"""On GET answers (the cacheable ones): one cached without CORS headers must not serve another
origin."""
_METHODS = b"GET, HEAD, POST, PUT, DELETE, OPTIONS"
_PREFLIGHT: Headers = [
    (b"access-control-allow-methods", _METHODS),
    (b"access-control-allow-headers", _ALLOW_HEADERS.encode()),
    (b"access-control-max-age", b"86400"),
]
_TRUE = b"true"
DRAIN_LIMIT = 64 * 1024 * 1024
"""A refused upload up to this size is read to its end, so the client sees the 413."""
_HISTORIC_CACHE = b"private, max-age=60, stale-while-revalidate=300"


def _error_headers(error: StreamError) -> Headers:
    """The recovery data some errors carry, as protocol headers."""
    if isinstance(error, StreamClosed):
        return [(b"stream-closed", _TRUE), (b"stream-next-offset", str(error.tail).encode())]
    if isinstance(error, ProducerStaleEpoch):
        return [(b"producer-epoch", str(error.current_epoch).encode())]
    if isinstance(error, ProducerSeqGap):
        return [
            (b"producer-expected-seq", str(error.expected_seq).encode()),
            (b"producer-received-seq", str(error.received_seq).encode()),
        ]
    if isinstance(error, StreamUnauthorized):
        return [(b"www-authenticate", b'Bearer realm="streams"')]
    if isinstance(error, MethodNotAllowed):
        return [(b"allow", _METHODS)]
    if isinstance(error, StoreUnavailable):
        return [(b"retry-after", str(error.retry_after).encode())]
    return []


class StreamAnswer(NamedTuple):
    """A whole response: what the ASGI layer and the append lane (serving.lane) both send.

    ``headers`` are the answer's own; every response also gets the common ones (_COMMON) and,
    unless the status forbids a body, Content-Length.
    """

    status: int
    headers: Headers
    body: bytes = b""


def error_answer(error: StreamError, method: str) -> StreamAnswer:
    """The precise 4xx (or 503) for a refused request, with its recovery headers."""
    body = b"" if method == "HEAD" else json.dumps(error.body()).encode()
    return StreamAnswer(
        error.status, [(b"content-type", b"application/json"), *_error_headers(error)], body
    )


def answer_headers(answer: StreamAnswer) -> Headers:
    """Every header of ``answer`` as sent: the common ones, its own, then Content-Length."""
    headers = _COMMON + answer.headers
    if answer.status not in (204, 304):
        headers.append((b"content-length", str(len(answer.body)).encode()))
    return headers


class _ClientGone(Exception):
    """The client disconnected while we were reading its request or waiting for news."""


class StreamsApp:
    """ASGI app for ``/v1/stream/{name}``: PUT, POST, GET (catch-up/long-poll/SSE), HEAD, DELETE."""

    def __init__(
        self,
        store: Store,
        *,
        signer: TokenSigner | None,
        open_access: bool = False,
        long_poll_timeout: float = 30.0,
        sse_max_seconds: float = 60.0,
        sse_keepalive_seconds: float = 15.0,
        max_read_bytes: int = 4 * 1024 * 1024,
        limits: Limits | None = None,
        clock: Callable[[], float] = time.time,
        cors_origins: Sequence[str] = (),
    ) -> None:
        """``cors_origins``: the web origins (``https://app.example``) whose pages may use the
        streams from a browser; empty: any origin on a server that checks tokens (tokens are
        not cookies: a page must hold one), none but the server's own on an ``--open`` one."""
        if signer is None and not open_access:
            raise ValueError("a StreamsApp that is not open needs a TokenSigner")
        self.store = store
        self.signer = signer
        self.open_access = open_access
        self.long_poll_timeout = long_poll_timeout
        self.sse_max_seconds = sse_max_seconds
        self.sse_keepalive_seconds = sse_keepalive_seconds
        self.max_read_bytes = max_read_bytes
        self.limits = limits or Limits()
        self.clock = clock
        self.cors_origins = frozenset(normalise_origin(origin) for origin in cors_origins)
        self._read_only: list[tuple[str, str, str]] = []
        self._query_checks: list[tuple[str, Callable[[dict[str, list[str]]], None]]] = []

    def refuse_writes(self, prefix: str, code: str, message: str) -> None:
        """Streams named ``prefix...`` become read-only here: another layer writes them."""
        self._read_only.append((prefix, code, message))

    def check_query(self, prefix: str, check: Callable[[dict[str, list[str]]], None]) -> None:
        """Requests for streams named ``prefix...`` have their query checked by ``check``
        (another layer's parameters, e.g. the sessions' ``device``), which raises a
        StreamError to refuse one."""
        self._query_checks.append((prefix, check))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            raise RuntimeError(f"StreamsApp serves HTTP only, not {scope['type']}")
        headers = {
            name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]
        }
        method = scope["method"]
        try:
            if "origin" in headers:
                send = self._cross_origin(headers, send, preflight=method == "OPTIONS")
            if method == "OPTIONS":
                await _respond(send, StreamAnswer(204, _PREFLIGHT))
                return
            path = protocol.stream_path(scope["path"])
            query = parse_query(scope["query_string"])
            for prefix, check in self._query_checks:
                if path.startswith(prefix):
                    check(query)
            if method == "GET":
                await self._get(path, headers, query, receive, send)
            elif method == "POST":
                await self._post(path, headers, query, receive, send)
            elif method == "PUT":
                await self._put(scope, path, headers, query, receive, send)
            elif method == "HEAD":
                await self._head(path, headers, query, send)
            elif method == "DELETE":
                self._authorize(headers, query, WRITE, path)
                await self.store.delete(path)
                await _respond(send, StreamAnswer(204, []))
            else:
                raise MethodNotAllowed(
                    f"{method} is not part of the protocol: use GET, HEAD, POST, PUT, DELETE "
                    "or OPTIONS"
                )
        except StreamError as error:
            await _respond(send, error_answer(error, method))
        except _ClientGone:
            return

    # --- access control --------------------------------------------------------------------

    def _cross_origin(self, headers: dict[str, str], send: Send, *, preflight: bool) -> Send:
        """``send`` with the CORS headers a browser's request (it carries ``Origin``) gets.

        On an ``--open`` server a page of any other site used to get ``*``: every site a user
        visited could read every stream and delete them. Now only the server's own pages and
        the ``--cors-origin`` ones may; any other origin is refused (403) before anything is
        done, since a browser sends some requests (a text/plain POST) without asking first.
        A preflight is answered, without the allowing header: the browser then stops there.
        """
        origin = normalise_origin(headers["origin"])
        if origin in self.cors_origins:
            return _with_cors(send, headers["origin"].encode("latin-1"))
        if same_origin(origin, headers.get("host", "")):
            return send  # the server's own page: a browser needs no CORS headers
        if self.open_access and not preflight:
            raise StreamForbidden(
                f"this server was started with --open (no tokens), so it refuses requests from "
                f"the pages of other web sites ({headers['origin']}); to allow one, start it "
                "with --cors-origin ORIGIN, or run it with tokens"
            )
        if self.cors_origins or self.open_access:
            return send  # not an allowed origin: no CORS headers, the browser stops there
        return _with_cors(send, b"*")

    def _authorize(
        self, headers: dict[str, str], query: dict[str, list[str]], scope: str, stream: str
    ) -> None:
        if scope == WRITE:
            for prefix, code, message in self._read_only:
                if stream.startswith(prefix):
                    raise StreamReadOnly(message, code)
        try:
            from_query = query_token(query.get(ACCESS_TOKEN_PARAMETER))
        except DuplicateTokenParameter as error:
            raise InvalidRequest(error.message) from None
        if self.open_access:
            return
        assert self.signer is not None
        token = bearer_token(headers.get("authorization"), from_query)
        if token is None:
            raise StreamUnauthorized(
                "this server needs a bearer token: send 'Authorization: Bearer <token>' "
                "(mint one with: serving token --scope read,write --stream NAME)"
            )
        try:
            grant = self.signer.verify(token, now=self.clock())
        except TokenError as error:
            raise StreamUnauthorized(str(error)) from None
        if not grant.allows(scope, stream):
            raise StreamForbidden(
                f"your token does not grant {scope!r} on stream {stream!r} "
                f"(it grants {', '.join(sorted(grant.scopes))} on {grant.resource!r})"
            )

    # --- PUT -------------------------------------------------------------------------------

    async def _put(
        self,
        scope: Scope,
        path: str,
        headers: dict[str, str],
        query: dict[str, list[str]],
        receive: Receive,
        send: Send,
    ) -> None:
        self._authorize(headers, query, WRITE, path)
        body = await _read_body(receive, headers, self.limits.max_request_bytes)
        fork = protocol.parse_fork(headers)
        fork_content_type = None
        if fork is not None:
            self._authorize(headers, query, READ, fork.source)
            if body and not headers.get(protocol.CONTENT_TYPE, "").strip():
                fork_content_type = (await self.store.head(fork.source)).content_type
        request = protocol.parse_create(headers, body, self.limits, fork_content_type)
        result = await self.store.create(path, request)
        response = _meta_headers(result.meta)
        if result.created:
            response.append((b"location", _location(scope, path)))
        await _respond(send, StreamAnswer(201 if result.created else 200, response))

    # --- POST ------------------------------------------------------------------------------

    async def _post(
        self,
        path: str,
        headers: dict[str, str],
        query: dict[str, list[str]],
        receive: Receive,
        send: Send,
    ) -> None:
        self._authorize(headers, query, WRITE, path)
        body = await _read_body(receive, headers, self.limits.max_request_bytes)
        await _respond(send, await self._append(path, headers, body))

    async def append(
        self, path: str, headers: dict[str, str], query: dict[str, list[str]], body: bytes
    ) -> StreamAnswer:
        """Answer a POST whose body has been read (within the limit): the append lane's entry.

        Raises StreamError for a refused request (error_answer turns it into a response).
        """
        self._authorize(headers, query, WRITE, path)
        return await self._append(path, headers, body)

    async def _append(self, path: str, headers: dict[str, str], body: bytes) -> StreamAnswer:
        request = protocol.parse_append(headers, body, self.limits)
        result = await self.store.append(path, request)
        response: Headers = [(b"stream-next-offset", str(result.tail).encode())]
        if result.closed:
            response.append((b"stream-closed", _TRUE))
        if result.producer is not None:
            response.append((b"producer-epoch", str(result.producer.epoch).encode()))
            response.append((b"producer-seq", str(result.producer.last_seq).encode()))
        fresh_producer_data = bool(request.producer and request.data and not result.duplicate)
        return StreamAnswer(200 if fresh_producer_data else 204, response)

    # --- HEAD ------------------------------------------------------------------------------

    async def _head(
        self, path: str, headers: dict[str, str], query: dict[str, list[str]], send: Send
    ) -> None:
        self._authorize(headers, query, READ, path)
        meta = await self.store.head(path)
        response = _meta_headers(meta)
        response.append((b"cache-control", b"no-store"))
        if meta.ttl_seconds is not None:
            response.append((b"stream-ttl", str(meta.ttl_seconds).encode()))
        if meta.expires_at is not None:
            response.append(
                (b"stream-expires-at", protocol.format_expires_at(meta.expires_at).encode())
            )
        await _respond(send, StreamAnswer(200, response))

    # --- GET -------------------------------------------------------------------------------

    async def _get(
        self,
        path: str,
        headers: dict[str, str],
        query: dict[str, list[str]],
        receive: Receive,
        send: Send,
    ) -> None:
        self._authorize(headers, query, READ, path)
        read = protocol.parse_read(query)
        result = await self.store.read(path, read.position, self.max_read_bytes)
        if read.live is Live.SSE:
            await self._sse(path, read, result, receive, send)
            return
        if read.live is Live.LONG_POLL and not result.records and not result.end_of_stream:
            async with _client_watch(receive):
                result = await self._wait_for_records(path, result)
        meta = result.meta
        response = [
            (b"content-type", meta.content_type.encode()),
            (b"stream-next-offset", str(result.next_offset).encode()),
            _VARY_ORIGIN,
        ]
        if result.up_to_date:
            response.append((b"stream-up-to-date", _TRUE))
        if result.end_of_stream:
            response.append((b"stream-closed", _TRUE))
        if read.live is Live.LONG_POLL:
            response.append((b"stream-cursor", next_cursor(read.cursor, self.clock()).encode()))
            if not result.records:
                await _respond(send, StreamAnswer(204, response))
                return
        body = protocol.render_records(meta.content_type, result.records)
        if read.position is TAIL:
            response.append((b"cache-control", b"no-store"))
            await _respond(send, StreamAnswer(200, response, body))
            return
        tag = protocol.etag(meta.stream_id, read.start, result.next_offset, result.end_of_stream)
        response.append((b"etag", tag.encode()))
        historic = not result.up_to_date and read.live is Live.CATCH_UP
        response.append((b"cache-control", _HISTORIC_CACHE if historic else b"no-cache"))
        if read.live is Live.CATCH_UP and protocol.etag_matches(headers.get("if-none-match"), tag):
            await _respond(send, StreamAnswer(304, response))
            return
        await _respond(send, StreamAnswer(200, response, body))

    async def _wait_for_records(self, path: str, result: ReadResult) -> ReadResult:
        """Long-poll: wait until records arrive, the stream closes, or the timeout passes."""
        deadline = self.clock() + self.long_poll_timeout
        while not result.records and not result.end_of_stream:
            remaining = deadline - self.clock()
            if remaining <= 0:
                break
            await self.store.wait(path, result.next_offset, remaining)
            result = await self.store.read(path, result.next_offset, self.max_read_bytes)
        return result

    async def _sse(
        self, path: str, read: ReadQuery, first: ReadResult, receive: Receive, send: Send
    ) -> None:
        """Stream SSE until the stream ends, the connection's time is up, or the client leaves."""
        content_type = first.meta.content_type
        response = [
            (b"content-type", b"text/event-stream"),
            (b"cache-control", b"no-cache"),
            (b"x-accel-buffering", b"no"),
        ]
        if sse.uses_base64(content_type):
            response.append((b"stream-sse-data-encoding", b"base64"))
        await send({"type": "http.response.start", "status": 200, "headers": _COMMON + response})
        async with _client_watch(receive):
            await self._sse_events(path, read, first, content_type, send)
            await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _sse_events(
        self, path: str, read: ReadQuery, result: ReadResult, content_type: str, send: Send
    ) -> None:
        cursor = next_cursor(read.cursor, self.clock())
        deadline = self.clock() + self.sse_max_seconds
        announce = True
        while True:
            chunk = b""
            if result.records:
                chunk = sse.data_event(content_type, result.records)
            if chunk or announce or result.end_of_stream:
                chunk += sse.control_event(
                    result.next_offset,
                    cursor,
                    up_to_date=result.up_to_date,
                    closed=result.end_of_stream,
                )
                announce = False
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            if result.end_of_stream:
                return
            if not result.up_to_date:
                result = await self.store.read(path, result.next_offset, self.max_read_bytes)
                continue
            remaining = deadline - self.clock()
            if remaining <= 0:
                return
            news = await self.store.wait(
                path, result.next_offset, min(remaining, self.sse_keepalive_seconds)
            )
            if not news:
                await send({"type": "http.response.body", "body": sse.KEEPALIVE, "more_body": True})
                continue
            try:
                result = await self.store.read(path, result.next_offset, self.max_read_bytes)
            except (StreamNotFound, StreamGone):
                return


def _with_cors(send: Send, origin: bytes) -> Send:
    """``send``, adding the CORS headers (``origin`` allowed: ``*`` or one) to the response."""
    cors = [(b"access-control-allow-origin", origin), *_CORS]

    async def send_with_cors(message: Message) -> None:
        if message["type"] == "http.response.start":
            # GET answers say Vary: Origin already; the others are not cached.
            message = {**message, "headers": [*message["headers"], *cors]}
        await send(message)

    return send_with_cors


@asynccontextmanager
async def _client_watch(receive: Receive) -> AsyncIterator[None]:
    """Run the block while listening for the client to leave; if it does, stop the block and
    raise _ClientGone, so an abandoned live read frees its task and waiter at once."""
    task = asyncio.current_task()
    assert task is not None
    watcher = asyncio.create_task(_cancel_on_disconnect(receive, task))
    try:
        yield
    except asyncio.CancelledError:
        if not watcher.done():  # cancelled by someone else (shutdown): not ours to absorb
            raise
        task.uncancel()
        raise _ClientGone from None
    finally:
        watcher.cancel()


async def _cancel_on_disconnect(receive: Receive, task: asyncio.Task[Any]) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    task.cancel()


def parse_query(query_string: bytes) -> dict[str, list[str]]:
    """The query parameters; most appends have none, so skip parsing an empty string."""
    if not query_string:
        return {}
    return parse_qs(query_string.decode("latin-1"), keep_blank_values=True)


def _meta_headers(meta: StreamMeta) -> Headers:
    response = [
        (b"content-type", meta.content_type.encode()),
        (b"stream-next-offset", str(meta.tail).encode()),
    ]
    if meta.closed:
        response.append((b"stream-closed", _TRUE))
    return response


def _location(scope: Scope, path: str) -> bytes:
    headers = dict(scope["headers"])
    host = headers.get(b"host", b"").decode("latin-1")
    if not host and scope.get("server"):
        server_host, port = scope["server"]
        host = f"{server_host}:{port}"
    url = f"{scope.get('scheme', 'http')}://{host}{protocol.STREAM_PREFIX}{quote(path)}"
    return url.encode()


async def _read_body(receive: Receive, headers: dict[str, str], limit: int) -> bytes:
    """The whole request body, or PayloadTooLarge once it passes ``limit`` bytes.

    A refused body is still drained (up to DRAIN_LIMIT bytes) so the client can finish sending
    and read the 413; closing on it mid-upload would show up as a network error instead.
    """
    declared = headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise InvalidRequest(f"Content-Length must be a number, got {declared!r}")
        if int(declared) > limit:
            if int(declared) <= DRAIN_LIMIT:
                await _drain(receive, DRAIN_LIMIT)
            raise PayloadTooLarge(
                f"request body of {declared} bytes exceeds the limit of {limit} bytes"
            )
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _ClientGone
        chunk = message.get("body", b"")
        more = message.get("more_body", False)
        size += len(chunk)
        if size > limit:
            if more:
                await _drain(receive, DRAIN_LIMIT - size)
            raise PayloadTooLarge(f"request body exceeds the limit of {limit} bytes")
        if not more:
            return b"".join((*chunks, chunk)) if chunks else chunk
        chunks.append(chunk)


async def _drain(receive: Receive, budget: int) -> None:
    """Read and drop the rest of a request body, up to ``budget`` bytes."""
    while budget > 0:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _ClientGone
        budget -= len(message.get("body", b""))
        if not message.get("more_body", False):
            return


async def _respond(send: Send, answer: StreamAnswer) -> None:
    headers = answer_headers(answer)
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body})
