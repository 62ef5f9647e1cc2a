"""Scenarios: the workloads run on every server, in interleaved rounds, with their metrics.

Each scenario first runs a short, discarded warm-up trial on every server (Node's JIT compiles
its hot paths in the first seconds). Rounds are interleaved (round 1 on every server, then
round 2...) so the load of a shared machine falls on every server alike. Throughputs are the
median of the rounds; latencies pool the samples of all rounds. Every trial also records the
CPU time the server and the client spent, which says where the cost is when the wall clock
is noisy.
"""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from benchmarks.http_client import ClientError
from benchmarks.servers import RunningServer
from benchmarks.streams_workloads import (
    BenchmarkError,
    Sizes,
    StreamsClient,
    Trial,
    catch_up_read,
    concurrent_appends_one_stream,
    concurrent_appends_own_streams,
    fan_out,
    long_poll_latency,
    prefill_catch_up,
    sequential_appends,
    sse_latency,
)

T = TypeVar("T")

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


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run the client on uvloop where it is installed (it is, with uvicorn[standard])."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)
