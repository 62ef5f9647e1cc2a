"""The streams workloads: what the benchmark client does to a Durable Streams server.

- sequential appends: one writer, one small JSON message per POST, as fast as it can;
- concurrent appends: 8 writers, each on its own stream, or 8 writers on one shared stream;
- catch-up read: a stream pre-filled with 100k messages (appends of 100 messages), read with
  GET from ``-1`` following Stream-Next-Offset until Stream-Up-To-Date;
- live latency: a reader waits (long-poll, or SSE), a writer appends a message carrying its
  send time, the reader notes when it arrives: append-to-delivery times;
- fan-out: 50 SSE readers on one stream, one writer appending; message deliveries per second.

Every workload checks what it gets back (status codes, message counts), so a server that loses
or duplicates messages fails the workload instead of producing a number.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

from benchmarks.http_client import Client, Response

JSON_TYPE = "application/json"
LATENCY_GAP = 0.005
"""Pause before each latency sample so the reader is parked again; not part of the latency."""


class BenchmarkError(RuntimeError):
    """A server answered something the workload did not expect (or lost messages)."""


@dataclass(frozen=True)
class Sizes:
    """How much work each scenario does."""

    seconds: float = 1.5
    """Length of one throughput trial."""
    rounds: int = 3
    writers: int = 8
    catch_up_messages: int = 100_000
    catch_up_batch: int = 100
    """Messages per POST when pre-filling the catch-up stream."""
    latency_samples: int = 100
    """Per round, for each of long-poll and SSE."""
    fan_out_readers: int = 50
    trial_timeout: float = 60.0


FULL = Sizes()
QUICK = Sizes(
    seconds=0.3, rounds=1, catch_up_messages=5_000, latency_samples=20, fan_out_readers=10
)


# --- the client --------------------------------------------------------------------------


def message(number: int) -> bytes:
    """A small JSON message (about 60 bytes) carrying its send time (``time.perf_counter``)."""
    return b'{"n":%d,"t":%.6f,"text":"the quick brown fox"}' % (number, time.perf_counter())


def count_messages(body: bytes) -> int:
    """How many of our messages a response holds (each has exactly one ``"n":`` key)."""
    return body.count(b'"n":')


def send_times(body: bytes) -> list[float]:
    """The send times of the messages in a JSON array body."""
    return [item["t"] for item in json.loads(body)]


LAST = b'{"n":-1,"last":true}'
"""The message that ends a live workload: readers stop when they receive it."""


def is_last(body: bytes) -> bool:
    return b'"last":true' in body


class StreamsClient:
    """The few Durable Streams calls the workloads make, over keep-alive connections.

    Every request says ``Accept-Encoding: identity``: the reference gzips bodies of 1 KiB or
    more when asked, ours never does, and on loopback compression only burns CPU.
    """

    def __init__(self, base_url: str) -> None:
        self.http = Client(base_url)

    async def __aenter__(self) -> StreamsClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.http.aclose()

    async def create(self, name: str) -> str:
        """Create a JSON stream; return its tail offset."""
        response = await self.http.request("PUT", _target(name), headers=_JSON_HEADERS)
        return _next_offset(_check(response, (200, 201), f"PUT {name}"))

    async def append(self, name: str, body: bytes) -> None:
        response = await self.http.request("POST", _target(name), body, _JSON_HEADERS)
        _check(response, (200, 204), f"POST {name}")

    async def read(
        self, name: str, offset: str, live: str | None = None
    ) -> tuple[bytes, str, bool]:
        """One GET: (body, next offset, up to date); a long-poll timeout gives an empty body."""
        query = {"offset": offset} if live is None else {"offset": offset, "live": live}
        response = await self.http.request("GET", _target(name, query), headers=_READ_HEADERS)
        _check(response, (200, 204), f"GET {name}")
        up_to_date = response.headers.get("stream-up-to-date") == "true"
        return response.body, _next_offset(response), up_to_date

    @asynccontextmanager
    async def subscribe(self, name: str, offset: str) -> AsyncIterator[AsyncIterator[bytes]]:
        """An SSE GET from ``offset``; yields the body's chunks as they arrive."""
        target = _target(name, {"offset": offset, "live": "sse"})
        async with self.http.stream("GET", target, _READ_HEADERS) as response:
            if response.status != 200:
                raise BenchmarkError(f"GET {name} live=sse answered {response.status}")
            yield response.chunks()


