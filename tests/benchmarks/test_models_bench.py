"""The models benchmark: its workloads run end to end at tiny sizes, its report says PASS/MISS."""

from __future__ import annotations

import asyncio

import pytest

from benchmarks import models_bench
from course import recipes

TINY = models_bench.Sizes(rounds=1, predict_trials=3, batch_rows=500, chunk_size=200)


def test_the_batch_table_has_the_rows_asked_for_without_missing_values() -> None:
    table = models_bench.batch_table(1_000)
    assert len(table) == 1_000
    assert not table[recipes.PENGUIN_FEATURES].isna().any().any()


def test_the_report_checks_each_target() -> None:
    off = "ours-memory" + models_bench.OFF
    results = {
        "first p50": {"ours-memory": 4.0, off: 3.9, "peer": 2.0, "compiled": 0.1},
        "first p90": {"ours-memory": 9.0, off: 8.0, "peer": 3.0, "compiled": 0.2},
        "batch": {"ours-memory": 40_000.0, off: 50_000.0, "peer": 400_000.0},
        "scoring": {"ours-memory": 300_000.0, off: 300_000.0, "peer": 400_000.0},
        "drift": {"report": 0.25, "parse and report": 1.5},
    }
    text = models_bench.report(results, models_bench.FULL, ["ours-memory"], 12.0, stolen=0.2)
    lines = {line.split(" | ")[0]: line for line in text.splitlines() if line.startswith("| ")}
    first = lines["| predict-and-explain: request to prediction event, p50"]
    assert "| 4.0 | 2.0 | 2.0x | PASS |" in first
    end_to_end = next(line for title, line in lines.items() if "send to the last event" in title)
    assert "| 40,000 | 400,000 | 10.00x | **MISS** |" in end_to_end
    scoring = next(line for title, line in lines.items() if "scoring phase" in title)
    assert "| 300,000 | 400,000 | 1.33x | PASS |" in scoring
    assert "compiled to NumPy" in text and "0.10 ms p50 (0.20 ms p90)" in text
    assert (
        "stolen by the hypervisor during the run (other virtual machines on the host): 20%" in text
    )
    # recording on vs off (issue 18): 4.0 / 3.9 ms is within 10%, 50,000 / 40,000 rows/s is not
    recording = [line for line in text.splitlines() if line.startswith(("| predict:", "| batch:"))]
    assert recording[0].endswith("| 4.00 ms | 3.90 ms | 1.03x | PASS |")
    assert recording[1].endswith("| 40,000 rows/s | 50,000 rows/s | 1.25x | **MISS** |")
    assert "over 100,000 records: 0.25 s on records already parsed, 1.50 s" in text
    assert "(target under 1 s: **MISS**)" in text


@pytest.mark.slow
def test_every_workload_runs_against_our_server(tmp_path) -> None:
    recipes.train_penguin_model(tmp_path)
    results = asyncio.run(models_bench.run_all(TINY, ["ours-memory"], tmp_path))
    off = "ours-memory" + models_bench.OFF  # the same server with recording off
    for scenario in ("first p50", "first p90", "batch", "scoring"):
        peers = {"peer", "compiled"} if scenario.startswith("first") else {"peer"}
        assert set(results[scenario]) == {"ours-memory", off, *peers}
        assert all(value > 0 for value in results[scenario].values())
    assert 0 < results["drift"]["report"] <= results["drift"]["parse and report"]
