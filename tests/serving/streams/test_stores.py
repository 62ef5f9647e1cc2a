"""open_store maps URLs to stores, with clear errors for the rest."""

from __future__ import annotations

from pathlib import Path

import pytest

from serving.streams import MemoryStore, open_store


def test_memory_url() -> None:
    assert isinstance(open_store("memory://"), MemoryStore)


def test_sqlite_url_names_a_file(tmp_path: Path) -> None:
    pytest.importorskip("serving.streams.sqlite", reason="the SQLite store is not there yet")
    from serving.streams.sqlite import SQLiteStore

    store = open_store(f"sqlite:///{tmp_path / 'x.db'}")
    assert isinstance(store, SQLiteStore)


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("sqlite:///", "names no file"),
        ("redis://localhost:6379/0", "Redis store is not available yet"),
        ("postgres://db", "unknown store URL"),
        ("memory", "unknown store URL"),
    ],
)
def test_other_urls_are_refused_clearly(url: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        open_store(url)
