"""The HTTP face of sessions: create, inspect, send commands, read events by SSE.

For clients without WebSocket (and for creating sessions):

- ``POST /v1/sessions`` creates a session: its id, URLs and tokens;
- ``GET /v1/sessions/{id}`` tells what the session is doing (runs, devices, agents);
- ``POST /v1/sessions/{id}/commands`` takes one command (send, cancel, steer), as on the socket;
- ``GET /v1/sessions/{id}/events`` streams events as Server-Sent Events, each with its offset as
  ``id``, so a browser's EventSource resumes by itself with ``Last-Event-ID``.

Session logs are also readable as Durable Streams at ``/v1/stream/sessions/{id}``; writing them
there is refused (403 SESSION_LOG_READ_ONLY): only this layer writes a session, so every event
in it went through the checks here.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.requests import ClientDisconnect, HTTPConnection
from starlette.websockets import WebSocket

from serving.bodies import read_body
from serving.errors import ServingError
from serving.jsontext import parse_json
from serving.sessions.commands import (
    MAX_ID_LENGTH,
    Heartbeat,
    Scope,
    Subscribe,
    parse_command,
)
from serving.sessions.compact import COMPACT, FULL, DeltaEncoder, mode_problem
from serving.sessions.errors import (
    BadFrame,
    CommandTooLarge,
    InvalidCommand,
    InvalidDevice,
    SessionError,
    SessionStoreUnavailable,
)
from serving.sessions.offsets import EventPosition, parse_start
from serving.sessions.service import DEVICE_NAME, CreatedSession, SessionService, device_problem
from serving.sessions.session import PREFIX, Batch, SessionLog
from serving.sessions.ws import connection_token, session_socket
from serving.streams.errors import StoreUnavailable, StreamError
from serving.streams.http import StreamsApp
from serving.streams.protocol import STREAM_PREFIX

SESSIONS = "/v1/sessions"
_OFFSET_START = len(b'{"offset":"')


def add_session_routes(app: FastAPI, service: SessionService, streams: StreamsApp) -> None:
    """Mount the session endpoints on ``app``; make session logs read-only on ``streams``."""
    app.include_router(session_router(service))
    streams.refuse_writes(
        PREFIX,
        "SESSION_LOG_READ_ONLY",
        f"session logs are written only through the session API ({SESSIONS}/<id>/ws or "
        f"{SESSIONS}/<id>/commands); here they can only be read",
    )
    streams.check_query(PREFIX, _stream_device)


class StreamInvalidDevice(StreamError):
    """A malformed ``device`` parameter on ``/v1/stream/sessions/{id}`` (400), refused there
    as on the other session endpoints."""

    code = "INVALID_DEVICE"


def _stream_device(query: dict[str, list[str]]) -> None:
    for requested in query.get("device", ()):
        if not DEVICE_NAME.fullmatch(requested):
            raise StreamInvalidDevice(device_problem(requested))


def session_router(service: SessionService) -> APIRouter:
    router = APIRouter(prefix=SESSIONS)

    @router.post("")
    async def create_session(request: Request) -> Response:
        try:
            body = await request.body()
            if body.strip() not in (b"", b"{}"):
                raise InvalidCommand("creating a session takes no options: send no body, or {}")
            checked_device(request)
            created = await service.create(connection_token(request), address=address_of(request))
        except ServingError as error:  # a refusal, or the store away (503 + Retry-After)
            return error_response(error)
        return JSONResponse(_created_body(request, created), status_code=201)

    @router.get("/{session_id}")
    async def session_info(session_id: str, request: Request) -> Response:
        try:
            grant = service.authorize(connection_token(request), Scope.READ, session_id)
            checked_device(request)
            session = await service.open(session_id, grant)
            return JSONResponse(await service.info(session))
        except ServingError as error:  # a refusal, or the store away (503 + Retry-After)
            return error_response(error)

    @router.post("/{session_id}/commands")
    async def session_command(session_id: str, request: Request) -> Response:
        limit = service.settings.max_command_bytes
        body: _Body = _Body()
        try:
            token = connection_token(request)
            if not service.open_access and not token:
                service.authorize(token, Scope.READ, session_id)  # raises SessionUnauthorized
            command = parse_command(await body.read(request, limit))
            if isinstance(command, Subscribe | Heartbeat):
                raise InvalidCommand(
                    f"{type(command).__name__.lower()} is a WebSocket command; over HTTP, read "
                    f"events with GET {SESSIONS}/{session_id}/events",
                    command_id=command.id,
                )
            grant = service.authorize(token, service.required_scope(command), session_id)
            device = service.device(request.query_params.get("device"), grant, "http")
            session = await service.open(session_id, grant)
            client = service.client_of(grant, address_of(request))
            return JSONResponse(await service.execute(session, command, device, client=client))
        except StoreUnavailable as error:  # Redis away: 503 + Retry-After, with the id
            refusal: ServingError = SessionStoreUnavailable(
                error.message, retry_after=error.retry_after, command_id=body.command_id
            )
            return error_response(refusal)
        except SessionError as error:  # every refusal of a command names it (PROTOCOL.md)
            if error.command_id is None:
                error.command_id = await body.command_id_of(request, limit)
            return error_response(error)
        except ServingError as error:
            return error_response(error)

    @router.get("/{session_id}/events")
    async def session_events(session_id: str, request: Request) -> Response:
        try:
            grant = service.authorize(connection_token(request), Scope.READ, session_id)
            checked_device(request)
            requested = request.headers.get("last-event-id") or request.query_params.get("from")
            start = parse_start(requested or "start")
            deltas = request.query_params.get("deltas", FULL)
            problem = mode_problem(deltas)
            if problem is not None:
                raise InvalidCommand(problem)
            session = await service.open(session_id, grant)
            first = await session.log.read(start, service.settings.max_read_bytes)
        except ServingError as error:  # a refusal, or the store away (503 + Retry-After)
            return error_response(error)
        position = start if isinstance(start, EventPosition) else first.position
        return StreamingResponse(
            _sse(service, session.log, first, str(position), deltas == COMPACT),
            media_type="text/event-stream",
            headers={"cache-control": "no-cache", "x-accel-buffering": "no"},
        )

    @router.websocket("/{session_id}/ws")
    async def session_ws(websocket: WebSocket, session_id: str) -> None:
        await session_socket(websocket, service, session_id)

    return router


def error_response(error: ServingError) -> JSONResponse:
    """The HTTP answer to a refusal of the sessions or models layer: its status and body."""
    headers = {"www-authenticate": 'Bearer realm="sessions"'} if error.status == 401 else None
    retry_after = getattr(error, "retry_after", None)
    if isinstance(retry_after, int):  # StoreUnavailable: Redis is away
        headers = {"retry-after": str(retry_after)}
    return JSONResponse(error.body(), status_code=error.status, headers=headers)


def address_of(connection: HTTPConnection) -> str | None:
    """The client's network address (the peer of the connection), for the client limits."""
    return connection.client.host if connection.client else None


