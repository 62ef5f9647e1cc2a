"""The Redis store benchmark: the streams scenarios on Redis and SQLite in one run, then scale-out.

1. The streams benchmark's scenarios (benchmarks/streams_scenarios.py) run on ``ours-sqlite``
   and ``ours-redis`` (one server process each), rounds interleaved. Targets: appends/s and
   fan-out deliveries/s of Redis at least 0.7x those of SQLite.
2. Scale-out: fan-out on one Redis-backed process against fan-out with its readers spread over
   two processes sharing the same Redis (the writer stays on the first). Target: two processes
   deliver at least 1.5x as many messages per second as one. The CPU each process, the client
   and Redis spend per delivery is reported with the rate the machine's cores allow at those
   costs: on a machine where all of them share two cores, that bound, not the servers, decides.
3. Cross-process wake-up: an SSE reader on one process, a writer on the other; the
   append-to-delivery latency (reported, no target: "within milliseconds").
4. Stop across processes: a run executing in one process is cancelled through that process
   and, interleaved, through the other (the control event travels through the log); from
   sending the cancel to receiving ``run.cancelled``. Target: p99 within 100 ms either way.

Redis runs as production should (docs/SCALING.md): ``appendonly yes``, ``appendfsync
everysec``, ``maxmemory-policy noeviction``, on loopback, sharing the machine with everything.

    python -m benchmarks.redis_bench            # full run (~3 min), writes the results file
    python -m benchmarks.redis_bench --quick    # smoke run in seconds, prints only
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script: python benchmarks/redis_bench.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from benchmarks.redis_server import RedisServer
from benchmarks.servers import SERVERS, RunningServer, ServerSpec
from benchmarks.sessions_bench import TEXT, new_session, open_socket, subscribe, ws_base
from benchmarks.streams_report import machine_description, metric_value, ratio
from benchmarks.streams_scenarios import METRICS, Results, run, run_scenarios
from benchmarks.streams_workloads import (
    FULL,
    QUICK,
    Sizes,
    StreamsClient,
    Trial,
    fan_out,
    sse_latency,
)

RESULTS_PATH = Path(__file__).resolve().parent / "results" / "redis.md"
STORE_TARGET = 0.7
"""Redis appends/s and fan-out deliveries/s against SQLite's, one process each."""
SCALE_OUT_TARGET = 1.5
"""Fan-out deliveries/s with two processes against one."""
TARGETED = ("sequential", "concurrent_own", "concurrent_shared", "fan_out")
STOP_TARGET_MS = 100.0
"""From a cancel to ``run.cancelled``, p99, through either process."""
STOP_TRIAL_SECONDS = 0.1
"""At least this long per stop trial: the executing WebSocket sends three commands a trial and
the server allows 50 a second per connection (serving.sessions.settings), like any client."""


@dataclass(frozen=True)
class RedisSpec(ServerSpec):
    """Our server on the Redis store at ``redis_url`` (every process of one run shares it)."""

    redis_url: str = ""

    def command(self, port: int, data_dir: Path) -> list[str]:
        return [
            sys.executable,
            *("-m", "serving", "--open", "--store", self.redis_url, "--port", str(port)),
            *("--data-dir", str(data_dir)),
        ]


@dataclass
class CPUBudget:
    """CPU seconds per delivery over the fan-out trials of one mode, by who spent them."""

    processes: list[float]
    """Each server process (the second is idle with one process)."""
    client: float
    redis: float

    @property
    def servers(self) -> float:
        return sum(self.processes)

    def bound(self, cores: int) -> float:
        """Deliveries/s the machine allows at these costs: no process runs on more than one
        core, and everything together shares ``cores`` (the client and Redis included)."""
        busiest = max([*self.processes, self.client, self.redis])
        return min(1 / busiest, cores / (self.servers + self.client + self.redis))


