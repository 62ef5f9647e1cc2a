"""Errors of the classroom layer (serving.classroom), in the kit's one convention.

Each refusal is one subclass of ``ClassroomError`` with its UPPER_SNAKE ``code`` and HTTP
``status`` (serving.errors), and a message that says what to do next: a learner typing a join
code from the projector is told to check it there, not that a stream was missing. The token
refusals reuse the codes every other layer sends (``UNAUTHORIZED`` 401, ``FORBIDDEN`` 403,
``RATE_LIMITED`` 429), so a client handles them once for the whole server.
"""

from __future__ import annotations

from typing import Any

from serving.errors import ServingError

__all__ = [
    "ClassroomError",
    "ClassroomForbidden",
    "ClassroomNotFound",
    "ClassroomRateLimited",
    "ClassroomTooLarge",
    "ClassroomUnauthorized",
    "InvalidClassroomEvent",
    "InvalidClassroomRequest",
    "InvalidName",
    "LearnerNotFound",
]


class ClassroomError(ServingError):
    """A classroom request the server refuses."""

    code = "BAD_REQUEST"
    status = 400


class InvalidClassroomRequest(ClassroomError):
    """A body that is not the JSON the endpoint takes (creating a room, a message)."""

    code = "BAD_REQUEST"


class ClassroomNotFound(ClassroomError):
    """No classroom has this join code (mistyped, or the room expired with retention)."""

    code = "CLASSROOM_NOT_FOUND"
    status = 404


class InvalidName(ClassroomError):
    """A learner's name that is empty, too long, or not text."""

    code = "INVALID_NAME"


class InvalidClassroomEvent(ClassroomError):
    """A learner's event batch with an unknown type, an unknown or malformed field."""

    code = "INVALID_CLASSROOM_EVENT"


class LearnerNotFound(ClassroomError):
    """A message addressed to a learner who never joined this classroom."""

    code = "LEARNER_NOT_FOUND"
    status = 404


class ClassroomUnauthorized(ClassroomError):
    """No token, or one this server cannot trust (forged, altered, expired)."""

    code = "UNAUTHORIZED"
    status = 401


class ClassroomForbidden(ClassroomError):
    """A genuine token that does not grant this on this classroom (a learner's token on the
    instructor's endpoints, a token of another classroom)."""

    code = "FORBIDDEN"
    status = 403


class ClassroomTooLarge(ClassroomError):
    code = "PAYLOAD_TOO_LARGE"
    status = 413


class ClassroomRateLimited(ClassroomError):
    """Too many joins from one address or batches from one learner: 429 with Retry-After."""

    code = "RATE_LIMITED"
    status = 429

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def body(self) -> dict[str, Any]:
        body = super().body()
        body["error"]["retry_after"] = self.retry_after
        return body
