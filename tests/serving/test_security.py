"""The security review, as tests: tokens are scoped to one session and one set of actions,
forged or expired tokens are refused, names cannot escape their folders, CORS is open only
where the Durable Streams protocol needs it, and model files never run code when loaded."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import pickle
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import skops.io
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from course import recipes
from course.export import ArtifactError, load_model
from serving.app import create_app
from serving.config import ServerConfig
from serving.models import ModelRegistry
from serving.sessions.settings import SessionSettings
from serving.streams import MemoryStore
from serving.tokens import TokenSigner

SECRET = b"security-tests-secret-0123456789"
SIGNER = TokenSigner(SECRET)
EVIL = "https://evil.example"


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("models")
    recipes.train_penguin_model(directory)
    return directory


@pytest.fixture(scope="module")
def server(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    data_dir = tmp_path_factory.mktemp("data")
    (data_dir / "secret.key").write_text("do not serve me")
    config = ServerConfig(
        store_url="memory://",
        secret=SECRET,
        data_dir=data_dir,
        long_poll_timeout=0.05,
        sessions=SessionSettings(presence_grace_seconds=0.05, sse_max_seconds=0.05),
    )
    app = create_app(config, MemoryStore(), models=ModelRegistry.open(models_dir))
    with TestClient(app) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def new_session(server: TestClient) -> dict[str, Any]:
    response = server.post("/v1/sessions", headers=bearer(SIGNER.mint("sessions/*", ["create"])))
    assert response.status_code == 201, response.text
    return response.json()


def log_offset(server: TestClient, session: dict[str, Any]) -> str:
    info = server.get(f"/v1/sessions/{session['id']}", headers=bearer(session["tokens"]["read"]))
    return info.json()["offset"]


def ws_close_code(server: TestClient, session_id: str, token: str) -> int:
    url = f"/v1/sessions/{session_id}/ws?access_token={token}"
    with server.websocket_connect(url) as ws, pytest.raises(WebSocketDisconnect) as closed:
        ws.receive_text()
    return closed.value.code


# --- tokens -----------------------------------------------------------------------------------


def test_a_token_for_one_session_cannot_read_or_act_on_another(server: TestClient) -> None:
    a, b = new_session(server), new_session(server)
    token_a = a["tokens"]["control"]
    before = log_offset(server, b)
    assert server.get(f"/v1/sessions/{b['id']}", headers=bearer(token_a)).status_code == 403
    events = server.get(f"/v1/sessions/{b['id']}/events", headers=bearer(token_a))
    assert events.status_code == 403
    stream = server.get(f"/v1/stream/sessions/{b['id']}?offset=-1", headers=bearer(token_a))
    assert stream.status_code == 403
    send = server.post(
        f"/v1/sessions/{b['id']}/commands",
        headers=bearer(token_a),
        json={"type": "send", "data": {"text": "not yours"}},
    )
    assert send.status_code == 403
    assert send.json()["error"]["code"] == "FORBIDDEN"
    assert ws_close_code(server, b["id"], token_a) == 4403
    assert log_offset(server, b) == before, "a refused request writes nothing"


def test_a_read_token_can_watch_but_not_send_or_cancel(server: TestClient) -> None:
    session = new_session(server)
    ack = server.post(
        f"/v1/sessions/{session['id']}/commands",
        headers=bearer(session["tokens"]["control"]),
        json={"type": "send", "data": {"text": "one two three"}, "params": {"speed": 1}},
    )
    run = ack.json()["run"]
    read = session["tokens"]["read"]
    for command in (
        {"type": "send", "data": {"text": "hi"}},
        {"type": "cancel", "run": run},
        {"type": "steer", "run": run, "params": {"speed": 5}},
    ):
        response = server.post(
            f"/v1/sessions/{session['id']}/commands", headers=bearer(read), json=command
        )
        assert response.status_code == 403, command
    url = f"/v1/sessions/{session['id']}/ws?access_token={read}"
    with server.websocket_connect(url) as ws:
        ws.send_text(json.dumps({"type": "cancel", "id": "c", "run": run}))
        reply = json.loads(ws.receive_text())[0]
        assert (reply["type"], reply["code"]) == ("error", "FORBIDDEN")
        ws.send_text(json.dumps({"type": "send", "id": "s", "data": {"text": "hi"}}))
        assert json.loads(ws.receive_text())[0]["code"] == "FORBIDDEN"
    log = server.get(f"/v1/stream/sessions/{session['id']}?offset=-1", headers=bearer(read))
    kinds = [event["type"] for event in log.json()]
    assert kinds.count("message") == 1, "only the control token's message was written"
    assert "control" not in kinds and "run.cancelled" not in kinds


@pytest.mark.parametrize("kind", ["expired", "tampered", "other secret", "malformed"])
def test_untrusted_tokens_are_refused(server: TestClient, kind: str) -> None:
    session = new_session(server)
    resource = f"sessions/{session['id']}"
    if kind == "expired":
        token = SIGNER.mint(resource, ["read", "write", "control"], ttl_seconds=-1)
    elif kind == "tampered":  # a read token whose payload was rewritten to grant control
        _, payload, signature = session["tokens"]["read"].split(".")
        claims = json.loads(_b64decode(payload))
        claims["scp"] = ["control", "read", "write"]
        token = f"v1.{_b64encode(json.dumps(claims).encode())}.{signature}"
    elif kind == "other secret":
        token = TokenSigner(b"another-server-secret-0123456789").mint(resource, ["control"])
    else:
        token = "v1.not-a-token"
    info = server.get(f"/v1/sessions/{session['id']}", headers=bearer(token))
    assert info.status_code == 401, info.text
    assert info.json()["error"]["code"] == "UNAUTHORIZED"
    stream = server.get(f"/v1/stream/sessions/{session['id']}", headers=bearer(token))
    assert stream.status_code == 401
    assert ws_close_code(server, session["id"], token) == 4401


def _ledger_records(server: TestClient) -> int:
    operator = SIGNER.mint("sessions/*", ["read"])
    response = server.get("/v1/stream/sessions/_ledger-main?offset=-1", headers=bearer(operator))
    assert response.status_code == 200, response.text
    return len(response.json())


def test_watching_writes_nothing_durable(server: TestClient) -> None:
    """300 connects of a read token under new device names: no presence event in the session
    and no ledger record (it was 600 and 600); they show as watchers while connected. A write
    token's device still joins and leaves as before."""
    session = new_session(server)
    read = session["tokens"]["read"]
    base = f"/v1/sessions/{session['id']}"
    events_before, ledger_before = log_offset(server, session), _ledger_records(server)
    for number in range(300):
        with server.websocket_connect(f"{base}/ws?access_token={read}&device=w{number}") as ws:
            if number == 299:
                info = server.get(base, headers=bearer(read)).json()
                assert (info["watchers"], info["devices"]) == (["w299"], [])
            ws.send_text('{"type": "heartbeat", "id": "h"}')
            assert json.loads(ws.receive_text())[0]["type"] == "ack"
    assert log_offset(server, session) == events_before
    assert _ledger_records(server) == ledger_before
    assert server.get(base, headers=bearer(read)).json()["watchers"] == []
    write = session["tokens"]["write"]
    with server.websocket_connect(f"{base}/ws?access_token={write}&device=laptop") as ws:
        ws.send_text('{"type": "heartbeat", "id": "h"}')
        assert json.loads(ws.receive_text())[0]["type"] == "ack"
    deadline = time.monotonic() + 10
    while "presence.left" not in (kinds := _kinds(server, session)):
        assert time.monotonic() < deadline, kinds
        time.sleep(0.02)
    assert kinds.count("presence.joined") == kinds.count("presence.left") == 1


