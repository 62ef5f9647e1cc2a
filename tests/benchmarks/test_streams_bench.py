"""The streams benchmark end to end, with tiny sizes against our memory server only (a smoke
test that fits in `make test`: the harness works and gives positive numbers; no timing)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from benchmarks.servers import SERVERS, ServerSpec
from benchmarks.streams_bench import benchmark, main
from benchmarks.streams_scenarios import METRICS
from benchmarks.streams_workloads import Sizes


class _BrokenSpec(ServerSpec):
    """A server that exits at start-up with a message."""

    def command(self, port: int, data_dir: Path) -> list[str]:
        return [sys.executable, "-c", "raise SystemExit('serving: the disk is full')"]


def test_the_benchmark_runs_end_to_end_on_our_memory_server(tiny: Sizes) -> None:
    broken = _BrokenSpec("ours-sqlite", "ours", durable=True)
    results, text = benchmark([SERVERS["ours-memory"], broken], tiny)

    for metric in METRICS:
        outcome = results[metric.scenario.key]["ours-memory"]
        assert outcome.error is None
        assert metric.value(outcome.trials) > 0
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    sequential = next(row for row in rows if row.startswith("| sequential appends"))
    ours_memory = sequential.split(" | ")[6]
    assert re.fullmatch(r"[\d,]+", ours_memory) and ours_memory != "0"
    assert "- ours-sqlite: not run: serving: the disk is full" in text


def test_the_command_line_refuses_unknown_servers(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--quick", "--servers", "ours-memory,nginx"])
    assert exit_info.value.code == 2
    assert "unknown server(s) nginx; choose from ours-sqlite" in capsys.readouterr().err
