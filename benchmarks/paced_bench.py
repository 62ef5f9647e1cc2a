"""The paced benchmark: many streams at reading speed, ours against Vercel's resumable-stream.

Real chat traffic is many sessions, each writing a token every 20-50 ms, not one stream as fast
as it can go (issue 21). Side by side in one run, one reader per stream, 3 interleaved rounds,
medians:

- human pace: 200 and 1,000 concurrent streams, each at its own rate drawn (seeded) in
  [20, 50] tokens/s, 6 s of tokens each, started spread over one second;
- paced 2,000 tokens/s: 200 streams x 10 tokens/s for 6 s;
- as fast as possible: 200 concurrent streams x 500 tokens, total tokens/s.

Servers, each in its own process with its own fresh store, started the way a user starts them:

- ``ours-redis``: ``python -m serving --open --store redis://...`` on its own redis-server;
- ``ours-sqlite``: the same on ``sqlite:///<tmp>/streams.db``;
- ``peer``: benchmarks/peers/resumable/server.js (Vercel's ``resumable-stream`` 2.2.13 behind
  node:http, pinned by package-lock.json, installed with ``npm ci`` on first use) on its own
  redis-server. Its stream is ``POST /chat/{id}?n=&rate=&gate=1`` (the producer's own SSE
  response, drained), a reader ``GET /chat/{id}`` (a resume reader: its tokens go through
  Redis pub/sub), then ``POST /chat/{id}/go``. ``peer-post`` is the same server read by the
  POST response alone (no Redis pub/sub on the token path), reported so no ratio hides which
  mode it uses.

Our stream: ``POST /v1/sessions``, a WebSocket subscribed from ``start``, then ``send``
``{"data": {"text": "w0 ... w9"}, "agent": "text", "params": {"speed": R, "length": N}}``: the
demo text agent writes N deltas at R tokens/s. Our SSE reader (``GET
/v1/sessions/{id}/events?from=start``) is measured for bytes per token on a smaller run.

Per workload and server: delivered tokens/s, server CPU s per 1,000 tokens (the process's
threads, /proc schedstat), Redis CPU s per 1,000 tokens (``INFO cpu``), wire bytes per delta
token, p50/p99 token latency, peak RSS (VmHWM), and this client's own CPU (to say when it, not
the server, was the bound). Every reader must get every token exactly once, in order: any
other count or order stops the run with an error.

    python -m benchmarks.paced_bench              # full run (~15 min), writes results/paced.md
    python -m benchmarks.paced_bench --quick      # smoke run in seconds, prints only
    python -m benchmarks.paced_bench --quick --servers ours-redis   # no Node needed
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import shutil
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

if __package__ in (None, ""):  # run as a script: python benchmarks/paced_bench.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from websockets.asyncio.client import ClientConnection, connect

from benchmarks.machine import cpu_model, publish
from benchmarks.redis_server import RedisServer
from benchmarks.servers import RunningServer, ServerSpec, ServerStartError, ensure_installed

RESULTS_PATH = Path(__file__).resolve().parent / "results" / "paced.md"
CHART_PATH = Path(__file__).resolve().parent / "results" / "paced.png"
PEER_DIR = Path(__file__).resolve().parent / "peers" / "resumable"
PEER_PACKAGE = "resumable-stream"
PEER_VERSION = "2.2.13"
WORDS = [f"w{i}" for i in range(10)]
TEXT = " ".join(WORDS)
"""What we send; the text agent streams its words back, token i is WORDS[i % 10] (with a
leading space after the first). The peer is asked for the same tokens (``period=10``)."""
SERVER_NAMES = ("ours-redis", "ours-sqlite", "peer", "peer-post")
T = TypeVar("T")

# The targets (issue 21, item 4).
FAST_TARGET = 1.5
"""200 streams as fast as possible: our total tokens/s against the peer's."""
CPU_TARGET = 0.75
"""Server CPU per 1,000 tokens at 2,000 tokens/s against the peer's."""
REDIS_TARGET = 1.0
"""Redis CPU per 1,000 tokens at 2,000 tokens/s against the peer's."""
LATENCY_TARGET_MS = 20.0
"""p99 token latency at human pace."""
BYTES_TARGET = 100.0
"""Wire bytes per delta token, WebSocket and SSE."""


class BenchmarkError(RuntimeError):
    """A lost, duplicated or misordered token, or a stream that did not finish."""


@dataclass(frozen=True)
class Workload:
    key: str
    title: str
    streams: int
    rates: tuple[float, float] | None
    """Tokens/s of each stream, drawn in this range (a single value: all alike); None: as
    fast as possible."""
    seconds: float = 6.0
    """Of tokens per stream at its rate."""
    tokens: int = 0
    """Per stream, when ``rates`` is None."""
    spread: float = 1.0
    """Streams start spread evenly over this many seconds (0: all at once)."""

    def plan(self, seed: int = 21) -> list[tuple[float, int]]:
        """(rate, tokens) per stream; rate 0 = as fast as possible. Same for every server."""
        if self.rates is None:
            return [(0.0, self.tokens)] * self.streams
        chooser = random.Random(seed)
        low, high = self.rates
        rates = [round(chooser.uniform(low, high), 1) for _ in range(self.streams)]
        return [(rate, max(2, round(rate * self.seconds))) for rate in rates]


@dataclass(frozen=True)
class Sizes:
    rounds: int
    workloads: tuple[Workload, ...]
    sse_streams: int
    sse_tokens: int
    trial_timeout: float = 120.0


