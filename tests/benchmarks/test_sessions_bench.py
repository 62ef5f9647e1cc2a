"""The sessions benchmark end to end with tiny sizes against our memory server (a smoke test:
the harness works, every scenario yields a positive number; no timing is asserted)."""

from __future__ import annotations

import pytest

from benchmarks.sessions_bench import Sizes, benchmark, main, percentile

TINY = Sizes(
    rounds=1,
    one_client_events=200,
    fan_out_clients=3,
    fan_out_events=50,
    resume_missed=100,
    resume_trials=2,
    stop_trials=1,
    sessions=3,
    settle_seconds=0.05,
)


def test_every_scenario_runs_and_the_report_has_a_row_for_each() -> None:
    results, text = benchmark(TINY, ["ours-memory"])
    for scenario in ("one", "sdk", "fan", "resume p99", "stop p99", "rss"):
        assert results[scenario]["ours-memory"] > 0
    assert results["one"]["peer"] > 0 and results["rss"]["peer"] > 0
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert len(rows) == 1 + 8
    assert any(row.startswith("| one client, delta events delivered") for row in rows)


def test_percentile_picks_from_the_sorted_samples() -> None:
    samples = [float(value) for value in range(1, 101)]
    assert percentile(samples, 0.5) == 51.0
    assert percentile(samples, 0.99) == 100.0


def test_the_command_line_refuses_unknown_servers(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--quick", "--servers", "ours-memory,reference-memory"])
    assert exit_info.value.code == 2
    assert "unknown server(s) reference-memory" in capsys.readouterr().err