def _kinds(server: TestClient, session: dict[str, Any]) -> list[str]:
    log = server.get(
        f"/v1/stream/sessions/{session['id']}?offset=-1",
        headers=bearer(session["tokens"]["read"]),
    )
    return [event["type"] for event in log.json()]


def _malformed(token: str, kind: str) -> str:
    prefix, payload, signature = token.split(".")
    return {
        "non-ascii signature": f"{prefix}.{payload}.{signature[:-1]}é",
        "non-ascii payload": f"{prefix}.{payload}ü.{signature}",
        "emoji only": "\N{SNOWMAN}",
        "short signature": f"{prefix}.{payload}.{signature[:5]}",
        "long signature": f"{prefix}.{payload}.{signature}{signature}",
        "bad base64 payload": f"{prefix}.{payload}!!!.{signature}",
        "nul byte": f"{prefix}.{payload}.\x00{signature}",
    }[kind]


@pytest.mark.parametrize(
    "kind",
    [
        "non-ascii signature",
        "non-ascii payload",
        "emoji only",
        "short signature",
        "long signature",
        "bad base64 payload",
        "nul byte",
    ],
)
def test_a_malformed_token_is_a_clean_401_on_every_layer(
    server: TestClient, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    """One non-ASCII character used to make hmac.compare_digest raise TypeError: a 500 with a
    logged traceback, and a WebSocket closed 1006 (which clients retry forever)."""
    session = new_session(server)
    token = _malformed(session["tokens"]["read"], kind)
    query = {"access_token": token}
    info = server.get(f"/v1/sessions/{session['id']}", params=query)
    assert (info.status_code, info.json()["error"]["code"]) == (401, "UNAUTHORIZED"), info.text
    stream = server.get(f"/v1/stream/sessions/{session['id']}", params=query)
    assert stream.status_code == 401, stream.text
    if kind != "nul byte":  # a header cannot carry NUL; the query above did
        header = {"authorization": f"Bearer {token}".encode()}  # UTF-8 bytes, as sent
        as_header = server.get(f"/v1/sessions/{session['id']}", headers=header)  # type: ignore[arg-type]
        assert as_header.status_code == 401, as_header.text
    encoded = urlencode(query)
    with (
        server.websocket_connect(f"/v1/sessions/{session['id']}/ws?{encoded}") as ws,
        pytest.raises(WebSocketDisconnect) as closed,
    ):
        ws.receive_text()
    assert closed.value.code == 4401
    assert not [record for record in caplog.records if record.exc_info], "a traceback was logged"


def test_a_duplicated_access_token_is_refused_with_400_by_every_layer(server: TestClient) -> None:
    """One rule: the streams read the first parameter and the sessions the last, so one URL
    could act as two tokens; now any second access_token is refused, whatever its value."""
    session = new_session(server)
    read = session["tokens"]["read"]
    for second in (read, "v1.not-a-token"):
        query = urlencode([("access_token", read), ("access_token", second)])
        info = server.get(f"/v1/sessions/{session['id']}?{query}")
        stream = server.get(f"/v1/stream/sessions/{session['id']}?{query}")
        events = server.get(f"/v1/sessions/{session['id']}/events?{query}")
        for response in (info, stream, events):
            assert response.status_code == 400, response.text
            assert "more than one 'access_token'" in response.json()["error"]["message"]
        with (
            server.websocket_connect(f"/v1/sessions/{session['id']}/ws?{query}") as ws,
            pytest.raises(WebSocketDisconnect) as closed,
        ):
            ws.receive_text()
        assert closed.value.code == 4400
    one = server.get(f"/v1/sessions/{session['id']}", params={"access_token": read})
    assert one.status_code == 200


# (Authorization header, ?access_token=) -> whether the token is found; "T" is a real token.
WHERE_TOKENS_ARE = [
    ("Bearer T", None, True),
    ("bearer T", None, True),
    ("BEARER   T  ", None, True),
    ("Basic dXNlcjpwdw==", "T", True),
    (None, "T", True),
    ("Bearer T", "v1.not-a-token", True),
    ("Bearer ", None, False),
    ("Basic T", None, False),
    ("T", None, False),
    (None, "", False),
]


@pytest.mark.parametrize(("authorization", "access_token", "found"), WHERE_TOKENS_ARE)
def test_every_layer_finds_the_token_in_the_same_places(
    server: TestClient, authorization: str | None, access_token: str | None, found: bool
) -> None:
    session = new_session(server)
    token = session["tokens"]["read"]
    headers = {"authorization": authorization.replace("T", token)} if authorization else {}
    query = f"?access_token={access_token.replace('T', token)}" if access_token is not None else ""
    expected = 200 if found else 401
    info = server.get(f"/v1/sessions/{session['id']}{query}", headers=headers)
    stream = server.get(f"/v1/stream/sessions/{session['id']}{query}", headers=headers)
    assert (info.status_code, stream.status_code) == (expected, expected), (info.text, stream.text)
    socket = f"/v1/sessions/{session['id']}/ws{query}"
    with server.websocket_connect(socket, headers=headers) as ws:
        if found:
            ws.send_text('{"type": "heartbeat", "id": "h"}')
            assert json.loads(ws.receive_text())[0]["type"] == "ack"
        else:
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive_text()
            assert closed.value.code == 4401


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# --- names that try to leave their folder -----------------------------------------------------

TRAVERSALS = ["../secret.key", "..%2fsecret.key", "%2e%2e%2fsecret.key", "..\\secret.key"]


@pytest.mark.parametrize("name", TRAVERSALS)
def test_model_and_result_names_cannot_escape(server: TestClient, name: str) -> None:
    reader = bearer(SIGNER.mint("models/*", ["read"]))  # past the catalog's token check
    for path in (
        f"/v1/models/{name}",
        f"/v1/models/{name}/1",
        f"/v1/models/penguin-classifier/{name}",
        f"/v1/results/{name}",
        f"/v1/results/{name}.csv",
        f"/v1/results/..%2f..%2fdata%2f{name}.csv",
    ):
        response = server.get(path, headers=reader)
        assert response.status_code in (400, 404), (path, response.status_code)
        assert "do not serve me" not in response.text
    validate = server.post(f"/v1/models/{name}/validate", json={}, headers=reader)
    assert validate.status_code in (400, 404, 405)


@pytest.mark.parametrize("name", ["../escape", "a/../../escape", "..", "%2e%2e/escape"])
def test_stream_names_cannot_escape(name: str, tmp_path: Path) -> None:
    """On the SQLite store (files on disk), a traversing name is either refused or just a name:
    nothing is written outside the data folder."""
    from serving.streams.sqlite import SQLiteStore

    data = tmp_path / "data"
    data.mkdir()
    config = ServerConfig(store_url=f"sqlite:///{data / 's.db'}", open_access=True, data_dir=data)
    with TestClient(create_app(config, SQLiteStore(data / "s.db"))) as client:
        created = client.put(f"/v1/stream/{name}", headers={"content-type": "text/plain"})
        assert created.status_code in (201, 400, 404), created.text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


def test_uploads_cannot_name_a_path(server: TestClient) -> None:
    token = SIGNER.mint("sessions/*", ["read", "write"])
    response = server.post(
        "/v1/uploads?session=../../etc", headers=bearer(token), content=b"a,b\n1,2\n"
    )
    assert response.status_code in (400, 404), response.text


# --- CORS -------------------------------------------------------------------------------------


def test_stream_endpoints_allow_browsers_as_the_protocol_requires(server: TestClient) -> None:
    preflight = server.options(
        "/v1/stream/any",
        headers={"origin": EVIL, "access-control-request-method": "GET"},
    )
    assert preflight.headers.get("access-control-allow-origin") == "*"
    assert "access-control-allow-credentials" not in preflight.headers, "tokens, not cookies"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/sessions"),
        ("GET", "/v1/sessions/0123456789abcdef0123456789abcdef"),
        ("POST", "/v1/sessions/0123456789abcdef0123456789abcdef/commands"),
        ("GET", "/v1/models"),
        ("POST", "/v1/models/penguin-classifier/validate"),
        ("POST", "/web/token"),
    ],
)
def test_session_model_and_page_endpoints_are_not_open_to_other_origins(
    server: TestClient, method: str, path: str
) -> None:
    preflight = server.options(
        path, headers={"origin": EVIL, "access-control-request-method": method}
    )
    assert "access-control-allow-origin" not in preflight.headers
    actual = server.request(method, path, headers={"origin": EVIL})
    assert "access-control-allow-origin" not in actual.headers


