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
import functools
from typing import Any

__all__ = [
    "BODY_IDLE_SECONDS",
    "HEADER_SECONDS",
    "WRITE_STALL_SECONDS",
    "SlowClientLimits",
    "WriteStallLimit",
    "limited_httptools",
    "limited_websockets",
]

HEADER_SECONDS = 10.0
"""A request's headers must be whole this long after its first byte (or the connection's
start, for its first request)."""
BODY_IDLE_SECONDS = 30.0
"""A body still expected may pause at most this long between two pieces."""
WRITE_STALL_SECONDS = 30.0
"""A connection whose client takes none of our bytes for this long, while bytes wait for it,
is dropped (aborted: a close would wait for ever to flush them). Writing is paused (the
buffer is over its high-water mark) and the buffer has not shrunk since the last look. A slow
client is not a stalled one: one that takes any bytes in each interval stays, however long a
big catch-up takes it. Before this, an SSE or WebSocket reader (or a download) that never read
held its connection, its task and what it was sending for ever (docs/SCALING.md, "Slow
readers", has the measurements); a client that wakes up reconnects and resumes from its last
event, as after any network drop (EventSource does it by itself)."""


class WriteStallLimit:
    """A mixin for an asyncio protocol (HTTP or WebSocket; put it first among the bases):
    the connection is aborted once writing has been paused for ``write_stall_seconds``."""

    write_stall_seconds = WRITE_STALL_SECONDS
    _stall_timer: asyncio.TimerHandle | None = None
    _stall_buffered = 0
    transport: Any

    def connection_lost(self, exc: Exception | None) -> None:
        self._unstall()
        super().connection_lost(exc)  # type: ignore[misc]

    def pause_writing(self) -> None:
        """asyncio: the client is not taking our bytes. It has ``write_stall_seconds``."""
        super().pause_writing()  # type: ignore[misc]
        if self._stall_timer is None:
            self._watch_stall()

    def _watch_stall(self) -> None:
        self._stall_buffered = self.transport.get_write_buffer_size()
        loop = asyncio.get_running_loop()
        self._stall_timer = loop.call_later(self.write_stall_seconds, self._stalled)

    def resume_writing(self) -> None:
        self._unstall()
        super().resume_writing()  # type: ignore[misc]

    def _unstall(self) -> None:
        if self._stall_timer is not None:
            self._stall_timer.cancel()
            self._stall_timer = None

    def _stalled(self) -> None:
        """Still paused: if the client took bytes meanwhile, look again later; if it took
        none, drop the connection (abort: the request's task sees a disconnect and ends)."""
        self._stall_timer = None
        if self.transport.is_closing():
            return
        if self.transport.get_write_buffer_size() < self._stall_buffered:
            self._watch_stall()  # progress: slow, not stalled
            return
        self.transport.abort()


class SlowClientLimits(WriteStallLimit):
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
        super().connection_lost(exc)

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


@functools.cache  # one class: configurations built twice compare equal
def limited_websockets() -> type:
    """uvicorn's WebSocket protocol (the one its ``auto`` picks) with WriteStallLimit: a
    WebSocket client that stops reading is dropped too (serving.sessions.ws closes it with
    1008 first, which a client that reads again in time receives)."""
    from uvicorn.protocols.websockets.auto import AutoWebSocketsProtocol

    assert AutoWebSocketsProtocol is not None, "uvicorn found no WebSocket library"

    class LimitedWebSocketProtocol(WriteStallLimit, AutoWebSocketsProtocol):  # type: ignore[misc,valid-type]
        """uvicorn's WebSocket protocol, with readers that stopped reading dropped."""

    return LimitedWebSocketProtocol
