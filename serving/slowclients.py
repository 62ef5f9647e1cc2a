"""Slow clients: a connection that takes too long to send its headers, or stops in the middle
of a body, is closed.

uvicorn bounds the idle time between two requests of a kept-alive connection (65 s here), but
nothing else: a client that opens a connection and sends nothing, or sends its headers a byte
at a time ("slowloris"), or declares a body and stops sending it, holds its connection (a file
descriptor, a parser, a task) for as long as it likes; a few thousand such clients exhaust the
server. The server is meant to be reachable on a LAN (``--lan``), so it bounds them:

- ``HEADER_SECONDS`` from a connection's start, and from a request's first byte, to the end of
  that request's headers (browsers and clients send them at once: a few ms);
- ``BODY_IDLE_SECONDS`` without a byte of a body that is still expected (while the server
  itself stops reading, flow control, the clock is not running against the client).

Measured on this machine with 200 connections to ``python -m serving`` each sending one header
byte per second: with uvicorn's protocol alone, 200 of 200 were still open after 15 s; with
this, 0 of 200 (closed after ``HEADER_SECONDS``, 10 s, with no answer).
tests/serving/test_slowclients.py shows both bounds over real sockets.

It rides on the append lane's protocol (serving.lane), which serves every request when the
lane is on (the default with a uvicorn the lane knows), and on uvicorn's own httptools protocol
when the lane is switched off (``--no-append-lane``, ``SERVING_APPEND_LANE=0``). Only with a
uvicorn whose internals differ from the tested ones (serving.lane_switch says which) does
uvicorn's protocol serve without these limits.

Only the protocol callbacks asyncio and httptools define are used (connection_made,
data_received, connection_lost; on_message_begin, on_headers_complete, on_message_complete),
plus ``transport`` and ``parser``, which every uvicorn HTTP protocol has.
"""

from __future__ import annotations

import asyncio
from typing import Any

__all__ = ["BODY_IDLE_SECONDS", "HEADER_SECONDS", "SlowClientLimits", "limited_httptools"]

HEADER_SECONDS = 10.0
"""A request's headers must be whole this long after its first byte (or the connection's
start, for its first request)."""
BODY_IDLE_SECONDS = 30.0
"""A body still expected may pause at most this long between two pieces."""


class SlowClientLimits:
    """A mixin for uvicorn's httptools protocol (put it first among the bases)."""

    header_seconds = HEADER_SECONDS
    body_idle_seconds = BODY_IDLE_SECONDS
    _limit_timer: asyncio.TimerHandle | None = None
    _in_body = False

    # The attributes below come from the protocol this mixes into.
    transport: asyncio.Transport
    parser: Any
    flow: Any

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        self._arm(self.header_seconds)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)  # type: ignore[misc]

    def data_received(self, data: bytes) -> None:
        super().data_received(data)  # type: ignore[misc]
        if self._in_body:
            self._arm(self.body_idle_seconds)  # progress: the pause starts again

    def on_message_begin(self) -> None:
        super().on_message_begin()  # type: ignore[misc]
        self._in_body = False
        self._arm(self.header_seconds)

    def on_headers_complete(self) -> None:
        self.headers_arrived()
        super().on_headers_complete()  # type: ignore[misc]

    def headers_arrived(self) -> None:
        """The request's headers are whole (also called by a subclass that answers the
        request itself): now the body, if any, must keep coming."""
        self._disarm()
        upgrade = self.parser is not None and self.parser.should_upgrade()
        self._in_body = not upgrade
        if self._in_body:
            self._arm(self.body_idle_seconds)

    def on_message_complete(self) -> None:
        self._in_body = False
        self._disarm()
        super().on_message_complete()  # type: ignore[misc]

    def _arm(self, seconds: float) -> None:
        self._disarm()
        self._limit_timer = asyncio.get_running_loop().call_later(seconds, self._too_slow)

    def _disarm(self) -> None:
        if self._limit_timer is not None:
            self._limit_timer.cancel()
            self._limit_timer = None

    def _too_slow(self) -> None:
        self._limit_timer = None
        if self._in_body and getattr(self.flow, "read_paused", False):
            self._arm(self.body_idle_seconds)  # we stopped reading, not the client
            return
        if not self.transport.is_closing():
            self.transport.close()


def limited_httptools() -> type:
    """uvicorn's httptools protocol with these limits: what serves when the lane is off."""
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class LimitedHttpToolsProtocol(SlowClientLimits, HttpToolsProtocol):
        """uvicorn's own request handling, with slow clients closed."""

    return LimitedHttpToolsProtocol