FULL = Sizes(
    rounds=3,
    workloads=(
        Workload("human200", "200 streams at 20-50 tokens/s", 200, (20, 50)),
        Workload("human1000", "1,000 streams at 20-50 tokens/s", 1000, (20, 50)),
        Workload("paced2000", "paced 2,000 tokens/s (200 streams x 10 tokens/s)", 200, (10, 10)),
        Workload(
            "fast200",
            "200 streams x 500 tokens, as fast as possible",
            200,
            None,
            tokens=500,
            spread=0,
        ),
    ),
    sse_streams=20,
    sse_tokens=150,
)
QUICK = Sizes(
    rounds=1,
    workloads=(
        Workload("human200", "4 streams at 20-50 tokens/s", 4, (20, 50), seconds=0.5, spread=0.1),
        Workload(
            "paced2000", "paced (4 streams x 10 tokens/s)", 4, (10, 10), seconds=0.5, spread=0.1
        ),
        Workload(
            "fast200", "4 streams x 100 tokens, as fast as possible", 4, None, tokens=100, spread=0
        ),
    ),
    sse_streams=2,
    sse_tokens=30,
    trial_timeout=60.0,
)


# --- servers -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OursSpec(ServerSpec):
    """Our server on ``store`` (``redis://...``; empty: SQLite in its data folder), sessions
    only (``--models`` names an empty folder: no scikit-learn in its memory)."""

    store: str = ""

    def command(self, port: int, data_dir: Path) -> list[str]:
        store = self.store or f"sqlite:///{data_dir / 'streams.db'}"
        return [
            sys.executable,
            *("-m", "serving", "--open", "--store", store, "--port", str(port)),
            *("--data-dir", str(data_dir), "--models", str(data_dir / "no-models")),
        ]


@dataclass(frozen=True)
class PeerSpec(ServerSpec):
    """The resumable-stream peer: ``REDIS_URL=... node server.js PORT`` (``env`` execs node,
    so the process measured is node itself)."""

    redis_url: str = ""

    def command(self, port: int, data_dir: Path) -> list[str]:
        node = shutil.which("node")
        if node is None:
            raise ServerStartError(
                "node is not installed: the resumable-stream peer needs Node.js 18+, "
                "or pass --servers ours-redis,ours-sqlite"
            )
        env = shutil.which("env") or "/usr/bin/env"
        return [env, f"REDIS_URL={self.redis_url}", node, str(PEER_DIR / "server.js"), str(port)]


