"""open_store maps URLs to stores, with clear errors for the rest."""

from __future__ import annotations

from pathlib import Path

import pytest

from serving.streams import MemoryStore, open_store
from serving.streams.redis_store import Retention


def test_memory_url() -> None:
    assert isinstance(open_store("memory://"), MemoryStore)


def test_sqlite_url_names_a_file(tmp_path: Path) -> None:
    from serving.streams.sqlite import SQLiteStore

    store = open_store(f"sqlite:///{tmp_path / 'x.db'}")
    assert isinstance(store, SQLiteStore)


def test_redis_url_takes_the_store_options() -> None:
    from serving.streams.redis_store import RedisStore

    store = open_store("redis://localhost:6379/2?prefix=app:&max_records=500&idle_seconds=none")
    assert isinstance(store, RedisStore)
    assert store.retention == Retention(idle_seconds=None, max_records=500)
    assert store.prefix == "app:"


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("sqlite:///", "names no file"),
        ("redis://localhost:6379/0?max_records=0", "max_records must be at least 1"),
        ("redis://localhost:6379/0?idle_seconds=soon", "'soon' is not a number"),
        ("postgres://db", "unknown store URL"),
        ("memory", "unknown store URL"),
    ],
)
def test_other_urls_are_refused_clearly(url: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        open_store(url)
