"""The classroom endpoints (docs/PROTOCOL.md, Classroom): thin I/O over ClassroomService.

Each handler reads the request, lets serving.classroom.service and .room decide, and answers
JSON; every refusal is a ServingError answered with its status and ``{"error": {"code",
"message"}}``, never a 500 for a client's mistake. The room's live view is SSE (``event:
room``, the whole snapshot each time, its id the log offset it reflects), so a page that
reconnects simply gets a fresh snapshot: nothing to resume, nothing lost.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from serving.bodies import read_body
from serving.classroom.errors import (
    ClassroomTooLarge,
    InvalidClassroomEvent,
    InvalidClassroomRequest,
)
from serving.classroom.follower import MIN_SNAPSHOT_SECONDS, RoomFollower
from serving.classroom.room import clean_name, display_code, validate_events
from serving.classroom.service import (
    AGENDA_NAMES,
    MAX_MESSAGE,
    MAX_TITLE,
    MAX_WAIT_SECONDS,
    MESSAGE_KINDS,
    ClassroomService,
    parse_after,
)
from serving.errors import ServingError
from serving.jsontext import parse_json
from serving.streams.errors import InvalidRequest, ProducerSeqGap, ProducerStaleEpoch
from serving.streams.protocol import parse_producer
from serving.tokens import (
    ACCESS_TOKEN_PARAMETER,
    DuplicateTokenParameter,
    bearer_token,
    query_token,
)

CLASSROOMS = "/v1/classrooms"
MAX_BODY = 256 * 1024
"""100 events of a few hundred bytes each fit many times over."""
SSE_MAX_SECONDS = 300.0
"""An SSE response ends after this long and the EventSource reconnects (fresh snapshot)."""
KEEPALIVE_SECONDS = 15.0
REFRESH_SECONDS = 60.0
"""A quiet room still gets a snapshot a minute: its ``now`` and its pace move on."""


def classroom_router(service: ClassroomService) -> APIRouter:
    router = APIRouter(prefix=CLASSROOMS)

    @router.post("")
    async def create(request: Request) -> Response:
        try:
            service.may_create(_token(request))
            body = await _object(request, "{}")
            unknown = sorted(set(body) - {"title", "agenda", "starts_at"})
            if unknown:
                raise InvalidClassroomRequest(
                    f"{unknown[0]!r} is not an option: send title, agenda, starts_at"
                )
            title = body.get("title") or ""
            if not isinstance(title, str) or len(title) > MAX_TITLE:
                raise InvalidClassroomRequest(
                    f"title must be text of at most {MAX_TITLE} characters"
                )
            agenda = body.get("agenda")
            if agenda is not None and agenda not in AGENDA_NAMES:
                raise InvalidClassroomRequest(
                    f"agenda must be one of {', '.join(AGENDA_NAMES)} or null, not {agenda!r}"
                )
            starts_at = body.get("starts_at")
            if starts_at is not None and (
                isinstance(starts_at, bool) or not isinstance(starts_at, int | float)
            ):
                raise InvalidClassroomRequest("starts_at must be a time in Unix seconds")
            code, created_at, token = await service.create(title, agenda, starts_at)
        except ServingError as error:
            return error_response(error)
        base = _base(request)
        return JSONResponse(
            {
                "code": code,
                "display_code": display_code(code),
                "instructor_token": token,
                "join_url": f"{base}/classroom/{code}/join",
                "page_url": f"{base}/classroom/{code}?{ACCESS_TOKEN_PARAMETER}={token}",
                "created_at": created_at,
            },
            status_code=201,
        )

    @router.get("/{code}")
    async def about(code: str, request: Request) -> Response:
        # The join page's question (no token: the code is the room's secret, as for joining,
        # and held to the same rate per address, since it tells as much as a join would).
        try:
            room = service.code_of(code)
            service.limit("classroom_joins", _address(request))
            follower = await service.follower(room)
        except ServingError as error:
            return error_response(error)
        return JSONResponse(
            {"code": room, "display_code": display_code(room), "title": follower.room.title},
            headers={"cache-control": "no-store"},
        )

    @router.post("/{code}/learners")
    async def join(code: str, request: Request) -> Response:
        try:
            room = service.code_of(code)
            service.limit("classroom_joins", _address(request))
            body = await _object(request, None)
            joined = await service.join(room, clean_name(body.get("name")))
        except ServingError as error:
            return error_response(error)
        base = _base(request)
        return JSONResponse(
            {
                "learner": joined.learner,
                "name": joined.name,
                "token": joined.token,
                "code": room,
                "inbox_url": f"{base}{CLASSROOMS}/{room}/inbox",
                "page_url": f"{base}/classroom/{room}/me?{ACCESS_TOKEN_PARAMETER}={joined.token}",
            },
            status_code=201,
        )

    @router.post("/{code}/events")
    async def events(code: str, request: Request) -> Response:
        try:
            room = service.code_of(code)
            learner = service.learner(_token(request), room)
            service.limit("classroom_events", f"learner:{room}:{learner}")
            claim = parse_producer(request.headers)
            if claim is None:
                raise InvalidRequest(
                    "send Producer-Id (your learner id), Producer-Epoch and Producer-Seq: "
                    "learners' events are an idempotent producer (a retry is stored once)"
                )
            checked = validate_events(await _json(request))
            result = await service.events(room, learner, claim, checked)
        except ProducerStaleEpoch as error:
            return error_response(error, {"producer-epoch": str(error.current_epoch)})
        except ProducerSeqGap as error:
            return error_response(
                error,
                {
                    "producer-expected-seq": str(error.expected_seq),
                    "producer-received-seq": str(error.received_seq),
                },
            )
        except ServingError as error:
            return error_response(error)
        headers = {"stream-next-offset": str(result.tail)}
        if result.producer is not None:
            headers["producer-epoch"] = str(result.producer.epoch)
            headers["producer-seq"] = str(result.producer.last_seq)
        if result.duplicate:
            return Response(status_code=204, headers=headers)
        return JSONResponse({"offset": str(result.tail)}, headers=headers)

    async def watched(code: str, request: Request) -> RoomFollower:
        """The room's follower, for an instructor token that may read it."""
        room = service.code_of(code)
        service.instructor(_token(request), "read", room)
        return await service.follower(room)

    @router.get("/{code}/room")
    async def room(code: str, request: Request) -> Response:
        try:
            follower = await watched(code, request)
        except ServingError as error:
            return error_response(error)
        return JSONResponse(follower.snapshot(service.clock()))

    @router.get("/{code}/room/events")
    async def room_events(code: str, request: Request) -> Response:
        try:
            follower = await watched(code, request)
        except ServingError as error:
            return error_response(error)
        return StreamingResponse(
            _room_sse(service, follower),
            media_type="text/event-stream",
            headers={"cache-control": "no-cache", "x-accel-buffering": "no"},
        )

    @router.post("/{code}/messages")
    async def message(code: str, request: Request) -> Response:
        try:
            room = service.code_of(code)
            service.instructor(_token(request), "write", room)
            body = await _object(request, None)
            unknown = sorted(set(body) - {"text", "to", "kind"})
            if unknown:
                raise InvalidClassroomRequest(
                    f"{unknown[0]!r} is not a field of a message: send text, to, kind"
                )
            text, to, kind = body.get("text"), body.get("to"), body.get("kind", "message")
            if not isinstance(text, str) or not 1 <= len(text.strip()) <= MAX_MESSAGE:
                raise InvalidClassroomRequest(f"text must be 1 to {MAX_MESSAGE} characters")
            if to is not None and not isinstance(to, str):
                raise InvalidClassroomRequest("to must be a learner id, or null for everyone")
            if kind not in MESSAGE_KINDS:
                raise InvalidClassroomRequest(f"kind must be one of {', '.join(MESSAGE_KINDS)}")
            offset = await service.message(room, text, to, kind)
        except ServingError as error:
            return error_response(error)
        return JSONResponse({"offset": offset}, status_code=201)

    @router.get("/{code}/inbox")
    async def inbox(code: str, request: Request) -> Response:
        try:
            room = service.code_of(code)
            learner = service.learner(_token(request), room)
            after = parse_after(request.query_params.get("after"))
            wait = _wait(request.query_params.get("wait"))
            messages, next_offset = await service.inbox(room, learner, after, wait)
        except ServingError as error:
            return error_response(error)
        return JSONResponse({"messages": messages, "next": next_offset})

    return router


