"""create_app: the streams under /v1/stream/, FastAPI for the rest, the store closed at exit."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.testclient import TestClient
from starlette.types import ASGIApp, Receive, Scope, Send

from serving.app import StreamsFirstApp, create_app
from serving.background import BackgroundServer
from serving.config import ServerConfig
from serving.streams import MemoryStore
from serving.streams.http import StreamsApp


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


class Recording:
    """Middleware a layer might add: it notes each HTTP request it sees in ``seen``."""

    def __init__(self, app: ASGIApp, seen: list[str]) -> None:
        self.app = app
        self.seen = seen

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.seen.append(f"{scope['method']} {scope['path']}")
        await self.app(scope, receive, send)


def test_stream_requests_pass_through_the_middleware_layers_add() -> None:
    """Streams skip FastAPI's own stack, not the guards layers add."""
    seen: list[str] = []
    app = create_app(ServerConfig(open_access=True), store=MemoryStore())
    app.add_middleware(Recording, seen=seen)
    with TestClient(app) as client:
        assert client.put("/v1/stream/s", headers={"content-type": "text/plain"}).status_code == 201
        assert client.get("/openapi.json").status_code == 200
    assert seen == ["PUT /v1/stream/s", "GET /openapi.json"]


def test_added_middleware_turns_the_append_lane_off() -> None:
    """Over a real socket, appends see an added guard: the lane (serving.lane) steps aside."""
    seen: list[str] = []
    server = BackgroundServer(ServerConfig(open_access=True), store=MemoryStore())
    assert server.app.bare_streams() is server.app.streams
    server.app.add_middleware(Recording, seen=seen)
    assert server.app.bare_streams() is None
    with server, httpx.Client(base_url=server.url) as client:
        assert client.put("/v1/stream/s", headers={"content-type": "text/plain"}).status_code == 201
        appended = client.post("/v1/stream/s", content=b"a", headers={"content-type": "text/plain"})
        assert appended.status_code == 204
    assert seen == ["PUT /v1/stream/s", "POST /v1/stream/s"]


def test_the_streams_see_added_middleware_whatever_starlette_keeps_inside(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The app notes added middleware itself, from add_middleware (documented), not from
    Starlette's undocumented list: a Starlette that keeps it elsewhere changes nothing."""

    def add_middleware(
        self: Starlette, middleware_class: object, *args: object, **kw: object
    ) -> None:
        vars(self).setdefault("kept_elsewhere", []).append((middleware_class, args, kw))

    monkeypatch.setattr(Starlette, "add_middleware", add_middleware)
    seen: list[str] = []
    app = create_app(ServerConfig(open_access=True), store=MemoryStore())
    app.add_middleware(Recording, seen=seen)
    assert app.user_middleware == []  # Starlette keeps it elsewhere now
    assert app.bare_streams() is None  # so the lane stays off
    with TestClient(app) as client:
        assert client.put("/v1/stream/s", headers={"content-type": "text/plain"}).status_code == 201
    assert seen == ["PUT /v1/stream/s"]


def test_middleware_from_the_decorator_covers_the_streams_too() -> None:
    seen: list[str] = []
    app = create_app(ServerConfig(open_access=True), store=MemoryStore())

    @app.middleware("http")
    async def note(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        seen.append(request.url.path)
        return await call_next(request)

    assert app.bare_streams() is None
    with TestClient(app) as client:
        assert client.put("/v1/stream/s", headers={"content-type": "text/plain"}).status_code == 201
    assert seen == ["/v1/stream/s"]


def test_middleware_comes_through_add_middleware_and_before_the_first_request() -> None:
    with pytest.raises(TypeError, match="through add_middleware"):
        StreamsFirstApp(StreamsApp(MemoryStore(), signer=None, open_access=True), middleware=[1])
    app = create_app(ServerConfig(open_access=True), store=MemoryStore())
    with TestClient(app) as client:
        assert client.put("/v1/stream/s", headers={"content-type": "text/plain"}).status_code == 201
        with pytest.raises(RuntimeError, match="after an application has started"):
            app.add_middleware(Recording, seen=[])
