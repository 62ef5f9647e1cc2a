"""Cross-process wake-ups: subscriptions, readiness, and losing the pub/sub connection."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from benchmarks.redis_server import RedisServer, redis_server_path
from serving.streams import AppendRequest, CreateRequest
from serving.streams.redis_store import RedisStore

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(redis_server_path() is None, reason="redis-server is not installed"),
]


def open_pair(url: str) -> tuple[RedisStore, RedisStore]:
    prefix = f"watch-{uuid.uuid4().hex[:8]}:"
    return RedisStore.from_url(f"{url}?prefix={prefix}"), RedisStore.from_url(
        f"{url}?prefix={prefix}"
    )


async def parked(store: RedisStore, path: str, count: int = 1) -> None:
    while store.waiting(path) < count:
        await asyncio.sleep(0.001)
    await asyncio.sleep(0.05)


async def test_a_thousand_waiting_readers_share_one_subscription(redis_server: RedisServer) -> None:
    reader, writer = open_pair(redis_server.url)
    try:
        tail = (await writer.create("s", CreateRequest(content_type="text/plain"))).meta.tail
        waits = [asyncio.create_task(reader.wait("s", tail, 10)) for _ in range(1000)]
        await parked(reader, "s", 1000)
        clients = (await writer._link.call("CLIENT", "LIST")).splitlines()
        assert len(clients) <= 4  # per store one pipelined link (+ one pub/sub), not 1000
        await writer.append("s", AppendRequest(data=b"x", content_type="text/plain"))
        assert all(await asyncio.wait_for(asyncio.gather(*waits), 5))
    finally:
        await reader.aclose()
        await writer.aclose()


async def test_losing_redis_wakes_every_waiter_and_news_flows_again_after() -> None:
    with RedisServer(appendonly=True) as redis:
        reader, writer = open_pair(redis.url)
        try:
            tail = (await writer.create("s", CreateRequest(content_type="text/plain"))).meta.tail
            waiting = asyncio.create_task(reader.wait("s", tail, 30))
            await parked(reader, "s")
            started = time.monotonic()
            await asyncio.to_thread(redis.restart)
            assert await asyncio.wait_for(waiting, 10)  # woken to read again, not left hanging
            assert time.monotonic() - started < 10
            waiting = asyncio.create_task(reader.wait("s", tail, 30))
            await parked(reader, "s")
            for _ in range(100):  # the writer's pooled connections died too: it reconnects
                try:
                    await writer.append("s", AppendRequest(data=b"x", content_type="text/plain"))
                    break
                except Exception:
                    await asyncio.sleep(0.1)
            assert await asyncio.wait_for(waiting, 10)
        finally:
            await reader.aclose()
            await writer.aclose()