def test_a_page_of_another_site_cannot_get_a_token(server: TestClient) -> None:
    response = server.post("/web/token", headers={"origin": EVIL})
    assert response.status_code == 403
    assert "v1." not in response.text


# --- model files never run code ---------------------------------------------------------------


class _Payload:
    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, ("touch pwned",))


def _rewrite_model_file(artifact: Path, content: bytes) -> None:
    card_path = artifact / "card.json"
    card = json.loads(card_path.read_text())
    (artifact / card["model_file"]).write_bytes(content)
    card["model_sha256"] = hashlib.sha256(content).hexdigest()  # the attacker fixes the card
    card_path.write_text(json.dumps(card))


def _artifact_copy(models_dir: Path, tmp_path: Path) -> Path:
    card = next(models_dir.rglob("card.json"))
    copy = tmp_path / "artifact"
    shutil.copytree(card.parent, copy)
    return copy


def test_a_pickle_in_place_of_the_model_is_refused_unrun(
    models_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    artifact = _artifact_copy(models_dir, tmp_path)
    _rewrite_model_file(artifact, pickle.dumps(_Payload()))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ArtifactError):
        load_model(artifact)
    assert not (tmp_path / "pwned").exists()


def test_a_skops_file_naming_an_unsafe_function_is_refused(
    models_dir: Path, tmp_path: Path
) -> None:
    artifact = _artifact_copy(models_dir, tmp_path)
    _rewrite_model_file(artifact, skops.io.dumps({"call": os.system}))
    with pytest.raises(ArtifactError, match="system"):
        load_model(artifact)


