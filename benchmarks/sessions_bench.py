"""The sessions benchmark: our session server against the raw Python WebSocket ceiling.

The issue's targets, measured on loopback with our server in its own process (``python -m
serving --open``, memory and SQLite stores) and one client process (this one, on uvloop, plain
``websockets`` connections that parse every frame):

- one client: delta events per second delivered over one WebSocket (target 50,000/s);
- fan-out: 100 clients on one session, total deliveries per second (target 20,000/s);
- resume: a client that missed 10,000 events, from its subscribe to the last missed event,
  p50 and p99 (target p99 under 50 ms);
- capacity: server memory (RSS) holding 1,000 sessions with 2 idle clients each (target under
  300 MB);
- stop: from a cancel command to the ``run.cancelled`` event, p50 and p99 (the issue's 100 ms).

The peer, run in the same session for the ratios, is a bare ``websockets`` server in its own
process that sends the same delta events one per frame from memory, with no log, no offsets,
no durability: what Python's WebSocket stack alone can push (throughput ratios are ours/peer,
memory ratio peer/ours; higher is better). Rounds are interleaved across servers so a shared
machine's load falls on every server alike; the result is the median round.

    python -m benchmarks.sessions_bench            # full run, writes benchmarks/results/sessions.md
    python -m benchmarks.sessions_bench --quick    # smoke run in seconds, prints only
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
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar
from urllib.parse import parse_qs, urlsplit

if __package__ in (None, ""):  # run as a script: python benchmarks/sessions_bench.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import ServerConnection, serve

from benchmarks.machine import cpu_model, publish
from benchmarks.servers import SERVERS, RunningServer, ServerSpec, free_port, our_server_names
from serving.client import AsyncSessionClient

RESULTS_PATH = Path(__file__).resolve().parent / "results" / "sessions.md"
TEXT = "the quick brown fox jumps over the lazy dog"
PEER_EVENT = json.dumps(
    {
        "offset": "0000000000000042_0000000000006789.000017",
        "type": "delta",
        "session": "0123456789abcdef0123456789abcdef",
        "run": "r-0123456789ab",
        "agent": "text",
        "device": None,
        "ts": 1767225600.123,
        "data": {"text": " quick"},
    },
    separators=(",", ":"),
)
"""A delta as our server sends it, for the peer to send."""
PEER_END = '[{"type":"run.completed"}]'
T = TypeVar("T")


@dataclass(frozen=True)
class Sizes:
    rounds: int = 3
    one_client_events: int = 100_000
    fan_out_clients: int = 100
    fan_out_events: int = 2_000
    resume_missed: int = 10_000
    resume_trials: int = 100
    stop_trials: int = 30
    sessions: int = 1_000
    clients_per_session: int = 2
    settle_seconds: float = 2.0
    """Wait before reading the server's memory once every client is attached."""


FULL = Sizes()
QUICK = Sizes(
    rounds=1,
    one_client_events=3_000,
    fan_out_clients=5,
    fan_out_events=300,
    resume_missed=500,
    resume_trials=5,
    stop_trials=3,
    sessions=10,
    settle_seconds=0.2,
)


class SessionsOnly(ServerSpec):
    """Our server without the model agents (``--models`` names an empty folder), so the
    numbers are those of the sessions layer, not of scikit-learn loaded at start-up."""

    def command(self, port: int, data_dir: Path) -> list[str]:
        return [*super().command(port, data_dir), "--models", str(data_dir / "no-models")]


def sessions_server(name: str) -> ServerSpec:
    spec = SERVERS[name]
    return SessionsOnly(spec.name, spec.implementation, spec.durable)


# --- the peer: a bare websockets server ---------------------------------------------------------


async def serve_peer(port: int) -> None:
    """``/stream?count=N``: N delta events, one per frame, then an end frame; ``/idle``: hold."""

    async def handler(connection: ServerConnection) -> None:
        request = urlsplit(connection.request.path if connection.request else "/")
        if request.path == "/stream":
            count = int(parse_qs(request.query)["count"][0])
            frame = f"[{PEER_EVENT}]"
            for _ in range(count):
                await connection.send(frame)
            await connection.send(PEER_END)
        await connection.wait_closed()

    async with serve(handler, "127.0.0.1", port, compression=None, max_size=None):
        await asyncio.Future()


