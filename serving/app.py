"""The application factory: one ASGI app for the whole server.

Later layers (sessions, models, the web page) add their routes to the FastAPI app built here.
The streams protocol is the hot path (every append, every live read), so requests under
/v1/stream/ go straight to the plain-ASGI StreamsApp (through any middleware a layer adds),
ahead of FastAPI's own middleware and router: that saves per-request machinery that would cost
more than the work itself. Plain appends go further still: serving.lane answers them without
ASGI at all.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from serving import __version__, redact
from serving.classroom import add_classroom_routes
from serving.config import ServerConfig
from serving.origins import OtherSitesGuard
from serving.retention import Retention
from serving.sessions import AgentRegistry, SessionService, add_session_routes, demo_agents
from serving.sessions.leases import Leases
from serving.streams import Store, open_store
from serving.streams.http import StreamsApp
from serving.streams.protocol import STREAM_PREFIX
from serving.tickets import add_ticket_route
from serving.tokens import TokenSigner
from serving.web import add_web_page

SHUTDOWN_SECONDS = 10.0
"""At shutdown, how long the last events may wait for an unavailable store (Redis down)."""

if TYPE_CHECKING:
    from serving.models import ModelRegistry


class StreamsFirstApp(FastAPI):
    """The FastAPI app, with ``/v1/stream/...`` dispatched ahead of FastAPI's own layers.

    Stream requests skip FastAPI's built-in stack (error and telemetry middleware, body limit,
    exception handling, router: ~15 µs of a ~140 µs append) but still pass through every
    middleware added with ``add_middleware``, so a guard that a layer installs covers the
    streams too; the append lane then stays off, since it would skip the guard (a layer that
    only refuses some streams says so with ``StreamsApp.refuse_writes`` instead). Everything
    else, lifespan included, is FastAPI.

    Added middleware is recorded as ``add_middleware`` (Starlette's documented way, which
    ``@app.middleware`` takes too) receives it, rather than read back from Starlette's
    undocumented ``user_middleware`` list: a Starlette that keeps that list otherwise changes
    nothing here.
    """

    def __init__(self, streams: StreamsApp, **settings: Any) -> None:
        if settings.get("middleware"):
            raise TypeError(
                "StreamsFirstApp takes middleware through add_middleware (so that the streams "
                "pass through it too), not through middleware=[...]"
            )
        self.streams = streams
        self.other_sites_guard: OtherSitesGuard | None = None
        """Set on an --open server: refuses other sites' pages outside /v1/stream/ (whose own
        layer refuses them there), without a middleware that would keep the append lane off."""
        self._streams_middleware: list[tuple[Any, tuple[Any, ...], dict[str, Any]]] = []
        self._streams_stack: ASGIApp | None = None
        super().__init__(**settings)

    def add_middleware(self, middleware_class: Any, *args: Any, **kwargs: Any) -> None:
        """FastAPI's, and the streams get the same middleware (instances of their own)."""
        if self._streams_stack is not None:
            raise RuntimeError("Cannot add middleware after an application has started")
        super().add_middleware(middleware_class, *args, **kwargs)
        self._streams_middleware.append((middleware_class, args, kwargs))

    def bare_streams(self) -> StreamsApp | None:
        """The StreamsApp, if no added middleware wraps it: only then may the append lane
        (serving.lane) call it directly."""
        return None if self._streams_middleware else self.streams

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(STREAM_PREFIX):
            stack = self._streams_stack
            if stack is None:  # built on the first stream request: the last one added is outermost
                stack = self.streams
                for middleware_class, args, kwargs in self._streams_middleware:
                    stack = middleware_class(stack, *args, **kwargs)
                self._streams_stack = stack
            await stack(scope, receive, send)
        else:
            guard = self.other_sites_guard
            if guard is not None and await guard.refused(scope, receive, send):
                return
            await super().__call__(scope, receive, send)


def create_app(
    config: ServerConfig,
    store: Store | None = None,
    agents: AgentRegistry | None = None,
    models: ModelRegistry | None = None,
) -> StreamsFirstApp:
    """Build the server. ``store`` defaults to ``open_store(config.store_url)``, ``agents`` to
    the demo agents; ``models`` adds the model agents and endpoints (serving.models)."""
    store = store if store is not None else open_store(config.store_url)
    signer = (
        TokenSigner(config.secret, config.previous_secrets) if config.secret is not None else None
    )
    sessions = SessionService(
        store,
        agents=agents if agents is not None else demo_agents(),
        signer=signer,
        open_access=config.open_access,
        settings=config.sessions,
    )

    leases = Leases(
        store,
        sessions.settings.instance,
        lease_seconds=sessions.settings.lease_seconds,
        ledger=sessions.ledger,
    )
    sessions.orphaned = leases.orphaned  # a command for a dead process's run: RUN_NOT_ACTIVE
    ttl = sessions.settings.session_ttl_seconds
    retention = (
        None
        if ttl is None
        else Retention(
            store,
            ttl_seconds=ttl,
            data_dir=config.data_dir,
            active=sessions.in_use,
            on_expired=sessions.expired,
            after_sweep=sessions.ledger.compact,
        )
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await leases.start()  # waits while a survivor still ends this instance's old runs
        await sessions.start()
        leases.serve()  # from now on, end the runs of instances that die (shared stores)
        if retention is not None:
            retention.start()  # sessions idle for --session-ttl expire (serving.retention)
        try:
            yield
        finally:
            if retention is not None:
                await retention.stop()
            await sessions.stop_within(SHUTDOWN_SECONDS)  # Redis away: do not hang
            await leases.stop()
            await store.aclose()

    streams = StreamsApp(
        store,
        signer=signer,
        open_access=config.open_access,
        long_poll_timeout=config.long_poll_timeout,
        sse_max_seconds=config.sse_max_seconds,
        sse_keepalive_seconds=config.sse_keepalive_seconds,
        max_read_bytes=config.max_read_bytes,
        limits=config.limits,
        cors_origins=config.cors_origins,
    )
    app = StreamsFirstApp(
        streams, title="ML course kit server", version=__version__, lifespan=lifespan
    )
    if config.open_access:
        app.other_sites_guard = OtherSitesGuard(config.cors_origins)
    app.state.config = config
    app.state.store = store
    app.state.signer = signer
    app.state.sessions = sessions
    app.state.retention = retention
    add_session_routes(app, sessions, streams)
    add_web_page(app, sessions)
    add_ticket_route(app, signer)
    add_classroom_routes(app)  # /v1/classrooms (serving.classroom)
    if models is not None:
        from serving.models import mount_models  # scikit-learn and pandas load only if needed

        mount_models(app, models, sessions, config.data_dir)
    redact.install()  # no token in any log line, whatever logs (serving.redact)
    return app
