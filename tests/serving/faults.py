"""A TCP proxy on 127.0.0.1 that breaks the network on purpose, for the fault tests.

Clients connect to the proxy instead of the server; it forwards bytes both ways until told to
break them:

- ``cut()`` aborts every open connection at once (both sides get a reset mid-request or
  mid-stream, as when a laptop leaves the Wi-Fi);
- ``refuse()`` makes every new connection fail at once (accepted, then reset: the client sees
  the same error as a refused connect) until ``allow()``; ``outage(seconds)`` is a cut, then
  refusals for that long, then the network is back;
- ``cut_every(low, high)`` cuts at random intervals (seeded) until ``stop_cutting()``;
- ``truncating = True`` cuts every HTTP response one byte into its body (the server has done
  the work, the client gets a status line and half an answer: Python's http.client raises
  IncompleteRead, which is not an OSError) until set back to False. It reads the first
  response of a connection (a client that sends one request per connection, as urllib does).

``FaultProxy`` lives in an asyncio loop (for async tests); ``ThreadedFaultProxy`` runs one in
its own thread with plain methods, for tests whose clients are threads (the learners' client).
``cuts`` counts cuts that broke at least one connection, ``refused`` the connections refused,
so a test can assert that the faults really happened.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
from collections.abc import Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")


class FaultProxy:
    """Forward 127.0.0.1:<port> to 127.0.0.1:``target_port``; break it on demand."""

    def __init__(self, target_port: int, *, seed: int = 4) -> None:
        self.target_port = target_port
        self.random = random.Random(seed)
        self.cuts = 0
        self.refused = 0
        self.accepted = 0
        self.refusing = False
        self.truncating = False
        self.truncated = 0
        self._links: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None
        self._cutter: asyncio.Task[None] | None = None

    async def start(self) -> int:
        """Listen on a free port; return it."""
        self._server = await asyncio.start_server(self._link, "127.0.0.1", 0)
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    def cut(self) -> None:
        """Abort every open connection now."""
        for writer in list(self._links):
            writer.transport.abort()
        if self._links:
            self.cuts += 1
        self._links.clear()

    def refuse(self) -> None:
        """Cut, and refuse new connections until ``allow()``."""
        self.refusing = True
        self.cut()

    def allow(self) -> None:
        self.refusing = False

    async def outage(self, seconds: float) -> None:
        """The network is gone for ``seconds``: everything cut, nothing gets through."""
        self.refuse()
        try:
            await asyncio.sleep(seconds)
        finally:
            self.allow()

    def cut_every(self, low: float, high: float) -> None:
        """Cut at random intervals between ``low`` and ``high`` seconds until stopped."""
        self._cutter = asyncio.get_running_loop().create_task(self._cut_forever(low, high))

    async def stop_cutting(self) -> None:
        if self._cutter is not None:
            self._cutter.cancel()
            await asyncio.gather(self._cutter, return_exceptions=True)
            self._cutter = None

    async def close(self) -> None:
        await self.stop_cutting()
        self.cut()
        if self._server is not None:
            self._server.close()

    async def _cut_forever(self, low: float, high: float) -> None:
        while True:
            await asyncio.sleep(self.random.uniform(low, high))
            self.cut()

    async def _link(
        self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
    ) -> None:
        if self.refusing:
            self.refused += 1
            client_writer.transport.abort()
            return
        try:
            server_reader, server_writer = await asyncio.open_connection(
                "127.0.0.1", self.target_port
            )
        except OSError:
            client_writer.transport.abort()
            return
        if self.refusing:  # the network went while we connected
            self.refused += 1
            client_writer.transport.abort()
            server_writer.transport.abort()
            return
        self.accepted += 1
        self._links.update((client_writer, server_writer))
        try:
            await asyncio.gather(
                self._pump(client_reader, server_writer),
                self._pump(server_reader, client_writer, response=True),
                return_exceptions=True,
            )
        except asyncio.CancelledError:  # the proxy closes: end quietly, the link is cut
            client_writer.transport.abort()
            server_writer.transport.abort()

    async def _pump(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, response: bool = False
    ) -> None:
        seen = b""  # the response so far, when truncating
        try:
            while data := await reader.read(65536):
                if response and self.truncating:
                    seen += data
                    headers_end = seen.find(b"\r\n\r\n")
                    if headers_end >= 0 and len(seen) > headers_end + 4:
                        writer.write(data[: len(data) - (len(seen) - headers_end - 5)])
                        await writer.drain()
                        self.truncated += 1
                        writer.close()  # a FIN after the byte: it arrives, then the end
                        with contextlib.suppress(OSError):
                            await writer.wait_closed()
                        return
                writer.write(data)
                await writer.drain()
        finally:
            writer.transport.abort()
            self._links.discard(writer)


class ThreadedFaultProxy:
    """A FaultProxy in its own thread and event loop, driven with plain calls.

    ``with ThreadedFaultProxy(port) as proxy: ... proxy.url ... proxy.outage(0.5)``
    """

    def __init__(self, target_port: int, *, seed: int = 4) -> None:
        self.proxy = FaultProxy(target_port, seed=seed)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="fault-proxy", daemon=True
        )
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ThreadedFaultProxy:
        self._thread.start()
        self.port = self._call(self.proxy.start())
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._call(self.proxy.close())
        self._call(_cancel_the_rest())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def cut(self) -> None:
        self._call(_now(self.proxy.cut))

    def refuse(self) -> None:
        self._call(_now(self.proxy.refuse))

    def allow(self) -> None:
        self._call(_now(self.proxy.allow))

    def outage(self, seconds: float) -> None:
        """Blocks for ``seconds`` while the network is gone."""
        self._call(self.proxy.outage(seconds))

    def cut_every(self, low: float, high: float) -> None:
        self._call(_now(lambda: self.proxy.cut_every(low, high)))

    def stop_cutting(self) -> None:
        self._call(self.proxy.stop_cutting())

    def truncate(self, on: bool) -> None:
        async def set_it() -> None:
            self.proxy.truncating = on

        self._call(set_it())

    @property
    def truncated(self) -> int:
        return self.proxy.truncated

    @property
    def cuts(self) -> int:
        return self.proxy.cuts

    @property
    def refused(self) -> int:
        return self.proxy.refused

    def _call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        future: Future[T] = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        return future.result(timeout=60)


async def _now(action: Any) -> None:
    """Run a plain function inside the proxy's loop (its state is the loop's alone)."""
    action()


async def _cancel_the_rest() -> None:
    """End the links still pumping, so the loop closes with no task left pending."""
    others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for task in others:
        task.cancel()
    await asyncio.gather(*others, return_exceptions=True)
