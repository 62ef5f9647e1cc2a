"""Client commands: parsing and validation, without I/O.

A command is one JSON object (one WebSocket text frame, or one HTTP POST body) with a ``type``
and an optional ``id`` that the server echoes in its reply. Anything else gets a precise error
naming the field and the fix; unknown fields are refused too, so a typo never passes silently.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from serving.jsontext import parse_json
from serving.sessions.compact import FULL, mode_problem
from serving.sessions.errors import (
    BadFrame,
    CommandTooLarge,
    InvalidCommand,
    SessionError,
    UnknownCommand,
)
from serving.sessions.offsets import EventPosition, parse_start
from serving.streams.offsets import Position

MAX_ID_LENGTH = 64


class Scope(enum.StrEnum):
    """Token scopes on a session (``sessions/<id>``)."""

    READ = "read"
    """Watch: connect, subscribe, read by SSE or with a Durable Streams client."""
    WRITE = "write"
    """Send messages (each starts a run)."""
    CONTROL = "control"
    """Cancel and steer runs."""
    CREATE = "create"
    """Create sessions (on ``sessions/*``)."""
    OPERATE = "operate"
    """Send to an agent that changes what every session shares (``retrain``: a new version
    of a model every session is then served). Tokens that creating a session returns never
    carry it: an operator mints it (``serving token --scope operate --stream 'sessions/*'``)
    or the page on the server's own computer asks for it (``POST /web/token``)."""


@dataclass(frozen=True, slots=True)
class Subscribe:
    """Deliver events after ``start``: a position, or TAIL for "only new events"."""

    start: EventPosition | Position
    id: str | None = None
    deltas: str = FULL
    """``full`` (protocol v1) or ``compact`` (v1.1: serving.sessions.compact)."""


@dataclass(frozen=True, slots=True)
class Send:
    """Write a ``message`` event and start a run of ``agent`` to answer it."""

    data: dict[str, Any]
    agent: str | None = None
    """None = the server's default agent."""
    params: dict[str, Any] = field(default_factory=dict)
    """Initial values of the agent's steerable parameters."""
    id: str | None = None


@dataclass(frozen=True, slots=True)
class Cancel:
    run: str
    id: str | None = None


@dataclass(frozen=True, slots=True)
class Steer:
    run: str
    params: dict[str, Any]
    id: str | None = None


@dataclass(frozen=True, slots=True)
class Heartbeat:
    id: str | None = None


Command = Subscribe | Send | Cancel | Steer | Heartbeat

REQUIRED_SCOPE: dict[type[Command], Scope] = {
    Subscribe: Scope.READ,
    Heartbeat: Scope.READ,
    Send: Scope.WRITE,
    Cancel: Scope.CONTROL,
    Steer: Scope.CONTROL,
}

_FIELDS: dict[str, tuple[set[str], set[str]]] = {
    # message type: (required fields, optional fields) besides "type" and "id"
    "subscribe": ({"from"}, {"deltas"}),
    "send": ({"data"}, {"agent", "params"}),
    "cancel": ({"run"}, set()),
    "steer": ({"run", "params"}, set()),
    "heartbeat": (set(), set()),
}


def parse_frame(frame: str | bytes, max_bytes: int) -> Command:
    """A WebSocket frame -> a Command; raises a SessionError saying what was wrong."""
    if isinstance(frame, bytes):
        raise BadFrame("commands are JSON text frames; this was a binary frame")
    if len(frame) > max_bytes or len(frame.encode()) > max_bytes:
        raise CommandTooLarge(
            f"command of {len(frame.encode())} bytes exceeds the limit of {max_bytes} bytes"
        )
    try:
        value = parse_json(frame)
    except ValueError as error:
        raise BadFrame(f"frame is not valid JSON ({error}); send one JSON object") from None
    if not isinstance(value, dict):
        raise BadFrame(f"a command is one JSON object, got {_kind(value)}")
    return parse_command(value)


def parse_command(value: Mapping[str, Any]) -> Command:
    """A decoded JSON object -> a Command."""
    command_id = _command_id(value.get("id"))
    try:
        return _parse(value, command_id)
    except SessionError as error:
        error.command_id = command_id
        raise


def _parse(value: Mapping[str, Any], command_id: str | None) -> Command:
    kind = value.get("type")
    if not isinstance(kind, str):
        raise InvalidCommand(f"a command needs a string 'type', one of: {', '.join(_FIELDS)}")
    if kind not in _FIELDS:
        raise UnknownCommand(f"unknown command type {kind!r}; use one of: {', '.join(_FIELDS)}")
    required, optional = _FIELDS[kind]
    missing = sorted(required - value.keys())
    if missing:
        raise InvalidCommand(f"{kind} needs the field(s): {', '.join(missing)}")
    unknown = sorted(value.keys() - required - optional - {"type", "id"})
    if unknown:
        allowed = ", ".join(["type", "id", *sorted(required), *sorted(optional)])
        raise InvalidCommand(f"unknown field(s) {', '.join(unknown)} in {kind}; use {allowed}")
    if kind == "subscribe":
        start = _string(value, "from", kind)
        deltas = value.get("deltas", FULL)
        problem = mode_problem(deltas)
        if problem is not None:
            raise InvalidCommand(f"subscribe.{problem}")
        return Subscribe(parse_start(start), id=command_id, deltas=deltas)
    if kind == "send":
        agent = value.get("agent")
        if agent is not None and not isinstance(agent, str):
            raise InvalidCommand(f"send.agent must be an agent name (a string), got {_kind(agent)}")
        return Send(
            _object(value, "data", kind),
            agent=agent,
            params=_object(value, "params", kind) if "params" in value else {},
            id=command_id,
        )
    if kind == "cancel":
        return Cancel(_string(value, "run", kind), id=command_id)
    if kind == "steer":
        params = _object(value, "params", kind)
        if not params:
            raise InvalidCommand("steer.params is empty: name at least one parameter to change")
        return Steer(_string(value, "run", kind), params, id=command_id)
    return Heartbeat(id=command_id)


def _command_id(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not 0 < len(value) <= MAX_ID_LENGTH:
        raise InvalidCommand(f"a command id must be a string of 1 to {MAX_ID_LENGTH} characters")
    return value


def _string(value: Mapping[str, Any], name: str, kind: str) -> str:
    text = value[name]
    if not isinstance(text, str) or not text:
        raise InvalidCommand(f"{kind}.{name} must be a non-empty string, got {_kind(text)}")
    return text


def _object(value: Mapping[str, Any], name: str, kind: str) -> dict[str, Any]:
    mapping = value[name]
    if not isinstance(mapping, dict):
        raise InvalidCommand(f"{kind}.{name} must be a JSON object, got {_kind(mapping)}")
    return mapping


def _kind(value: object) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}.get(
        type(value), "a number"
    )
