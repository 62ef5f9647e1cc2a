"""Errors of the sessions layer: each names what was wrong and what to do about it.

Every error has a stable ``code`` (sent to clients in ``error`` replies and HTTP bodies), an HTTP
``status`` for the HTTP endpoints, and, for the errors that end a WebSocket connection, a
``close_code`` (the 4xxx codes mirror the HTTP statuses: 4401 = 401, and so on): the convention
of serving.errors, whose UPPER_SNAKE spelling replaced this layer's lower_snake codes (the
renames are listed in docs/PROTOCOL.md).
"""

from __future__ import annotations

from typing import Any

from serving.errors import ServingError


class SessionError(ServingError):
    """A request or command the sessions layer refuses, with a message for the client."""

    code = "BAD_REQUEST"
    status = 400

    def __init__(self, message: str, *, command_id: str | None = None) -> None:
        super().__init__(message)
        self.command_id = command_id
        """The ``id`` of the command that failed, echoed in the error reply."""

    def body(self) -> dict[str, Any]:
        body = super().body()
        if self.command_id is not None:
            body["error"]["id"] = self.command_id
        return body


class BadFrame(SessionError):
    """A frame that is not one JSON object (binary, invalid JSON, an array...)."""

    code = "BAD_FRAME"


class CommandTooLarge(SessionError):
    code = "PAYLOAD_TOO_LARGE"
    status = 413


class UnknownCommand(SessionError):
    code = "UNKNOWN_COMMAND"


class InvalidCommand(SessionError):
    """A known command with a missing or malformed field."""

    code = "INVALID_COMMAND"


class InvalidSessionOffset(SessionError):
    """A ``from`` / ``Last-Event-ID`` that is not an offset of this session."""

    code = "INVALID_OFFSET"


class AlreadySubscribed(SessionError):
    code = "ALREADY_SUBSCRIBED"
    status = 409


class InvalidDevice(SessionError):
    code = "INVALID_DEVICE"
    close_code = 4400


class DuplicateAccessToken(SessionError):
    """More than one ``access_token`` query parameter (serving.tokens.query_token): every
    layer refuses it, so that one URL never means two identities."""

    code = "BAD_REQUEST"
    close_code = 4400


class SessionUnauthorized(SessionError):
    """No token, or one this server cannot trust (forged, altered, expired)."""

    code = "UNAUTHORIZED"
    status = 401
    close_code = 4401


class SessionForbidden(SessionError):
    """A genuine token that does not grant this operation on this session."""

    code = "FORBIDDEN"
    status = 403
    close_code = 4403


class SessionNotFound(SessionError):
    code = "SESSION_NOT_FOUND"
    status = 404
    close_code = 4404


class SessionExpired(SessionNotFound):
    """The session existed but expired: nobody used it for the server's session TTL, and its
    log, uploads and results were removed (serving.retention). Not retryable: create a new
    session."""

    code = "SESSION_EXPIRED"
    status = 410
    close_code = 4410


class UnknownAgent(SessionError):
    code = "UNKNOWN_AGENT"


class InvalidSteer(SessionError):
    """A steer (or initial) parameter the agent does not accept, or a value out of range."""

    code = "INVALID_STEER"


class RunNotActive(SessionError):
    """A cancel or steer for a run that has ended, or that this session never had."""

    code = "RUN_NOT_ACTIVE"
    status = 409


class Busy(SessionError):
    """The session already has as many active runs as the server allows."""

    code = "BUSY"
    status = 409


class RateLimited(SessionError):
    code = "RATE_LIMITED"
    status = 429


class ClientRateLimited(RateLimited):
    """Too many sessions, uploads or batch jobs from one client (serving.sessions.ratelimit):
    429 with ``Retry-After`` (and ``retry_after`` in the body), nothing done."""

    def __init__(self, message: str, *, retry_after: int, command_id: str | None = None) -> None:
        super().__init__(message, command_id=command_id)
        self.retry_after = retry_after

    def body(self) -> dict[str, Any]:
        body = super().body()
        body["error"]["retry_after"] = self.retry_after
        return body


class EventTooLarge(SessionError):
    """An agent or client tried to write an event larger than the session allows."""

    code = "PAYLOAD_TOO_LARGE"
    status = 413


class SessionStoreUnavailable(SessionError):
    """The store (Redis) cannot be reached right now: retry after ``retry_after`` seconds.

    Over HTTP it is 503 with Retry-After; on a WebSocket a command gets it as an error reply
    (with ``retry_after``), and a connection that cannot open or subscribe is closed with 4503,
    which clients treat as "retry later" (docs/PROTOCOL.md).
    """

    code = "STORE_UNAVAILABLE"
    status = 503
    close_code = 4503

    def __init__(
        self, message: str, *, retry_after: int = 1, command_id: str | None = None
    ) -> None:
        super().__init__(message, command_id=command_id)
        self.retry_after = retry_after

    def body(self) -> dict[str, Any]:
        body = super().body()
        body["error"]["retry_after"] = self.retry_after
        return body


class InternalError(SessionError):
    """The server failed to do a command (a bug or a store failure; it is logged)."""

    code = "INTERNAL"
    status = 500
