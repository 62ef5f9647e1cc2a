"""The streams benchmark: our server against the Node reference server, in one run.

Four servers run side by side on loopback ports: ours with the memory store and with the SQLite
store, and the reference (@durable-streams/server, pinned in benchmarks/peers/) with its memory
store and its file store. One client (benchmarks/http_client.py on uvloop: HTTP/1.1 keep-alive,
one connection per concurrent writer or reader) runs the same workloads against each of them:

- sequential appends: one writer, one small JSON message per POST, as fast as it can;
- concurrent appends: 8 writers, each on its own stream, then 8 writers on one shared stream;
- catch-up read: a stream pre-filled with 100k messages (appends of 100 messages), read with
  GET from ``-1`` following Stream-Next-Offset until Stream-Up-To-Date;
- live latency: a reader waits (long-poll, then SSE), a writer appends a message carrying its
  send time, the reader notes when it arrives; p50 and p99 of append-to-delivery;
- fan-out: 50 SSE readers on one stream, one writer appending; message deliveries per second.

Each scenario first runs a short, discarded warm-up trial on every server (Node's JIT compiles
its hot paths in the first seconds). Rounds are interleaved (round 1 on every server, then
round 2...) so the load of a shared machine falls on every server alike. Throughputs are the
median of the rounds; latencies pool the samples of all rounds. Ratios read "times as good as
the reference" (ours/reference for throughput, reference/ours for latency), so higher is
better everywhere.

    python -m benchmarks.streams_bench            # full run, writes benchmarks/results/streams.md
    python -m benchmarks.streams_bench --quick    # smoke run in seconds, prints only
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

if __package__ in (None, ""):  # run as a script: python benchmarks/streams_bench.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.http_client import Client, ClientError, Response
from benchmarks.servers import SERVERS, RunningServer, ServerStartError

RESULTS_PATH = Path(__file__).resolve().parent / "results" / "streams.md"
JSON_TYPE = "application/json"
T = TypeVar("T")
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


# --- workloads ---------------------------------------------------------------------------


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


async def fan_out(client: StreamsClient, sizes: Sizes, tag: str) -> Trial:
    """One writer appends for ``seconds``, then a last message; every reader must get them all."""
    stream = f"{tag}-fan-out"
    offset = await client.create(stream)
    attached = [asyncio.Event() for _ in range(sizes.fan_out_readers)]
    received = [0] * sizes.fan_out_readers

    async def reader(index: int) -> float:
        buffer = b""
        async with client.subscribe(stream, offset) as chunks:
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


# --- scenarios and metrics ---------------------------------------------------------------

Workload = Callable[[StreamsClient, Sizes, str], Awaitable[Trial]]
"""Runs one trial; the string names the trial's streams (or is the prepared stream)."""
Preparation = Callable[[StreamsClient, Sizes, str], Awaitable[str]]


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    unit: str
    workload: Workload
    latency: bool = False
    """Reports p50/p99 of the trials' latencies instead of their median rate."""
    prepare: Preparation | None = None
    """Untimed set-up, once per server; what it returns is passed to every trial."""


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("sequential", "sequential appends (1 writer)", "appends/s", sequential_appends),
    Scenario(
        "concurrent_own",
        "concurrent appends (8 writers, a stream each)",
        "appends/s",
        concurrent_appends_own_streams,
    ),
    Scenario(
        "concurrent_shared",
        "concurrent appends (8 writers, one stream)",
        "appends/s",
        concurrent_appends_one_stream,
    ),
    Scenario(
        "catch_up",
        "catch-up read ({messages} messages)",
        "messages/s",
        catch_up_read,
        prepare=prefill_catch_up,
    ),
    Scenario("long_poll", "long-poll latency", "ms", long_poll_latency, latency=True),
    Scenario("sse", "SSE latency", "ms", sse_latency, latency=True),
    Scenario("fan_out", "fan-out to {readers} SSE readers", "deliveries/s", fan_out),
)