@dataclass
class ScaleOut:
    """Fan-out trials with one process and with two."""

    one: list[Trial]
    two: list[Trial]
    latencies: list[float]
    """Cross-process append-to-delivery times, seconds."""
    cpu_one: CPUBudget
    cpu_two: CPUBudget
    """Equal server costs mean capacity grows with the processes, given a core for each."""

    @property
    def ratio(self) -> float:
        return statistics.median(t.rate for t in self.two) / statistics.median(
            t.rate for t in self.one
        )


async def scale_out(
    first: RunningServer, second: RunningServer, redis: RedisServer, sizes: Sizes
) -> ScaleOut:
    """Interleaved rounds of fan-out on one process and spread over two, then wake latency."""
    one: list[Trial] = []
    two: list[Trial] = []
    spent = {mode: [0.0, 0.0, 0.0, 0.0] for mode in ("one", "two")}

    def cpu_now() -> list[float]:
        """Seconds so far: each server process, this process (the client), Redis."""
        servers = [server.cpu_seconds() or 0.0 for server in (first, second)]
        return [*servers, time.process_time(), redis.cpu_seconds()]

    async with StreamsClient(first.url) as a, StreamsClient(second.url) as b:
        await fan_out(a, _warm_up(sizes), "warm-up-one")
        await fan_out(a, _warm_up(sizes), "warm-up-two", reader_clients=[a, b])
        stamp = time.monotonic_ns()
        for round_number in range(sizes.rounds):
            for mode, trials, readers in (("one", one, ()), ("two", two, (a, b))):
                before = cpu_now()
                trials.append(await fan_out(a, sizes, f"{stamp}-{mode}-{round_number}", readers))
                for index, (end, start) in enumerate(zip(cpu_now(), before, strict=True)):
                    spent[mode][index] += end - start
        latency = await sse_latency(_Split(a, b), sizes, f"{stamp}-cross")  # type: ignore[arg-type]

    def budget(mode: str, trials: list[Trial]) -> CPUBudget:
        deliveries = sum(t.operations for t in trials)
        first_cpu, second_cpu, client, redis_cpu = (x / deliveries for x in spent[mode])
        return CPUBudget([first_cpu, second_cpu], client, redis_cpu)

    return ScaleOut(one, two, latency.latencies, budget("one", one), budget("two", two))


@dataclass
class Stops:
    """Milliseconds from a cancel to ``run.cancelled`` for a run executing in the first
    process: cancels sent through that process, and through the other one."""

    same: list[float]
    other: list[float]


async def stop_latency(first: RunningServer, second: RunningServer, trials: int) -> Stops:
    """Runs execute in ``first``; each is cancelled through ``first`` or through ``second``."""
    async with httpx.AsyncClient() as http:
        session = await new_session(http, first.url)
    path = f"/v1/sessions/{session}/ws"
    samples: dict[str, list[float]] = {"same": [], "other": []}
    async with (
        await open_socket(ws_base(first.url) + path) as executing,
        await open_socket(ws_base(second.url) + path) as other,
    ):
        for ws in (executing, other):
            await subscribe(ws, "new")
        for trial in range(trials):
            paced = asyncio.create_task(asyncio.sleep(STOP_TRIAL_SECONDS))
            for mode, ws in (("same", executing), ("other", other)):
                send = {"type": "send", "id": f"s{trial}{mode}", "data": {"text": TEXT}}
                send["params"] = {"speed": 50, "length": 100_000}
                await executing.send(json.dumps(send))
                ack = await _first(executing, lambda item, i=send["id"]: item.get("id") == i)
                run = ack["run"]
                await _first(ws, lambda item, r=run: _is(item, "delta", r))  # it streams
                began = time.perf_counter()
                await ws.send(json.dumps({"type": "cancel", "id": f"c{trial}{mode}", "run": run}))
                await _first(ws, lambda item, r=run: _is(item, "run.cancelled", r))
                samples[mode].append((time.perf_counter() - began) * 1000)
            await paced
    return Stops(samples["same"], samples["other"])


