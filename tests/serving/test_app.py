"""create_app: the streams under /v1/stream/, FastAPI for the rest, the store closed at exit."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient
from starlette.types import ASGIApp, Receive, Scope, Send

from serving.app import create_app
from serving.config import ServerConfig
from serving.streams import MemoryStore


class ClosingStore(MemoryStore):
    closed = False

    async def aclose(self) -> None:
        self.closed = True
        await super().aclose()


def test_app_serves_streams_and_closes_the_store_on_shutdown() -> None:
    store = ClosingStore()
    app = create_app(ServerConfig(open_access=True), store=store)
    with TestClient(app) as client:
        assert client.put("/v1/stream/s", headers={"content-type": "text/plain"}).status_code == 201
        assert client.get("/openapi.json").status_code == 200
    assert store.closed


def test_app_opens_the_store_its_config_names() -> None:
    app = create_app(ServerConfig(open_access=True, store_url="memory://"))
    assert isinstance(app.state.store, MemoryStore)
    with pytest.raises(ValueError, match="unknown store URL"):
        create_app(ServerConfig(open_access=True, store_url="nosuch://"))


def test_stream_requests_pass_through_the_middleware_layers_add() -> None:
    """Streams skip FastAPI's own stack, not the guards layers add (ReadOnlySessionLogs...)."""
    seen: list[str] = []

    class Recording:
        def __init__(self, app: ASGIApp) -> None:
            self.app = app

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http":
                seen.append(scope["path"])
            await self.app(scope, receive, send)

    app = create_app(ServerConfig(open_access=True), store=MemoryStore())
    app.add_middleware(Recording)
    with TestClient(app) as client:
        assert client.put("/v1/stream/s", headers={"content-type": "text/plain"}).status_code == 201
        assert client.get("/openapi.json").status_code == 200
    assert seen == ["/v1/stream/s", "/openapi.json"]
