"""The Redis benchmark's smoke run: both stores and both process counts, a complete report."""

from __future__ import annotations

import pytest

from benchmarks.redis_bench import benchmark
from benchmarks.redis_server import redis_server_path
from benchmarks.streams_workloads import QUICK

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(redis_server_path() is None, reason="redis-server is not installed"),
]


def test_quick_run_measures_every_scenario_on_both_stores_and_scale_out() -> None:
    report = benchmark(QUICK)
    assert "n/a" not in report.split("## Setup")[0], "a scenario failed on a server"
    for title in ("sequential appends", "fan-out to 10 SSE readers", "Scale-out"):
        assert title in report
    assert "Cross-process wake-up" in report and "CPU per delivery" in report
    assert "machine bound" in report
    assert "the control event travels through Redis" in report