def test_the_server_has_no_pickle_loading_path() -> None:
    """No module of the server or the exporter calls pickle, joblib or numpy's unpickling."""
    root = Path(__file__).resolve().parents[2]
    sources = [*root.joinpath("serving").rglob("*.py"), root / "course" / "export.py"]
    for source in sources:
        text = source.read_text()
        for call in ("pickle.load", "joblib.load", "allow_pickle=True", "dill."):
            assert call not in text, f"{source}: {call}"


# --- the model catalog needs a read scope on a secured server (issue 17 item 4) ---------------

CATALOG = [
    ("GET", "/v1/models"),
    ("GET", "/v1/models/penguin-classifier"),
    ("GET", "/v1/models/penguin-classifier/1"),
    ("POST", "/v1/models/penguin-classifier/validate"),
]


@pytest.mark.parametrize(("method", "path"), CATALOG)
def test_the_model_catalog_needs_a_read_scope_on_models_or_a_session(
    server: TestClient, method: str, path: str
) -> None:
    created = server.post("/v1/sessions", headers=bearer(SIGNER.mint("sessions/*", ["create"])))
    tokens = created.json()["tokens"]
    allowed = [
        tokens["read"],  # the page's and a share link's: a session's user builds the form
        tokens["control"],
        SIGNER.mint("models/*", ["read"]),
        SIGNER.mint("models/penguin-classifier", ["read"]) if path != "/v1/models" else None,
    ]
    for token in filter(None, allowed):
        answer = server.request(method, path, headers=bearer(token), json={})
        assert answer.status_code in (200, 422), (token, answer.text)  # {} is a bad row: 422
    for token in (None, "v1.forged.token", SIGNER.mint("models/*", ["read"], ttl_seconds=-1)):
        answer = server.request(method, path, headers=bearer(token) if token else {}, json={})
        assert answer.status_code == 401 and answer.json()["error"]["code"] == "UNAUTHORIZED"
    refused = [
        SIGNER.mint("sessions/*", ["create"]),  # a create token reads nothing
        SIGNER.mint("chat/*", ["read", "write"]),  # another stream's
        SIGNER.mint("models/penguin-classifier", ["write"]),  # no read
    ]
    if path != "/v1/models":  # a token for one model may list the catalog (names only)
        refused.append(SIGNER.mint("models/other", ["read"]))
    for token in refused:
        answer = server.request(method, path, headers=bearer(token), json={})
        assert answer.status_code == 403, (SIGNER.verify(token), answer.text)
        assert answer.json()["error"]["code"] == "FORBIDDEN"
        assert "serving token --scope read" in answer.json()["error"]["message"]


