"""Fixtures for the streams tests: the store contract runs against every store listed here."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from serving.streams import MemoryStore, Store
from serving.streams.sqlite import SQLiteStore


class FakeClock:
    """A settable clock (Unix seconds) so TTL tests need no sleeping."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


# One line per store: name -> factory(tmp_path, clock). The contract suite runs on each.
STORES: dict[str, Callable[[Path, FakeClock], Store]] = {
    "memory": lambda tmp_path, clock: MemoryStore(clock=clock),
    "sqlite": lambda tmp_path, clock: SQLiteStore(tmp_path / "streams.db", clock=clock),
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
    instance = STORES[request.param](tmp_path, clock)
    try:
        yield instance
    finally:
        await instance.aclose()
