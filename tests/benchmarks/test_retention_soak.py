"""A short retention soak (benchmarks.retention_soak): three simulated days with a 6-hour TTL on
SQLite and on a real redis-server. The number of live sessions, of files in data/ and of the
store's streams stops growing after one TTL (a bound set by the rate and the TTL, not by the
elapsed time), nothing within the TTL is lost, changed or expired early, and nothing older
stays; on Redis the news channels subscribed follow the live sessions too. Asserted by counts,
never by time."""

from __future__ import annotations

import asyncio

import pytest

from benchmarks.redis_server import redis_server_path
from benchmarks.retention_soak import levelled, markdown, soak

RATE = 4
TTL_HOURS = 6.0
DAYS = 3.0


@pytest.mark.parametrize("store", ["sqlite", "redis"])
def test_a_short_soak_levels_off_and_loses_nothing(store: str) -> None:
    if store == "redis" and redis_server_path() is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    result = asyncio.run(soak(store, days=DAYS, ttl_hours=TTL_HOURS, rate=RATE))
    assert result.created == RATE * DAYS * 24
    assert (result.lost, result.early, result.late) == (0, 0, 0)
    assert result.checked_live >= RATE * (TTL_HOURS - 1)  # the whole window was read back
    most, bound = levelled(result)
    assert RATE * (TTL_HOURS - 1) <= most <= bound
    after_one_ttl = [s for s in result.samples if s.day >= 2 * TTL_HOURS / 24]
    # Files (uploads, results, .part) follow the sessions: the same count at every check.
    assert len({s.data_files for s in after_one_ttl}) <= 2
    assert max(s.data_files for s in after_one_ttl) <= 3 * bound
    assert max(s.sessions for s in after_one_ttl) == most
    # Redis pub/sub channels (each ~250 bytes of Redis memory) follow the live sessions, not
    # every session ever created (288 here): a gone stream's channel is let go at once.
    assert max(s.channels for s in after_one_ttl) <= bound
    assert "| events lost (must be 0) | 0 |" in markdown([result], [])
