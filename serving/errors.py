"""The server's one error convention: a refusal is an exception that carries its own answer.

Every layer has one base class under ``ServingError`` (``serving.streams.errors.StreamError``,
``serving.sessions.errors.SessionError``, ``serving.models.errors.ModelError``), and every
refusal of that layer is one subclass of it that sets, in one place:

- ``code``: the machine-readable code in the body ``{"error": {"code", "message"}}``, in
  UPPER_SNAKE, the spelling the Durable Streams protocol fixes for the streams (``NOT_FOUND``,
  ``BAD_REQUEST``, as the npm client names them). One refusal has one code whichever layer
  says it: a body over the limit is ``PAYLOAD_TOO_LARGE`` on a stream, a session command or a
  model upload.
- ``status``: the HTTP status of that answer.
- ``close_code``: for the refusals that end a WebSocket connection, its 4xxx close code
  (4000 + the status: 4401 = 401); None where the refusal is a reply and the connection goes on.

Before this there were three conventions (statuses looked up by class in the streams' HTTP
layer, lower_snake codes with the status on the class in sessions, inline ``_error(404,
"unknown_model")`` calls in the models' endpoints); docs/PROTOCOL.md lists the renames.
tests/serving/test_errors.py walks every subclass and holds them to these rules.

This module imports only the standard library: each layer stays usable alone.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["CODE_PATTERN", "ServingError"]

CODE_PATTERN = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*")
"""What every code looks like: UPPER_SNAKE."""


class ServingError(Exception):
    """A request the server refuses, with a message for the client that says what to do next."""

    code: str = "BAD_REQUEST"
    """The machine-readable code (UPPER_SNAKE)."""
    status: int = 400
    """The HTTP status of the answer."""
    close_code: int | None = None
    """The WebSocket close code for refusals that end a connection; None = reply and go on."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def body(self) -> dict[str, Any]:
        """The JSON error body: ``{"error": {"code": ..., "message": ...}}``."""
        return {"error": {"code": self.code, "message": self.message}}
