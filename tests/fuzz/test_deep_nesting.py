"""Deeply nested JSON (50,000 open brackets, under every size limit) is a client's mistake: a
clear 4xx or error reply at every entry point, never a crash (serving.jsontext bounds depth)."""

from __future__ import annotations

import json
from typing import Any

from starlette.testclient import TestClient

from serving.app import create_app
from serving.config import ServerConfig
from serving.streams import MemoryStore
from serving.tokens import TokenSigner
from tests.fuzz.strategies import DEEPLY_NESTED


def test_a_deeply_nested_frame_is_a_bad_frame(server: TestClient, sessions: Any) -> None:
    created = sessions.create()
    url = f"/v1/sessions/{created['id']}/ws?access_token={created['tokens']['control']}"
    with server.websocket_connect(url) as ws:
        ws.send_text(DEEPLY_NESTED)
        reply = json.loads(ws.receive_text())[0]
    assert reply["code"] == "BAD_FRAME"


def test_a_deeply_nested_http_command_is_a_400(server: TestClient, sessions: Any) -> None:
    created = sessions.create()
    response = server.post(
        f"/v1/sessions/{created['id']}/commands",
        headers={"authorization": f"Bearer {created['tokens']['control']}"},
        content=DEEPLY_NESTED,
    )
    assert response.status_code == 400


def test_a_deeply_nested_model_row_is_a_400(server: TestClient, signer: TokenSigner) -> None:
    catalog = {"authorization": f"Bearer {signer.mint('models/*', ['read'])}"}
    url = "/v1/models/penguin-classifier/validate"
    response = server.post(url, content=DEEPLY_NESTED, headers=catalog)
    assert response.status_code == 400


def test_a_deeply_nested_json_append_is_a_400() -> None:
    config = ServerConfig(store_url="memory://", open_access=True)
    with TestClient(create_app(config, MemoryStore())) as client:
        json_type = {"content-type": "application/json"}
        assert client.put("/v1/stream/deep", headers=json_type).status_code == 201
        response = client.post("/v1/stream/deep", headers=json_type, content=DEEPLY_NESTED)
    assert response.status_code == 400
