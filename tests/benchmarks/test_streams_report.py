"""The report: ratios read higher-is-better, each pair meets its own target, gaps are named."""

from __future__ import annotations

import pytest

from benchmarks.servers import SERVERS
from benchmarks.streams_report import (
    PAIRS,
    cpu_table,
    machine_description,
    ratio,
    report,
    results_table,
)
from benchmarks.streams_scenarios import METRICS, SCENARIOS, Metric, Outcome, Results
from benchmarks.streams_workloads import Sizes, Trial

SEQUENTIAL = Metric(SCENARIOS[0], "rate")
P50 = next(metric for metric in METRICS if metric.statistic == "p50")


def _results(values: dict[str, float], metric: Metric) -> Results:
    """Results with one trial per server giving ``value`` for ``metric``."""
    outcomes = {}
    for name, value in values.items():
        if metric.higher_is_better:
            trial = Trial(operations=int(value), seconds=1.0)
        else:
            trial = Trial(operations=1, seconds=1.0, latencies=[value / 1000])
        outcomes[name] = Outcome(trials=[trial], server_cpu=0.5, client_cpu=0.1)
    return {metric.scenario.key: outcomes}


def _row(table: str, title: str) -> str:
    return next(line for line in table.splitlines() if line.startswith(f"| {title} |"))


def test_ratios_read_higher_is_better_for_rates_and_latencies() -> None:
    assert ratio(SEQUENTIAL, 300, 200) == pytest.approx(1.5)
    assert ratio(P50, 4.0, 2.0) == pytest.approx(0.5)
    assert ratio(SEQUENTIAL, None, 200) is None


def test_each_pair_is_held_to_its_own_target() -> None:
    results = _results(
        {"ours-sqlite": 900, "reference-file": 1000, "ours-memory": 850, "reference-memory": 1000},
        SEQUENTIAL,
    )
    row = _row(results_table(results, Sizes(), list(SERVERS)), "sequential appends (1 writer)")
    assert row == (
        "| sequential appends (1 writer) | appends/s | 900 | 1,000 | 0.90x | **MISS** "
        "| 850 | 1,000 | 0.85x | PASS |"
    )
    assert [target for _, _, target in PAIRS] == [1.0, 0.8]


def test_a_slower_latency_is_a_miss() -> None:
    results = _results({"ours-memory": 2.5, "reference-memory": 1.0}, P50)
    table = results_table(results, Sizes(), ["ours-memory", "reference-memory"])
    assert _row(table, "long-poll latency p50").endswith("| 2.50 | 1.00 | 0.40x | **MISS** |")


def test_a_server_that_did_not_run_shows_as_not_available() -> None:
    results = _results({"ours-memory": 850, "reference-memory": 1000}, SEQUENTIAL)
    results["sequential"]["reference-memory"].error = "ClientError: boom"
    table = results_table(results, Sizes(), ["ours-memory", "reference-memory"])
    assert _row(table, "sequential appends (1 writer)").endswith("| 850 | n/a | n/a | n/a |")


def test_the_report_describes_the_machine_and_what_was_not_measured() -> None:
    results = _results({"ours-memory": 850, "reference-memory": 1000}, SEQUENTIAL)
    results["sequential"]["reference-memory"].error = "ClientError: boom"
    text = report(
        results,
        Sizes(),
        ["ours-memory", "reference-memory", "ours-sqlite"],
        machine_description(),
        {"ours-sqlite": "the server did not answer within 20 s"},
        12.0,
    )
    assert "- CPU: " in text and "- Python: 3." in text and "- Node: " in text
    assert "- ours-sqlite: not run: the server did not answer within 20 s" in text
    assert "- sequential on reference-memory: ClientError: boom" in text
    # The CPU table: 0.5 s of server CPU for 850 appends, 0.1 s of client CPU in 1 s.
    assert "| sequential appends (1 writer) | 588 | n/a | n/a | n/a | 10% |" in text


def test_the_cpu_table_compares_cost_per_operation() -> None:
    results = _results({"ours-memory": 500, "reference-memory": 1000}, SEQUENTIAL)
    table = cpu_table(results, Sizes(), ["ours-memory", "reference-memory"])
    assert table.splitlines()[0] == (
        "| scenario | ours-memory µs/op | reference-memory µs/op "
        "| reference-memory / ours-memory | client CPU (max) |"
    )
    assert _row(table, "sequential appends (1 writer)") == (
        "| sequential appends (1 writer) | 1,000 | 500 | 0.50x | 10% |"
    )
