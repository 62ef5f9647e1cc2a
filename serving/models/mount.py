"""Adding the models to a server: their agents to the sessions, their routes to the app.

``create_app(config, models=registry)`` calls ``mount_models``; batch results and uploads are
kept under the server's data folder (``data/results``, ``data/uploads``). While the app runs
(its lifespan), a ModelWatcher serves the models exported since it started
(serving.models.watch).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from serving.models.agents import model_agents
from serving.models.http import add_model_routes, add_upload_route
from serving.models.live import LiveVersions
from serving.models.monitor import add_monitor_routes
from serving.models.promote import add_promote_routes
from serving.models.records import (
    MODELS_PREFIX,
    PredictionRecorder,
    max_bytes_of,
    recording_enabled,
)
from serving.models.registry import ModelRegistry
from serving.models.results import Results
from serving.models.uploads import Uploads
from serving.models.watch import ModelWatcher
from serving.sessions import SessionService

__all__ = ["mount_models"]

logger = logging.getLogger(__name__)
FLUSH_SECONDS = 10.0
"""At shutdown, how long the prediction records still queued may take to be written."""


def mount_models(
    app: FastAPI, registry: ModelRegistry, sessions: SessionService, data_dir: Path
) -> None:
    """Offer the model agents in ``sessions`` and add the model endpoints to ``app``."""
    results = Results(data_dir / "results")
    uploads = Uploads(data_dir / "uploads")
    recorder = PredictionRecorder(
        sessions.store, enabled=recording_enabled(), max_bytes=max_bytes_of()
    )
    live = LiveVersions(sessions.store, registry.set_live)
    for agent in model_agents(registry, results, uploads, recorder, live):
        sessions.agents.add(agent)
    # Before the model routes: /v1/models/{name}/{version} would take "drift" for a version.
    add_monitor_routes(
        app,
        registry,
        recorder,
        signer=app.state.signer,
        open_access=app.state.config.open_access,
    )
    add_promote_routes(
        app, registry, live, signer=app.state.signer, open_access=app.state.config.open_access
    )
    add_model_routes(
        app, registry, results, signer=app.state.signer, open_access=app.state.config.open_access
    )
    add_upload_route(app, uploads, sessions)
    streams = getattr(app, "streams", None)
    if streams is not None:  # the model logs are written by the server only
        streams.refuse_writes(
            MODELS_PREFIX,
            "MODEL_LOG_READ_ONLY",
            "a model's log is written only by the server (its predictions) and by "
            "POST /v1/models/<name>/labels (late labels); here it can only be read",
        )
    app.state.models = registry
    app.state.recorder = recorder
    app.state.live_versions = live
    _watch_while_running(app, ModelWatcher(registry), recorder, live)


def _watch_while_running(
    app: FastAPI,
    watcher: ModelWatcher,
    recorder: PredictionRecorder | None = None,
    live: LiveVersions | None = None,
) -> None:
    """Run ``watcher`` (and the followers of the models' control logs, ``live``) inside the
    app's lifespan: started after the app's own start-up, stopped before its shut-down."""
    inner: Any = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[Any]:
        context: AbstractAsyncContextManager[Any] = inner(app)
        async with context as state:
            watcher.start()
            following = None
            if live is not None:
                following = asyncio.create_task(live.run(watcher.registry.names))
            try:
                yield state
            finally:
                if following is not None and live is not None:
                    following.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await following
                    await live.stop()
                if recorder is not None:  # the last predictions' records, before the store closes
                    try:  # bounded: with Redis away they cannot be written, and must not hang
                        await asyncio.wait_for(recorder.flushed(), FLUSH_SECONDS)
                    except TimeoutError:
                        logger.warning("the last prediction records could not be written")
                await watcher.stop()

    app.router.lifespan_context = lifespan
    app.state.model_watcher = watcher
