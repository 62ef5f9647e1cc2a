"""How long each course notebook takes to run, against the course's time budget.

The budget (issue 6): each notebook under 90 s on 2 cores, the whole course under 6 minutes.
Each notebook is executed top to bottom in a fresh kernel, as nbval does, ``--rounds`` times;
the table gives the median wall time, which includes starting the kernel, and its share of the
budget. Rounds are interleaved (every notebook once, then again) so a shared machine's load
falls on all of them alike; the machine's load average is recorded with the table, since other
work on the machine inflates every time.

    python -m benchmarks.notebooks_bench              # 3 rounds, writes results/notebooks.md
    python -m benchmarks.notebooks_bench --rounds 1   # one quick round, prints only
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

if __package__ in (None, ""):  # run as a script: python benchmarks/notebooks_bench.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from course import notebooks

ROOT = Path(__file__).resolve().parents[1]
RESULTS_PATH = Path(__file__).resolve().parent / "results" / "notebooks.md"
NOTEBOOK_BUDGET_S = 90.0
COURSE_BUDGET_S = 360.0


def time_notebook(path: Path) -> float:
    started = time.perf_counter()
    notebooks.execute(notebooks.read(path), cwd=path.parent)
    return time.perf_counter() - started


def measure(paths: list[Path], rounds: int) -> dict[Path, list[float]]:
    times: dict[Path, list[float]] = {path: [] for path in paths}
    for round_number in range(1, rounds + 1):
        for path in paths:
            seconds = time_notebook(path)
            times[path].append(seconds)
            print(f"round {round_number}: {path.name} {seconds:.1f} s", flush=True)
    return times


def table(times: dict[Path, list[float]]) -> str:
    lines = [
        "| notebook | median (s) | rounds | share of its 90 s budget |",
        "|---|---:|---:|---:|",
    ]
    total = 0.0
    for path, samples in times.items():
        median = statistics.median(samples)
        total += median
        share = median / NOTEBOOK_BUDGET_S
        lines.append(f"| {path.name} | {median:.1f} | {len(samples)} | {share:.0%} |")
    lines.append(
        f"| **all {len(times)} notebooks** | **{total:.1f}** | | "
        f"**{total / COURSE_BUDGET_S:.0%} of the 6 min course budget** |"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="runs per notebook (default 3)")
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: notebooks/*.ipynb")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))
    load_before = os.getloadavg()[0]
    result = table(measure(paths, args.rounds))
    load = f"load average {load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"
    print(result)
    print(load)
    if args.rounds >= 3 and not args.notebooks:
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        machine = (
            f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        )
        RESULTS_PATH.parent.mkdir(exist_ok=True)
        RESULTS_PATH.write_text(
            f"# Notebook run times\n\nMeasured {stamp} on {machine} with "
            f"`python -m benchmarks.notebooks_bench` (median of {args.rounds} rounds, kernel "
            f"start included; {load}: a load above the number of cores slows every "
            f"notebook down).\n\n{result}\n",
            encoding="utf-8",
        )
        print(f"wrote {RESULTS_PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