_JSON_HEADERS = {"content-type": JSON_TYPE, "accept-encoding": "identity"}
_READ_HEADERS = {"accept-encoding": "identity"}


def _target(name: str, query: dict[str, str] | None = None) -> str:
    path = "/v1/stream/" + quote(name)
    return f"{path}?{urlencode(query)}" if query else path


def _check(response: Response, statuses: tuple[int, ...], what: str) -> Response:
    if response.status not in statuses:
        text = response.body[:300].decode(errors="replace")
        raise BenchmarkError(f"{what} answered {response.status}: {text}")
    return response


def _next_offset(response: Response) -> str:
    offset = response.headers.get("stream-next-offset")
    if offset is None:
        raise BenchmarkError(f"a {response.status} answer had no Stream-Next-Offset header")
    return offset


class SSEEvents:
    """Splits an SSE byte stream into (event, data) pairs (``\\n`` line endings)."""

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, chunk: bytes) -> list[tuple[str, bytes]]:
        self._buffer += chunk
        *blocks, self._buffer = self._buffer.split(b"\n\n")
        parsed = (self._parse(block) for block in blocks)
        return [event for event in parsed if event is not None]

    @staticmethod
    def _parse(block: bytes) -> tuple[str, bytes] | None:
        """One event block; None for a block of comments only (a keep-alive)."""
        event, data = "message", []
        for line in block.split(b"\n"):
            field_name, _, value = line.partition(b":")
            value = value.removeprefix(b" ")
            if field_name == b"event":
                event = value.decode()
            elif field_name == b"data":
                data.append(value)
        return (event, b"\n".join(data)) if data else None


@dataclass
class Trial:
    """One run of a workload against one server."""

    operations: int
    """Appends, messages read, or message deliveries."""
    seconds: float
    latencies: list[float] = field(default_factory=list)
    """Append-to-delivery times in seconds (latency workloads only)."""

    @property
    def rate(self) -> float:
        return self.operations / self.seconds


async def sequential_appends(client: StreamsClient, sizes: Sizes, tag: str) -> Trial:
    stream = f"{tag}-seq"
    await client.create(stream)
    count = 0
    start = time.perf_counter()
    deadline = start + sizes.seconds
    while time.perf_counter() < deadline:
        await client.append(stream, message(count))
        count += 1
    return Trial(count, time.perf_counter() - start)


async def _concurrent_appends(client: StreamsClient, sizes: Sizes, streams: list[str]) -> Trial:
    for stream in set(streams):
        await client.create(stream)
    counts = [0] * len(streams)
    start = time.perf_counter()
    deadline = start + sizes.seconds

    async def writer(index: int) -> None:
        while time.perf_counter() < deadline:
            await client.append(streams[index], message(counts[index]))
            counts[index] += 1

    await asyncio.gather(*(writer(index) for index in range(len(streams))))
    return Trial(sum(counts), time.perf_counter() - start)


async def concurrent_appends_own_streams(client: StreamsClient, sizes: Sizes, tag: str) -> Trial:
    streams = [f"{tag}-own-{index}" for index in range(sizes.writers)]
    return await _concurrent_appends(client, sizes, streams)


async def concurrent_appends_one_stream(client: StreamsClient, sizes: Sizes, tag: str) -> Trial:
    return await _concurrent_appends(client, sizes, [f"{tag}-shared"] * sizes.writers)


async def prefill_catch_up(client: StreamsClient, sizes: Sizes, tag: str) -> str:
    """Create the catch-up stream and append ``catch_up_messages`` messages to it."""
    stream = f"{tag}-history"
    await client.create(stream)
    for first in range(0, sizes.catch_up_messages, sizes.catch_up_batch):
        last = min(first + sizes.catch_up_batch, sizes.catch_up_messages)
        batch = b"[" + b",".join(message(number) for number in range(first, last)) + b"]"
        await client.append(stream, batch)
    return stream


async def catch_up_read(client: StreamsClient, sizes: Sizes, stream: str) -> Trial:
    """Read the pre-filled ``stream`` from the start, following offsets to its tail."""
    count = 0
    offset = "-1"
    start = time.perf_counter()
    while True:
        body, offset, up_to_date = await client.read(stream, offset)
        count += count_messages(body)
        if up_to_date:
            break
    seconds = time.perf_counter() - start
    if count != sizes.catch_up_messages:
        raise BenchmarkError(f"catch-up read {count} messages, expected {sizes.catch_up_messages}")
    return Trial(count, seconds)


