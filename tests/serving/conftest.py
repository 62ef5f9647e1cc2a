"""Fixtures shared by the serving tests: one redis-server for the whole session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from benchmarks.redis_server import RedisServer, redis_server_path


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A redis-server on a free loopback port, stopped after the session.

    Tests that use it are skipped (with this reason) only where redis-server is not installed;
    CI installs it (.ci/run).
    """
    if redis_server_path() is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    with RedisServer() as server:
        yield server
