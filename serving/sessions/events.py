"""The session event: one JSON envelope for everything that happens in a session.

Every event in a session log has the same eight fields, always present (null when they do not
apply), so a client needs one parser:

``{"offset": str, "type": str, "session": str, "run": str|null, "agent": str|null,
"device": str|null, "ts": float, "data": object}``

``offset`` is added when the event is read (see serving.sessions.offsets); the log stores the
other seven. This module is pure: it encodes and decodes, it does no I/O. It is also the wire
type the Python client (serving.client) imports, so it imports only the standard library: a
test loads the client in a fresh interpreter and fails if any server module comes along.
"""

from __future__ import annotations

import enum
import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from json.encoder import encode_basestring_ascii
from typing import Any


class EventType(enum.StrEnum):
    """Every event type a session log holds."""

    MESSAGE = "message"
    """A user's message (``device`` sent it); ``run`` is the run it starts."""
    RUN_STARTED = "run.started"
    DELTA = "delta"
    """A token or chunk of a streamed answer: ``data = {"text": str}``."""
    PROGRESS = "progress"
    """``data = {"done": number, "total": number|null, "note": str|null}``."""
    PREDICTION = "prediction"
    """A model's (or sub-agent's) result: ``data`` is the agent's object."""
    CONTROL = "control"
    """A cancel or steer, with the ``device`` that sent it."""
    RUN_COMPLETED = "run.completed"
    RUN_CANCELLED = "run.cancelled"
    RUN_FAILED = "run.failed"
    RUN_INTERRUPTED = "run.interrupted"
    """The server stopped (crash, restart, shutdown) while the run was in progress."""
    PRESENCE_JOINED = "presence.joined"
    PRESENCE_LEFT = "presence.left"


RUN_ENDINGS = frozenset(
    {
        EventType.RUN_COMPLETED,
        EventType.RUN_CANCELLED,
        EventType.RUN_FAILED,
        EventType.RUN_INTERRUPTED,
    }
)
"""A run has exactly one of these, and it is the run's last event."""


@dataclass(frozen=True, slots=True)
class Event:
    """A decoded event, as clients see it."""

    offset: str
    type: str
    """An EventType value; kept as ``str`` so a newer server's types do not break old clients."""
    session: str
    run: str | None
    agent: str | None
    device: str | None
    ts: float
    data: dict[str, Any]

    @classmethod
    def from_dict(cls, fields: Mapping[str, Any]) -> Event:
        """Build from a decoded JSON object; KeyError/TypeError if it is not an event."""
        data = fields["data"]
        if not isinstance(data, dict):
            raise TypeError(f"event data must be an object, got {type(data).__name__}")
        return cls(
            offset=str(fields["offset"]),
            type=str(fields["type"]),
            session=str(fields["session"]),
            run=fields["run"],
            agent=fields["agent"],
            device=fields["device"],
            ts=float(fields["ts"]),
            data=data,
        )

    @property
    def ends_run(self) -> bool:
        return self.type in RUN_ENDINGS


@dataclass(frozen=True, slots=True)
class JSONFragment:
    """A value of event data that is already JSON, embedded in the event as is.

    For an agent that publishes large arrays (the batch agent's predictions) and can write
    their JSON faster than json.dumps. The agent vouches that ``json`` is one valid JSON value;
    only the cheap part is checked here: ASCII without line breaks, as the log requires.
    Only a top-level value of the data can be a fragment.
    """

    json: bytes

    def __post_init__(self) -> None:
        if not self.json.isascii() or b"\n" in self.json:
            raise ValueError(
                "a JSONFragment must be compact ASCII JSON without line breaks: escape the "
                "other characters as \\uXXXX (json.dumps does by default)"
            )


def _plain(value: object) -> object:
    """JSON fallback for NumPy-like values (``.item()`` scalars, ``.tolist()`` arrays)."""
    if isinstance(value, JSONFragment):
        raise TypeError("a JSONFragment can only be a top-level value of event data")
    for method in ("tolist", "item"):
        convert = getattr(value, method, None)
        if callable(convert):
            return convert()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def dumps(value: object) -> bytes:
    """Compact ASCII JSON without line breaks (the log separates events with one)."""
    try:
        text = json.dumps(value, separators=(",", ":"), allow_nan=False, default=_plain)
    except ValueError:
        raise ValueError("event data must be JSON: NaN and infinite numbers are not") from None
    return text.encode("ascii")


def encode_event(
    type: EventType,
    session: str,
    *,
    ts: float,
    run: str | None = None,
    agent: str | None = None,
    device: str | None = None,
    data: Mapping[str, Any] | None = None,
) -> bytes:
    """The stored form of an event: the envelope without ``offset``, as compact JSON.

    This is the hot path of a streamed answer (one call per token), so the fixed part of the
    envelope is encoded once per run and agent, and a text delta's data without json.dumps.
    A ``JSONFragment`` value of ``data`` is embedded as it is.
    """
    head = _envelope_head(type, session, run, agent, device)
    return b'%s%.3f,"data":%s}' % (head, ts, _encode_data(data))


@functools.lru_cache(maxsize=4096)
def _envelope_head(
    type: EventType, session: str, run: str | None, agent: str | None, device: str | None
) -> bytes:
    fields = {"type": type.value, "session": session, "run": run, "agent": agent, "device": device}
    return dumps(fields)[:-1] + b',"ts":'


def _encode_data(data: Mapping[str, Any] | None) -> bytes:
    if data is None:
        return b"{}"
    if len(data) == 1 and type(data.get("text")) is str:  # a delta: most of the traffic
        return b'{"text":%s}' % encode_basestring_ascii(data["text"]).encode("ascii")
    if any(type(value) is JSONFragment for value in data.values()):  # embedded as they are
        return b"{%s}" % b",".join(
            b"%s:%s" % (_key(key), value.json if type(value) is JSONFragment else dumps(value))
            for key, value in data.items()
        )
    return dumps(data)


def _key(key: object) -> bytes:
    if not isinstance(key, str):
        raise TypeError(f"event data keys must be strings, got {type(key).__name__} {key!r}")
    return encode_basestring_ascii(key).encode("ascii")
