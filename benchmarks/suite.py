"""``make bench``: every benchmark in one go, then one results page and one chart.

    python -m benchmarks.suite                 # all of them (about 10 minutes)
    python -m benchmarks.suite --only soak,naive_bench
    python -m benchmarks.suite --report-only   # rebuild results.md and the chart

Each benchmark runs as its own process (``python -m benchmarks.<name>``), bounded in time,
on loopback only, and writes its own page in benchmarks/results/. This module then gathers
the headline table of each page into benchmarks/results.md (every ratio against its peer, the
naive baseline included), describes the machine, and draws benchmarks/results.png.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.machine import cpu_model

BENCHMARKS_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCHMARKS_DIR / "results"
PAGE = BENCHMARKS_DIR / "results.md"
CHART = BENCHMARKS_DIR / "results.png"
TIMEOUT_SECONDS = 1800


@dataclass(frozen=True)
class Benchmark:
    module: str
    page: str
    peer: str
    """What the ratios of its page compare against."""
    better: str
    """Which way its ratios are better, as its page defines them."""


SUITE = (
    Benchmark("streams_bench", "streams.md", "the Node reference server", "higher"),
    Benchmark("sessions_bench", "sessions.md", "a raw websockets server", "higher"),
    Benchmark("redis_bench", "redis.md", "the SQLite store", "higher (throughput), see page"),
    Benchmark("models_bench", "models.md", "the model called in-process", "lower"),
    Benchmark("naive_bench", "naive.md", "one plain SSE response, no durability", "lower"),
    Benchmark(
        "paced_bench",
        "paced.md",
        "Vercel resumable-stream",
        "higher (tokens/s), lower (CPU per token)",
    ),
    Benchmark("soak", "soak.md", "none: counts must be 0", "-"),
    Benchmark("classroom_bench", "classroom.md", "none: 200 learners, p99 < 1 s, 0 errors", "-"),
)
_RATIO = re.compile(r"^\**(\d+(?:\.\d+)?)x\**$")


def run(benchmarks: list[Benchmark]) -> dict[str, str]:
    """Run each benchmark; the outcome of each (ok, or how it failed)."""
    outcomes = {}
    for benchmark in benchmarks:
        print(f"== {benchmark.module}", flush=True)
        started = time.monotonic()
        try:
            done = subprocess.run(
                [sys.executable, "-m", f"benchmarks.{benchmark.module}"],
                timeout=TIMEOUT_SECONDS,
                check=False,
            )
            outcome = "ok" if done.returncode == 0 else f"exit code {done.returncode}"
        except subprocess.TimeoutExpired:
            outcome = f"stopped after {TIMEOUT_SECONDS} s"
        outcomes[benchmark.module] = f"{outcome} ({time.monotonic() - started:.0f} s)"
    return outcomes


def first_table(markdown: str) -> list[list[str]]:
    """The rows (header first) of the first Markdown table of a page."""
    rows: list[list[str]] = []
    for line in markdown.splitlines():
        if line.startswith("|"):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if not all(set(cell) <= set("-: ") for cell in cells):
                rows.append(cells)
        elif rows:
            break
    return rows


def ratios(table: list[list[str]]) -> list[tuple[str, str, float]]:
    """(scenario, ratio column, value) for the first ratio cell of each row."""
    if not table:
        return []
    header, found = table[0], []
    for row in table[1:]:
        for name, cell in zip(header, row, strict=False):
            match = _RATIO.match(cell)
            if match:
                found.append((row[0], name, float(match.group(1))))
                break
    return found


def machine() -> str:
    cpu = cpu_model()
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return (
        f"{cpu}, {os.cpu_count()} cores; Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}; load average {load} at the end; "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )


def report(outcomes: dict[str, str]) -> tuple[str, list[tuple[str, float]]]:
    lines = [
        "# Benchmark results",
        "",
        "Written by `make bench` (`python -m benchmarks.suite`). Each row is a headline figure of "
        "one benchmark page in [results/](results/), as a ratio against that benchmark's peer "
        "(each page says which way is better and how it was measured).",
        "",
        f"Machine: {machine()}.",
        "",
        "| benchmark | scenario | ratio | value | peer | better |",
        "|---|---|---|---|---|---|",
    ]
    bars: list[tuple[str, float]] = []
    for benchmark in SUITE:
        path = RESULTS_DIR / benchmark.page
        if not path.exists():
            lines.append(f"| {benchmark.module} | (no results yet) | | | {benchmark.peer} | |")
            continue
        table = first_table(path.read_text())
        found = ratios(table)
        for scenario, column, value in found:
            lines.append(
                f"| [{benchmark.module}](results/{benchmark.page}) | {scenario} | {column} | "
                f"{value:.2f}x | {benchmark.peer} | {benchmark.better} |"
            )
            bars.append((f"{benchmark.module}: {scenario}"[:70], value))
        if not found:  # a page of plain figures (the soak): show its rows as they are
            for row in table[1:]:
                lines.append(
                    f"| [{benchmark.module}](results/{benchmark.page}) | {row[0]} | | "
                    f"{' / '.join(row[1:])} | {benchmark.peer} | {benchmark.better} |"
                )
    if outcomes:
        lines += ["", "This run: " + "; ".join(f"{k} {v}" for k, v in outcomes.items()) + "."]
    lines += ["", "![the ratios above](results.png)", ""]
    return "\n".join(lines), bars


def chart(bars: list[tuple[str, float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(10, 0.32 * len(bars) + 1.2))
    labels = [label for label, _ in bars][::-1]
    values = [value for _, value in bars][::-1]
    axes.barh(labels, values, color="#4c72b0")
    axes.axvline(1.0, color="black", linewidth=0.8)
    axes.set_xscale("log")
    axes.set_xlabel("ratio against the peer (log scale; 1.0 = the same; see each page)")
    axes.tick_params(axis="y", labelsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="run every benchmark, write results.md")
    parser.add_argument("--only", default="", help="comma-separated benchmark modules")
    parser.add_argument("--report-only", action="store_true")
    args = parser.parse_args(argv)
    chosen = [b for b in SUITE if not args.only or b.module in args.only.split(",")]
    outcomes = {} if args.report_only else run(chosen)
    text, bars = report(outcomes)
    PAGE.write_text(text)
    chart(bars, CHART)
    print(text)
    return 0 if all(v.startswith("ok") for v in outcomes.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
