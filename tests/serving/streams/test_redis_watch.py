"""Cross-process wake-ups: subscriptions, readiness, and losing the pub/sub connection."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from benchmarks.redis_server import RedisServer, redis_server_path
from serving.streams import AppendRequest, CreateRequest
from serving.streams.offsets import ZERO
from serving.streams.redis_store import RedisStore

from .conftest import FakeClock

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


async def channels(store: RedisStore) -> int:
    """News channels of this store's prefix that some connection subscribes to (Redis's count)."""
    found = await store._link.call("PUBSUB", "CHANNELS", f"{store.prefix}news:*")
    return len(found)


async def until_channels(store: RedisStore, count: int) -> int:
    """The count of the prefix's channels once it is ``count`` (or whatever it is after 5 s)."""
    for _ in range(500):
        if (now := await channels(store)) == count:
            return now
        await asyncio.sleep(0.01)
    return await channels(store)


async def test_a_deleted_or_expired_stream_lets_its_subscription_go_before_the_linger(
    redis_server: RedisServer,
) -> None:
    """Sessions expire by the thousand: a subscription kept for the whole linger (30 s) after its
    stream went would grow Redis's memory with the churn (about 250 bytes a channel,
    benchmarks/results/retention.md). Nobody waits on a gone stream: its channel goes at once."""
    prefix = f"watch-{uuid.uuid4().hex[:8]}:"
    clock = FakeClock()
    reader = RedisStore.from_url(f"{redis_server.url}?prefix={prefix}", clock=clock)
    writer = RedisStore.from_url(f"{redis_server.url}?prefix={prefix}", clock=clock)
    try:
        paths = [f"s{index}" for index in range(20)]
        for path in paths:
            ttl = 60 if path in paths[10:] else None
            await writer.create(path, CreateRequest(content_type="text/plain", ttl_seconds=ttl))
            await writer.append(path, AppendRequest(data=b"x", content_type="text/plain"))
            assert await reader.wait(path, ZERO, 5)  # subscribed, with the state loaded after
        assert await channels(reader) == 20  # kept for the linger: no reader waits any more
        parked_on_s0 = asyncio.create_task(reader.wait("s0", (await reader.head("s0")).tail, 30))
        await parked(reader, "s0")
        for path in paths[:10]:  # deleted by another process
            await writer.delete(path)
        assert await asyncio.wait_for(parked_on_s0, 5)  # the waiter was woken, to read again
        assert await until_channels(reader, 10) == 10
        clock.advance(120)
        assert await writer.sweep() == 10  # the other ten expire
        assert await until_channels(reader, 0) == 0
        assert await reader.wait("s3", ZERO, 5)  # a gone stream still answers a wait at once
        assert reader.waiting("s3") == 0
    finally:
        await reader.aclose()
        await writer.aclose()
