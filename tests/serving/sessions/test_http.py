"""The HTTP endpoints: create, info, commands, SSE with Last-Event-ID, the Durable Stream view."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from serving.tokens import TokenSigner


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def command(
    client: TestClient, created: dict, body: Any, token: str | None = None, device: str = "tablet"
) -> httpx.Response:
    token = created["tokens"]["control"] if token is None else token
    return client.post(
        f"/v1/sessions/{created['id']}/commands?device={device}", headers=bearer(token), json=body
    )


def send(client: TestClient, created: dict, text: str, **extra: Any) -> dict:
    response = command(
        client,
        created,
        {"type": "send", "data": {"text": text}, "params": {"speed": 1000}, **extra},
    )
    assert response.status_code == 200, response.text
    return response.json()


def wait_for_run_end(client: TestClient, created: dict) -> None:
    deadline = time.monotonic() + 5
    while client.get(
        f"/v1/sessions/{created['id']}", headers=bearer(created["tokens"]["read"])
    ).json()["runs"]:
        assert time.monotonic() < deadline, "the run did not end"
        time.sleep(0.01)


def sse_events(client: TestClient, url: str, headers: dict[str, str]) -> list[dict[str, str]]:
    """Every SSE event of one response (the server ends it after sse_max_seconds)."""
    events: list[dict[str, str]] = []
    fields: dict[str, str] = {}
    with client.stream("GET", url, headers=headers) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if not line:
                if fields:
                    events.append(fields)
                fields = {}
            elif not line.startswith(":"):
                name, _, value = line.partition(": ")
                fields[name] = value
    return events


# --- create and info ----------------------------------------------------------------------------


def test_create_needs_a_create_token(client: TestClient, signer: TokenSigner) -> None:
    missing = client.post("/v1/sessions")
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "UNAUTHORIZED"
    assert missing.headers["www-authenticate"].startswith("Bearer")
    wrong = client.post("/v1/sessions", headers=bearer(signer.mint("sessions/*", ["read"])))
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (403, "FORBIDDEN")
    options = client.post(
        "/v1/sessions", headers=bearer(signer.mint("sessions/*", ["create"])), json={"agent": "x"}
    )
    assert options.status_code == 400
    assert "takes no options" in options.json()["error"]["message"]


def test_create_returns_urls_and_tokens(created: dict) -> None:
    session = created["id"]
    assert created["url"] == f"http://testserver/v1/sessions/{session}"
    assert created["ws_url"] == f"ws://testserver/v1/sessions/{session}/ws"
    assert created["events_url"] == f"{created['url']}/events"
    assert created["stream_url"] == f"http://testserver/v1/stream/sessions/{session}"
    assert created["watch_url"] == f"{created['url']}?access_token={created['tokens']['read']}"
    assert set(created["tokens"]) == {"read", "write", "control"}


def test_an_open_server_creates_without_tokens(make_client: Callable[..., TestClient]) -> None:
    client = make_client(open_access=True)
    created = client.post("/v1/sessions").json()
    assert created["tokens"] is None and created["watch_url"] == created["url"]
    assert (
        command(client, created, {"type": "send", "data": {"text": "hi"}}, token="").status_code
        == 200
    )


def test_info_with_the_watch_link(client: TestClient, created: dict) -> None:
    watch = created["watch_url"].removeprefix("http://testserver")
    info = client.get(watch)
    assert info.status_code == 200
    assert info.json()["id"] == created["id"]
    assert info.json()["offset"] == "0000000000000000_0000000000000000"
    assert "text" in info.json()["agents"]


def test_info_errors(client: TestClient, created: dict, signer: TokenSigner) -> None:
    assert client.get(f"/v1/sessions/{created['id']}").status_code == 401
    other = signer.mint("sessions/" + "e" * 32, ["read"])
    assert client.get(f"/v1/sessions/{created['id']}", headers=bearer(other)).status_code == 403
    everything = signer.mint("*", ["read"])
    missing = client.get(f"/v1/sessions/{'e' * 32}", headers=bearer(everything))
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "SESSION_NOT_FOUND")


# --- commands ------------------------------------------------------------------------------------


def test_send_cancel_and_steer_over_http(client: TestClient, created: dict) -> None:
    ack = command(client, created, {"type": "send", "id": "a", "agent": "slow", "data": {}}).json()
    assert ack["type"] == "ack" and ack["id"] == "a" and ack["run"].startswith("r-")
    steer = command(client, created, {"type": "steer", "run": ack["run"], "params": {"level": 2}})
    assert steer.status_code == 200 and steer.json()["offset"] > ack["offset"]
    cancel = command(client, created, {"type": "cancel", "run": ack["run"]}, device="phone")
    assert cancel.status_code == 200
    wait_for_run_end(client, created)
    again = command(client, created, {"type": "cancel", "id": "late", "run": ack["run"]})
    assert again.status_code == 409
    assert again.json()["error"] == {
        "code": "RUN_NOT_ACTIVE",
        "message": f"run {ack['run']} has already ended (run.cancelled)",
        "id": "late",
    }


def test_a_retried_http_command_is_done_once(client: TestClient, created: dict) -> None:
    body = {"type": "send", "id": "once", "data": {"text": "hi"}, "params": {"speed": 1000}}
    first = command(client, created, body).json()
    assert command(client, created, body).json() == first
    wait_for_run_end(client, created)
    log = client.get(
        f"/v1/stream/sessions/{created['id']}?offset=-1", headers=bearer(created["tokens"]["read"])
    )
    assert [event["type"] for event in log.json()].count("message") == 1


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"{oops", 400, "BAD_FRAME"),
        (b"[1]", 400, "BAD_FRAME"),
        (b'{"type": "subscribe", "from": "start"}', 400, "INVALID_COMMAND"),
        (b'{"type": "heartbeat"}', 400, "INVALID_COMMAND"),
        (b'{"type": "dance"}', 400, "UNKNOWN_COMMAND"),
        (b'{"type": "cancel", "run": "r-0"}', 409, "RUN_NOT_ACTIVE"),
        (b'{"type": "send", "data": {"text": "' + b"x" * 70_000 + b'"}}', 413, "PAYLOAD_TOO_LARGE"),
    ],
)
def test_bad_http_commands(
    client: TestClient, created: dict, body: bytes, status: int, code: str
) -> None:
    response = client.post(
        f"/v1/sessions/{created['id']}/commands",
        headers={**bearer(created["tokens"]["control"]), "content-type": "application/json"},
        content=body,
    )
    assert (response.status_code, response.json()["error"]["code"]) == (status, code)


def test_http_commands_check_scopes_and_write_nothing_when_refused(
    client: TestClient, created: dict
) -> None:
    write_only = command(
        client,
        created,
        {"type": "send", "agent": "slow", "data": {}},
        token=created["tokens"]["write"],
    )
    assert write_only.status_code == 200
    run = write_only.json()["run"]
    refused = command(
        client, created, {"type": "cancel", "run": run}, token=created["tokens"]["write"]
    )
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "FORBIDDEN")
    watcher = command(
        client, created, {"type": "send", "data": {"text": "x"}}, token=created["tokens"]["read"]
    )
    assert watcher.status_code == 403
    nobody = client.post(
        f"/v1/sessions/{created['id']}/commands", json={"type": "send", "data": {}}
    )
    assert nobody.status_code == 401
    log = client.get(
        f"/v1/stream/sessions/{created['id']}?offset=-1", headers=bearer(created["tokens"]["read"])
    )
    assert [event["type"] for event in log.json()] == ["message", "run.started", "delta"]


# --- SSE ---------------------------------------------------------------------------------


def test_sse_sends_every_event_with_its_offset_and_resumes_with_last_event_id(
    make_client: Callable[..., TestClient], signer: TokenSigner
) -> None:
    client = make_client(sse_max_seconds=0.3)
    created = client.post(
        "/v1/sessions", headers=bearer(signer.mint("sessions/*", ["create"]))
    ).json()
    send(client, created, "a b c")
    wait_for_run_end(client, created)
    url = f"/v1/sessions/{created['id']}/events?access_token={created['tokens']['read']}"
    everything = sse_events(client, url, {})
    subscribed, *events = everything
    assert subscribed["event"] == "subscribed"
    assert subscribed["id"] == "0000000000000000_0000000000000000"
    assert [json.loads(e["data"])["offset"] for e in events] == [e["id"] for e in events]
    assert [json.loads(e["data"])["type"] for e in events] == [
        "message",
        "run.started",
        "delta",
        "delta",
        "delta",
        "run.completed",
    ]
    resumed = sse_events(client, url, {"last-event-id": events[2]["id"]})
    assert resumed[0]["id"] == events[2]["id"]
    assert resumed[1:] == events[3:]
    newest = sse_events(client, url + "&from=new", {})
    assert [e["id"] for e in newest] == [events[-1]["id"]]


def test_sse_refuses_bad_offsets_and_tokens(client: TestClient, created: dict) -> None:
    url = f"/v1/sessions/{created['id']}/events"
    bad = client.get(
        url, headers={**bearer(created["tokens"]["read"]), "last-event-id": "yesterday"}
    )
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "INVALID_OFFSET")
    assert client.get(url).status_code == 401


# --- the Durable Streams view ----------------------------------------------------------------


def test_the_log_reads_as_a_durable_stream_and_cannot_be_written_there(
    client: TestClient, created: dict, signer: TokenSigner
) -> None:
    send(client, created, "hi")
    wait_for_run_end(client, created)
    url = f"/v1/stream/sessions/{created['id']}"
    log = client.get(url + "?offset=-1", headers=bearer(created["tokens"]["read"]))
    assert log.status_code == 200 and log.headers["content-type"] == "application/json"
    assert [event["type"] for event in log.json()] == [
        "message",
        "run.started",
        "delta",
        "run.completed",
    ]
    admin = bearer(signer.mint("*", ["read", "write"]))
    for method in ("POST", "PUT", "DELETE"):
        response = client.request(
            method, url, headers={**admin, "content-type": "application/json"}, content=b"{}"
        )
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "SESSION_LOG_READ_ONLY"
    assert (
        len(client.get(url + "?offset=-1", headers=bearer(created["tokens"]["read"])).json()) == 4
    )


# --- the protocol's promises: the command id in every refusal, the device checked everywhere ---


@pytest.mark.parametrize(
    ("token_name", "query", "body", "status", "code"),
    [
        ("read", "?device=tablet", {"type": "send", "data": {}}, 403, "FORBIDDEN"),
        ("control", "?device=my%20tablet", {"type": "send", "data": {}}, 400, "INVALID_DEVICE"),
        (None, "", {"type": "send", "data": {}}, 401, "UNAUTHORIZED"),
        ("forged", "", {"type": "send", "data": {}}, 401, "UNAUTHORIZED"),
        ("control", "?access_token=a&access_token=b", {"type": "send"}, 400, "BAD_REQUEST"),
        ("control", "", {"type": "dance"}, 400, "UNKNOWN_COMMAND"),
        ("control", "", {"type": "send", "data": {}, "colour": 1}, 400, "INVALID_COMMAND"),
        ("control", "", {"type": "heartbeat"}, 400, "INVALID_COMMAND"),
        ("control", "", {"type": "cancel", "run": "r-0"}, 409, "RUN_NOT_ACTIVE"),
        ("control", "", {"type": "send", "data": {}, "agent": "nobody"}, 400, "UNKNOWN_AGENT"),
        ("control", "", {"type": "send", "data": {}, "params": {"speed": 0}}, 400, "INVALID_STEER"),
    ],
)
def test_every_refused_http_command_names_its_id(
    client: TestClient,
    created: dict,
    token_name: str | None,
    query: str,
    body: dict,
    status: int,
    code: str,
) -> None:
    """PROTOCOL.md: HTTP error bodies carry the command's id, also for the refusals decided
    before the body is read (no token, a duplicated access_token) or before the command runs
    (scope, device)."""
    tokens = {**created["tokens"], "forged": "v1.AAAA.BBBB"}
    headers = bearer(tokens[token_name]) if token_name else {}
    response = client.post(
        f"/v1/sessions/{created['id']}/commands{query}",
        headers=headers,
        json={**body, "id": "c-42"},
    )
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["id"] == "c-42"


def test_a_command_for_an_unknown_session_names_its_id(client: TestClient, created: dict) -> None:
    response = client.post(
        f"/v1/sessions/{'0' * 32}/commands",
        headers=bearer(created["tokens"]["control"]),
        json={"type": "send", "id": "c-7", "data": {}},
    )
    assert response.status_code in (403, 404)  # a token of another session: forbidden first
    assert response.json()["error"]["id"] == "c-7"


def test_a_refusal_without_a_readable_id_has_none(client: TestClient, created: dict) -> None:
    too_large = client.post(
        f"/v1/sessions/{created['id']}/commands",
        headers=bearer(created["tokens"]["control"]),
        content=b'{"type": "send", "id": "c-1", "data": {"text": "' + b"x" * 70_000 + b'"}}',
    )
    assert too_large.status_code == 413
    assert "id" not in too_large.json()["error"]
    no_id = command(client, created, {"type": "dance"})
    assert "id" not in no_id.json()["error"]


@pytest.mark.parametrize("device", ["my%20laptop", "", "x" * 65, "caf%C3%A9"])
def test_every_session_endpoint_refuses_a_malformed_device(
    client: TestClient, created: dict, signer: TokenSigner, device: str
) -> None:
    """PROTOCOL.md: every session endpoint takes ``device``; a malformed one is 400
    INVALID_DEVICE on each (close 4400 on the WebSocket, tested in test_ws.py)."""
    read = bearer(created["tokens"]["read"])
    create = bearer(signer.mint("sessions/*", ["create"]))
    session = f"/v1/sessions/{created['id']}"
    requests = [
        ("POST", "/v1/sessions", create),
        ("GET", session, read),
        ("GET", f"{session}/events", read),
        ("POST", f"{session}/commands", bearer(created["tokens"]["control"])),
        ("GET", f"/v1/stream/sessions/{created['id']}", read),
    ]
    for method, url, headers in requests:
        body = {"type": "send", "data": {}} if url.endswith("commands") else None
        response = client.request(method, f"{url}?device={device}", headers=headers, json=body)
        assert response.status_code == 400, (method, url, response.text)
        assert response.json()["error"]["code"] == "INVALID_DEVICE", (method, url)
    assert client.get(f"{session}?device=tv.1", headers=read).status_code == 200
    assert client.get(f"/v1/stream/sessions/{created['id']}?device=tv.1", headers=read).is_success


# --- client limits: sessions and batch jobs per client (serving.sessions.ratelimit) -----------


def _create(client: TestClient, token: str) -> httpx.Response:
    return client.post("/v1/sessions", headers=bearer(token))


def test_sessions_per_client_answer_429_with_retry_after(
    make_client: Callable[..., TestClient], signer: TokenSigner
) -> None:
    from serving.sessions.ratelimit import ClientRate

    client = make_client(client_rates={"sessions": ClientRate(burst=3, per_minute=2)})
    alice = signer.mint("sessions/*", ["create"], subject="alice")
    assert [_create(client, alice).status_code for _ in range(4)] == [201, 201, 201, 429]
    refused = _create(client, alice)
    assert refused.status_code == 429
    error = refused.json()["error"]
    assert error["code"] == "RATE_LIMITED"
    assert 1 <= int(refused.headers["retry-after"]) <= 30  # one session every 30 s
    assert error["retry_after"] == int(refused.headers["retry-after"])
    assert "at most 3 at once, then 2 a minute" in error["message"]
    assert "reuse the session you have" in error["message"]
    # Another subject has its own allowance; tokens without one (and the page's) count per
    # address, here the test client's.
    assert _create(client, signer.mint("sessions/*", ["create"], subject="bob")).status_code == 201
    anonymous = [signer.mint("sessions/*", ["create"]) for _ in range(3)]
    page = signer.mint("sessions/*", ["create"], subject="web")
    assert [_create(client, t).status_code for t in [*anonymous, page]] == [201, 201, 201, 429]


def test_an_open_server_has_no_client_limits(make_client: Callable[..., TestClient]) -> None:
    from serving.sessions.ratelimit import ClientRate

    client = make_client(open_access=True, client_rates={"sessions": ClientRate(1, 1)})
    assert {client.post("/v1/sessions").status_code for _ in range(5)} == {201}


def test_batch_jobs_per_client_answer_429_and_start_nothing(
    make_client: Callable[..., TestClient], signer: TokenSigner
) -> None:
    """The agents named in client_limited_agents (``batch`` by default; the slow test agent
    here) count per client across sessions; other sends do not."""
    from serving.sessions.ratelimit import ClientRate

    client = make_client(
        client_rates={"batch": ClientRate(burst=2, per_minute=1)},
        client_limited_agents=("slow",),
    )
    create = signer.mint("sessions/*", ["create"], subject="carol")
    first, second = (_create(client, create).json() for _ in range(2))
    slow = {"type": "send", "agent": "slow", "data": {}}
    assert command(client, first, {**slow, "id": "b1"}).status_code == 200
    assert command(client, second, {**slow, "id": "b2"}).status_code == 200
    assert command(client, first, {**slow, "id": "b1"}).json()["run"]  # a retry: done once
    refused = command(client, second, {**slow, "id": "b3"})
    assert refused.status_code == 429
    assert refused.json()["error"] == {
        "code": "RATE_LIMITED",
        "message": refused.json()["error"]["message"],
        "id": "b3",
        "retry_after": int(refused.headers["retry-after"]),
    }
    assert "batch jobs" in refused.json()["error"]["message"]
    assert command(client, second, {"type": "send", "data": {"text": "hi"}}).status_code == 200
    info = client.get(f"/v1/sessions/{second['id']}", headers=bearer(second["tokens"]["read"]))
    assert [run["agent"] for run in info.json()["runs"]].count("slow") == 1
