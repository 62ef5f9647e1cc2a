"""Parsing commands: every malformed frame gets a precise error naming the fix."""

from __future__ import annotations

import json

import pytest

from serving.sessions.commands import (
    REQUIRED_SCOPE,
    Cancel,
    Heartbeat,
    Scope,
    Send,
    Steer,
    Subscribe,
    parse_command,
    parse_frame,
)
from serving.sessions.errors import (
    BadFrame,
    CommandTooLarge,
    InvalidCommand,
    InvalidSessionOffset,
    SessionError,
    UnknownCommand,
)
from serving.sessions.offsets import START
from serving.streams.offsets import TAIL

LIMIT = 1024


def parse(value: object) -> object:
    return parse_frame(json.dumps(value), LIMIT)


def test_each_command_parses() -> None:
    assert parse({"type": "subscribe", "from": "start", "id": "s"}) == Subscribe(START, id="s")
    assert parse({"type": "subscribe", "from": "new"}) == Subscribe(TAIL)
    assert parse({"type": "send", "data": {"text": "hi"}}) == Send({"text": "hi"})
    assert parse(
        {"type": "send", "data": {}, "agent": "text", "params": {"speed": 2}, "id": "1"}
    ) == Send({}, agent="text", params={"speed": 2}, id="1")
    assert parse({"type": "cancel", "run": "r-1"}) == Cancel("r-1")
    assert parse({"type": "steer", "run": "r-1", "params": {"speed": 3}}) == Steer(
        "r-1", {"speed": 3}
    )
    assert parse({"type": "heartbeat", "id": "h"}) == Heartbeat(id="h")


def test_scopes_per_command() -> None:
    assert REQUIRED_SCOPE[Subscribe] is Scope.READ
    assert REQUIRED_SCOPE[Heartbeat] is Scope.READ
    assert REQUIRED_SCOPE[Send] is Scope.WRITE
    assert REQUIRED_SCOPE[Cancel] is Scope.CONTROL
    assert REQUIRED_SCOPE[Steer] is Scope.CONTROL


@pytest.mark.parametrize(
    ("frame", "error", "message"),
    [
        (b'{"type":"heartbeat"}', BadFrame, "binary frame"),
        ("not json", BadFrame, "not valid JSON"),
        ("[1, 2]", BadFrame, "one JSON object, got an array"),
        ('"text"', BadFrame, "got a string"),
        ('{"type": "send", "data": {"x": NaN}}', BadFrame, "NaN is not a JSON number"),
        ("{}", InvalidCommand, "needs a string 'type'"),
        ('{"type": 3}', InvalidCommand, "needs a string 'type'"),
        ('{"type": "launch"}', UnknownCommand, "unknown command type 'launch'; use one of"),
        ('{"type": "send"}', InvalidCommand, "send needs the field.s.: data"),
        (
            '{"type": "send", "data": {}, "agnt": "x"}',
            InvalidCommand,
            "unknown field.s. agnt in send",
        ),
        (
            '{"type": "send", "data": "hi"}',
            InvalidCommand,
            "send.data must be a JSON object, got a string",
        ),
        ('{"type": "send", "data": {}, "agent": 3}', InvalidCommand, "agent name"),
        (
            '{"type": "send", "data": {}, "params": []}',
            InvalidCommand,
            "send.params must be a JSON object",
        ),
        ('{"type": "cancel", "run": ""}', InvalidCommand, "cancel.run must be a non-empty string"),
        ('{"type": "steer", "run": "r", "params": {}}', InvalidCommand, "steer.params is empty"),
        (
            '{"type": "subscribe", "from": 5}',
            InvalidCommand,
            "subscribe.from must be a non-empty string",
        ),
        ('{"type": "subscribe", "from": "yesterday"}', InvalidSessionOffset, "malformed offset"),
        ('{"type": "heartbeat", "id": 7}', InvalidCommand, "command id must be a string"),
        ('{"type": "heartbeat", "id": ""}', InvalidCommand, "command id must be a string"),
    ],
)
def test_malformed_commands(frame: str | bytes, error: type[SessionError], message: str) -> None:
    with pytest.raises(error, match=message):
        parse_frame(frame, LIMIT)


def test_errors_carry_the_command_id_when_there_is_one() -> None:
    with pytest.raises(InvalidCommand) as caught:
        parse_command({"type": "cancel", "id": "c7"})
    assert caught.value.command_id == "c7"


def test_oversized_frames_are_refused_before_parsing() -> None:
    frame = json.dumps({"type": "send", "data": {"text": "x" * LIMIT}})
    with pytest.raises(CommandTooLarge, match=f"exceeds the limit of {LIMIT} bytes"):
        parse_frame(frame, LIMIT)


def test_the_size_limit_counts_bytes_not_characters() -> None:
    frame = json.dumps({"type": "send", "data": {"text": "é" * 600}}, ensure_ascii=False)
    assert len(frame) < LIMIT < len(frame.encode())
    with pytest.raises(CommandTooLarge):
        parse_frame(frame, LIMIT)
