"""Replies and frames the server sends on a WebSocket, without I/O.

Every server frame is a JSON array of one or more items. An item is an event (it has an
``offset``) or a reply to a command: ``ack`` or ``error``. Batching several events per frame
is what lets one connection carry tens of thousands of events per second.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from serving.sessions.errors import SessionError


def ack(
    command_id: str | None, offset: str | None = None, run: str | None = None
) -> dict[str, Any]:
    """A command succeeded; ``offset`` is the event it produced (or, for subscribe, the position
    the subscription starts after); ``run`` the run a send started."""
    reply: dict[str, Any] = {"type": "ack", "id": command_id, "offset": offset}
    if run is not None:
        reply["run"] = run
    return reply


def error(failure: SessionError) -> dict[str, Any]:
    """The ``error`` reply: the error body's code and message, with the command's id."""
    return {"type": "error", "id": failure.command_id, **failure.body()["error"]}


def frame(items: Sequence[bytes]) -> str:
    """Encoded items (events or replies) -> one text frame."""
    return "[" + b",".join(items).decode("ascii") + "]"
