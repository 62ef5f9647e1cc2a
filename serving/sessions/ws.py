"""The WebSocket endpoint ``/v1/sessions/{id}/ws``: events out, commands in, on one socket.

A thin asyncio layer over SessionService. Each connection is two tasks: this one reads
commands and answers each with exactly one reply (``ack`` or ``error``); after ``subscribe``,
a sender task follows the session log from the requested offset and sends every event, once,
in order, several per frame when several are waiting. A slow client only slows its own sender:
the log is the buffer, so nothing piles up in memory and no other connection waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
from typing import Any

from starlette.requests import HTTPConnection
from starlette.websockets import WebSocket, WebSocketDisconnect

from serving.sessions import replies
from serving.sessions.commands import REQUIRED_SCOPE, Subscribe, parse_frame
from serving.sessions.compact import COMPACT, DeltaEncoder
from serving.sessions.errors import (
    AlreadySubscribed,
    DuplicateAccessToken,
    InternalError,
    RateLimited,
    SessionError,
    SessionStoreUnavailable,
    SessionUnauthorized,
)
from serving.sessions.events import dumps
from serving.sessions.offsets import EventPosition
from serving.sessions.ratelimit import TokenBucket
from serving.sessions.service import Session, SessionService
from serving.sessions.session import Batch
from serving.streams.errors import StoreUnavailable
from serving.tokens import (
    ACCESS_TOKEN_PARAMETER,
    BEARER_SUBPROTOCOL,
    DuplicateTokenParameter,
    Grant,
    bearer_token,
    query_token,
    subprotocol_token,
)

WAIT_SECONDS = 30.0
"""A subscribed connection re-checks the log at least this often, even with nothing new."""
INTERNAL_ERROR = 1011
MAX_REASON_BYTES = 123

logger = logging.getLogger(__name__)


class ConnectionState(enum.Enum):
    OPEN = "open"
    """Authorized and attached: commands are accepted, no events are sent yet."""
    SUBSCRIBED = "subscribed"
    """Events flow from the subscription's start."""
    CLOSED = "closed"


def connection_token(connection: HTTPConnection) -> str | None:
    """The bearer token of a request or WebSocket (serving.tokens.bearer_token): the
    ``Authorization`` header, else a WebSocket's ``bearer`` subprotocol (the browser's way),
    else ``?access_token=`` (old clients); DuplicateAccessToken for several ``access_token``
    parameters (serving.tokens.query_token)."""
    try:
        from_query = query_token(connection.query_params.getlist(ACCESS_TOKEN_PARAMETER))
    except DuplicateTokenParameter as error:
        raise DuplicateAccessToken(error.message) from None
    offered = subprotocol_token(connection.scope.get("subprotocols"))
    return bearer_token(connection.headers.get("authorization"), offered or from_query)


async def session_socket(websocket: WebSocket, service: SessionService, session_id: str) -> None:
    """Serve one WebSocket connection to a session."""
    offered = websocket.scope.get("subprotocols") or ()
    # A browser offering ["bearer", token] fails the handshake unless "bearer" is answered.
    await websocket.accept(BEARER_SUBPROTOCOL if BEARER_SUBPROTOCOL in offered else None)
    try:
        grant = service.authorize(
            connection_token(websocket),
            REQUIRED_SCOPE[Subscribe],
            session_id,
        )
        device = service.device(websocket.query_params.get("device"), grant, "ws")
        session = await service.open(session_id, grant)
    except SessionError as error:
        await _close(websocket, error.close_code or INTERNAL_ERROR, error.message)
        return
    except StoreUnavailable as error:  # Redis away: 4503, the clients' "retry later"
        await _close(websocket, SessionStoreUnavailable.close_code, error.message)
        return
    await Connection(websocket, service, session, device, grant).serve()


async def _close(websocket: WebSocket, code: int, reason: str) -> None:
    encoded = reason.encode()[:MAX_REASON_BYTES]
    await websocket.close(code, encoded.decode(errors="ignore"))