@dataclass(frozen=True)
class Metric:
    """One row of the results table."""

    scenario: Scenario
    statistic: str
    """``rate``, ``p50`` or ``p99``."""

    @property
    def higher_is_better(self) -> bool:
        return self.statistic == "rate"

    def title(self, sizes: Sizes) -> str:
        title = self.scenario.title.format(
            messages=f"{sizes.catch_up_messages:,}", readers=sizes.fan_out_readers
        )
        return title if self.statistic == "rate" else f"{title} {self.statistic}"

    def value(self, trials: Sequence[Trial]) -> float:
        """Median rate of the trials, or a latency percentile (ms) over all their samples."""
        if self.statistic == "rate":
            return statistics.median(trial.rate for trial in trials)
        samples = sorted(latency for trial in trials for latency in trial.latencies)
        rank = {"p50": 0.50, "p99": 0.99}[self.statistic]
        return 1000 * samples[min(len(samples) - 1, int(rank * len(samples)))]


METRICS: tuple[Metric, ...] = tuple(
    Metric(scenario, statistic)
    for scenario in SCENARIOS
    for statistic in (("p50", "p99") if scenario.latency else ("rate",))
)


@dataclass
class Outcome:
    """What one scenario gave on one server: its trials and resource use, or an error."""

    trials: list[Trial] = field(default_factory=list)
    server_cpu: float | None = 0.0
    client_cpu: float = 0.0
    error: str | None = None


Results = dict[str, dict[str, Outcome]]
"""scenario key -> server name -> outcome."""


# --- running -----------------------------------------------------------------------------


async def prepare(
    server: RunningServer, scenario: Scenario, sizes: Sizes, tag: str, outcome: Outcome
) -> str:
    """Run the scenario's untimed set-up on one server; return what its trials get."""
    if scenario.prepare is None:
        return tag
    try:
        async with StreamsClient(server.url) as client, asyncio.timeout(sizes.trial_timeout):
            return await scenario.prepare(client, sizes, tag)
    except (BenchmarkError, ClientError, TimeoutError) as error:
        outcome.error = f"set-up: {type(error).__name__}: {error}"
        return tag


async def run_trial(
    server: RunningServer, scenario: Scenario, sizes: Sizes, tag: str, outcome: Outcome
) -> None:
    """Run one trial, adding its result and CPU use to ``outcome`` (or recording the error)."""
    server_cpu, client_cpu = server.cpu_seconds(), time.process_time()
    try:
        async with StreamsClient(server.url) as client, asyncio.timeout(sizes.trial_timeout):
            trial = await scenario.workload(client, sizes, tag)
    except (BenchmarkError, ClientError, TimeoutError) as error:
        outcome.error = f"{type(error).__name__}: {error}"
        return
    after = server.cpu_seconds()
    if server_cpu is None or after is None or outcome.server_cpu is None:
        outcome.server_cpu = None
    else:
        outcome.server_cpu += after - server_cpu
    outcome.client_cpu += time.process_time() - client_cpu
    outcome.trials.append(trial)


async def run_scenarios(
    servers: Sequence[RunningServer],
    sizes: Sizes,
    scenarios: Sequence[Scenario] = SCENARIOS,
    progress: Callable[[str], None] = lambda line: None,
) -> Results:
    """Run every scenario on every server, rounds interleaved across servers."""
    results: Results = {}
    run = uuid.uuid4().hex[:8]  # stream names never collide with an earlier run's
    for scenario in scenarios:
        outcomes = {server.spec.name: Outcome() for server in servers}
        results[scenario.key] = outcomes
        tag = f"{run}-{scenario.key}"
        tags = {
            server.spec.name: await prepare(
                server, scenario, sizes, tag, outcomes[server.spec.name]
            )
            for server in servers
        }
        for server in servers:  # untimed warm-up: Node's JIT, Python's caches, TCP buffers
            name = server.spec.name
            if outcomes[name].error is None:
                tag = tags[name] if scenario.prepare else f"{tags[name]}-warm-up"
                warm_up = Outcome()
                await run_trial(server, scenario, _warm_up_sizes(sizes), tag, warm_up)
                if warm_up.error:
                    outcomes[name].error = f"warm-up: {warm_up.error}"
        for round_number in range(sizes.rounds):
            for server in servers:
                name = server.spec.name
                if outcomes[name].error is None:
                    tag = tags[name] if scenario.prepare else f"{tags[name]}-{round_number}"
                    await run_trial(server, scenario, sizes, tag, outcomes[name])
        progress(_progress_line(scenario, outcomes))
    return results


