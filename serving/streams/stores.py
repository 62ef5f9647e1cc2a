"""Choosing a store from a URL: ``memory://``, ``sqlite:///path.db``, ``redis://host:port/db``."""

from __future__ import annotations

from pathlib import Path

from serving.streams.store import Store

STORE_URLS = (
    "memory://, sqlite:///relative/path.db, sqlite:////absolute/path.db or "
    "redis://host:port/db (several server processes sharing one Redis)"
)


def open_store(url: str) -> Store:
    """Open the store a URL names.

    ``sqlite:///`` is followed by the file path, as in SQLAlchemy: ``sqlite:///data/x.db`` is
    relative to the working directory, ``sqlite:////var/lib/x.db`` is absolute. A Redis URL
    takes the store's options as query parameters (serving.streams.redis_store.RedisStore.from_url).
    """
    if url == "memory://":
        from serving.streams.memory import MemoryStore

        return MemoryStore()
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        if not path:
            raise ValueError(f"store URL {url!r} names no file; use {STORE_URLS}")
        from serving.streams.sqlite import SQLiteStore

        return SQLiteStore(Path(path))
    if url.startswith(("redis://", "rediss://", "unix://")):
        try:
            from serving.streams.redis_store import RedisStore
        except ModuleNotFoundError as error:
            if error.name != "redis":
                raise
            raise ValueError(
                "the Redis store needs the redis package: pip install -e '.[redis]'"
            ) from None
        return RedisStore.from_url(url)
    raise ValueError(f"unknown store URL {url!r}; use {STORE_URLS}")
