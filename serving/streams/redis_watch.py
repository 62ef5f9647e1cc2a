"""Waking live readers in every process: Redis pub/sub, one connection per process.

Every commit of the Redis store publishes the path's new state on the path's news channel
(serving.streams.redis_scripts). A process subscribes to a path's channel while readers in it
wait on that path, and keeps the path's latest state from the messages, so ``wait`` answers
from memory and a thousand parked readers cost one subscription, not a thousand round trips.

Why state, not just a signal: a reader's ``after`` comes from a read that may predate the
subscription. So a path becomes *ready* only once Redis has confirmed the subscription and the
state was loaded after that; from then on every change reaches the process as a message (Redis
delivers messages in publish order, and states merge regardless of order anyway, see
News.merge). If the connection drops, messages may be lost: every path becomes unready, every
waiter is woken (it re-reads), and the subscriptions are restored. Channels with no waiter for
``linger`` seconds are unsubscribed.

Measured (benchmarks/redis_bench.py): a reader parked in one process wakes about a millisecond
after another process appends. XREAD BLOCK would need a connection per blocked read (or
unblocking tricks to change the keys of a shared one); pub/sub needs one per process.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from serving.streams.errors import StoreUnavailable
from serving.streams.notify import Notifier
from serving.streams.redis_scripts import News, news_channel

logger = logging.getLogger(__name__)

LINGER_SECONDS = 30.0
RECONNECT_SECONDS = 0.5


class _Link(enum.Enum):
    IDLE = "idle"
    """No subscription yet: the pub/sub connection is opened by the first wait."""
    UP = "up"
    DOWN = "down"
    """The connection dropped; the reader loop is restoring it."""
    CLOSED = "closed"


@dataclass(slots=True)
class _Watch:
    """One path some reader in this process waits on."""

    ready: asyncio.Future[None]
    """Done once the subscription is confirmed and the state loaded after it."""
    news: News | None = None
    confirmed: bool = False
    waiters: int = 0
    idle_since: float = field(default_factory=time.monotonic)


class Watcher:
    """Per-path wake-ups across processes. ``load(path)`` gives the path's state from Redis."""

    def __init__(
        self,
        client: Redis,
        prefix: str,
        load: Callable[[str], Awaitable[News]],
        *,
        linger: float = LINGER_SECONDS,
    ) -> None:
        self._client = client
        self._prefix = prefix
        self._load = load
        self._linger = linger
        self._watches: dict[str, _Watch] = {}
        self._notifier = Notifier()
        self._pubsub: PubSub | None = None
        self._link = _Link.IDLE
        self._tasks: set[asyncio.Task[None]] = set()

    async def wait(self, path: str, has_news: Callable[[News], bool], timeout: float) -> bool:
        """True as soon as ``has_news`` holds for the path's state; False after ``timeout``."""
        if self._link is _Link.CLOSED:
            return True
        deadline = time.monotonic() + timeout
        watch = self._watches.get(path)
        if watch is None:
            watch = await self._subscribe(path)
        watch.waiters += 1
        try:
            if not watch.ready.done():
                try:
                    async with asyncio.timeout(timeout):
                        await asyncio.shield(watch.ready)
                except TimeoutError:
                    return False
            assert watch.news is not None
            if has_news(watch.news):
                return True
            return await self._notifier.wait(path, deadline - time.monotonic())
        finally:
            watch.waiters -= 1
            if not watch.waiters:
                watch.idle_since = time.monotonic()

    def saw(self, path: str, news: News) -> None:
        """A newer state of ``path`` (a message, or a commit or read in this process)."""
        watch = self._watches.get(path)
        if watch is None:
            return
        merged = news.merge(watch.news)
        if merged != watch.news:
            watch.news = merged
            if watch.ready.done():
                self._notifier.notify(path)

    def waiting(self, path: str) -> int:
        """Readers of this process parked on ``path`` (for tests and metrics)."""
        watch = self._watches.get(path)
        return 0 if watch is None else watch.waiters

    async def aclose(self) -> None:
        self._link = _Link.CLOSED
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._pubsub is not None:
            with contextlib.suppress(RedisError, OSError):
                await self._pubsub.aclose()
        self._notifier.notify_all()

    # --- subscriptions ---------------------------------------------------------------------

    async def _subscribe(self, path: str) -> _Watch:
        watch = _Watch(asyncio.get_running_loop().create_future())
        self._watches[path] = watch
        if self._pubsub is None:
            self._pubsub = self._client.pubsub()
        try:
            await self._pubsub.subscribe(news_channel(self._prefix, path))
        except (RedisError, OSError) as error:
            del self._watches[path]
            raise StoreUnavailable(f"cannot subscribe to news from Redis ({error})") from None
        if self._link is _Link.IDLE:
            self._link = _Link.UP
            self._start(self._read_messages())
            self._start(self._unsubscribe_idle())
        return watch

    def _start(self, coroutine: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _read_messages(self) -> None:
        assert self._pubsub is not None
        while True:
            try:
                message = await self._pubsub.get_message(timeout=None)
            except (RedisError, OSError) as error:
                self._lost(error)
                await self._reconnect()
                continue
            if message is not None:
                self._dispatch(message)

    def _dispatch(self, message: dict) -> None:
        channel = message["channel"]
        path = channel.decode()[len(news_channel(self._prefix, "")) :]
        watch = self._watches.get(path)
        if watch is None:
            return
        if message["type"] == "message":
            self.saw(path, News.parse(message["data"]))
        elif message["type"] == "subscribe" and not watch.confirmed:
            watch.confirmed = True
            self._start(self._load_after_confirmation(path, watch))

    async def _load_after_confirmation(self, path: str, watch: _Watch) -> None:
        while not watch.ready.done():
            try:
                news = await self._load(path)
            except StoreUnavailable:
                await asyncio.sleep(RECONNECT_SECONDS)
                continue
            if self._watches.get(path) is not watch or not watch.confirmed:
                return  # unsubscribed or disconnected meanwhile: a new confirmation reloads
            watch.news = news.merge(watch.news)
            watch.ready.set_result(None)

    def _lost(self, error: Exception) -> None:
        """Messages may have been missed: nothing is known any more; wake everyone."""
        if self._link is _Link.UP:
            logger.warning("lost the Redis pub/sub connection (%s); reconnecting", error)
        self._link = _Link.DOWN
        loop = asyncio.get_running_loop()
        for watch in self._watches.values():
            watch.confirmed = False
            watch.news = None
            if watch.ready.done():
                watch.ready = loop.create_future()
        self._notifier.notify_all()

    async def _reconnect(self) -> None:
        """Reconnect; redis-py subscribes the connection to every channel again."""
        assert self._pubsub is not None
        while True:
            await asyncio.sleep(RECONNECT_SECONDS)
            try:
                await self._pubsub.connect()
            except (RedisError, OSError):
                continue
            self._link = _Link.UP
            logger.warning("Redis pub/sub connection restored")
            return

    async def _unsubscribe_idle(self) -> None:
        assert self._pubsub is not None
        while True:
            await asyncio.sleep(self._linger)
            now = time.monotonic()
            idle = [
                path
                for path, watch in self._watches.items()
                if not watch.waiters and now - watch.idle_since >= self._linger
            ]
            for path in idle:
                del self._watches[path]
            if idle and self._link is _Link.UP:
                with contextlib.suppress(RedisError, OSError):
                    await self._pubsub.unsubscribe(*(news_channel(self._prefix, p) for p in idle))