class PeerServer:
    """The peer in its own process, like our server."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [
            sys.executable,
            "-m",
            "benchmarks.sessions_bench",
            "--serve-peer",
            str(self.port),
        ]
        root = Path(__file__).resolve().parents[1]
        self.process = subprocess.Popen(command, cwd=root)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                httpx.get(self.url, timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("the peer server did not start")

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


# --- client side ---------------------------------------------------------------------------------


def ws_base(url: str) -> str:
    return "ws" + url.removeprefix("http")


async def open_socket(url: str) -> ClientConnection:
    return await connect(url, compression=None, max_size=None, open_timeout=60, ping_interval=None)


async def new_session(http: httpx.AsyncClient, base: str) -> str:
    response = await http.post(f"{base}/v1/sessions")
    response.raise_for_status()
    return response.json()["id"]


async def subscribe(ws: ClientConnection, start: str) -> None:
    await ws.send(json.dumps({"type": "subscribe", "id": "sub", "from": start}))
    reply = json.loads(await ws.recv())
    if reply[0].get("type") != "ack":
        raise RuntimeError(f"subscribe refused: {reply}")


DELTA = '"type":"delta"'


async def count_deltas(ws: ClientConnection, ending: str = "run.completed") -> int:
    """Count deltas until the ending event, without decoding the JSON: a quoted ``"type":``
    can only be an envelope's (a quote inside a JSON string is escaped), and decoding would
    make this client, not the server, the bottleneck (the SDK row measures a decoding one)."""
    marker = f'"type":"{ending}"'
    deltas = 0
    while True:
        frame = await ws.recv()
        assert isinstance(frame, str)
        deltas += frame.count(DELTA)
        if marker in frame:
            return deltas


def send_text(length: int, command_id: str = "go") -> str:
    params = {"speed": 1_000_000, "length": length}
    return json.dumps({"type": "send", "id": command_id, "data": {"text": TEXT}, "params": params})


async def ours_one_client(base: str, sizes: Sizes) -> float:
    async with httpx.AsyncClient() as http:
        session = await new_session(http, base)
    ws = await open_socket(f"{ws_base(base)}/v1/sessions/{session}/ws")
    async with ws:
        await subscribe(ws, "new")
        started = time.perf_counter()
        await ws.send(send_text(sizes.one_client_events))
        deltas = await count_deltas(ws)
        elapsed = time.perf_counter() - started
    if deltas != sizes.one_client_events:
        raise RuntimeError(f"received {deltas} deltas of {sizes.one_client_events}")
    return deltas / elapsed


async def sdk_one_client(base: str, sizes: Sizes) -> float:
    """The same, received with the Python SDK (it decodes every event into an Event)."""
    async with await AsyncSessionClient.create(base, start="new") as client:
        started = time.perf_counter()
        ack = await client.send(
            {"text": TEXT}, params={"speed": 1_000_000, "length": sizes.one_client_events}
        )
        deltas = 0
        while True:
            event = await client.next_event()
            if event.type == "delta":
                deltas += 1
            elif event.ends_run and event.run == ack.run:
                break
        elapsed = time.perf_counter() - started
    if deltas != sizes.one_client_events:
        raise RuntimeError(f"the SDK received {deltas} deltas of {sizes.one_client_events}")
    return deltas / elapsed


async def peer_one_client(base: str, sizes: Sizes) -> float:
    async with await open_socket(f"{ws_base(base)}/stream?count={sizes.one_client_events}") as ws:
        started = time.perf_counter()
        deltas = await count_deltas(ws)
        return deltas / (time.perf_counter() - started)


async def ours_fan_out(base: str, sizes: Sizes) -> float:
    async with httpx.AsyncClient() as http:
        session = await new_session(http, base)
    url = f"{ws_base(base)}/v1/sessions/{session}/ws"
    sockets = await asyncio.gather(*(open_socket(url) for _ in range(sizes.fan_out_clients)))
    try:
        await asyncio.gather(*(subscribe(ws, "new") for ws in sockets))
        started = time.perf_counter()
        await sockets[0].send(send_text(sizes.fan_out_events))
        counts = await asyncio.gather(*(count_deltas(ws) for ws in sockets))
        elapsed = time.perf_counter() - started
    finally:
        await asyncio.gather(*(ws.close() for ws in sockets))
    if set(counts) != {sizes.fan_out_events}:
        raise RuntimeError(f"a client missed deltas: {sorted(set(counts))}")
    return sum(counts) / elapsed


async def peer_fan_out(base: str, sizes: Sizes) -> float:
    url = f"{ws_base(base)}/stream?count={sizes.fan_out_events}"
    started = time.perf_counter()
    sockets = await asyncio.gather(*(open_socket(url) for _ in range(sizes.fan_out_clients)))
    try:
        counts = await asyncio.gather(*(count_deltas(ws) for ws in sockets))
    finally:
        await asyncio.gather(*(ws.close() for ws in sockets))
    return sum(counts) / (time.perf_counter() - started)


async def ours_resume(base: str, sizes: Sizes) -> list[float]:
    """Milliseconds from subscribe to the last of ``resume_missed`` events, per trial."""
    async with httpx.AsyncClient() as http:
        session = await new_session(http, base)
    url = f"{ws_base(base)}/v1/sessions/{session}/ws"
    async with await open_socket(url) as ws:
        await subscribe(ws, "start")
        await ws.send(send_text(sizes.resume_missed))
        offsets: list[str] = []
        done = False
        while not done:
            for item in json.loads(await ws.recv()):
                if "offset" in item and "session" in item:
                    offsets.append(item["offset"])
                done = done or item.get("type") == "run.completed"
    start = offsets[-sizes.resume_missed - 1]  # the client saw this one, then missed 10,000
    samples = []
    for _ in range(sizes.resume_trials):
        async with await open_socket(url) as ws:
            began = time.perf_counter()
            await ws.send(json.dumps({"type": "subscribe", "id": "sub", "from": start}))
            await ws.recv()  # the subscribe ack
            received = 0
            while received < sizes.resume_missed:
                frame = await ws.recv()
                assert isinstance(frame, str)
                received += frame.count('"session":')
            samples.append((time.perf_counter() - began) * 1000)
    return samples


async def ours_stop(base: str, sizes: Sizes) -> list[float]:
    """Milliseconds from sending a cancel to receiving ``run.cancelled``, per trial."""
    async with httpx.AsyncClient() as http:
        session = await new_session(http, base)
    samples = []
    async with await open_socket(f"{ws_base(base)}/v1/sessions/{session}/ws") as ws:
        await subscribe(ws, "new")
        for trial in range(sizes.stop_trials):
            command = {"type": "send", "id": f"s{trial}", "data": {"text": TEXT}}
            await ws.send(json.dumps({**command, "params": {"speed": 50, "length": 100_000}}))
            run = await _first(ws, lambda item: item.get("type") == "delta", "run")
            began = time.perf_counter()
            await ws.send(json.dumps({"type": "cancel", "id": f"c{trial}", "run": run}))
            await _first(ws, lambda item: item.get("type") == "run.cancelled", "run")
            samples.append((time.perf_counter() - began) * 1000)
    return samples


async def _first(ws: ClientConnection, match: Callable[[dict], bool], field: str) -> str:
    while True:
        for item in json.loads(await ws.recv()):
            if match(item):
                return item[field]


def rss_megabytes(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("VmRSS not found")


async def _settle_rss(pid: int, seconds: float) -> float:
    await asyncio.sleep(seconds)  # let the server finish the subscribes and settle
    return rss_megabytes(pid)


async def ours_capacity(base: str, pid: int, sizes: Sizes) -> float:
    """Server RSS (MB) with ``sessions`` sessions and their idle subscribed clients."""
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=20)) as http:
        sessions = await _in_chunks(
            [new_session(http, base) for _ in range(sizes.sessions)], chunk=50
        )

    async def attach(session: str) -> ClientConnection:
        ws = await open_socket(f"{ws_base(base)}/v1/sessions/{session}/ws")
        await subscribe(ws, "start")
        return ws

    sockets = await _in_chunks(
        [attach(s) for s in sessions for _ in range(sizes.clients_per_session)], chunk=100
    )
    try:
        return await _settle_rss(pid, sizes.settle_seconds)
    finally:
        await _in_chunks([ws.close() for ws in sockets], chunk=200)


async def peer_capacity(base: str, pid: int, sizes: Sizes) -> float:
    count = sizes.sessions * sizes.clients_per_session
    sockets = await _in_chunks([open_socket(f"{ws_base(base)}/idle") for _ in range(count)], 100)
    try:
        return await _settle_rss(pid, sizes.settle_seconds)
    finally:
        await _in_chunks([ws.close() for ws in sockets], chunk=200)


async def _in_chunks(work: Sequence[Awaitable[T]], chunk: int) -> list[T]:
    results: list[T] = []
    for index in range(0, len(work), chunk):
        results += await asyncio.gather(*work[index : index + chunk])
    return results


# --- the run -------------------------------------------------------------------------------------


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def run_all(sizes: Sizes, server_names: list[str]) -> dict[str, dict[str, float]]:
    """Every scenario on every server, rounds interleaved; medians (and pooled percentiles)."""
    throughput: dict[tuple[str, str], list[float]] = {}
    latency: dict[tuple[str, str], list[float]] = {}
    memory: dict[str, float] = {}
    baseline: dict[str, float] = {}
    peer = PeerServer()
    try:
        servers = {name: RunningServer(sessions_server(name)) for name in server_names}
        try:
            for _ in range(sizes.rounds):
                for name, server in servers.items():
                    for scenario, measure in (
                        ("one", ours_one_client),
                        ("fan", ours_fan_out),
                        ("sdk", sdk_one_client),
                    ):
                        throughput.setdefault((scenario, name), []).append(
                            await measure(server.url, sizes)
                        )
                throughput.setdefault(("one", "peer"), []).append(
                    await peer_one_client(peer.url, sizes)
                )
                throughput.setdefault(("fan", "peer"), []).append(
                    await peer_fan_out(peer.url, sizes)
                )
        finally:
            for server in servers.values():
                server.stop()
        # memory and latencies on fresh servers, not ones holding the data of the runs above
        for name in server_names:
            with RunningServer(sessions_server(name)) as server:
                latency["resume", name] = await ours_resume(server.url, sizes)
                latency["stop", name] = await ours_stop(server.url, sizes)
            with RunningServer(sessions_server(name)) as server:
                baseline[name] = rss_megabytes(server.pid)
                memory[name] = await ours_capacity(server.url, server.pid, sizes)
        baseline["peer"] = rss_megabytes(peer.pid)
        memory["peer"] = await peer_capacity(peer.url, peer.pid, sizes)
    finally:
        peer.stop()
    results: dict[str, dict[str, float]] = {}
    for (scenario, name), values in throughput.items():
        results.setdefault(scenario, {})[name] = statistics.median(values)
    for (scenario, name), values in latency.items():
        results.setdefault(f"{scenario} p50", {})[name] = percentile(values, 0.50)
        results.setdefault(f"{scenario} p99", {})[name] = percentile(values, 0.99)
    for name, value in memory.items():
        results.setdefault("rss", {})[name] = value
        results.setdefault("rss baseline", {})[name] = baseline[name]
    return results


def report(
    results: dict[str, dict[str, float]], sizes: Sizes, names: list[str], seconds: float
) -> str:
    def cell(scenario: str, name: str, digits: int = 0) -> str:
        value = results.get(scenario, {}).get(name)
        return "-" if value is None else f"{value:,.{digits}f}"

    def ratio(scenario: str, name: str, inverse: bool = False) -> str:
        ours, peer = results[scenario].get(name), results[scenario].get("peer")
        if not ours or not peer:
            return "-"
        return f"{(peer / ours if inverse else ours / peer):.2f}x"

    def verdict(scenario: str, target: float, below: bool = False) -> str:
        values = [results[scenario][name] for name in names if name in results[scenario]]
        met = all((value < target) if below else (value >= target) for value in values)
        return "PASS" if met else "**MISS**"

    sessions_memory = {
        name: results["rss"][name] - results["rss baseline"][name] for name in [*names, "peer"]
    }
    header = (
        "| scenario | unit | target | "
        + " | ".join(names)
        + " | raw websockets peer | "
        + " | ".join(f"{name}/peer" for name in names)
        + " | target met |"
    )
    rule = "|" + "---|" * (5 + 2 * len(names))
    rows = [
        (
            "one client, delta events delivered",
            "events/s",
            "≥ 50,000",
            "one",
            lambda name: cell("one", name),
            lambda name: ratio("one", name),
            verdict("one", 50_000),
        ),
        (
            "one client with the Python SDK (decodes every event)",
            "events/s",
            "",
            "sdk",
            lambda name: cell("sdk", name),
            lambda name: "",
            "",
        ),
        (
            f"fan-out, {sizes.fan_out_clients} clients on one session",
            "deliveries/s",
            "≥ 20,000",
            "fan",
            lambda name: cell("fan", name),
            lambda name: ratio("fan", name),
            verdict("fan", 20_000),
        ),
        (
            f"resume after {sizes.resume_missed:,} missed events, p50",
            "ms",
            "",
            "resume p50",
            lambda name: cell("resume p50", name, 1),
            lambda name: "",
            "",
        ),
        (
            f"resume after {sizes.resume_missed:,} missed events, p99",
            "ms",
            "< 50",
            "resume p99",
            lambda name: cell("resume p99", name, 1),
            lambda name: "",
            verdict("resume p99", 50, below=True),
        ),
        (
            "stop: cancel to run.cancelled, p50",
            "ms",
            "",
            "stop p50",
            lambda name: cell("stop p50", name, 1),
            lambda name: "",
            "",
        ),
        (
            "stop: cancel to run.cancelled, p99",
            "ms",
            "< 100",
            "stop p99",
            lambda name: cell("stop p99", name, 1),
            lambda name: "",
            verdict("stop p99", 100, below=True),
        ),
        (
            f"server memory, {sizes.sessions:,} sessions x {sizes.clients_per_session} "
            "idle clients",
            "MB (RSS)",
            "< 300",
            "rss",
            lambda name: cell("rss", name),
            lambda name: ratio("rss", name, inverse=True),
            verdict("rss", 300, below=True),
        ),
    ]
    lines = [
        "# Sessions benchmark: our session server vs the raw Python WebSocket ceiling",
        "",
        "Written by `python -m benchmarks.sessions_bench` (see its docstring for the workloads).",
        "Ratios: ours/peer for throughput, peer/ours for memory; the peer is a bare `websockets`",
        "server sending the same events one per frame from memory (no log, offsets or",
        "durability), so it is a ceiling, not a competitor.",
        "",
        header,
        rule,
    ]
    for title, unit, target, scenario, value, ratio_of, met in rows:
        peer_value = cell(scenario, "peer") if "peer" in results.get(scenario, {}) else "-"
        values = " | ".join(value(name) for name in names)
        ratios = " | ".join(ratio_of(name) or "-" for name in names)
        lines.append(
            f"| {title} | {unit} | {target or '-'} | {values} | {peer_value} | {ratios} | "
            f"{met or '-'} |"
        )
    memory_notes = ", ".join(
        f"{name} {results['rss baseline'][name]:.0f} MB idle, +{sessions_memory[name]:.0f} MB"
        for name in [*names, "peer"]
    )
    lines += [
        "",
        "## Setup",
        "",
        f"- {sizes.rounds} interleaved rounds for the throughput rows (median shown); "
        f"{sizes.one_client_events:,} deltas for one client, {sizes.fan_out_events:,} deltas to "
        f"each of {sizes.fan_out_clients} clients; {sizes.resume_trials} resume trials "
        f"(a new connection each, timed from its subscribe); {sizes.stop_trials} stop trials "
        "(the text agent at 50 tokens/s, cancelled after its first delta). Resume and stop, "
        "then memory, each run on a fresh server per store, after the throughput rounds.",
        "- Deltas come from the demo `text` agent at full speed; each event is a ~200-byte JSON "
        "envelope; our server batches waiting events into one frame.",
        "- Servers: `python -m serving --open --store memory://` or `sqlite:///<tmp>/streams.db` "
        "(WAL, synchronous=FULL), with `--models` on an empty folder (sessions only: no model "
        "agents, so no scikit-learn in memory); the peer: "
        "`python -m benchmarks.sessions_bench --serve-peer PORT`. One process each, on 127.0.0.1.",
        "- One client process (this benchmark, uvloop, `websockets` without compression), "
        "sharing the machine's cores with the server under test. It counts events in each "
        "frame without decoding them (decoding costs the client more than the server spends "
        "sending), except in the SDK row, where `serving.client` decodes every event.",
        f"- Memory: RSS after start-up and with the sessions and clients ({memory_notes}).",
        f"- Whole run: {seconds:.0f} s.",
        "",
        "## Machine",
        "",
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- CPU: {cpu_model()}, {os.cpu_count()} cores",
        f"- load average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}",
        f"- Python {platform.python_version()}, {platform.system()} {platform.release()}",
    ]
    return "\n".join(lines) + "\n"


def benchmark(sizes: Sizes, names: list[str]) -> tuple[dict[str, dict[str, float]], str]:
    began = time.monotonic()
    try:
        import uvloop

        results = uvloop.run(run_all(sizes, names))
    except ImportError:
        results = asyncio.run(run_all(sizes, names))
    return results, report(results, sizes, names, time.monotonic() - began)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.sessions_bench")
    parser.add_argument("--quick", action="store_true", help="tiny sizes; print, do not write")
    parser.add_argument(
        "--servers",
        default="ours-memory,ours-sqlite",
        help="which of our servers to run (default: %(default)s)",
    )
    parser.add_argument("--serve-peer", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_peer:
        asyncio.run(serve_peer(args.serve_peer))
        return 0
    names = our_server_names(parser, args.servers)
    _, text = benchmark(QUICK if args.quick else FULL, names)
    publish(text, RESULTS_PATH, quick=args.quick)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
