"""Listing a prefix's streams (Store.paths, for retention sweeps) on every store, and the SQLite
store giving the pages of removed streams back to the file system (SQLiteStore.reclaim)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from serving.streams import Store
from serving.streams.offsets import ZERO
from serving.streams.sqlite import SQLiteStore
from serving.streams.store import AppendRequest, CreateRequest
from tests.serving.streams.conftest import FakeClock

pytestmark = pytest.mark.anyio


async def test_paths_lists_the_streams_of_a_prefix_only(store: Store) -> None:
    for path in ("sessions/a", "sessions/b", "sessions*/c", "models/x/predictions"):
        await store.create(path, CreateRequest())
    assert sorted(await store.paths("sessions/")) == ["sessions/a", "sessions/b"]
    assert sorted(await store.paths("sessions*")) == ["sessions*/c"]  # glob characters are literal
    await store.delete("sessions/a")
    assert await store.paths("sessions/") == ["sessions/b"]


async def test_paths_walks_more_streams_than_one_scan_page(store: Store) -> None:
    for index in range(1500):
        await store.create(f"p/{index:04d}", CreateRequest())
    assert len(await store.paths("p/")) == 1500


def _size(path: Path) -> int:
    return sum(
        os.path.getsize(name) for name in (path, Path(f"{path}-wal")) if os.path.exists(name)
    )


async def test_reclaim_gives_the_pages_of_deleted_streams_back(
    tmp_path: Path, clock: FakeClock
) -> None:
    store = SQLiteStore(tmp_path / "streams.db", clock=clock)
    try:
        await store.create("kept", CreateRequest())
        await store.append("kept", AppendRequest(data=b"k" * 1000))
        for index in range(200):
            await store.create(f"gone/{index}", CreateRequest())
            await store.append(f"gone/{index}", AppendRequest(data=b"x" * 20_000))
        full = _size(store.path)
        for index in range(200):
            await store.delete(f"gone/{index}")
        freed = await store.reclaim()
        after = _size(store.path)
        assert full > 4_000_000
        assert after < 200_000 and freed >= full - after - 100_000
        assert await store.paths("") == ["kept"]
        assert (await store.read("kept", ZERO, 10_000)).records == [b"k" * 1000]
        await store.append("kept", AppendRequest(data=b"more"))  # the writer goes on
    finally:
        await store.aclose()


async def test_reclaim_switches_a_file_made_without_auto_vacuum(
    tmp_path: Path, clock: FakeClock
) -> None:
    import sqlite3

    path = tmp_path / "old.db"
    old = sqlite3.connect(path)
    old.execute("CREATE TABLE filler (x BLOB)")  # a file with tables keeps auto_vacuum = NONE
    old.executemany("INSERT INTO filler VALUES (?)", [(b"z" * 10_000,)] * 300)
    old.execute("DELETE FROM filler")
    old.commit()
    old.close()
    store = SQLiteStore(path, clock=clock)
    try:
        assert sqlite3.connect(path).execute("PRAGMA auto_vacuum").fetchone()[0] == 0
        before = _size(path)
        await store.reclaim()
        assert sqlite3.connect(path).execute("PRAGMA auto_vacuum").fetchone()[0] == 2
        assert _size(path) < before / 10
    finally:
        await store.aclose()
