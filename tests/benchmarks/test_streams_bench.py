"""The streams benchmark harness: every scenario runs (tiny sizes, our memory server) and the
report computes ratios and verdicts right. No timing assertions: numbers only need to exist."""

from __future__ import annotations

from dataclasses import replace

import pytest

from benchmarks.servers import SERVERS, RunningServer
from benchmarks.streams_bench import (
    METRICS,
    PAIRS,
    SCENARIOS,
    BenchmarkError,
    Metric,
    Outcome,
    Results,
    Sizes,
    SSEEvents,
    StreamsClient,
    Trial,
    catch_up_read,
    count_messages,
    main,
    message,
    prefill_catch_up,
    ratio,
    results_table,
    run,
    run_scenarios,
)

TINY = Sizes(
    seconds=0.1,
    rounds=2,
    writers=2,
    catch_up_messages=300,
    catch_up_batch=40,
    latency_samples=5,
    fan_out_readers=3,
    trial_timeout=30,
)


@pytest.fixture(scope="module")
def server() -> RunningServer:
    with RunningServer(SERVERS["ours-memory"]) as running:
        yield running


def test_every_scenario_runs_against_our_memory_server(server: RunningServer) -> None:
    results = run(run_scenarios([server], TINY))

    assert list(results) == [scenario.key for scenario in SCENARIOS]
    for key, outcomes in results.items():
        outcome = outcomes["ours-memory"]
        assert outcome.error is None, f"{key}: {outcome.error}"
        assert len(outcome.trials) == TINY.rounds
        assert outcome.server_cpu is not None and outcome.server_cpu > 0
    for metric in METRICS:
        value = metric.value(results[metric.scenario.key]["ours-memory"].trials)
        assert value > 0, metric.title(TINY)
    catch_up = results["catch_up"]["ours-memory"].trials
    assert [trial.operations for trial in catch_up] == [300, 300]
    latencies = results["sse"]["ours-memory"].trials[0].latencies
    assert len(latencies) == TINY.latency_samples


def test_a_catch_up_that_misses_messages_is_an_error_not_a_number(server: RunningServer) -> None:
    expecting_more = replace(TINY, catch_up_messages=TINY.catch_up_messages + 1)

    async def read_back() -> None:
        async with StreamsClient(server.url) as client:
            stream = await prefill_catch_up(client, TINY, "short-history")
            await catch_up_read(client, expecting_more, stream)

    with pytest.raises(BenchmarkError, match="catch-up read 300 messages, expected 301"):
        run(read_back())


def test_sse_events_are_split_across_chunks() -> None:
    events = SSEEvents()
    assert events.feed(b"event: data\ndata:[1,\n") == []
    assert events.feed(b'data: 2]\n\nevent: control\ndata:{"a":1}\n\n: keepalive\n\n') == [
        ("data", b"[1,\n2]"),
        ("control", b'{"a":1}'),
    ]


def test_messages_are_counted_by_their_key() -> None:
    body = b"[" + b",".join(message(number) for number in range(7)) + b"]"
    assert count_messages(body) == 7
    assert len(message(123)) < 80


def _results(values: dict[str, float], metric: Metric) -> Results:
    """Results with one trial per server giving ``value`` for ``metric``."""
    outcomes = {}
    for name, value in values.items():
        if metric.higher_is_better:
            trial = Trial(operations=int(value), seconds=1.0)
        else:
            trial = Trial(operations=1, seconds=1.0, latencies=[value / 1000])
        outcomes[name] = Outcome(trials=[trial])
    return {metric.scenario.key: outcomes}


def test_ratios_read_higher_is_better_for_rates_and_latencies() -> None:
    rate = next(metric for metric in METRICS if metric.statistic == "rate")
    p50 = next(metric for metric in METRICS if metric.statistic == "p50")
    assert ratio(rate, 300, 200) == pytest.approx(1.5)
    assert ratio(p50, 4.0, 2.0) == pytest.approx(0.5)
    assert ratio(rate, None, 200) is None


def test_the_table_gives_pass_and_miss_against_each_target() -> None:
    sequential = Metric(SCENARIOS[0], "rate")
    results = _results(
        {"ours-sqlite": 900, "reference-file": 1000, "ours-memory": 850, "reference-memory": 1000},
        sequential,
    )
    table = results_table(results, TINY, list(SERVERS))
    row = next(line for line in table.splitlines() if line.startswith("| sequential"))
    assert row == (
        "| sequential appends (1 writer) | appends/s | 900 | 1,000 | 0.90x | **MISS** "
        "| 850 | 1,000 | 0.85x | PASS |"
    )
    assert [target for _, _, target in PAIRS] == [1.0, 0.8]


def test_a_server_that_did_not_run_shows_as_not_available() -> None:
    sequential = Metric(SCENARIOS[0], "rate")
    results = _results({"ours-memory": 850, "reference-memory": 1000}, sequential)
    results["sequential"]["reference-memory"].error = "ClientError: boom"
    table = results_table(results, TINY, ["ours-memory", "reference-memory"])
    row = next(line for line in table.splitlines() if line.startswith("| sequential"))
    assert row.endswith("| 850 | n/a | n/a | n/a |")


def test_the_command_line_refuses_unknown_servers(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--quick", "--servers", "ours-memory,nginx"])
    assert exit_info.value.code == 2
    assert "unknown server(s) nginx; choose from ours-sqlite" in capsys.readouterr().err