def test_an_open_server_serves_the_model_catalog_without_a_token(models_dir: Path) -> None:
    config = ServerConfig(store_url="memory://", open_access=True)
    app = create_app(config, MemoryStore(), models=ModelRegistry.open(models_dir))
    with TestClient(app) as client:
        for method, path in CATALOG:
            assert client.request(method, path, json={}).status_code in (200, 422), path


def test_an_open_server_refuses_other_sites_pages_on_every_endpoint() -> None:
    """--open asks for no token, so a page of another site the user visits could drive the
    server from the user's browser: a text/plain POST needs no preflight, and a WebSocket is
    not covered by CORS. Outside /v1/stream/ too, its Origin is refused before anything runs."""
    config = ServerConfig(
        store_url="memory://", open_access=True, cors_origins=("http://localhost:5173",)
    )
    store = MemoryStore()
    with TestClient(create_app(config, store), base_url="http://127.0.0.1:8000") as client:
        plain = {"content-type": "text/plain"}
        refused = client.post("/v1/sessions", headers={"origin": EVIL, **plain}, content="{}")
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "FORBIDDEN"
        assert "--cors-origin" in refused.json()["error"]["message"]
        created = client.post("/v1/sessions", json={})  # no Origin: not a browser page
        assert created.status_code == 201
        session = created.json()["id"]
        for origin in ("http://127.0.0.1:8000", "http://localhost:5173"):  # itself; listed
            assert client.get(f"/v1/sessions/{session}", headers={"origin": origin}).is_success
        command = {"type": "send", "id": "c1", "data": {"text": "hi"}}
        sent = client.post(
            f"/v1/sessions/{session}/commands", headers={"origin": EVIL}, json=command
        )
        assert sent.status_code == 403
        with pytest.raises(WebSocketDisconnect) as closed, client.websocket_connect(
            f"/v1/sessions/{session}/ws", headers={"origin": EVIL}
        ):
            pass
        assert closed.value.code == 4403
        with client.websocket_connect(f"/v1/sessions/{session}/ws") as socket:
            assert socket is not None  # no Origin: a program, not a page


def test_a_server_with_tokens_leaves_origins_to_the_tokens() -> None:
    config = ServerConfig(store_url="memory://", secret=SECRET)
    with TestClient(create_app(config, MemoryStore())) as client:
        answer = client.post("/v1/sessions", headers={"origin": EVIL}, json={})
        assert answer.status_code == 401  # asked for a token, not refused for its origin
