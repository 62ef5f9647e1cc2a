"""The WebSocket endpoint, in process: subscribe and resume, commands and replies, bad input."""

from __future__ import annotations

import json
from collections import defaultdict, deque
from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient, WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from serving.app import create_app
from serving.config import ServerConfig
from serving.streams import MemoryStore
from serving.streams.store import AppendRequest, AppendResult
from serving.tokens import TokenSigner


def ws_url(created: dict[str, Any], token: str | None = None, device: str = "laptop") -> str:
    query = f"device={device}"
    token = created["tokens"]["control"] if token is None else token
    if token:
        query += f"&access_token={token}"
    return f"/v1/sessions/{created['id']}/ws?{query}"


def command(ws: WebSocketTestSession, **fields: Any) -> None:
    ws.send_text(json.dumps(fields))


_unread: dict[int, deque[dict[str, Any]]] = defaultdict(deque)
"""Items received but not consumed yet, per connection (a frame may hold many)."""


def next_item(ws: WebSocketTestSession) -> dict[str, Any]:
    unread = _unread[id(ws)]
    if not unread:
        frame = json.loads(ws.receive_text())
        assert isinstance(frame, list) and frame, "every server frame is a non-empty JSON array"
        unread.extend(frame)
    return unread.popleft()


def items_until(ws: WebSocketTestSession, done: Callable[[dict[str, Any]], bool]) -> list[dict]:
    """Every item received up to and including the first one for which ``done`` is true."""
    items = [next_item(ws)]
    while not done(items[-1]):
        items.append(next_item(ws))
    return items


def reply_to(ws: WebSocketTestSession, command_id: str) -> tuple[dict, list[dict]]:
    """The reply to a command, and the events received before it."""
    items = items_until(ws, lambda item: "session" not in item and item["id"] == command_id)
    return items[-1], [item for item in items[:-1] if "session" in item]


def events_until(ws: WebSocketTestSession, kind: str) -> list[dict]:
    return [i for i in items_until(ws, lambda item: item.get("type") == kind) if "session" in i]


def subscribe(ws: WebSocketTestSession, start: str = "start") -> dict:
    command(ws, type="subscribe", id="sub", **{"from": start})
    reply, _ = reply_to(ws, "sub")
    assert reply["type"] == "ack", reply
    return reply


def ask(client: TestClient, created: dict[str, Any], text: str, **extra: Any) -> dict:
    """Send a message over HTTP; return the ack."""
    response = client.post(
        f"/v1/sessions/{created['id']}/commands?device=tablet",
        headers={"authorization": f"Bearer {created['tokens']['control']}"},
        json={"type": "send", "data": {"text": text}, "params": {"speed": 1000}, **extra},
    )
    assert response.status_code == 200, response.text
    return response.json()


# --- connecting -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "device", "code", "reason"),
    [
        ("", "laptop", 4401, "needs a token"),
        ("v1.forged.token", "laptop", 4401, "invalid token signature"),
        ("other-session", "laptop", 4403, "does not grant 'read'"),
        (None, "my laptop", 4400, "invalid device"),
    ],
)
def test_refused_connections_close_with_a_code_and_a_reason(
    client: TestClient,
    created: dict,
    signer: TokenSigner,
    token: str | None,
    device: str,
    code: int,
    reason: str,
) -> None:
    if token == "other-session":
        token = signer.mint("sessions/" + "f" * 32, ["read", "write", "control"])
    with (
        client.websocket_connect(ws_url(created, token, device)) as ws,
        pytest.raises(WebSocketDisconnect) as closed,
    ):
        ws.receive_text()
    assert closed.value.code == code
    assert reason in closed.value.reason
    info = client.get(
        f"/v1/sessions/{created['id']}",
        headers={"authorization": f"Bearer {created['tokens']['read']}"},
    )
    assert info.json()["offset"] == "0000000000000000_0000000000000000", "nothing was written"


def test_an_unknown_session_closes_with_4404(client: TestClient, signer: TokenSigner) -> None:
    token = signer.mint("*", ["read"])
    url = f"/v1/sessions/{'0' * 32}/ws?access_token={token}"
    with client.websocket_connect(url) as ws, pytest.raises(WebSocketDisconnect) as closed:
        ws.receive_text()
    assert closed.value.code == 4404


# --- events ------------------------------------------------------------------------------------


def test_history_then_live_in_one_ordered_stream(client: TestClient, created: dict) -> None:
    ask(client, created, "one two")
    with client.websocket_connect(ws_url(created)) as ws:
        ack = subscribe(ws)
        assert ack["offset"] == "0000000000000000_0000000000000000"
        history = events_until(ws, "run.completed")
        command(ws, type="send", id="c1", data={"text": "three"}, params={"speed": 1000})
        live = events_until(ws, "run.completed")
    everything = history + live
    offsets = [event["offset"] for event in everything]
    assert offsets == sorted(offsets) and len(set(offsets)) == len(offsets)
    texts = [e["data"]["text"] for e in everything if e["type"] == "delta"]
    assert texts == ["one", " two", "three"]
    assert [e["type"] for e in everything].count("presence.joined") == 1


