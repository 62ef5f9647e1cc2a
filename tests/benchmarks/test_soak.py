"""A few seconds of the soak benchmark: a real server, clients that send, cancel and drop;
nothing may be lost, repeated or refused unexpectedly."""

from __future__ import annotations

from benchmarks.soak import markdown, soak


def test_a_short_soak_loses_and_repeats_nothing() -> None:
    result = soak(clients=8, sessions=2, seconds=4, workers=1)
    assert result["error_samples"] == []
    assert (result["errors"], result["lost"], result["duplicated"]) == (0, 0, 0)
    assert result["messages"] > 0 and result["events_delivered"] >= result["log_events"] > 0
    assert result["latency_samples"] > 0
    assert set(result["rss_mib"]) == {"start", "middle", "end"}
    assert "| events lost (must be 0) | 0 |" in markdown(result)
