"""Fixtures for the streams tests: the store contract runs against every store listed here."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from serving.streams import MemoryStore, Store
from serving.streams.redis_store import RedisStore
from serving.streams.sqlite import SQLiteStore


class FakeClock:
    """A settable clock (Unix seconds) so TTL tests need no sleeping."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def redis_url(request: pytest.FixtureRequest) -> str:
    """The session's redis-server, with a key prefix of this test's own."""
    server = request.getfixturevalue("redis_server")
    return f"{server.url}?prefix=test-{uuid.uuid4().hex[:12]}:"


# One line per store: name -> factory(request, tmp_path, clock). The contract suite runs on each.
STORES: dict[str, Callable[[pytest.FixtureRequest, Path, FakeClock], Store]] = {
    "memory": lambda request, tmp_path, clock: MemoryStore(clock=clock),
    "sqlite": lambda request, tmp_path, clock: SQLiteStore(tmp_path / "streams.db", clock=clock),
    "redis": lambda request, tmp_path, clock: RedisStore.from_url(redis_url(request), clock=clock),
}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=sorted(STORES))
async def store(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock
) -> AsyncIterator[Store]:
    instance = STORES[request.param](request, tmp_path, clock)
    try:
        yield instance
    finally:
        await instance.aclose()