def test_resume_from_any_offset_gives_exactly_the_missed_events(
    client: TestClient, created: dict
) -> None:
    ask(client, created, "a b c d e f")
    with client.websocket_connect(ws_url(created)) as ws:
        subscribe(ws)
        everything = events_until(ws, "run.completed")
    for cut in (0, 3, len(everything) - 2):
        with client.websocket_connect(ws_url(created)) as ws:
            subscribe(ws, everything[cut]["offset"])
            rest = events_until(ws, "run.completed")
        assert rest == everything[cut + 1 :]


def test_new_gives_only_events_written_after_the_subscribe(
    client: TestClient, created: dict
) -> None:
    ask(client, created, "old")
    with client.websocket_connect(ws_url(created)) as ws:
        ack = subscribe(ws, "new")
        command(ws, type="send", id="c1", data={"text": "fresh"}, params={"speed": 1000})
        events = events_until(ws, "run.completed")
    assert all(event["offset"] > ack["offset"] for event in events)
    assert [e["data"]["text"] for e in events if e["type"] == "delta"] == ["fresh"]


def test_every_command_is_acknowledged_with_the_offset_of_its_event(
    client: TestClient, created: dict
) -> None:
    events: list[dict] = []
    with client.websocket_connect(ws_url(created)) as ws:
        subscribe(ws)
        acks = {}
        for command_id, fields in [
            ("go", {"type": "send", "agent": "slow", "data": {}}),
            ("faster", {"type": "steer", "params": {"level": 3}}),
            ("stop", {"type": "cancel"}),
        ]:
            if "run" not in fields and command_id != "go":
                fields["run"] = acks["go"]["run"]
            command(ws, id=command_id, **fields)
            acks[command_id], before = reply_to(ws, command_id)
            events += before
        events += events_until(ws, "run.cancelled")
        command(ws, type="heartbeat", id="beat")
        beat, _ = reply_to(ws, "beat")
    by_offset = {event["offset"]: event for event in events}
    assert beat == {"type": "ack", "id": "beat", "offset": None}
    assert by_offset[acks["go"]["offset"]]["type"] == "message"
    assert by_offset[acks["faster"]["offset"]]["data"] == {
        "action": "steer",
        "params": {"level": 3},
    }
    assert by_offset[acks["stop"]["offset"]]["data"] == {"action": "cancel"}
    assert (events[-1]["type"], events[-1]["device"]) == ("run.cancelled", "laptop")


# --- many devices ------------------------------------------------------------------------------


def test_devices_see_each_other_and_a_cancel_names_who_sent_it(
    client: TestClient, created: dict
) -> None:
    with client.websocket_connect(ws_url(created, device="laptop")) as laptop:
        subscribe(laptop)
        with client.websocket_connect(ws_url(created, device="phone")) as phone:
            subscribe(phone)
            command(laptop, type="send", id="go", agent="slow", data={"q": 1})
            go, seen = reply_to(laptop, "go")
            run = go["run"]
            message = events_until(phone, "message")[-1]
            assert (message["device"], message["run"]) == ("laptop", run)
            command(phone, type="cancel", id="stop", run=run)
            assert reply_to(phone, "stop")[0]["type"] == "ack"
        seen += events_until(laptop, "run.cancelled")
    control = next(e for e in seen if e["type"] == "control")
    assert (control["device"], seen[-1]["device"]) == ("phone", "phone")
    joined = [e["device"] for e in seen if e["type"] == "presence.joined"]
    assert "phone" in joined


def test_a_read_token_watches_but_cannot_act(client: TestClient, created: dict) -> None:
    ask(client, created, "hello")
    with client.websocket_connect(ws_url(created, created["tokens"]["read"], "tv")) as ws:
        subscribe(ws)
        events_until(ws, "run.completed")
        command(ws, type="send", id="s", data={"text": "sneaky"})
        refused, _ = reply_to(ws, "s")
        command(ws, type="cancel", id="c", run="r-x")
        refused_cancel, _ = reply_to(ws, "c")
        command(ws, type="heartbeat", id="h")
        assert reply_to(ws, "h")[0]["type"] == "ack"
    assert (refused["code"], refused_cancel["code"]) == ("FORBIDDEN", "FORBIDDEN")
    assert "does not grant 'write'" in refused["message"]
    with client.websocket_connect(ws_url(created)) as ws:
        subscribe(ws)
        command(ws, type="heartbeat", id="h")
        _, events = reply_to(ws, "h")
    assert not any(e["type"] == "message" and e["data"] == {"text": "sneaky"} for e in events)


# --- bad input ----------------------------------------------------------------------------------


