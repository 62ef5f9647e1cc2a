"""Scenarios: every one runs on a server in interleaved rounds; failures become errors."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from benchmarks.servers import SERVERS, RunningServer, free_port
from benchmarks.streams_scenarios import METRICS, SCENARIOS, Metric, run, run_scenarios
from benchmarks.streams_workloads import Sizes, Trial


def test_every_scenario_runs_against_our_memory_server(
    our_memory_server: RunningServer, tiny: Sizes
) -> None:
    lines: list[str] = []
    results = run(run_scenarios([our_memory_server], tiny, progress=lines.append))

    assert list(results) == [scenario.key for scenario in SCENARIOS]
    for key, outcomes in results.items():
        outcome = outcomes["ours-memory"]
        assert outcome.error is None, f"{key}: {outcome.error}"
        assert len(outcome.trials) == tiny.rounds
        assert outcome.server_cpu is not None and outcome.server_cpu > 0
        assert outcome.client_cpu > 0
    for metric in METRICS:
        assert metric.value(results[metric.scenario.key]["ours-memory"].trials) > 0
    assert [line.split(":")[0] for line in lines] == list(results)


def test_a_server_that_is_gone_gives_errors_not_numbers(tiny: Sizes) -> None:
    gone = SimpleNamespace(
        spec=SERVERS["ours-memory"], url=f"http://127.0.0.1:{free_port()}", cpu_seconds=lambda: None
    )

    results = run(run_scenarios([gone], tiny, SCENARIOS[:2]))  # type: ignore[list-item]

    for outcomes in results.values():
        assert outcomes["ours-memory"].trials == []
        assert "cannot connect to 127.0.0.1" in (outcomes["ours-memory"].error or "")


def test_rates_are_the_median_of_the_rounds() -> None:
    rate = Metric(SCENARIOS[0], "rate")
    trials = [Trial(100, 1.0), Trial(300, 1.0), Trial(200, 2.0)]
    assert rate.value(trials) == 100


def test_latency_percentiles_pool_every_round() -> None:
    latency = next(scenario for scenario in SCENARIOS if scenario.latency)
    trials = [
        Trial(50, 1.0, [0.001] * 50),
        Trial(50, 1.0, [0.002] * 49 + [0.100]),
    ]
    assert Metric(latency, "p50").value(trials) == pytest.approx(2.0)
    assert Metric(latency, "p99").value(trials) == pytest.approx(100.0)
    assert Metric(latency, "p50").title(Sizes()) == "long-poll latency p50"


def test_titles_show_the_sizes() -> None:
    titles = [metric.title(Sizes()) for metric in METRICS]
    assert "catch-up read (100,000 messages)" in titles
    assert "fan-out to 50 SSE readers" in titles
