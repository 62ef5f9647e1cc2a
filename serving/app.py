"""The application factory: one ASGI app for the whole server.

Later layers (sessions, models, the web page) add their routes to the FastAPI app built here;
the streams protocol is mounted as a plain ASGI app at /v1/stream (its hot path skips FastAPI's
routing and validation).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from serving import __version__
from serving.config import ServerConfig
from serving.streams import Store, open_store
from serving.streams.http import StreamsApp
from serving.tokens import TokenSigner


def create_app(config: ServerConfig, store: Store | None = None) -> FastAPI:
    """Build the server. ``store`` defaults to ``open_store(config.store_url)``."""
    store = store if store is not None else open_store(config.store_url)
    signer = TokenSigner(config.secret) if config.secret is not None else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await store.aclose()

    app = FastAPI(title="ML course kit server", version=__version__, lifespan=lifespan)
    app.state.config = config
    app.state.store = store
    app.state.signer = signer
    app.mount(
        "/v1/stream",
        StreamsApp(
            store,
            signer=signer,
            open_access=config.open_access,
            long_poll_timeout=config.long_poll_timeout,
            sse_max_seconds=config.sse_max_seconds,
            sse_keepalive_seconds=config.sse_keepalive_seconds,
            max_read_bytes=config.max_read_bytes,
            limits=config.limits,
        ),
    )
    return app