class Stack:
    """One server under test with its own fresh redis-server (none for SQLite)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.redis: RedisServer | None = None
        if kind != "ours-sqlite":
            self.redis = RedisServer()
        try:
            if kind == "peer":
                ensure_installed(
                    PEER_DIR,
                    PEER_PACKAGE,
                    PEER_VERSION,
                    instead=", or pass --servers ours-redis,ours-sqlite",
                )
                spec: ServerSpec = PeerSpec("peer", "peer", True, redis_url=self.redis_url)
            else:
                spec = OursSpec(kind, "ours", True, store=self.redis_url)
            self.server = RunningServer(spec)
        except BaseException:
            if self.redis is not None:
                self.redis.stop()
            raise

    @property
    def redis_url(self) -> str:
        return self.redis.url if self.redis is not None else ""

    def cpu(self) -> tuple[float, float | None]:
        """(server CPU s, Redis CPU s) so far."""
        server = self.server.cpu_seconds() or 0.0
        return server, (self.redis.cpu_seconds() if self.redis is not None else None)

    def peak_rss_mb(self) -> float:
        return _status_field(self.server.pid, "VmHWM")

    def stop(self) -> None:
        self.server.stop()
        if self.redis is not None:
            self.redis.stop()


def machine_busy() -> float:
    """CPU seconds all processes of this machine used since boot (/proc/stat; 0 off Linux)."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return 0.0
    ticks = [int(value) for value in fields]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # idle + iowait
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _status_field(pid: int, name: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# --- readers ------------------------------------------------------------------------------------


@dataclass
class Stream:
    """What one reader received of one stream."""

    rate: float
    tokens: int
    arrivals: list[float] = field(default_factory=list)
    """time.time() at the receipt of each delta token, in order."""
    produced: list[float] = field(default_factory=list)
    """The server's ts of each token (ours only)."""
    wire_bytes: int = 0
    """Bytes this reader received for the stream (frames or body, framing included)."""
    retries: int = 0
    """Resumes the peer refused before this reader attached."""

    def check(self, texts: list[str], where: str) -> None:
        expected = [("" if i == 0 else " ") + WORDS[i % len(WORDS)] for i in range(self.tokens)]
        if texts != expected:
            first = next(
                (i for i, (a, b) in enumerate(zip(texts, expected, strict=False)) if a != b),
                min(len(texts), len(expected)),
            )
            raise BenchmarkError(
                f"{where}: received {len(texts)} tokens of {self.tokens}, first wrong at "
                f"index {first}: {texts[first : first + 3]!r} instead of "
                f"{expected[first : first + 3]!r} (a lost, duplicated or misordered token)"
            )

    def lateness_ms(self) -> list[float]:
        """Each token's arrival after its schedule ``anchor + i/rate``, the anchor being that
        of the stream's most punctual token (so the earliest-relative token counts 0)."""
        if self.rate <= 0 or not self.arrivals:
            return []
        step = 1 / self.rate
        offsets = [arrival - i * step for i, arrival in enumerate(self.arrivals)]
        anchor = min(offsets)
        return [(value - anchor) * 1000 for value in offsets]

    def latency_ms(self) -> list[float]:
        """Arrival minus the server's own ts of the token (same machine, same clock)."""
        return [(a - p) * 1000 for a, p in zip(self.arrivals, self.produced, strict=True)]


def _ws_header_bytes(length: int) -> int:
    """A server frame's header (unmasked): 2 bytes, +2 past 125, +8 past 65,535."""
    return 2 if length < 126 else 4 if length < 65536 else 10


async def open_socket(url: str) -> ClientConnection:
    return await connect(
        url, compression=None, max_size=None, open_timeout=120, ping_interval=None, close_timeout=2
    )


async def ours_subscribe(ws: ClientConnection, deltas: str) -> str:
    """Subscribe from the start; the delta form the server agreed to (``full``/``compact``)."""
    command: dict[str, Any] = {"type": "subscribe", "id": "sub", "from": "start"}
    if deltas in ("compact", "auto"):
        command["deltas"] = "compact"
    await ws.send(json.dumps(command))
    while True:
        for item in json.loads(await ws.recv()):
            if item.get("id") != "sub":
                continue
            if item.get("type") == "ack":
                return "compact" if item.get("deltas") == "compact" else "full"
            if deltas == "auto":  # an older server refuses the field: subscribe without it
                return await ours_subscribe(ws, "full")
            raise BenchmarkError(f"subscribe refused: {item}")


async def ours_read(
    ws: ClientConnection, stream: Stream, rate: float, delay: float, where: str
) -> None:
    """Send the run at its start time, then read until ``run.completed``: every delta's text,
    arrival, ts and the frames' bytes."""
    if delay > 0:
        await asyncio.sleep(delay)
    params = {"speed": rate if rate > 0 else 1_000_000, "length": stream.tokens}
    await ws.send(
        json.dumps(
            {"type": "send", "id": "go", "data": {"text": TEXT}, "agent": "text", "params": params}
        )
    )
    texts: list[str] = []
    last_offset = ""
    reference_ms = 0
    now = time.time
    while True:
        frame = await ws.recv(decode=False)
        arrived = now()
        stream.wire_bytes += len(frame) + _ws_header_bytes(len(frame))
        for item in json.loads(frame):
            if "d" in item:  # a compact delta: {"o", "d", "t"}
                offset = item["o"]
                texts.append(item["d"])
                stream.produced.append((reference_ms + item["t"]) / 1000)
            elif item.get("type") == "delta":
                offset = item["offset"]
                texts.append(item["data"]["text"])
                reference_ms = round(item["ts"] * 1000)
                stream.produced.append(item["ts"])
            elif item.get("type") == "run.completed":
                stream.check(texts, where)
                return
            elif item.get("type") in ("run.failed", "run.cancelled", "run.interrupted", "error"):
                raise BenchmarkError(f"{where}: the run ended with {item}")
            else:
                continue
            if offset <= last_offset:
                raise BenchmarkError(f"{where}: offset {offset} after {last_offset}")
            last_offset = offset
            stream.arrivals.append(arrived)


async def raw_request(
    port: int, head: str
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, int]:
    """Send an HTTP/1.1 request; (reader, writer, status) once the response head is read."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
    writer.write(head.encode())
    head_bytes = await reader.readuntil(b"\r\n\r\n")
    status = int(head_bytes.split(b" ", 2)[1])
    return reader, writer, status


def _request(method: str, path: str, body: bytes = b"") -> str:
    return (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n"
        f"{'Content-Type: application/json' + chr(13) + chr(10) if body else ''}\r\n"
        f"{body.decode()}"
    )


async def read_sse(
    reader: asyncio.StreamReader,
    on_event: Callable[[bytes, float], bool],
) -> int:
    """Read a chunked SSE body, calling ``on_event(event_text, arrival)`` for each event until
    it returns True; the body bytes read (chunk framing included)."""
    buffer = b""
    events = b""
    total = 0
    ended = False
    now = time.time
    while True:
        data = await reader.read(65536)
        if not data:
            raise BenchmarkError("the connection closed before the stream ended")
        arrived = now()
        total += len(data)
        buffer += data
        while True:  # de-chunk what is complete
            line_end = buffer.find(b"\r\n")
            if line_end < 0:
                break
            size = int(buffer[:line_end].split(b";")[0], 16)
            if len(buffer) < line_end + 2 + size + 2:
                break
            events += buffer[line_end + 2 : line_end + 2 + size]
            buffer = buffer[line_end + 2 + size + 2 :]
            ended = ended or size == 0
        *complete, events = events.split(b"\n\n")
        for event in complete:
            if event and on_event(event, arrived):
                return total
        if ended:
            raise BenchmarkError("the SSE response ended (its last chunk) before the stream did")


def _peer_delta(event: bytes) -> str | bool | None:
    """A peer SSE event: its delta text, None for other events, True for the end."""
    if event.startswith(b'data: {"type":"text-delta"'):
        return str(json.loads(event[6:])["delta"])
    return True if event == b"data: [DONE]" else None


class Gate:
    """Every peer reader attaches first (not timed), then all are released at once."""

    def __init__(self, count: int, concurrency: int = 100) -> None:
        self.waiting = count
        self.attached = asyncio.Event()
        self.go = asyncio.Event()
        self.setup = asyncio.Semaphore(concurrency)
        """Attach this many at a time, as our readers subscribe 100 at a time."""

    def arrived(self) -> None:
        self.waiting -= 1
        if self.waiting == 0:
            self.attached.set()


RESUME_ATTEMPTS = 5
"""The peer answers a resume with 500 "Timeout waiting for ack" when its producer does not
answer within 1 s (resumable-stream's runtime.js); a client would retry, so do we."""


async def peer_read(
    port: int,
    name: str,
    stream: Stream,
    rate: float,
    delay: float,
    resume: bool,
    where: str,
    gate: Gate,
) -> None:
    """One peer stream: POST (the producer's response), a GET resume reader if ``resume``;
    once every stream is attached, POST go at the stream's start time; read until [DONE]."""
    query = f"n={stream.tokens}&rate={rate:g}&period={len(WORDS)}&gate=1"
    writers: list[asyncio.StreamWriter] = []
    try:
        async with gate.setup:
            post_reader, post_writer, status = await raw_request(
                port, _request("POST", f"/chat/{name}?{query}")
            )
            writers.append(post_writer)
            if status != 200:
                raise BenchmarkError(f"{where}: POST /chat answered {status}")
            reader = post_reader
            drain: Awaitable[int] | None = None
            if resume:
                for _ in range(RESUME_ATTEMPTS):
                    reader, get_writer, status = await raw_request(
                        port, _request("GET", f"/chat/{name}")
                    )
                    writers.append(get_writer)
                    if status == 200:
                        break
                    stream.retries += 1
                    get_writer.close()
                    await asyncio.sleep(0.2)
                else:
                    raise BenchmarkError(
                        f"{where}: GET /chat answered {status} {RESUME_ATTEMPTS} times"
                    )
                drain = read_sse(post_reader, lambda event, _: _peer_delta(event) is True)
        gate.arrived()
        await gate.go.wait()
        if delay > 0:
            await asyncio.sleep(delay)
        _, go_writer, status = await raw_request(port, _request("POST", f"/chat/{name}/go"))
        go_writer.close()
        if status != 204:
            raise BenchmarkError(f"{where}: POST /go answered {status}")
        texts: list[str] = []

        def on_event(event: bytes, arrived: float) -> bool:
            text = _peer_delta(event)
            if text is True:
                return True
            if isinstance(text, str):
                texts.append(text)
                stream.arrivals.append(arrived)
            return False

        reading = read_sse(reader, on_event)
        if drain is not None:
            stream.wire_bytes, _ = await asyncio.gather(reading, drain)
        else:
            stream.wire_bytes = await reading
        stream.check(texts, where)
    finally:
        for writer in writers:
            writer.close()


# --- one trial ----------------------------------------------------------------------------------


@dataclass
class Trial:
    server: str
    elapsed: float
    streams: list[Stream]
    server_cpu: float
    redis_cpu: float | None
    client_cpu: float
    deltas: str = "-"
    """The delta form our readers got (``full``/``compact``; ``-`` for the peer)."""
    machine: float = 0.0
    """CPU seconds every process of the machine used meanwhile (/proc/stat)."""

    @property
    def others_busy(self) -> float:
        """Cores the machine's other processes kept busy meanwhile (other people's work)."""
        ours = self.server_cpu + (self.redis_cpu or 0.0) + self.client_cpu
        return max(0.0, self.machine - ours) / self.elapsed

    @property
    def tokens(self) -> int:
        return sum(len(s.arrivals) for s in self.streams)

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.elapsed

    def per_thousand(self, cpu: float | None) -> float | None:
        return None if cpu is None else cpu / self.tokens * 1000

    @property
    def bytes_per_token(self) -> float:
        return sum(s.wire_bytes for s in self.streams) / self.tokens


async def _in_chunks(work: Sequence[Awaitable[T]], chunk: int) -> list[T]:
    results: list[T] = []
    for index in range(0, len(work), chunk):
        results += await asyncio.gather(*work[index : index + chunk])
    return results


async def ours_trial(stack: Stack, workload: Workload, deltas: str, timeout: float) -> Trial:
    base = stack.server.url
    plan = workload.plan()
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=50), timeout=60) as http:

        async def create() -> str:
            response = await http.post(f"{base}/v1/sessions")
            response.raise_for_status()
            return str(response.json()["id"])

        sessions = await _in_chunks([create() for _ in plan], chunk=50)
    ws_base = "ws" + base.removeprefix("http")
    sockets = await _in_chunks(
        [open_socket(f"{ws_base}/v1/sessions/{s}/ws?device=bench") for s in sessions], chunk=100
    )
    try:
        forms = await _in_chunks([ours_subscribe(ws, deltas) for ws in sockets], chunk=100)
        streams = [Stream(rate, tokens) for rate, tokens in plan]
        spread = workload.spread / len(plan)
        before, client_before, machine_before = stack.cpu(), time.process_time(), machine_busy()
        started = time.perf_counter()
        await asyncio.wait_for(
            asyncio.gather(
                *(
                    ours_read(ws, stream, rate, k * spread, f"{stack.kind} stream {k}")
                    for k, (ws, stream, (rate, _)) in enumerate(
                        zip(sockets, streams, plan, strict=True)
                    )
                )
            ),
            timeout,
        )
        elapsed = time.perf_counter() - started
        after, client_after, machine_after = stack.cpu(), time.process_time(), machine_busy()
    finally:
        await _in_chunks([ws.close() for ws in sockets], chunk=200)
    return Trial(
        stack.kind,
        elapsed,
        streams,
        after[0] - before[0],
        None if after[1] is None or before[1] is None else after[1] - before[1],
        client_after - client_before,
        machine=machine_after - machine_before,
        deltas="/".join(sorted(set(forms))),
    )


