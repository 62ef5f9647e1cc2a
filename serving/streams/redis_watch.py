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
``linger`` seconds are unsubscribed, and the channel of a stream deleted or expired as soon as
no reader waits on it.

Measured (benchmarks/redis_bench.py): a reader parked in one process wakes about a millisecond
after another process appends. XREAD BLOCK would need a connection per blocked read (or
unblocking tricks to change the keys of a shared one); pub/sub needs one per process. Every
process receives a message per append to a path it watches, its own appends included, so the
connection is a serving.streams.redis_link.Subscriber (hiredis), not redis-py's PubSub.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from serving.streams.errors import StoreUnavailable
from serving.streams.notify import Notifier
from serving.streams.offsets import Offset
from serving.streams.redis_link import DEFAULT_CONNECT_TIMEOUT, Address, Subscriber
from serving.streams.redis_scripts import GONE, News, news_channel

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
        address: Address,
        prefix: str,
        load: Callable[[str], Awaitable[News]],
        *,
        linger: float = LINGER_SECONDS,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    ) -> None:
        self._prefix = prefix
        self._channel_prefix = news_channel(prefix, "")
        self._load = load
        self._linger = linger
        self._watches: dict[str, _Watch] = {}
        self._notifier = Notifier()
        self._subscriber = Subscriber(
            address,
            on_message=self._message,
            on_subscribed=self._subscribed,
            on_lost=self._lost,
            connect_timeout=connect_timeout,
        )
        self._link = _Link.IDLE
        self._connecting: asyncio.Future[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def wait(self, path: str, after: Offset, timeout: float) -> bool:
        """True as soon as the path has news for a reader at ``after`` (records beyond it, or
        the stream closed or gone); False after ``timeout``."""
        if self._link is _Link.CLOSED:
            return True
        watch = self._watches.get(path)
        if watch is not None and watch.news is not None and watch.news.is_news_after(after):
            watch.idle_since = time.monotonic()  # in use: keep the subscription
            return True  # the common case under load: it changed while the reader was busy
        deadline = time.monotonic() + timeout
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
            if watch.news.is_news_after(after):
                return True
            return await self._notifier.wait(path, deadline - time.monotonic())
        finally:
            watch.waiters -= 1
            if not watch.waiters:
                watch.idle_since = time.monotonic()
                self._release_if_gone(path, watch)

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
        self._release_if_gone(path, watch)

    def waiting(self, path: str) -> int:
        """Readers of this process parked on ``path`` (for tests and metrics)."""
        watch = self._watches.get(path)
        return 0 if watch is None else watch.waiters

    async def aclose(self) -> None:
        self._link = _Link.CLOSED
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._subscriber.close()
        self._notifier.notify_all()

    # --- subscriptions ---------------------------------------------------------------------

    async def _subscribe(self, path: str) -> _Watch:
        watch = _Watch(asyncio.get_running_loop().create_future())
        self._watches[path] = watch
        if self._link is _Link.IDLE:
            try:
                await self._connect()
            except (RedisError, OSError) as error:
                del self._watches[path]
                raise StoreUnavailable(f"cannot subscribe to news from Redis ({error})") from None
        # Subscribed at once when connected; while DOWN, by the reconnection, which
        # subscribes to every channel.
        self._subscriber.subscribe(news_channel(self._prefix, path))
        return watch

    async def _connect(self) -> None:
        """Open the pub/sub connection: once, however many first waiters ask at a time."""
        if self._connecting is None:
            self._connecting = asyncio.ensure_future(self._subscriber.connect())
        connecting = self._connecting
        try:
            await asyncio.shield(connecting)
        finally:
            if self._connecting is connecting and connecting.done():
                self._connecting = None
        if self._link is _Link.CLOSED:
            self._subscriber.close()
        elif not self._subscriber.connected:  # lost before this waiter resumed
            raise RedisConnectionError("lost the pub/sub connection to Redis as it opened")
        elif self._link is _Link.IDLE:
            self._link = _Link.UP
            self._start(self._unsubscribe_idle())

    def _start(self, coroutine: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _message(self, channel: str, data: bytes) -> None:
        path = channel[len(self._channel_prefix) :]
        if path in self._watches:
            self.saw(path, News.parse(data))

    def _subscribed(self, channel: str) -> None:
        path = channel[len(self._channel_prefix) :]
        watch = self._watches.get(path)
        if watch is not None and not watch.confirmed:
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
        if self._link is not _Link.UP:
            return
        logger.warning("lost the Redis pub/sub connection (%s); reconnecting", error)
        self._link = _Link.DOWN
        loop = asyncio.get_running_loop()
        for watch in self._watches.values():
            watch.confirmed = False
            watch.news = None
            if watch.ready.done():
                watch.ready = loop.create_future()
        self._notifier.notify_all()
        self._start(self._reconnect())

    async def _reconnect(self) -> None:
        """Reconnect; the subscriber subscribes the new connection to every channel."""
        while self._link is _Link.DOWN:
            await asyncio.sleep(RECONNECT_SECONDS)
            try:
                await self._subscriber.connect()
            except (RedisError, OSError):
                continue
            self._link = _Link.UP
            logger.warning("Redis pub/sub connection restored")

    async def _unsubscribe_idle(self) -> None:
        while True:
            await asyncio.sleep(self._linger)
            now = time.monotonic()
            idle = [
                path
                for path, watch in self._watches.items()
                if not watch.waiters and now - watch.idle_since >= self._linger
            ]
            self._drop(idle)

    def _release_if_gone(self, path: str, watch: _Watch) -> None:
        """Unsubscribe at once from a deleted or expired stream nobody waits on, rather than
        after the linger (a later wait subscribes again and loads its state).

        Why: each subscribed channel holds about 250 bytes in Redis (the channel in the server's
        table and in the connection's); under a steady churn of sessions, channels kept for the
        linger are the only Redis memory not bounded by the streams alive
        (benchmarks/results/retention.md)."""
        if (
            watch.news is not None
            and watch.news.state == GONE
            and not watch.waiters
            and watch.ready.done()
            and self._watches.get(path) is watch
        ):
            self._drop([path])

    def _drop(self, paths: list[str]) -> None:
        """Forget these watches and unsubscribe from their channels."""
        for path in paths:
            del self._watches[path]
        if paths:
            self._subscriber.unsubscribe(*(news_channel(self._prefix, path) for path in paths))