def checked_device(connection: HTTPConnection) -> None:
    """Refuse a malformed ``device`` parameter (400 INVALID_DEVICE) on the endpoints that do
    not act as a device (create, info, SSE): PROTOCOL.md says every session endpoint takes it,
    so a typo is answered the same everywhere rather than passing here and failing there."""
    requested = connection.query_params.get("device")
    if requested is not None and not DEVICE_NAME.fullmatch(requested):
        raise InvalidDevice(device_problem(requested))


class _Body:
    """A command's body, read once: its ``id`` is in every refusal of the command, also in
    those decided before the body was read (no token, a duplicated ``access_token``)."""

    def __init__(self) -> None:
        self.read_started = False
        self.command_id: str | None = None

    async def read(self, request: Request, limit: int) -> dict[str, Any]:
        self.read_started = True
        value = await _json_object(request, limit)
        found = value.get("id")
        if isinstance(found, str) and 1 <= len(found) <= MAX_ID_LENGTH:
            self.command_id = found
        return value

    async def command_id_of(self, request: Request, limit: int) -> str | None:
        """The command's ``id``, reading the body (at most ``limit`` bytes) if a refusal came
        first; None when there is none or the body cannot be read as a command."""
        if not self.read_started:
            with contextlib.suppress(SessionError, OSError, RuntimeError, ClientDisconnect):
                await self.read(request, limit)
        return self.command_id


async def _json_object(request: Request, limit: int) -> dict[str, Any]:
    def too_large(declared: int | None) -> CommandTooLarge:
        if declared is None:
            return CommandTooLarge(f"command exceeds the limit of {limit} bytes")
        return CommandTooLarge(f"command of {declared} bytes exceeds the limit of {limit} bytes")

    body = await read_body(request, limit, too_large)
    try:
        value = parse_json(body)
    except ValueError as error:
        raise BadFrame(f"the body is not valid JSON ({error}); send one JSON object") from None
    if not isinstance(value, dict):
        raise BadFrame("a command is one JSON object")
    return value


def _created_body(request: Request, created: CreatedSession) -> dict[str, Any]:
    base = str(request.base_url).rstrip("/")
    url = f"{base}{SESSIONS}/{created.id}"
    read = created.tokens["read"] if created.tokens else None
    return {
        "id": created.id,
        "url": url,
        "ws_url": "ws" + url.removeprefix("http") + "/ws",
        "events_url": f"{url}/events",
        "stream_url": f"{base}{STREAM_PREFIX}{PREFIX}{created.id}",
        "watch_url": f"{url}?access_token={read}" if read else url,
        "tokens": created.tokens,
    }


async def _sse(
    service: SessionService, log: SessionLog, batch: Batch, start: str, compact: bool = False
) -> AsyncIterator[bytes]:
    """SSE: a ``subscribed`` event (its id is the start, for a resume before any event), then
    every event with its offset as id; closed after ``sse_max_seconds`` (EventSource resumes).
    ``compact``: deltas go compact where they can (serving.sessions.compact), and the
    ``subscribed`` event says so (``"deltas": "compact"``)."""
    settings = service.settings
    loop = asyncio.get_running_loop()
    deadline = loop.time() + settings.sse_max_seconds
    deltas = DeltaEncoder() if compact else None
    said: dict[str, str] = {"type": "subscribed", "offset": start}
    if compact:
        said["deltas"] = COMPACT
    subscribed = json.dumps(said)
    yield f"retry: 1000\nevent: subscribed\nid: {start}\ndata: {subscribed}\n\n".encode()
    while True:
        if batch.events:
            if deltas is None:
                yield b"".join(_sse_event(event) for event in batch.events)
            else:
                yield deltas.sse(batch.events)
            # A client gone (a reader that stopped reading is dropped: serving.slowclients)
            # makes uvicorn's send return at once: let the disconnect's cancellation land
            # here, or this would read the rest of the log into the void (measured: +240 MiB
            # for 50 dropped readers of a 51 MB log on the memory store).
            await asyncio.sleep(0)
        while batch.up_to_date:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            if await log.wait_on(batch.position, min(remaining, settings.sse_keepalive_seconds)):
                break
            yield b": keepalive\n\n"
        if deadline <= loop.time():
            return
        batch = await log.read_on(batch.position, settings.max_read_bytes)  # through outages


def _sse_event(event: bytes) -> bytes:
    offset = event[_OFFSET_START : event.index(b'"', _OFFSET_START)]
    return b"id: " + offset + b"\ndata: " + event + b"\n\n"