def _warm_up_sizes(sizes: Sizes) -> Sizes:
    return replace(
        sizes,
        seconds=min(sizes.seconds, 0.5),
        latency_samples=min(sizes.latency_samples, 20),
    )


def _progress_line(scenario: Scenario, outcomes: dict[str, Outcome]) -> str:
    parts = []
    for name, outcome in outcomes.items():
        if outcome.error:
            parts.append(f"{name} ERROR")
        elif scenario.latency:
            p50 = Metric(scenario, "p50").value(outcome.trials)
            parts.append(f"{name} p50 {p50:.2f} ms")
        else:
            parts.append(f"{name} {Metric(scenario, 'rate').value(outcome.trials):,.0f}")
    return f"{scenario.key}: " + ", ".join(parts)


# --- report ------------------------------------------------------------------------------

PAIRS: tuple[tuple[str, str, float], ...] = (
    ("ours-sqlite", "reference-file", 1.0),
    ("ours-memory", "reference-memory", 0.8),
)
"""(ours, peer, target ratio): SQLite must match the reference file store, memory 80% of it."""


def metric_value(results: Results, metric: Metric, server: str) -> float | None:
    outcome = results.get(metric.scenario.key, {}).get(server)
    if outcome is None or outcome.error is not None or not outcome.trials:
        return None
    return metric.value(outcome.trials)


def ratio(metric: Metric, ours: float | None, peer: float | None) -> float | None:
    """How many times as good as the peer: ours/peer for rates, peer/ours for latencies."""
    if ours is None or peer is None or ours <= 0 or peer <= 0:
        return None
    return ours / peer if metric.higher_is_better else peer / ours


def _number(value: float | None, metric: Metric) -> str:
    if value is None:
        return "n/a"
    return f"{value:,.0f}" if metric.higher_is_better else f"{value:.2f}"