async def _latency(
    client: StreamsClient,
    sizes: Sizes,
    stream: str,
    reader: Callable[[list[float], asyncio.Event, asyncio.Event], Awaitable[None]],
) -> Trial:
    """Run ``reader`` and a writer that appends one timed message at a time once it is ready.

    The reader returns when it sees the ``LAST`` message, so no request is left parked.
    """
    latencies: list[float] = []
    ready, delivered = asyncio.Event(), asyncio.Event()
    reading = asyncio.create_task(reader(latencies, ready, delivered))
    start = time.perf_counter()
    try:
        await ready.wait()
        for number in range(sizes.latency_samples):
            delivered.clear()
            await asyncio.sleep(LATENCY_GAP)
            await client.append(stream, message(number))
            await delivered.wait()
        seconds = time.perf_counter() - start
        await client.append(stream, LAST)
        await reading
    finally:
        reading.cancel()
    return Trial(len(latencies), seconds, latencies)


async def long_poll_latency(client: StreamsClient, sizes: Sizes, tag: str) -> Trial:
    stream = f"{tag}-long-poll"
    offset = await client.create(stream)

    async def reader(latencies: list[float], ready: asyncio.Event, delivered: asyncio.Event):
        nonlocal offset
        ready.set()
        while True:
            body, offset, _ = await client.read(stream, offset, live="long-poll")
            arrived = time.perf_counter()
            if is_last(body):
                return
            if body:
                latencies.extend(arrived - sent for sent in send_times(body))
                delivered.set()

    return await _latency(client, sizes, stream, reader)


async def sse_latency(client: StreamsClient, sizes: Sizes, tag: str) -> Trial:
    stream = f"{tag}-sse"
    offset = await client.create(stream)

    async def reader(latencies: list[float], ready: asyncio.Event, delivered: asyncio.Event):
        events = SSEEvents()
        async with client.subscribe(stream, offset) as chunks:
            async for chunk in chunks:
                arrived = time.perf_counter()
                for event, data in events.feed(chunk):
                    if event == "control":
                        ready.set()
                    elif is_last(data):
                        return
                    elif event == "data":
                        latencies.extend(arrived - sent for sent in send_times(data))
                        delivered.set()
        raise BenchmarkError(f"the SSE response on {stream} ended before the last message")

    return await _latency(client, sizes, stream, reader)


async def fan_out(
    client: StreamsClient,
    sizes: Sizes,
    tag: str,
    reader_clients: Sequence[StreamsClient] = (),
) -> Trial:
    """One writer appends for ``seconds``, then a last message; every reader must get them all.

    Readers use ``reader_clients`` in turn when given (servers sharing one store), else ``client``.
    """
    stream = f"{tag}-fan-out"
    offset = await client.create(stream)
    attached = [asyncio.Event() for _ in range(sizes.fan_out_readers)]
    received = [0] * sizes.fan_out_readers
    clients = list(reader_clients) or [client]

    async def reader(index: int) -> float:
        buffer = b""
        async with clients[index % len(clients)].subscribe(stream, offset) as chunks:
            async for chunk in chunks:
                complete, separator, buffer = (buffer + chunk).rpartition(b"\n\n")
                if not separator:
                    continue
                attached[index].set()
                received[index] += count_messages(complete)
                if is_last(complete):
                    return time.perf_counter()
        raise BenchmarkError(f"SSE reader {index} was disconnected before the last message")

    readers = [asyncio.create_task(reader(index)) for index in range(sizes.fan_out_readers)]
    try:
        await asyncio.gather(*(event.wait() for event in attached))
        start = time.perf_counter()
        deadline = start + sizes.seconds
        sent = 0
        while time.perf_counter() < deadline:
            await client.append(stream, message(sent))
            sent += 1
        await client.append(stream, LAST)
        sent += 1
        finished = await asyncio.gather(*readers)
    finally:
        for task in readers:
            task.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
    if any(count != sent for count in received):
        raise BenchmarkError(f"fan-out: {sent} messages sent, readers received {sorted(received)}")
    return Trial(sent * sizes.fan_out_readers, max(finished) - start)