_peer_trials = 0


async def peer_trial(stack: Stack, workload: Workload, resume: bool, timeout: float) -> Trial:
    global _peer_trials
    _peer_trials += 1
    plan = workload.plan()
    streams = [Stream(rate, tokens) for rate, tokens in plan]
    spread = workload.spread / len(plan)
    gate = Gate(len(plan))
    tasks = [
        asyncio.ensure_future(
            peer_read(
                stack.server.port,
                f"t{_peer_trials}-{k}",
                stream,
                rate,
                k * spread,
                resume,
                f"peer stream {k}",
                gate,
            )
        )
        for k, (stream, (rate, _)) in enumerate(zip(streams, plan, strict=True))
    ]
    attached = asyncio.ensure_future(gate.attached.wait())
    try:
        await asyncio.wait([attached, *tasks], timeout=timeout, return_when="FIRST_COMPLETED")
        if not attached.done():  # a reader failed to attach (or they took too long)
            for task in tasks:
                if task.done() and task.exception() is not None:
                    raise BenchmarkError(str(task.exception()))
            raise BenchmarkError(f"the peer's readers did not attach within {timeout:.0f} s")
        before, client_before, machine_before = stack.cpu(), time.process_time(), machine_busy()
        started = time.perf_counter()
        gate.go.set()
        await asyncio.wait_for(asyncio.gather(*tasks), timeout)
        elapsed = time.perf_counter() - started
        after, client_after, machine_after = stack.cpu(), time.process_time(), machine_busy()
    finally:
        attached.cancel()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    assert after[1] is not None and before[1] is not None
    return Trial(
        "peer" if resume else "peer-post",
        elapsed,
        streams,
        after[0] - before[0],
        after[1] - before[1],
        client_after - client_before,
        machine=machine_after - machine_before,
    )