def test_bad_frames_get_error_replies_and_the_connection_survives(
    make_client: Callable[..., TestClient], signer: TokenSigner
) -> None:
    client = make_client(max_command_bytes=1024)
    token = signer.mint("sessions/*", ["create"])
    created = client.post("/v1/sessions", headers={"authorization": f"Bearer {token}"}).json()
    with client.websocket_connect(ws_url(created)) as ws:
        sent: list[tuple[str | bytes, str]] = [
            (b"\x00\x01", "BAD_FRAME"),
            ("{not json", "BAD_FRAME"),
            ("[]", "BAD_FRAME"),
            (json.dumps({"type": "teleport", "id": "1"}), "UNKNOWN_COMMAND"),
            (json.dumps({"type": "send", "id": "2"}), "INVALID_COMMAND"),
            (
                json.dumps({"type": "send", "id": "3", "data": {"t": "x" * 2000}}),
                "PAYLOAD_TOO_LARGE",
            ),
            (json.dumps({"type": "send", "id": "4", "data": {}, "agent": "hal"}), "UNKNOWN_AGENT"),
            (
                json.dumps({"type": "send", "id": "5", "data": {}, "params": {"speed": 0}}),
                "INVALID_STEER",
            ),
            (json.dumps({"type": "cancel", "id": "6", "run": "r-finished"}), "RUN_NOT_ACTIVE"),
            (
                json.dumps(
                    {"type": "subscribe", "id": "7", "from": "9999999999999999_0000000000000000"}
                ),
                "INVALID_OFFSET",
            ),
        ]
        codes = []
        for frame, _ in sent:
            if isinstance(frame, bytes):
                ws.send_bytes(frame)
            else:
                ws.send_text(frame)
            codes.append(items_until(ws, lambda item: item["type"] == "error")[-1]["code"])
        assert codes == [code for _, code in sent]
        subscribe(ws)
        command(ws, type="subscribe", id="again", **{"from": "start"})
        assert reply_to(ws, "again")[0]["code"] == "ALREADY_SUBSCRIBED"
        command(ws, type="heartbeat", id="alive")
        assert reply_to(ws, "alive")[0]["type"] == "ack"


def test_a_flood_of_commands_is_rate_limited_with_one_reply_each(
    make_client: Callable[..., TestClient], signer: TokenSigner
) -> None:
    client = make_client(command_burst=20, commands_per_second=1)
    token = signer.mint("sessions/*", ["create"])
    created = client.post("/v1/sessions", headers={"authorization": f"Bearer {token}"}).json()
    with client.websocket_connect(ws_url(created)) as ws:
        for index in range(100):
            command(ws, type="heartbeat", id=str(index))
        replies = items_until(ws, lambda item: item.get("id") == "99")
    assert [reply["id"] for reply in replies] == [str(index) for index in range(100)]
    limited = [reply for reply in replies if reply["type"] == "error"]
    assert {reply["code"] for reply in limited} == {"RATE_LIMITED"}
    assert 75 <= len(limited) <= 80
    assert "retry later" in limited[0]["message"]


def test_a_long_catch_up_comes_in_bounded_frames(
    make_client: Callable[..., TestClient], signer: TokenSigner
) -> None:
    client = make_client(max_frame_bytes=2000)
    token = signer.mint("sessions/*", ["create"])
    created = client.post("/v1/sessions", headers={"authorization": f"Bearer {token}"}).json()
    ask(client, created, " ".join(f"word{index}" for index in range(60)))
    with client.websocket_connect(ws_url(created)) as ws:
        subscribe(ws)
        frames = []
        while not frames or '"run.completed"' not in frames[-1]:
            frames.append(ws.receive_text())
    events = [item for frame in frames for item in json.loads(frame)]
    assert len(frames) > 5
    assert all(len(frame) <= 2000 for frame in frames)
    assert [e["data"]["text"].strip() for e in events if e["type"] == "delta"] == [
        f"word{index}" for index in range(60)
    ]


class BrokenDiskStore(MemoryStore):
    """A real memory store whose appends fail, as a full disk would."""

    async def append(self, path: str, request: AppendRequest) -> AppendResult:
        raise OSError("No space left on device")


def test_a_server_failure_is_an_internal_error_reply_and_the_connection_lives_on() -> None:
    config = ServerConfig(store_url="memory://", open_access=True)
    with TestClient(create_app(config, BrokenDiskStore())) as client:
        session = client.post("/v1/sessions").json()["id"]
        with client.websocket_connect(f"/v1/sessions/{session}/ws?device=laptop") as ws:
            command(ws, type="send", id="s", data={"text": "hi"})
            failed, _ = reply_to(ws, "s")
            command(ws, type="heartbeat", id="h")
            alive, _ = reply_to(ws, "h")
    assert (failed["type"], failed["code"]) == ("error", "INTERNAL")
    assert "retry later" in failed["message"]
    assert alive["type"] == "ack"
