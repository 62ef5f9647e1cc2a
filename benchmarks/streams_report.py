"""The benchmark's Markdown report: numbers per server, ratios against the targets, machine."""

from __future__ import annotations

import os
import platform
import subprocess
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.machine import cpu_model
from benchmarks.streams_scenarios import METRICS, SCENARIOS, Metric, Outcome, Results
from benchmarks.streams_workloads import Sizes

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


def cpu_per_operation(outcome: Outcome | None) -> float | None:
    """Server CPU seconds per operation over all the rounds; None if unknown."""
    if outcome is None or outcome.error or not outcome.trials or outcome.server_cpu is None:
        return None
    return outcome.server_cpu / sum(trial.operations for trial in outcome.trials)


def cpu_table(results: Results, sizes: Sizes, servers: Sequence[str]) -> str:
    """Server CPU per operation, how it compares (peer/ours, higher is better), client load.

    CPU per operation hardly moves with the load of a shared machine, so its ratio shows the
    efficiency gap even when the wall-clock ratios are noisy.
    """
    header = ["scenario", *(f"{name} µs/op" for name in servers)]
    pairs = [(ours, peer) for ours, peer, _ in PAIRS if ours in servers and peer in servers]
    header += [f"{peer} / {ours}" for ours, peer in pairs]
    header.append("client CPU (max)")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for scenario in SCENARIOS:
        outcomes = results.get(scenario.key)
        if not outcomes:
            continue
        costs = {name: cpu_per_operation(outcomes.get(name)) for name in servers}
        row = [Metric(scenario, "rate").title(sizes)]
        row += ["n/a" if cost is None else _micros(1e6 * cost) for cost in costs.values()]
        for ours, peer in pairs:
            mine, theirs = costs[ours], costs[peer]
            row.append(f"{theirs / mine:.2f}x" if mine and theirs else "n/a")
        shares = [
            outcome.client_cpu / sum(trial.seconds for trial in outcome.trials)
            for outcome in outcomes.values()
            if outcome.trials
        ]
        row.append(f"{max(shares, default=0):.0%}")
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
    cpu = cpu_model()
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
        "sample), the peer's CPU per operation over ours (higher is better: the efficiency "
        "ratio, which the load of a shared machine hardly moves), and the most the client "
        "used of one core in that scenario:",
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