async def ours_sse_bytes(stack: Stack, sizes: Sizes, deltas: str) -> float:
    """Wire bytes per delta token of our SSE reader (body bytes, chunk framing included, from
    the subscribe to ``run.completed``), on ``sse_streams`` streams of ``sse_tokens`` at 50/s."""
    port = stack.server.port
    totals: list[tuple[int, int]] = []

    async def one(k: int) -> None:
        async with httpx.AsyncClient(timeout=60) as http:
            session = (await http.post(f"{stack.server.url}/v1/sessions")).json()["id"]
        query = "from=start" + ("&deltas=compact" if deltas != "full" else "")
        reader, writer, status = await raw_request(
            port, _request("GET", f"/v1/sessions/{session}/events?{query}")
        )
        if status != 200:
            raise BenchmarkError(f"SSE answered {status}")
        try:
            params = {"speed": 50, "length": sizes.sse_tokens}
            command = {
                "type": "send",
                "id": "go",
                "data": {"text": TEXT},
                "agent": "text",
                "params": params,
            }
            async with httpx.AsyncClient(timeout=60) as http:
                response = await http.post(
                    f"{stack.server.url}/v1/sessions/{session}/commands", json=command
                )
                response.raise_for_status()
            texts: list[str] = []

            def on_event(event: bytes, arrived: float) -> bool:
                data = event[event.find(b"data: ") + 6 :]
                if data.startswith(b'{"d":'):
                    texts.append(json.loads(data)["d"])
                elif b'"type":"delta"' in data:
                    texts.append(json.loads(data)["data"]["text"])
                return b'"type":"run.completed"' in data

            wire = await read_sse(reader, on_event)
            Stream(50, sizes.sse_tokens).check(texts, f"{stack.kind} SSE stream {k}")
            totals.append((wire, len(texts)))
        finally:
            writer.close()

    await asyncio.gather(*(one(k) for k in range(sizes.sse_streams)))
    return sum(w for w, _ in totals) / sum(n for _, n in totals)


# --- the run ------------------------------------------------------------------------------------


@dataclass
class Result:
    """Medians over the rounds of one workload on one server."""

    tokens_per_second: float
    server_cpu: float
    redis_cpu: float | None
    client_cpu: float
    client_busy: float
    """Client CPU seconds per second of the trial (1.0 = one core saturated)."""
    bytes_per_token: float
    latency_p50: float | None
    latency_p99: float | None
    lateness_p50: float | None
    lateness_p99: float | None
    rss_mb: float
    deltas: str
    tokens: int
    offered: float
    """Tokens/s the workload asks for once every stream runs (0: as fast as possible)."""
    others_busy: float
    """Cores other processes kept busy meanwhile."""
    retries: int
    """Most resumes the peer refused (then accepted) in one round, before the timing."""


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def summarize(trials: list[Trial], rss_mb: float) -> Result:
    def median(values: list[float | None]) -> float | None:
        known = [v for v in values if v is not None]
        return statistics.median(known) if known else None

    def pct(kind: str, fraction: float) -> float | None:
        values = []
        for trial in trials:
            samples = [x for s in trial.streams for x in getattr(s, kind)()]
            values.append(percentile(samples, fraction) if samples else None)
        return median(values)

    return Result(
        tokens_per_second=statistics.median(t.tokens_per_second for t in trials),
        server_cpu=statistics.median(t.server_cpu / t.tokens * 1000 for t in trials),
        redis_cpu=median([t.per_thousand(t.redis_cpu) for t in trials]),
        client_cpu=statistics.median(t.client_cpu / t.tokens * 1000 for t in trials),
        client_busy=statistics.median(t.client_cpu / t.elapsed for t in trials),
        bytes_per_token=statistics.median(t.bytes_per_token for t in trials),
        latency_p50=pct("latency_ms", 0.50) if trials[0].server.startswith("ours") else None,
        latency_p99=pct("latency_ms", 0.99) if trials[0].server.startswith("ours") else None,
        lateness_p50=pct("lateness_ms", 0.50),
        lateness_p99=pct("lateness_ms", 0.99),
        rss_mb=rss_mb,
        deltas=trials[0].deltas,
        tokens=trials[0].tokens,
        offered=sum(s.rate for s in trials[0].streams),
        retries=max(sum(s.retries for s in t.streams) for t in trials),
        others_busy=statistics.median(t.others_busy for t in trials),
    )


@dataclass
class Run:
    sizes: Sizes
    servers: list[str]
    results: dict[str, dict[str, Result]] = field(default_factory=dict)
    """workload key -> server -> result."""
    sse_bytes: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0


