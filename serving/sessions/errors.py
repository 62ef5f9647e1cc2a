"""Errors of the sessions layer: each names what was wrong and what to do about it.

Every error has a stable ``code`` (sent to clients in ``error`` replies and HTTP bodies), an HTTP
``status`` for the HTTP endpoints, and, for the errors that end a WebSocket connection, a
``close_code`` (the 4xxx codes mirror the HTTP statuses: 4401 = 401, and so on).
"""

from __future__ import annotations


class SessionError(Exception):
    """A request or command the sessions layer refuses, with a message for the client."""

    code = "error"
    status = 400
    close_code: int | None = None
    """Set on errors that end a WebSocket connection; None = reply with an error and go on."""

    def __init__(self, message: str, *, command_id: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.command_id = command_id
        """The ``id`` of the command that failed, echoed in the error reply."""


class BadFrame(SessionError):
    """A frame that is not one JSON object (binary, invalid JSON, an array...)."""

    code = "bad_frame"


class CommandTooLarge(SessionError):
    code = "too_large"
    status = 413


class UnknownCommand(SessionError):
    code = "unknown_command"


class InvalidCommand(SessionError):
    """A known command with a missing or malformed field."""

    code = "invalid_command"


class InvalidOffset(SessionError):
    """A ``from`` / ``Last-Event-ID`` that is not an offset of this session."""

    code = "invalid_offset"


class AlreadySubscribed(SessionError):
    code = "already_subscribed"
    status = 409


class InvalidDevice(SessionError):
    code = "invalid_device"
    close_code = 4400


class Unauthorized(SessionError):
    """No token, or one this server cannot trust (forged, altered, expired)."""

    code = "unauthorized"
    status = 401
    close_code = 4401


class Forbidden(SessionError):
    """A genuine token that does not grant this operation on this session."""

    code = "forbidden"
    status = 403
    close_code = 4403


class SessionNotFound(SessionError):
    code = "session_not_found"
    status = 404
    close_code = 4404


class UnknownAgent(SessionError):
    code = "unknown_agent"


class InvalidSteer(SessionError):
    """A steer (or initial) parameter the agent does not accept, or a value out of range."""

    code = "invalid_steer"


class RunNotActive(SessionError):
    """A cancel or steer for a run that has ended, or that this session never had."""

    code = "run_not_active"
    status = 409


class Busy(SessionError):
    """The session already has as many active runs as the server allows."""

    code = "busy"
    status = 409


class RateLimited(SessionError):
    code = "rate_limited"
    status = 429


class EventTooLarge(SessionError):
    """An agent or client tried to write an event larger than the session allows."""

    code = "too_large"
    status = 413


class InternalError(SessionError):
    """The server failed to do a command (a bug or a store failure; it is logged)."""

    code = "internal"
    status = 500
