"""Fixtures for the sessions tests: every store-backed test runs on each store listed here."""

from __future__ import annotations

import importlib.util
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from serving.streams import MemoryStore, Store


def _sqlite(tmp_path: Path) -> Store:
    from serving.streams.sqlite import SQLiteStore

    return SQLiteStore(tmp_path / "sessions.db")


STORES: dict[str, Callable[[Path], Store]] = {"memory": lambda tmp_path: MemoryStore()}
if importlib.util.find_spec("serving.streams.sqlite") is not None:
    STORES["sqlite"] = _sqlite


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(params=sorted(STORES))
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    instance = STORES[request.param](tmp_path)
    try:
        yield instance
    finally:
        await instance.aclose()


@pytest.fixture
async def memory_store() -> AsyncIterator[Store]:
    """For tests about the sessions logic itself, where the store does not matter."""
    instance = MemoryStore()
    try:
        yield instance
    finally:
        await instance.aclose()
