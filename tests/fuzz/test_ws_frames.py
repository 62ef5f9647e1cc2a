"""Adversarial WebSocket frames: every frame gets exactly one reply, never ``INTERNAL``, the
connection stays open, and the session is whole afterwards."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from tests.fuzz.strategies import FRAMES

CLIENT_ERRORS = {
    "BAD_FRAME",
    "PAYLOAD_TOO_LARGE",
    "UNKNOWN_COMMAND",
    "INVALID_COMMAND",
    "INVALID_OFFSET",
    "ALREADY_SUBSCRIBED",
    "UNKNOWN_AGENT",
    "INVALID_STEER",
    "RUN_NOT_ACTIVE",
    "BUSY",
    "RATE_LIMITED",
}


def _reply(ws: Any) -> dict[str, Any]:
    """The next reply (an ack or an error), skipping the events of a subscription."""
    while True:
        for item in json.loads(ws.receive_text()):
            if "session" not in item:
                return item


@settings(settings.get_profile("fuzz"))
@given(st.lists(FRAMES, min_size=1, max_size=12))
def test_no_frame_breaks_the_connection_or_the_session(
    server: TestClient, sessions: Any, frames: list[str | bytes]
) -> None:
    created = sessions.create()
    token = created["tokens"]["control"]
    url = f"/v1/sessions/{created['id']}/ws?device=fuzzer&access_token={token}"
    last_run = "r-000000000000"
    with server.websocket_connect(url) as ws:
        for frame in frames:
            if isinstance(frame, bytes):
                ws.send_bytes(frame)
            else:
                ws.send_text(frame.replace("$last-run", last_run))
            reply = _reply(ws)
            assert reply["type"] in ("ack", "error"), reply
            if reply["type"] == "error":
                assert reply["code"] in CLIENT_ERRORS, (frame[:200], reply)
                assert reply["message"], reply
            elif "run" in reply:
                last_run = reply["run"]
        ws.send_text(json.dumps({"type": "heartbeat", "id": "alive"}))
        assert _reply(ws) == {"type": "ack", "id": "alive", "offset": None}
    sessions.assert_still_works(created)
