"""Relay: a pretend network between clients and a server, that a demo can unplug.

    relay = Relay("http://127.0.0.1:8000").start()   # clients use relay.url instead
    relay.cut()     # every open connection drops, as when Wi-Fi blinks
    relay.down()    # ... and new ones are refused until
    relay.up()

It forwards raw TCP on 127.0.0.1, so HTTP, WebSocket and SSE pass through unchanged, and a cut
looks to both ends exactly like a network failure (a reset connection): what notebook 11 uses
to show that a session client resumes without losing or repeating an event. It runs its own
event loop on a background thread, so blocking code (a notebook cell) can drive it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, Self, TypeVar
from urllib.parse import urlsplit

__all__ = ["Relay"]

T = TypeVar("T")
_CHUNK = 64 * 1024


class Relay:
    """Forwards every connection to ``target`` (``http://HOST:PORT``) until it is cut."""

    def __init__(self, target: str) -> None:
        parts = urlsplit(target)
        if parts.scheme not in ("http", "ws") or parts.hostname is None or parts.port is None:
            raise ValueError(f"the relay needs a target like http://127.0.0.1:8000, got {target!r}")
        self.target_host = parts.hostname
        self.target_port = parts.port
        self.url = ""
        """``http://127.0.0.1:PORT``: where clients connect instead of the target."""
        self.cuts = 0
        """How many times ``cut`` or ``down`` dropped at least one connection."""
        self._up = True
        self._links: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = set()
        """Open connections: (towards the client, towards the target)."""
        self._handlers: set[asyncio.Task[Any]] = set()
        self._loop = asyncio.new_event_loop()
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None

    @property
    def is_up(self) -> bool:
        return self._up

    def start(self) -> Self:
        """Listen on a free port of 127.0.0.1 (``url``)."""
        self._thread = threading.Thread(target=self._loop.run_forever, name="relay", daemon=True)
        self._thread.start()
        self._server = self._call(asyncio.start_server(self._connect, "127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"
        return self

    def cut(self) -> int:
        """Drop every open connection (new ones go through); return how many were dropped."""
        return self._call(self._drop_all())

    def down(self) -> int:
        """Drop every open connection and refuse new ones until ``up``."""
        self._up = False
        return self.cut()

    def up(self) -> None:
        """Let connections through again."""
        self._up = True

    def stop(self) -> None:
        """Stop listening, drop every connection and end the relay's thread."""
        if self._thread is None or not self._loop.is_running():
            return
        self._call(self._close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # --- on the relay's thread ---------------------------------------------------------------

    def _call(self, work: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(work, self._loop).result(10)

    async def _drop_all(self) -> int:
        dropped = len(self._links)
        for link in self._links:
            for writer in link:
                writer.transport.abort()  # a reset, not a polite close: as a network failure
        self._links.clear()
        if dropped:
            self.cuts += 1
        return dropped

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
        await self._drop_all()
        if self._handlers:  # they end at once, their sockets gone: let them, then stop
            await asyncio.wait(self._handlers, timeout=5)

    async def _connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handler = asyncio.current_task()
        assert handler is not None
        self._handlers.add(handler)
        handler.add_done_callback(self._handlers.discard)
        if not self._up:
            writer.transport.abort()
            return
        try:
            target_reader, target_writer = await asyncio.open_connection(
                self.target_host, self.target_port
            )
        except OSError:
            writer.transport.abort()
            return
        if not self._up:  # unplugged while connecting
            writer.transport.abort()
            target_writer.transport.abort()
            return
        link = (writer, target_writer)
        self._links.add(link)
        try:
            await asyncio.gather(
                self._pump(reader, target_writer),
                self._pump(target_reader, writer),
                return_exceptions=True,
            )
        finally:
            self._links.discard(link)

    @staticmethod
    async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Copy one direction until it ends; then that side is closed too."""
        try:
            while data := await reader.read(_CHUNK):
                writer.write(data)
                await writer.drain()
        finally:
            writer.transport.abort()
