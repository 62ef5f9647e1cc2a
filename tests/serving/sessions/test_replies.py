"""Replies and frames: a frame is a JSON array of events and replies."""

from __future__ import annotations

import json

from serving.sessions import replies
from serving.sessions.errors import RunNotActive


def test_ack_carries_the_command_id_offset_and_run() -> None:
    assert replies.ack("c1", "o", run="r-1") == {
        "type": "ack",
        "id": "c1",
        "offset": "o",
        "run": "r-1",
    }
    assert replies.ack(None) == {"type": "ack", "id": None, "offset": None}


def test_error_carries_code_message_and_id() -> None:
    error = RunNotActive("run r-1 has already ended", command_id="c2")
    assert replies.error(error) == {
        "type": "error",
        "id": "c2",
        "code": "RUN_NOT_ACTIVE",
        "message": "run r-1 has already ended",
    }


def test_a_frame_is_a_json_array_of_its_items() -> None:
    frame = replies.frame([b'{"offset":"a","type":"delta"}', b'{"type":"ack","id":null}'])
    assert json.loads(frame) == [{"offset": "a", "type": "delta"}, {"type": "ack", "id": None}]
