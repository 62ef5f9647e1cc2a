"""No token in any log, and credentials that keep tokens out of URLs (issue 17 item 3).

A real server process with ``--access-log`` (uvicorn's access log and its info lines, where a
URL's query is written) is used the ways clients use it: old clients' ``?access_token=`` on
every layer (streams, the append lane, session WebSockets and SSE, a refused forged token, a
duplicated parameter), the ``bearer`` WebSocket subprotocol, an ``Authorization`` header, and a
ticket for SSE. Its whole output (stdout and stderr) is then searched for every token used.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from serving.redact import REDACTED, RedactTokens, redact
from serving.tickets import TICKET_SECONDS
from serving.tokens import SECRET_ENV, TokenSigner, load_or_create_secret

pytestmark = pytest.mark.timeout(120)


def test_redact_hides_query_tokens_and_anything_shaped_as_a_token() -> None:
    signer = TokenSigner(b"s" * 32)
    token = signer.mint("sessions/abc", ["read"], subject="ana")
    line = f'1.2.3.4:5 - "GET /v1/stream/x?offset=-1&access_token={token}&live=sse HTTP/1.1" 200'
    assert redact(line) == (
        f'1.2.3.4:5 - "GET /v1/stream/x?offset=-1&access_token={REDACTED}&live=sse HTTP/1.1" 200'
    )
    assert redact(f"/events?ticket=abc&x=1 and a header {token}.") == (
        f"/events?ticket={REDACTED}&x=1 and a header v1.{REDACTED}."
    )
    assert redact("GET /v1/stream/x?offset=-1 HTTP/1.1") == "GET /v1/stream/x?offset=-1 HTTP/1.1"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def logged_server(tmp_path: Path) -> Iterator[tuple[str, Path, TokenSigner]]:
    """``python -m serving --access-log`` on SQLite, everything it prints in one file."""
    log = tmp_path / "server.log"
    port = _free_port()
    environ = {key: value for key, value in os.environ.items() if key != SECRET_ENV}
    arguments = ["--port", str(port), "--access-log", "--data-dir", str(tmp_path)]
    arguments += ["--store", f"sqlite:///{tmp_path / 'streams.db'}", "--models", str(tmp_path)]
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "serving", *arguments],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=environ,
        )
    try:
        deadline = time.monotonic() + 60
        while "The page: " not in log.read_text():
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        signer = TokenSigner(load_or_create_secret(tmp_path, environ={}))
        yield f"http://127.0.0.1:{port}", log, signer
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _first_sse_event(url: str, **options: object) -> str:
    """The first ``data:`` line of an SSE response, then the connection is closed."""
    with httpx.stream("GET", url, timeout=20, **options) as response:  # type: ignore[arg-type]
        assert response.status_code == 200, response.read()
        for line in response.iter_lines():
            if line.startswith("data:"):
                return line
    raise AssertionError("the SSE response ended without an event")


async def _websocket_subscribes(url: str, **options: object) -> str | None:
    """Open a session WebSocket, subscribe from the start, return the chosen subprotocol."""
    async with connect(url, open_timeout=20, **options) as ws:  # type: ignore[arg-type]
        await ws.send(json.dumps({"type": "subscribe", "id": "sub-1", "from": "start"}))
        replies = json.loads(await asyncio.wait_for(ws.recv(), 20))
        assert any(reply.get("id") == "sub-1" for reply in replies), replies
        return ws.subprotocol


def test_no_token_reaches_the_servers_log(
    logged_server: tuple[str, Path, TokenSigner],
) -> None:
    url, log, signer = logged_server
    stream_token = signer.mint("s", ["read", "write"], subject="old-client")
    forged = stream_token[:-4] + ("AAAA" if not stream_token.endswith("AAAA") else "BBBB")
    create = signer.mint("sessions/*", ["create"], ttl_seconds=60)
    # Old clients: the token in the URL, on every layer.
    query = {"access_token": stream_token}
    text = {"content-type": "text/plain"}
    assert httpx.put(f"{url}/v1/stream/s", params=query, headers=text).status_code == 201
    appended = httpx.post(f"{url}/v1/stream/s", params=query, content=b"hi", headers=text)
    assert appended.status_code in (200, 204)
    assert httpx.get(f"{url}/v1/stream/s", params={**query, "offset": "-1"}).text == "hi"
    sse = f"{url}/v1/stream/s?offset=-1&live=sse&access_token={stream_token}"
    assert _first_sse_event(sse) == "data:hi"
    refused = httpx.get(f"{url}/v1/stream/s", params={"access_token": forged, "offset": "-1"})
    assert refused.status_code == 401 and forged not in refused.text
    twice = httpx.get(f"{url}/v1/stream/s?offset=-1&access_token={forged}&access_token=x")
    assert twice.status_code == 400 and forged not in twice.text
    # A session: created with a header; read over WebSockets and SSE the old and the new ways.
    created = httpx.post(f"{url}/v1/sessions", headers={"authorization": f"Bearer {create}"})
    assert created.status_code == 201, created.text
    body = created.json()
    session, tokens = body["id"], body["tokens"]
    ws = f"ws://127.0.0.1:{url.rsplit(':', 1)[1]}/v1/sessions/{session}/ws?device=test-dev"
    old_way = asyncio.run(_websocket_subscribes(f"{ws}&access_token={tokens['read']}"))
    assert old_way is None
    offered = ["bearer", tokens["control"]]
    assert asyncio.run(_websocket_subscribes(ws, subprotocols=offered)) == "bearer"
    header = {"authorization": f"Bearer {tokens['write']}"}
    assert asyncio.run(_websocket_subscribes(ws, additional_headers=header)) is None
    with pytest.raises(ConnectionClosed) as no_token:  # "bearer" offered without a token
        asyncio.run(_websocket_subscribes(ws, subprotocols=["bearer"]))
    assert no_token.value.rcvd is not None and no_token.value.rcvd.code == 4401
    ticket = httpx.post(f"{url}/v1/tickets", headers={"authorization": f"Bearer {tokens['read']}"})
    assert ticket.status_code == 200
    events = f"{url}/v1/sessions/{session}/events?device=test-sse&access_token="
    assert _first_sse_event(events + ticket.json()["ticket"]).startswith("data:")
    assert _first_sse_event(events + tokens["read"]).startswith("data:")  # old clients
    assert httpx.get(body["watch_url"]).status_code == 200
    # The Python client: its WebSocket carries the token in a header, not in the URL at all.
    from serving.client import SessionClient

    python_create = signer.mint("sessions/*", ["create"], ttl_seconds=60)
    with SessionClient.create(url, token=python_create, device="py-client") as client:
        client.send({"text": "hello"})  # acked: the connection is up and authorized
        used_by_python = (client.created or {}).get("tokens", {}).values()
    lines = [line for line in log.read_text().splitlines() if "device=py-client" in line]
    assert lines and not any("access_token" in line for line in lines), lines
    # Everything the server printed so far (each line is written as its request ends).
    printed = log.read_text()
    used = [stream_token, forged, create, ticket.json()["ticket"], *tokens.values()]
    used += [python_create, *used_by_python]
    for token in used:
        signature = token.rsplit(".", 1)[1]
        assert signature not in printed, f"a token's signature is in the log:\n{printed}"
    assert printed.count(f"access_token={REDACTED}") >= 8, printed  # the access log was on
    assert "WebSocket /v1/sessions/" in printed  # uvicorn's info lines too


def test_a_ticket_reads_for_a_minute_and_grants_no_more_than_its_token(
    logged_server: tuple[str, Path, TokenSigner],
) -> None:
    url, _, signer = logged_server
    token = signer.mint("s", ["read", "write"], subject="ana")
    answer = httpx.post(f"{url}/v1/tickets", headers={"authorization": f"Bearer {token}"})
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    assert answer.json()["expires_in"] == TICKET_SECONDS
    grant = signer.verify(answer.json()["ticket"])
    assert grant.resource == "s" and grant.scopes == {"read"} and grant.subject == "ana"
    assert grant.expires_at is not None and grant.expires_at <= time.time() + TICKET_SECONDS + 1
    short = signer.mint("s", ["read"], ttl_seconds=10)
    answer = httpx.post(f"{url}/v1/tickets", headers={"authorization": f"Bearer {short}"})
    assert answer.json()["expires_in"] <= 10  # never outlives its token
    in_the_url = httpx.post(f"{url}/v1/tickets", params={"access_token": token})
    assert in_the_url.status_code == 401
    assert "Authorization" in in_the_url.json()["error"]["message"]
    create_only = signer.mint("sessions/*", ["create"])
    answer = httpx.post(f"{url}/v1/tickets", headers={"authorization": f"Bearer {create_only}"})
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "FORBIDDEN"
    ticket = httpx.post(f"{url}/v1/tickets", headers={"authorization": f"Bearer {token}"})
    with_ticket = {"access_token": ticket.json()["ticket"]}
    text = {"content-type": "text/plain"}
    assert httpx.put(f"{url}/v1/stream/s", params=with_ticket, headers=text).status_code == 403


def test_a_record_whose_template_holds_access_token_still_formats_and_is_redacted() -> None:
    token = TokenSigner(b"s" * 32).mint("sessions/abc", ["read"], subject="ana")
    arguments = ("/x", token, 3)
    record = logging.LogRecord(
        "serving.x", 30, __file__, 1, "%s?access_token=%s (%d)", arguments, None
    )
    assert RedactTokens().filter(record)
    assert record.getMessage() == f"/x?access_token={REDACTED} (3)"
    # uvicorn's access formatter reads args by position: they stay a tuple, redacted in place.
    line = ("1.2.3.4:5", "GET", f"/x?access_token={token}", "1.1", 200)
    access = logging.LogRecord("uvicorn.access", 20, __file__, 1, '%s - "%s %s" %d', line, None)
    assert RedactTokens().filter(access)
    assert access.args == ("1.2.3.4:5", "GET", f"/x?access_token={REDACTED}", "1.1", 200)