async def run_workload(workload: Workload, run: Run, deltas: str) -> None:
    kinds = [
        k
        for k in ("ours-redis", "ours-sqlite", "peer")
        if k in run.servers or (k == "peer" and "peer-post" in run.servers)
    ]
    stacks: dict[str, Stack] = {}
    trials: dict[str, list[Trial]] = {}
    try:
        for kind in kinds:
            stacks[kind] = Stack(kind)
        for round_number in range(run.sizes.rounds):
            order = (
                run.servers[round_number % len(run.servers) :]
                + run.servers[: round_number % len(run.servers)]
            )
            for name in order:  # interleaved, the order rotating each round
                print(f"  {workload.key} round {round_number + 1}: {name}", flush=True)
                timeout = run.sizes.trial_timeout + 4 * workload.seconds
                if name.startswith("ours"):
                    trial = await ours_trial(stacks[name], workload, deltas, timeout)
                else:
                    trial = await peer_trial(stacks["peer"], workload, name == "peer", timeout)
                trials.setdefault(name, []).append(trial)
            if workload.key == "human200":
                for name in ("ours-redis", "ours-sqlite"):
                    if name in stacks:
                        run.sse_bytes.setdefault(name, 0.0)
                        run.sse_bytes[name] += (
                            await ours_sse_bytes(stacks[name], run.sizes, deltas) / run.sizes.rounds
                        )
        for name, done in trials.items():
            stack = stacks["peer" if name.startswith("peer") else name]
            run.results.setdefault(workload.key, {})[name] = summarize(done, stack.peak_rss_mb())
    finally:
        for stack in stacks.values():
            stack.stop()


async def run_all(sizes: Sizes, servers: list[str], deltas: str) -> Run:
    run = Run(sizes, servers)
    began = time.monotonic()
    limit = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit[1], limit[1]))
    for workload in sizes.workloads:
        print(f"== {workload.title}", flush=True)
        await run_workload(workload, run, deltas)
    run.seconds = time.monotonic() - began
    return run


# --- the report ---------------------------------------------------------------------------------


