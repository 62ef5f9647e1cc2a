"""The one ``uvicorn.Config`` of this package: ``python -m serving`` and BackgroundServer both
build theirs here, so the server that notebooks, tests and benchmarks start behaves as the one
users run (tests/serving/test_uvicorn_config.py holds them together).

Two settings differ from uvicorn's defaults. Keep-alive: idle connections live 65 s, longer than
clients keep them pooled, so a client never sends on a socket we just closed. Graceful shutdown:
3 s, then the live readers still attached are dropped (they reconnect elsewhere with their
offset), where uvicorn would wait for them for ever. BackgroundServer used the defaults until
these lived here: with one SSE or long-poll reader attached, its stop() gave up after its 20 s
join timeout and left the server thread running; now it returns in 3 s. Both protocols, HTTP
and WebSocket, drop a client that takes no bytes for 30 s while some wait for it
(serving.slowclients.WRITE_STALL_SECONDS).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import uvicorn

from serving.config import ServerConfig
from serving.lane_switch import http_protocol
from serving.slowclients import limited_websockets

if TYPE_CHECKING:
    from serving.app import StreamsFirstApp

__all__ = ["KEEP_ALIVE_SECONDS", "SHUTDOWN_GRACE_SECONDS", "uvicorn_config"]

SHUTDOWN_GRACE_SECONDS = 3
"""How long a stop waits for open requests (live readers) before it closes them."""
KEEP_ALIVE_SECONDS = 65
"""Idle keep-alive connections live longer than clients keep them pooled (Node: 4 s, browsers
and proxies up to 60 s), so a client never sends a request on a socket we just closed."""


def uvicorn_config(
    app: StreamsFirstApp, config: ServerConfig, *, port: int | None = None
) -> uvicorn.Config:
    """How uvicorn serves ``app``: on ``config.host`` and ``port`` (default ``config.port``;
    0 for a free one), through the append lane when ``config.append_lane`` and uvicorn allow
    it. ValueError when SERVING_APPEND_LANE holds neither on nor off (serving.lane_switch)."""
    return uvicorn.Config(
        app,
        host=config.host,
        port=config.port if port is None else port,
        http=http_protocol(app, config.append_lane),
        ws=limited_websockets(),  # a WebSocket reader that stops reading is dropped
        log_level="info" if config.access_log else "warning",
        access_log=config.access_log,  # tokens in it are redacted (serving.redact)
        timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,  # live readers reconnect elsewhere
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )
