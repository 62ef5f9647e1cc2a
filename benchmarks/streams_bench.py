"""The streams benchmark: our server against the Node reference server, in one run.

Four servers run side by side on loopback ports: ours with the memory store and with the SQLite
store, and the reference (@durable-streams/server, pinned in benchmarks/peers/) with its memory
store and its file store. One client (benchmarks/http_client.py on uvloop: HTTP/1.1 keep-alive,
one connection per concurrent writer or reader) runs the same workloads against each of them
(benchmarks/streams_workloads.py), in interleaved rounds (benchmarks/streams_scenarios.py), and
the report (benchmarks/streams_report.py) compares ours-sqlite with reference-file (target
1.0x) and ours-memory with reference-memory (target 0.8x). Ratios read "times as good as the
reference" (ours/reference for throughput, reference/ours for latency): higher is better.

    python -m benchmarks.streams_bench            # full run (~3 min), writes the results file
    python -m benchmarks.streams_bench --quick    # smoke run in seconds, prints only
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as a script: python benchmarks/streams_bench.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.servers import SERVERS, RunningServer, ServerSpec, ServerStartError
from benchmarks.streams_report import machine_description, report
from benchmarks.streams_scenarios import Results, run, run_scenarios
from benchmarks.streams_workloads import FULL, QUICK, Sizes

RESULTS_PATH = Path(__file__).resolve().parent / "results" / "streams.md"


def benchmark(
    specs: Sequence[ServerSpec],
    sizes: Sizes,
    progress: Callable[[str], None] = lambda line: None,
) -> tuple[Results, str]:
    """Start the servers, run every scenario on them, stop them; return results and report.

    A server that cannot start is left out and named in the report's "Not measured" section.
    """
    machine = machine_description()
    started = time.perf_counter()
    running: list[RunningServer] = []
    unavailable: dict[str, str] = {}
    try:
        for spec in specs:
            try:
                running.append(RunningServer(spec))
            except ServerStartError as error:
                unavailable[spec.name] = str(error).splitlines()[-1]
                progress(f"{spec.name}: not started: {error}")
        results = run(run_scenarios(running, sizes, progress=progress))
    finally:
        for server in running:
            server.stop()
    names = [spec.name for spec in specs]
    seconds = time.perf_counter() - started
    return results, report(results, sizes, names, machine, unavailable, seconds)


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
        help="where to write the Markdown report (default: benchmarks/results/streams.md for "
        "full runs, nowhere for --quick)",
    )
    args = parser.parse_args(argv)
    names = [name.strip() for name in args.servers.split(",") if name.strip()]
    unknown = [name for name in names if name not in SERVERS]
    if unknown:
        parser.error(f"unknown server(s) {', '.join(unknown)}; choose from {', '.join(SERVERS)}")
    output = args.output or (None if args.quick else RESULTS_PATH)

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    _, text = benchmark([SERVERS[name] for name in names], QUICK if args.quick else FULL, log)
    print(text)
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text)
        log(f"written to {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