def _is(item: dict, event_type: str, run: str) -> bool:
    return item.get("type") == event_type and item.get("run") == run and "session" in item


async def _first(ws, match: Callable[[dict], bool]) -> dict:
    while True:
        for item in json.loads(await ws.recv()):
            if match(item):
                return item


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return ordered[len(ordered) // 2], ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


class _Split:
    """A StreamsClient whose writes go to one server and whose reads go to the other."""

    def __init__(self, writer: StreamsClient, reader: StreamsClient) -> None:
        self.create = writer.create
        self.append = writer.append
        self.subscribe = reader.subscribe


def _warm_up(sizes: Sizes) -> Sizes:
    from dataclasses import replace

    return replace(sizes, seconds=min(sizes.seconds, 0.5))


def report(results: Results, scaled: ScaleOut, stops: Stops, sizes: Sizes, seconds: float) -> str:
    machine = machine_description()
    lines = [
        "# Redis store benchmark: Redis against SQLite, and two processes against one",
        "",
        "Written by `python -m benchmarks.redis_bench` (see its docstring).",
        "",
        "## The streams scenarios, one server process each",
        "",
        f"| scenario | unit | ours-sqlite | ours-redis | redis / sqlite | ≥ {STORE_TARGET}x |",
        "|---|---|---|---|---|---|",
    ]
    for metric in METRICS:
        sqlite = metric_value(results, metric, "ours-sqlite")
        redis = metric_value(results, metric, "ours-redis")
        times = ratio(metric, redis, sqlite)
        targeted = metric.scenario.key in TARGETED
        status = "n/a" if times is None or not targeted else _status(times, STORE_TARGET)
        lines.append(
            f"| {metric.title(sizes)} | {metric.scenario.unit} | {_number(sqlite, metric)} | "
            f"{_number(redis, metric)} | {'n/a' if times is None else f'{times:.2f}x'} | "
            f"{status if targeted else '(no target)'} |"
        )
    load = machine.get("load average (1 min) at start", "?")
    samples = sorted(scaled.latencies)
    p50 = 1000 * samples[len(samples) // 2]
    p99 = 1000 * samples[min(len(samples) - 1, int(0.99 * len(samples)))]
    one = statistics.median(t.rate for t in scaled.one)
    two = statistics.median(t.rate for t in scaled.two)
    cores = os.cpu_count() or 1
    best = scaled.cpu_two.bound(cores) / scaled.cpu_one.bound(cores)
    lines += [
        "",
        "## Scale-out: processes sharing one Redis",
        "",
        f"| scenario | unit | 1 process | 2 processes | 2 / 1 | ≥ {SCALE_OUT_TARGET}x |",
        "|---|---|---|---|---|---|",
        f"| fan-out to {sizes.fan_out_readers} SSE readers (spread over the processes) | "
        f"deliveries/s | {one:,.0f} | {two:,.0f} | {scaled.ratio:.2f}x | "
        f"{_status(scaled.ratio, SCALE_OUT_TARGET)} |",
        "",
        "CPU per delivery (one message reaching one reader), µs, over the trials above; the "
        "machine bound is the rate these costs allow when no process runs on more than one "
        f"core and all of them share the machine's {cores} cores:",
        "",
        "| | server 1 | server 2 | servers | client | Redis | all | machine bound |",
        "|---|---|---|---|---|---|---|---|",
        *(
            f"| {label} | {_us(budget.processes[0])} | {_us(budget.processes[1])} | "
            f"{_us(budget.servers)} | {_us(budget.client)} | {_us(budget.redis)} | "
            f"{_us(budget.servers + budget.client + budget.redis)} | "
            f"{budget.bound(cores):,.0f}/s |"
            for label, budget in (("1 process", scaled.cpu_one), ("2 processes", scaled.cpu_two))
        ),
        "",
        f"At these costs the best 2 / 1 this machine allows is {best:.2f}x: one process is "
        "bounded by its own core, two by the cores they share with the client and Redis "
        f"(which a real deployment runs elsewhere). With a core for each server process "
        f"(client and Redis elsewhere) the same costs give "
        f"{scaled.cpu_one.servers / max(scaled.cpu_two.processes):.2f}x. Load average "
        f"(1 min) at start: {load}: other work shared these cores too.",
        "",
        f"Cross-process wake-up (SSE reader on one process, writer on the other): "
        f"p50 {p50:.2f} ms, p99 {p99:.2f} ms over {len(samples)} appends.",
        "",
        "## Stop across processes",
        "",
        "A run executing in process 1 (the text agent streaming 50 tokens/s), cancelled over "
        "a WebSocket; from sending the cancel to receiving `run.cancelled` on that WebSocket.",
        "",
        f"| cancel sent through | p50 ms | p99 ms | trials | p99 ≤ {STOP_TARGET_MS:.0f} ms |",
        "|---|---|---|---|---|",
        *(
            f"| {where} | {_percentiles(ms)[0]:.1f} | {_percentiles(ms)[1]:.1f} | {len(ms)} | "
            f"{'PASS' if _percentiles(ms)[1] <= STOP_TARGET_MS else '**MISS**'} |"
            for where, ms in (
                ("process 1 (it signals the run at once)", stops.same),
                ("process 2 (the control event travels through Redis)", stops.other),
            )
        ),
        "",
        "## Setup",
        "",
        f"- {sizes.rounds} interleaved rounds per scenario, {sizes.seconds} s per throughput "
        f"trial; {sizes.fan_out_readers} fan-out readers; messages are ~60-byte JSON objects.",
        "- Servers: `python -m serving --open --store sqlite:///<tmp>/streams.db` and "
        "`--store redis://127.0.0.1:<port>/0`; one redis-server "
        "(`appendonly yes`, `appendfsync everysec`, `maxmemory-policy noeviction`) on loopback.",
        "- Client: benchmarks/http_client.py, one process, sharing the cores with the servers "
        "and Redis.",
        f"- Whole run: {seconds:.0f} s.",
        "",
        "## Machine",
        "",
        *(f"- {key}: {value}" for key, value in machine.items()),
        "",
    ]
    return "\n".join(lines)


def _us(seconds: float) -> str:
    return f"{1e6 * seconds:.0f}"


def _status(times: float, target: float) -> str:
    return "PASS" if times >= target else "**MISS**"


def _number(value: float | None, metric) -> str:
    if value is None:
        return "n/a"
    return f"{value:,.0f}" if metric.higher_is_better else f"{value:.2f}"


def benchmark(sizes: Sizes, progress: Callable[[str], None] = lambda line: None) -> str:
    started = time.perf_counter()
    with RedisServer(appendonly=True) as redis:
        spec = RedisSpec("ours-redis", "ours", durable=True, redis_url=redis.url)
        servers = [RunningServer(SERVERS["ours-sqlite"]), RunningServer(spec)]
        try:
            results = run(run_scenarios(servers, sizes, progress=progress))
            second = RunningServer(spec)
            try:
                scaled = run(scale_out(servers[1], second, redis, sizes))
                stops = run(stop_latency(servers[1], second, sizes.latency_samples // 2))
            finally:
                second.stop()
        finally:
            for server in servers:
                server.stop()
    progress(f"scale-out: fan-out 2 processes / 1 process = {scaled.ratio:.2f}x")
    progress(f"stop: p99 {_percentiles(stops.other)[1]:.1f} ms through the other process")
    return report(results, scaled, stops, sizes, time.perf_counter() - started)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.redis_bench",
        description="Benchmark the Redis store against the SQLite store, and two processes "
        "against one.",
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run")
    parser.add_argument("--output", type=Path, default=None, help="where to write the report")
    args = parser.parse_args(argv)
    output = args.output or (None if args.quick else RESULTS_PATH)

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    text = benchmark(QUICK if args.quick else FULL, log)
    print(text)
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text)
        log(f"written to {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