def _f(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _ratio(ours: float | None, peer: float | None) -> float | None:
    return None if ours is None or not peer else ours / peer


def headline(run: Run) -> list[str]:
    """The first table: each target, ours on Redis (and SQLite), the peer, ours/peer, met."""
    r = run.results
    peer = "peer" if "peer" in run.servers else None
    rows: list[tuple[str, str, str, float | None, float | None, float | None, str, bool | None]]
    rows = []

    def get(workload: str, server: str | None, attr: str) -> float | None:
        if server is None or server not in r.get(workload, {}):
            return None
        value: float | None = getattr(r[workload][server], attr)
        return value

    def ratio_row(
        title: str, workload: str, attr: str, unit: str, target: float, higher: bool
    ) -> None:
        ours, sqlite = get(workload, "ours-redis", attr), get(workload, "ours-sqlite", attr)
        theirs = get(workload, peer, attr)
        ratio = _ratio(ours, theirs)
        met = None if ratio is None else (ratio >= target if higher else ratio <= target)
        sign = "≥" if higher else "≤"
        rows.append(
            (
                title,
                unit,
                f"{sign} {target:g}x peer",
                ours,
                sqlite,
                theirs,
                "-" if ratio is None else f"{ratio:.2f}x",
                met,
            )
        )

    ratio_row(
        "200 streams x 500 tokens as fast as possible, total",
        "fast200",
        "tokens_per_second",
        "tokens/s",
        FAST_TARGET,
        higher=True,
    )
    ratio_row(
        "server CPU per 1,000 tokens at a paced 2,000 tokens/s",
        "paced2000",
        "server_cpu",
        "CPU s",
        CPU_TARGET,
        higher=False,
    )
    ratio_row(
        "Redis CPU per 1,000 tokens at a paced 2,000 tokens/s",
        "paced2000",
        "redis_cpu",
        "CPU s",
        REDIS_TARGET,
        higher=False,
    )
    for key in ("human200", "human1000"):
        if key not in r:
            continue
        worst = [get(key, s, "latency_p99") for s in ("ours-redis", "ours-sqlite")]
        known = [w for w in worst if w is not None]
        rows.append(
            (
                f"p99 token latency, {_workload(run, key).title} (produced to received)",
                "ms",
                f"≤ {LATENCY_TARGET_MS:g} ms",
                worst[0],
                worst[1],
                get(key, peer, "lateness_p99"),
                "-",
                all(w <= LATENCY_TARGET_MS for w in known) if known else None,
            )
        )
    for label, values in (
        (
            "WebSocket",
            [get("human200", s, "bytes_per_token") for s in ("ours-redis", "ours-sqlite")],
        ),
        ("SSE", [run.sse_bytes.get(s) for s in ("ours-redis", "ours-sqlite")]),
    ):
        known = [v for v in values if v is not None]
        rows.append(
            (
                f"bytes on the wire per delta token, {label}, human pace",
                "bytes",
                f"≤ {BYTES_TARGET:g}",
                values[0],
                values[1],
                get("human200", peer, "bytes_per_token"),
                "-",
                all(v <= BYTES_TARGET for v in known) if known else None,
            )
        )
    lines = [
        "| target | unit | target value | ours-redis | ours-sqlite | peer (resume reader) | "
        "ours-redis/peer | met |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for title, unit, target, ours, sqlite, theirs, ratio, met in rows:
        digits = 3 if unit == "CPU s" else 1 if unit in ("ms", "bytes") else 0
        verdict = "-" if met is None else "met" if met else "**missed**"
        lines.append(
            f"| {title} | {unit} | {target} | {_f(ours, digits)} | "
            f"{_f(sqlite, digits)} | {_f(theirs, digits)} | {ratio} | {verdict} |"
        )
    return lines


def _workload(run: Run, key: str) -> Workload:
    return next(w for w in run.sizes.workloads if w.key == key)


def details(run: Run) -> list[str]:
    lines = [
        "| workload | server | tokens/s (offered) | server CPU s / 1k tokens | "
        "Redis CPU s / 1k tokens | client CPU s / 1k tokens | client busy | bytes / token | "
        "latency p50 / p99 ms | lateness p50 / p99 ms | peak RSS MB | deltas / notes | "
        "other processes, cores |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for workload in run.sizes.workloads:
        for name in run.servers:
            res = run.results.get(workload.key, {}).get(name)
            if res is None:
                continue
            lines.append(
                f"| {workload.title} | {name} | {res.tokens_per_second:,.0f} "
                f"({f'{res.offered:,.0f}' if res.offered else 'max'}) | "
                f"{res.server_cpu:.3f} | {_f(res.redis_cpu, 3)} | {res.client_cpu:.3f} | "
                f"{res.client_busy:.0%} | {res.bytes_per_token:.1f} | "
                f"{_f(res.latency_p50, 1)} / {_f(res.latency_p99, 1)} | "
                f"{_f(res.lateness_p50, 1)} / {_f(res.lateness_p99, 1)} | {res.rss_mb:.0f} | "
                f"{res.deltas if not res.retries else f'{res.retries} resumes retried'} | "
                f"{res.others_busy:.2f} |"
            )
    return lines


def load_note(run: Run) -> list[str]:
    """What a paced workload's tokens/s can reach, and which workloads overload the machine."""
    paced = [w for w in run.sizes.workloads if w.rates is not None and w.key in run.results]
    if not paced:
        return []
    first = paced[0]
    window = first.seconds / (first.seconds + first.spread)
    offered = {w.key: next(iter(run.results[w.key].values())).offered for w in paced}
    steady = [w for w in paced if w.rates is not None and w.rates[0] == w.rates[1]]
    human = [w for w in paced if w not in steady]
    lines = [
        f"- Streams start spread over {first.spread:g} s, so a paced workload delivers at most "
        f"its offered rate x {window:.2f} ({first.seconds:g} s of tokens in a "
        f"{first.seconds + first.spread:g} s window) when the server keeps up."
    ]
    if steady and human:
        base = offered[steady[0].key]
        shown = ", ".join(f"{offered[w.key]:,.0f} ({offered[w.key] / base:.1f}x)" for w in human)
        lines.append(
            f"- The human-pace workloads offer {shown} tokens/s, against {base:,.0f} for the paced "
            "one: where a server cannot deliver that on 2 shared cores it falls behind for the "
            "whole run, and its latency (hundreds of ms to seconds) measures that backlog, not "
            "a per-token delay. The paced row is the latency at a load every server carries."
        )
    return lines


def report(run: Run) -> str:
    lines = [
        "# Paced benchmark: many streams at reading speed, ours against resumable-stream",
        "",
        "Written by `python -m benchmarks.paced_bench` (issue 21; see its docstring). Ratios are "
        "ours-redis/peer; the peer is Vercel's `resumable-stream` 2.2.13 (Node, Redis pub/sub) "
        "read by a resume reader (`GET /chat/{id}`, tokens through Redis pub/sub), as in the "
        "issue's measurements. Its `peer-post` row below (the producer's own response as the "
        "reader, no pub/sub) is the cheaper mode and is not used for any ratio.",
        "",
        *headline(run),
        "",
        "Where a paced token's CPU goes, what was cut and why the missed targets do not go lower "
        "on 2 cores: [docs/SCALING.md, \"Many streams at reading speed\"]"
        "(../../docs/SCALING.md#many-streams-at-reading-speed).",
        "",
        "## Every workload and server",
        "",
        f"Medians of {run.sizes.rounds} interleaved rounds (the server order rotating each round); "
        "each workload on freshly started servers, each with its own fresh redis-server.",
        "",
        *details(run),
        "",
        "![tokens/s, server CPU and Redis CPU per 1,000 tokens, bytes per token](paced.png)",
        "",
        "## How it is measured",
        "",
        "- **tokens/s**: delta tokens every reader received, divided by the time from the first "
        "stream's start to the last stream's last token (streams start spread evenly over "
        "1 s at human pace; all at once as fast as possible). Paced workloads deliver about their "
        "offered rate when the server keeps up (below).",
        "- **server CPU**: utime+stime of the server process's threads (`/proc/PID/task/*/"
        "schedstat`) over that window, per 1,000 tokens delivered; **Redis CPU**: `INFO cpu` "
        "(used_cpu_user + used_cpu_sys) of that server's own redis-server. Session creation "
        "and subscribing happen before the window.",
        "- **client CPU / client busy**: this one Python client process (uvloop, plain "
        "`websockets` that decode every frame, raw asyncio sockets for SSE) per 1,000 tokens, "
        "and its CPU seconds per second of the window: near 100% means the client, not the "
        "server, was the bound.",
        "- **bytes / token**: everything the reader received for its run divided by its delta "
        "tokens: WebSocket frame payloads plus frame headers, from the send to `run.completed` "
        "(its ack and the message, run.started and run.completed events included); SSE the "
        "response body as read from the socket (HTTP chunk framing included; for the peer "
        "the start/finish/[DONE] events included). Our SSE figure is from "
        f"{run.sizes.sse_streams} streams x {run.sizes.sse_tokens} tokens at 50 tokens/s read "
        "with `GET /v1/sessions/{id}/events?from=start` (after each human-pace round).",
        "- **latency** (ours): arrival time at the reader minus the event's `ts` (the server's "
        "wall clock when the token was written, same machine; `t` in compact deltas): produced "
        "to received. The peer's deltas carry no time, so for both a **lateness** is measured "
        "too: token i's arrival minus its schedule `anchor + i/rate`, the anchor being that of "
        "the stream's most punctual token. It includes the producer's own timer lateness and "
        "excludes a delay common to every token of a stream (loopback: well under 1 ms). The "
        "peer's latency cells in the headline are this lateness.",
        "- **peak RSS**: the server process's VmHWM at the end of the workload's rounds.",
        "- **offered**: the sum of the streams' rates, what the workload asks for once every "
        "stream runs; a server that delivers less fell behind (its latency says by how much).",
        *load_note(run),
        "- **other processes, cores**: CPU the rest of the machine used during the window "
        "(`/proc/stat` busy time minus the server's, its Redis's and this client's): this "
        "machine is shared, and a paced token's latency depends on getting a core on time.",
        "- **the peer's setup**: every stream's POST and resume GET are made before the timed "
        "window (100 at a time, as our readers subscribe 100 at a time), then all are "
        'released (POST /go, spread like ours). A resume the peer refuses with 500 ("Timeout '
        'waiting for ack": its producer did not answer the resume within 1 s) is retried '
        f"up to {RESUME_ATTEMPTS} times, 0.2 s apart; the notes column counts the retries.",
        "- **deltas**: the delta form our readers asked for and got (`--deltas auto`: compact "
        'when the server\'s subscribe ack echoes `"deltas": "compact"`, else full).',
        "- Every reader checks it got every token exactly once and in order (ours: offsets "
        "strictly increasing and the texts `w0, w1, ... w9, w0...`; the peer: the same texts "
        "and count, `period=10`); anything else stops the run.",
        f"- Whole run: {run.seconds:.0f} s.",
        "",
        "## Machine",
        "",
        f"- CPU: {cpu_model()}, {os.cpu_count()} cores, shared by the client, the server under "
        "test and its redis-server (and, idle meanwhile, the other servers of the workload)",
        f"- load average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}",
    ]
    return "\n".join(lines) + "\n"


def chart(run: Run, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = (
        ("tokens_per_second", "delivered tokens/s"),
        ("server_cpu", "server CPU s / 1,000 tokens"),
        ("redis_cpu", "Redis CPU s / 1,000 tokens"),
        ("bytes_per_token", "bytes / token (WebSocket or SSE)"),
    )
    workloads = run.sizes.workloads
    figure, axes = plt.subplots(1, len(metrics), figsize=(17, 4.2))
    width = 0.8 / len(run.servers)
    for axis, (attr, title) in zip(axes, metrics, strict=True):
        for index, name in enumerate(run.servers):
            values = []
            for workload in workloads:
                res = run.results.get(workload.key, {}).get(name)
                value = getattr(res, attr) if res is not None else None
                values.append(value or 0.0)
            axis.bar([w + index * width for w in range(len(workloads))], values, width, label=name)
        axis.set_xticks([w + 0.4 - width / 2 for w in range(len(workloads))])
        axis.set_xticklabels([w.key for w in workloads], fontsize=8)
        axis.set_title(title, fontsize=10)
        if attr == "bytes_per_token":
            axis.axhline(BYTES_TARGET, color="grey", linestyle="--", linewidth=0.8)
    axes[0].legend(fontsize=8)
    figure.suptitle("Paced streams, one reader each: ours (Redis, SQLite) vs resumable-stream")
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)


def benchmark(sizes: Sizes, servers: list[str], deltas: str = "auto") -> tuple[Run, str]:
    try:
        import uvloop

        run = uvloop.run(run_all(sizes, servers, deltas))
    except ImportError:
        run = asyncio.run(run_all(sizes, servers, deltas))
    return run, report(run)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.paced_bench")
    parser.add_argument("--quick", action="store_true", help="tiny sizes; print, do not write")
    parser.add_argument(
        "--servers",
        default=",".join(SERVER_NAMES),
        help="which servers to run (default: %(default)s; ours only needs no Node)",
    )
    parser.add_argument(
        "--deltas",
        choices=("auto", "compact", "full"),
        default="auto",
        help="the delta form our readers ask for (auto: compact if the server offers it)",
    )
    parser.add_argument(
        "--workloads",
        default="",
        help="only these workloads (comma-separated keys: human200, human1000, paced2000, "
        "fast200); the page is then printed, not written",
    )
    parser.add_argument("--rounds", type=int, default=0, help="rounds (default: 3, quick 1)")
    args = parser.parse_args(argv)
    servers = [name.strip() for name in args.servers.split(",") if name.strip()]
    unknown = [name for name in servers if name not in SERVER_NAMES]
    if unknown or not servers:
        parser.error(
            f"unknown server(s) {', '.join(unknown)}; choose from {', '.join(SERVER_NAMES)}"
        )
    servers = [name for name in SERVER_NAMES if name in servers]
    sizes = QUICK if args.quick else FULL
    partial = bool(args.workloads) or args.rounds > 0
    if args.rounds > 0:
        sizes = replace(sizes, rounds=args.rounds)
    if args.workloads:
        keys = args.workloads.split(",")
        chosen = tuple(w for w in sizes.workloads if w.key in keys)
        if not chosen:
            parser.error(f"no workload {args.workloads!r} in this mode")
        sizes = replace(sizes, workloads=chosen)
    run, text = benchmark(sizes, servers, args.deltas)
    publish(text, RESULTS_PATH, quick=args.quick or partial)
    if not (args.quick or partial):
        chart(run, CHART_PATH)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