class Connection:
    def __init__(
        self,
        websocket: WebSocket,
        service: SessionService,
        session: Session,
        device: str,
        grant: Grant | None,
    ) -> None:
        self.websocket = websocket
        self.service = service
        self.session = session
        self.device = device
        self.grant = grant
        self.state = ConnectionState.OPEN
        settings = service.settings
        self._bucket = TokenBucket(settings.commands_per_second, settings.command_burst)
        address = websocket.client.host if websocket.client else None
        self.client = service.client_of(grant, address)
        """Whom this connection's batch jobs count against (serving.sessions.ratelimit)."""
        self._send_lock = asyncio.Lock()
        self._sender: asyncio.Task[None] | None = None
        self._deltas: DeltaEncoder | None = None
        """A compact subscription's encoder (serving.sessions.compact); None: all in full."""

    async def serve(self) -> None:
        watching = self.service.watches_only(self.grant, self.session.id)
        try:
            await self.service.attach(self.session, self.device, watching=watching)
        except StoreUnavailable as error:  # presence is not worth refusing a reader
            logger.warning(
                "session %s: %s not recorded as present: %s",
                self.session.id,
                self.device,
                error.message,
            )
        except Exception:  # presence is not worth refusing a reader: go on without it
            logger.exception(
                "session %s: cannot record %s as present", self.session.id, self.device
            )
        try:
            await self._receive()
        except (WebSocketDisconnect, OSError):
            pass  # the client went away while we answered it
        finally:
            self.state = ConnectionState.CLOSED
            if self._sender is not None:
                self._sender.cancel()
                await asyncio.gather(self._sender, return_exceptions=True)
            self.service.detach(self.session, self.device, watching=watching)

    async def _receive(self) -> None:
        while True:
            message = await self.websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            frame = message.get("text")
            try:
                reply = await self._handle(
                    frame if frame is not None else message.get("bytes", b"")
                )
            except SessionUnauthorized as error:  # the token expired: the connection cannot go on
                await _close(self.websocket, SessionUnauthorized.close_code, error.message)
                return
            except SessionStoreUnavailable as error:
                if self.state is not ConnectionState.SUBSCRIBED:  # cannot subscribe: retry later
                    await _close(self.websocket, SessionStoreUnavailable.close_code, error.message)
                    return
                reply = replies.error(error)  # the command is not done: resend it later
            except SessionError as error:
                reply = replies.error(error)
            if reply is not None:
                await self._send([dumps(reply)])

    async def _handle(self, frame: str | bytes) -> dict[str, Any] | None:
        """One command -> its reply (None when the reply was sent already)."""
        allowed = self._bucket.take()
        command = parse_frame(frame, self.service.settings.max_command_bytes)
        if not allowed:
            raise RateLimited(
                f"too many commands: at most {self.service.settings.command_burst} at once, then "
                f"{self.service.settings.commands_per_second:g} per second; retry later",
                command_id=command.id,
            )
        try:
            self.service.check(self.grant, self.service.required_scope(command), self.session.id)
            if isinstance(command, Subscribe):
                await self._subscribe(command)
                return None
            return await self.service.execute(
                self.session, command, self.device, client=self.client
            )
        except SessionError as error:
            error.command_id = command.id
            raise
        except StoreUnavailable as error:
            raise SessionStoreUnavailable(
                error.message, retry_after=error.retry_after, command_id=command.id
            ) from None
        except Exception:
            logger.exception("session %s: %s from %s failed", self.session.id, command, self.device)
            raise InternalError(
                "the server failed to do this command (the failure is logged); retry later",
                command_id=command.id,
            ) from None

    async def _subscribe(self, command: Subscribe) -> None:
        if self.state is ConnectionState.SUBSCRIBED:
            raise AlreadySubscribed(
                "this connection is subscribed already; to read from another offset, reconnect"
            )
        first = await self.session.log.read(command.start, self.service.settings.max_read_bytes)
        start = command.start if isinstance(command.start, EventPosition) else first.position
        self.state = ConnectionState.SUBSCRIBED
        ack = replies.ack(command.id, str(start))
        if command.deltas == COMPACT:
            self._deltas = DeltaEncoder()
            ack["deltas"] = COMPACT  # the echo: a client without it reads every event in full
        await self._send([dumps(ack)])
        self._sender = asyncio.create_task(self._deliver(first), name=f"deliver to {self.device}")

    async def _deliver(self, batch: Batch) -> None:
        """Send every event from ``batch`` on, live, until the connection closes."""
        log = self.session.log
        max_bytes = self.service.settings.max_read_bytes
        try:
            while True:
                if batch.events:
                    await self._send_events(batch.events)
                if batch.up_to_date:
                    await log.wait_on(batch.position, WAIT_SECONDS)  # Redis away: it waits
                batch = await log.read_on(batch.position, max_bytes)  # Redis away: it waits
        except asyncio.CancelledError:
            raise
        except SessionError as error:
            await _close(self.websocket, error.close_code or INTERNAL_ERROR, error.message)
        except Exception as error:  # the client went away mid-send, or the store failed
            logger.debug("delivery to %s ended: %r", self.device, error)
            if self.state is not ConnectionState.CLOSED:
                with contextlib.suppress(Exception):  # it may be closed already
                    await _close(self.websocket, INTERNAL_ERROR, "delivery failed; reconnect")

    async def _send_events(self, events: list[bytes]) -> None:
        """Send events in frames of about ``max_frame_bytes``."""
        limit = self.service.settings.max_frame_bytes
        if self._deltas is not None:
            events = self._deltas.ws_items(events)
        first = size = 0
        for index, event in enumerate(events):
            size += len(event) + 1
            if size > limit and index > first:
                await self._send(events[first:index])
                first, size = index, len(event) + 1
        await self._send(events[first:])

    async def _send(self, items: list[bytes]) -> None:
        async with self._send_lock:
            await self.websocket.send_text(replies.frame(items))