async def _room_sse(service: ClassroomService, follower: RoomFollower) -> AsyncIterator[bytes]:
    """``event: room`` whenever the room changed, at most one per MIN_SNAPSHOT_SECONDS, and
    at least one per REFRESH_SECONDS (``now`` and the pace move on in a quiet room)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SSE_MAX_SECONDS
    follower.subscribe()
    try:
        yield b"retry: 1000\n\n"
        sent = -1
        last = -MIN_SNAPSHOT_SECONDS
        while not follower.gone:
            if follower.version != sent or loop.time() - last >= REFRESH_SECONDS:
                pause = last + MIN_SNAPSHOT_SECONDS - loop.time()
                if pause > 0:
                    await asyncio.sleep(pause)  # what comes meanwhile joins this snapshot
                sent = follower.version
                offset, data = follower.encoded(service.clock(), loop.time())
                yield b"event: room\nid: " + offset.encode() + b"\ndata: " + data + b"\n\n"
                last = loop.time()
                continue
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            wait = min(KEEPALIVE_SECONDS, remaining, last + REFRESH_SECONDS - loop.time())
            if not await follower.changed(sent, max(0.0, wait)):
                yield b": keepalive\n\n"
    finally:
        follower.unsubscribe()


def error_response(error: ServingError, headers: dict[str, str] | None = None) -> JSONResponse:
    extra = dict(headers or {})
    if error.status == 401:
        extra["www-authenticate"] = 'Bearer realm="classrooms"'
    retry_after = getattr(error, "retry_after", None)
    if isinstance(retry_after, int):
        extra["retry-after"] = str(retry_after)
    return JSONResponse(error.body(), status_code=error.status, headers=extra or None)


def _token(request: Request) -> str | None:
    try:
        from_query = query_token(request.query_params.getlist(ACCESS_TOKEN_PARAMETER))
    except DuplicateTokenParameter as error:
        raise InvalidClassroomRequest(error.message) from None
    return bearer_token(request.headers.get("authorization"), from_query)


def _address(request: Request) -> str | None:
    return f"address:{request.client.host}" if request.client else None


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _wait(text: str | None) -> float:
    if text is None:
        return 0.0
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= MAX_WAIT_SECONDS:
        raise InvalidClassroomRequest(f"wait must be seconds from 0 to {MAX_WAIT_SECONDS:g}")
    return value


async def _body(request: Request) -> bytes:
    return await read_body(request, MAX_BODY, _too_large)


def _too_large(declared: int | None) -> ClassroomTooLarge:
    if declared is None:
        return ClassroomTooLarge(f"the body exceeds {MAX_BODY} bytes")
    return ClassroomTooLarge(f"the body of {declared} bytes exceeds {MAX_BODY} bytes")


async def _json(request: Request) -> Any:
    body = await _body(request)
    try:
        return parse_json(body)
    except ValueError as error:
        raise InvalidClassroomEvent(f"the body is not valid JSON ({error})") from None


async def _object(request: Request, empty: str | None) -> dict[str, Any]:
    body = await _body(request)
    if not body.strip() and empty is not None:
        body = empty.encode()
    try:
        value = parse_json(body)
    except ValueError as error:
        raise InvalidClassroomRequest(
            f"the body is not valid JSON ({error}); send one JSON object"
        ) from None
    if not isinstance(value, dict):
        raise InvalidClassroomRequest("send one JSON object")
    return value