def results_table(results: Results, sizes: Sizes, servers: Sequence[str]) -> str:
    header = ["scenario", "unit"]
    for ours, peer, target in PAIRS:
        header += [ours, peer, "ratio", f"≥ {target:.1f}x"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for metric in METRICS:
        row = [metric.title(sizes), metric.scenario.unit]
        for ours, peer, target in PAIRS:
            mine = metric_value(results, metric, ours) if ours in servers else None
            theirs = metric_value(results, metric, peer) if peer in servers else None
            times = ratio(metric, mine, theirs)
            status = "n/a" if times is None else ("PASS" if times >= target else "**MISS**")
            shown = "n/a" if times is None else f"{times:.2f}x"
            row += [_number(mine, metric), _number(theirs, metric), shown, status]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def cpu_table(results: Results, sizes: Sizes, servers: Sequence[str]) -> str:
    """Server CPU per operation (where the cost is) and the client's share of one core."""
    header = ["scenario", *(f"{name} µs/op" for name in servers), "client CPU (max)"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for scenario in SCENARIOS:
        outcomes = results.get(scenario.key)
        if not outcomes:
            continue
        row = [Metric(scenario, "rate").title(sizes)]
        client_share = 0.0
        for name in servers:
            outcome = outcomes.get(name)
            if outcome is None or outcome.error or not outcome.trials:
                row.append("n/a")
                continue
            operations = sum(trial.operations for trial in outcome.trials)
            seconds = sum(trial.seconds for trial in outcome.trials)
            cpu = outcome.server_cpu
            row.append("n/a" if cpu is None else _micros(1e6 * cpu / operations))
            client_share = max(client_share, outcome.client_cpu / seconds)
        row.append(f"{client_share:.0%}")
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def _micros(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 else f"{value:.1f}"


def errors_section(results: Results, unavailable: dict[str, str]) -> str:
    lines = [f"- {name}: not run: {reason}" for name, reason in unavailable.items()]
    for key, outcomes in results.items():
        for name, outcome in outcomes.items():
            if outcome.error:
                lines.append(f"- {key} on {name}: {outcome.error}")
    return "\n".join(lines)


def machine_description() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout
    except OSError:
        node = "not installed"
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            cwd=Path(__file__).resolve().parent,
        ).stdout.strip()
    except OSError:
        commit = "unknown"
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "CPU": f"{cpu}, {os.cpu_count()} cores",
        "OS": platform.platform(),
        "Python": platform.python_version(),
        "Node": node.strip() or "unknown",
        "client": f"benchmarks/http_client.py (httptools), {_loop_name()}",
        "commit": commit or "unknown",
        "load average (1 min) at start": f"{os.getloadavg()[0]:.2f}",
    }


def report(
    results: Results,
    sizes: Sizes,
    servers: Sequence[str],
    machine: dict[str, str],
    unavailable: dict[str, str],
    seconds: float,
) -> str:
    problems = errors_section(results, unavailable)
    lines = [
        "# Streams benchmark: our server vs the Durable Streams reference server",
        "",
        "Written by `python -m benchmarks.streams_bench` (see its docstring for the workloads).",
        "Ratios are times as good as the reference: ours/reference for throughput, "
        "reference/ours for latency; higher is better.",
        "",
        results_table(results, sizes, servers),
        "",
        "Server CPU time per operation (append, message read or delivery; latency rows: per "
        "sample), and the most the client used of one core in that scenario:",
        "",
        cpu_table(results, sizes, servers),
        "",
        "## Setup",
        "",
        f"- {sizes.rounds} interleaved rounds per scenario, {sizes.seconds:g} s per throughput "
        f"trial; {sizes.rounds * sizes.latency_samples} latency samples per mode; "
        f"{sizes.writers} concurrent writers; catch-up pre-filled in appends of "
        f"{sizes.catch_up_batch} messages; messages are ~60-byte JSON objects.",
        "- Servers: `python -m serving --open --store memory://` or `sqlite:///<tmp>/streams.db`; "
        "`node benchmarks/peers/reference_server.mjs` (@durable-streams/server "
        "0.3.7, memory store or `--data-dir <tmp>`). One process each, on 127.0.0.1.",
        "- One client for every server (benchmarks/http_client.py: HTTP/1.1 keep-alive, one "
        "connection per concurrent writer or reader, `Accept-Encoding: identity`), in its own "
        "process, sharing the machine's cores with the server under test.",
        f"- Whole run: {seconds:.0f} s.",
        "",
        "## Machine",
        "",
        *(f"- {key}: {value}" for key, value in machine.items()),
    ]
    if problems:
        lines += ["", "## Not measured", "", problems]
    return "\n".join(lines) + "\n"


def _loop_name() -> str:
    try:
        import uvloop
    except ImportError:
        return "asyncio event loop"
    return f"uvloop {uvloop.__version__}"


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run the client on uvloop where it is installed (it is, with uvicorn[standard])."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.streams_bench",
        description="Benchmark our streams server against the Durable Streams reference server.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes, one round: a smoke run in seconds"
    )
    parser.add_argument(
        "--servers",
        default=",".join(SERVERS),
        help="comma-separated subset of: %(default)s",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help=f"where to write the Markdown report (default: {RESULTS_PATH.relative_to(Path.cwd())}"
        " for full runs, nowhere for --quick)",
    )
    args = parser.parse_args(argv)
    names = [name.strip() for name in args.servers.split(",") if name.strip()]
    unknown = [name for name in names if name not in SERVERS]
    if unknown:
        parser.error(f"unknown server(s) {', '.join(unknown)}; choose from {', '.join(SERVERS)}")
    sizes = QUICK if args.quick else FULL
    output = args.output or (None if args.quick else RESULTS_PATH)

    machine = machine_description()
    started = time.perf_counter()
    running: list[RunningServer] = []
    unavailable: dict[str, str] = {}
    try:
        for name in names:
            try:
                running.append(RunningServer(SERVERS[name]))
            except ServerStartError as error:
                unavailable[name] = str(error).splitlines()[-1]
                print(f"{name}: not started: {error}", file=sys.stderr)
        log = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731
        results = run(run_scenarios(running, sizes, progress=log))
    finally:
        for server in running:
            server.stop()
    text = report(results, sizes, names, machine, unavailable, time.perf_counter() - started)
    print(text)
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text)
        print(f"written to {output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
