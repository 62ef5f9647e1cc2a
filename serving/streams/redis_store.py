"""The Redis store: several server processes share one Redis, a client may resume on any of them.

Records live in Redis Streams (one per stream, entry ids are the records' end offsets), metadata
and producer states in hashes; serving.streams.redis_scripts has the key layout and the Lua
scripts. The rules of serving.streams.rules run here, in Python, exactly as in the other
stores; what they decide is then sent as one *commit* that Redis applies atomically only if
the stream is still at the version the decision was based on (compare-and-set), else the store
loads the stream again and decides again. So writers in any number of processes never
interleave between a check and its write, and no rule is written twice (once in Python, once
in Lua).

Fast paths:

- Every command of a process goes through one connection, serving.streams.redis_link: the
  commands issued in one event-loop turn (the commits of streams written at once, the reads of
  the readers one append woke) share one write and one round trip.
- Appends to one stream from one process are batched (a group commit, as in the SQLite store):
  one round trip writes every append that queued up meanwhile, and the stream's state is kept
  from the last commit, so a lone writer costs one round trip per batch.
- A read is one round trip (metadata, TTL renewal and records in one script); identical reads
  issued in the same event-loop turn (the readers one append woke) share it.
- Live readers wait on pub/sub news (serving.streams.redis_watch), not by polling.

Retention keeps Redis memory bounded (``Retention``): a stream nobody reads or writes for
``idle_seconds`` expires as if it had that TTL (a shorter TTL of its own still applies), and a
stream keeps at most ``max_records`` records: older ones are dropped, and a reader resuming from
an offset before the oldest kept record gets OffsetTrimmed (410) naming where it can resume,
never a silent gap. Reading from the start (``-1``) of a trimmed stream starts at the oldest
kept record. Expired streams are removed when touched and by a sweep over the deadlines index.

Redis failures: a request that cannot reach Redis (down, restarting, loading its data, out of
memory) raises StoreUnavailable (HTTP 503 + Retry-After); nothing acknowledged is lost as long
as Redis persists its data (docs/SCALING.md: appendonly yes). If the connection drops while a
commit is in flight, the store reconnects and checks whether the commit was applied (its log
entries carry its version) before answering, so an append is not stored twice by its own retry.

Redis Cluster is not supported: a fork's commit touches its source's keys as well.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from redis.exceptions import (
    BusyLoadingError,
    ReadOnlyError,
    RedisError,
    ResponseError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from serving.streams import redis_scripts as scripts
from serving.streams import rules
from serving.streams.codec import decode_meta, encode_meta
from serving.streams.errors import (
    OffsetTrimmed,
    StoreUnavailable,
    StreamError,
    StreamGone,
    StreamNotFound,
)
from serving.streams.offsets import TAIL, ZERO, Offset, Position
from serving.streams.paging import Page
from serving.streams.redis_link import RedisLink, Script
from serving.streams.redis_scripts import CLOSED, GONE, NEW_ID, OPEN, Commit, News
from serving.streams.redis_watch import Watcher
from serving.streams.store import (
    AppendRequest,
    AppendResult,
    CreateRequest,
    CreateResult,
    ProducerState,
    ReadResult,
    Store,
    StreamMeta,
)

DEFAULT_PREFIX = "ds:"
DEFAULT_IDLE_SECONDS = 7 * 24 * 3600.0
DEFAULT_MAX_RECORDS = 100_000
MAX_ATTEMPTS = 50
"""Commits retried on conflicts before giving up (other writers kept changing the stream)."""
RECOVERY_SECONDS = 5.0
"""How long a commit whose reply was lost waits for Redis to come back and say what happened."""
SNAPSHOTS = 10_000
"""Streams whose last committed state a process keeps (for one-round-trip appends)."""
DEADLINE_SLACK_SECONDS = 60.0
"""An append rewrites a stream's sweep deadline only once it has moved this much (or a
hundredth of the idle time, if less): a deadline Redis holds is never late, at most this early,
and the sweep puts an early one right when it reaches it (``sweep``)."""
RECENT_RECORDS = 16
"""Records of its own consecutive commits to a stream a process keeps for live readers."""
RECENT_SECONDS = 1.0
"""How long the records of a process's own last commit to a stream answer reads from where
that commit began, without asking Redis (``_Recent``)."""

_LOAD = Script(scripts.LOAD)
_READ = Script(scripts.READ)
_RANGE = Script(scripts.RANGE)
_COMMIT = Script(scripts.COMMIT)
_VERIFY = Script(scripts.VERIFY)

_CONNECTION_ERRORS = (RedisConnectionError, RedisTimeoutError, OSError)

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Retention:
    """What keeps Redis memory bounded; the defaults are documented in docs/SCALING.md."""

    idle_seconds: float | None = DEFAULT_IDLE_SECONDS
    """A stream untouched (no read or write) this long expires; None = only its own TTL."""
    max_records: int | None = DEFAULT_MAX_RECORDS
    """Records kept per stream (appends or batches, not messages); None = no limit."""

    def __post_init__(self) -> None:
        if self.idle_seconds is not None and self.idle_seconds <= 0:
            raise ValueError("the idle retention must be positive seconds (or None)")
        if self.max_records is not None and self.max_records < 1:
            raise ValueError("max_records must be at least 1 (or None)")


@dataclass(frozen=True, slots=True)
class _Snapshot:
    """A stream as committed at ``version``, with the producer states loaded so far."""

    stream_id: str
    version: str
    meta: StreamMeta
    accessed: str
    """accessed_at exactly as Redis holds it (expiry compares it)."""
    producers: dict[str, ProducerState | None]
    deadline: float | None = None
    """The sweep deadline this process last wrote for the stream (None: not known)."""


@dataclass(frozen=True, slots=True)
class _Recent:
    """The records this process's last commits to a stream wrote, and the stream after them.

    The live readers an append wakes in the writer's own process read from where that append
    began: the commit's compare-and-set on the stream's version proves those records are exactly
    what the stream holds there, so ``read_live`` answers them from memory, as a read at the
    commit's moment would have been. Consecutive commits of this process (none of another
    between them) extend the run, up to RECENT_RECORDS, so a reader a few tokens behind is
    answered too. Only live readers: one told "up to date" while another process has already
    written more simply waits, and that write's news wakes it at once; a plain ``read`` must see
    every write that finished before it began, so it asks Redis. This saves each paced token a
    read script in Redis and its reply's parsing here (issue 21: benchmarks/results/paced.md).
    """

    start: Offset
    records: list[tuple[Offset, bytes]]
    """Contiguous from ``start``, to ``meta.tail``."""
    meta: StreamMeta
    at: float
    """``time.monotonic()`` of the last commit: answers older than RECENT_SECONDS go to Redis."""

    def after(self, offset: Position) -> list[tuple[Offset, bytes]] | None:
        """The records after ``offset``, if it is where one of them begins; else None."""
        if offset == self.start:
            return self.records
        for index, (end, _) in enumerate(self.records[:-1]):
            if end == offset:
                return self.records[index + 1 :]
        return None

    def then(
        self, start: Offset, records: list[tuple[Offset, bytes]], meta: StreamMeta, at: float
    ) -> _Recent:
        """This run extended by the next commit, if it follows on directly; else that commit."""
        if start != self.meta.tail or at - self.at >= RECENT_SECONDS:
            return _Recent(start, records, meta, at)
        joined = self.records + records
        if len(joined) <= RECENT_RECORDS:
            return _Recent(self.start, joined, meta, at)
        dropped = len(joined) - RECENT_RECORDS
        return _Recent(joined[dropped - 1][0], joined[dropped:], meta, at)


def _page(records: list[tuple[Offset, bytes]], max_bytes: int, meta: StreamMeta) -> ReadResult:
    page = Page(max_bytes)
    for end, data in records:
        if not page.take(data):
            break
        page.last = end
    return ReadResult(page.records, page.end(meta.tail), meta)


def split_store_url(url: str) -> tuple[dict[str, str], str]:
    """A store URL's own options (prefix, idle_seconds, max_records), and the URL of the
    connection with the rest: what ``RedisLink.from_url`` reads."""
    ours: dict[str, str] = {}
    theirs: list[tuple[str, str]] = []
    for name, value in parse_qsl(urlsplit(url).query, keep_blank_values=True):
        if name in ("prefix", "idle_seconds", "max_records"):
            ours[name] = value
        else:
            theirs.append((name, value))
    # Not urlunsplit: it would turn unix:///run/redis.sock into unix:/run/redis.sock.
    base = url.split("#", 1)[0].split("?", 1)[0]
    return ours, f"{base}?{urlencode(theirs)}" if theirs else base


class RedisStore(Store):
    """Streams in Redis, shared by every process that opens the same Redis and prefix.

    Every command goes through ``link`` (one pipelined connection); live readers are woken
    through a pub/sub connection to the same Redis (serving.streams.redis_watch).
    """

    SWEEP_SECONDS = 60.0
    shared = True

    def __init__(
        self,
        link: RedisLink,
        *,
        prefix: str = DEFAULT_PREFIX,
        retention: Retention | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._link = link
        self.prefix = prefix
        self.retention = retention or Retention()
        self._clock = clock
        self._watcher = Watcher(
            link.address, prefix, self._news, connect_timeout=link.connect_timeout
        )
        self._snapshots: dict[str, _Snapshot] = {}
        self._recent: dict[str, _Recent] = {}
        self._appends: dict[str, list[tuple[AppendRequest, asyncio.Future[AppendResult]]]] = {}
        self._reads: dict[tuple[str, Position, int], list[asyncio.Future[ReadResult]]] = {}
        self._versions = itertools.count(1)
        self._instance = secrets.token_hex(4)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._next_sweep = clock()
        self._closed = False

    @classmethod
    def from_url(cls, url: str, *, clock: Callable[[], float] = time.time) -> RedisStore:
        """``redis://[:password@]host[:port][/db][?prefix=ds:&idle_seconds=N&max_records=N]``.

        ``idle_seconds`` and ``max_records`` accept ``none`` to turn that limit off.
        """
        ours, link_url = split_store_url(url)
        try:
            retention = Retention(
                idle_seconds=_limit(ours.get("idle_seconds"), float, DEFAULT_IDLE_SECONDS),
                max_records=_limit(ours.get("max_records"), int, DEFAULT_MAX_RECORDS),
            )
        except ValueError as error:
            raise ValueError(f"store URL {url!r}: {error}") from None
        try:
            link = RedisLink.from_url(link_url)
        except ValueError as error:
            raise ValueError(f"store URL {url!r}: {error}") from None
        return cls(
            link,
            prefix=ours.get("prefix", DEFAULT_PREFIX),
            retention=retention,
            clock=clock,
        )

    # --- the contract ----------------------------------------------------------------------

    async def create(self, path: str, request: CreateRequest) -> CreateResult:
        for _ in range(MAX_ATTEMPTS):
            now = self._now()
            commit = Commit()
            existing = await self._find(path, now, commit)
            if existing is not None:
                rules.check_recreate(existing.meta, request)
                return CreateResult(created=False, meta=existing.meta)
            source = fork_offset = prefix = None
            if request.fork is not None:
                source = await self._find(request.fork.source, now, commit)
                if source is None:
                    raise StreamNotFound(f"fork source {request.fork.source!r} does not exist")
                fork_offset = rules.resolve_fork(request, source.meta)
                if request.fork.sub_offset:
                    following = await self._records(source.meta, fork_offset, max_bytes=0)
                    prefix = rules.fork_prefix(
                        following[0][1] if following else None,
                        source.meta.content_type,
                        request.fork.sub_offset,
                    )
            meta, records = rules.new_stream(
                path, NEW_ID, request, now, None if source is None else source.meta, fork_offset,
                prefix,
            )
            version = self._new_version()
            commit.new_id()
            self._put(commit, meta, version)
            for end, data in records:
                commit.add_record(NEW_ID, end, data, version)
            if source is not None:
                forked = source.meta._replace(forks=source.meta.forks + 1)
                self._put(commit, forked, self._new_version(), announce=False)
            reply = await self._commit(commit)
            if isinstance(reply, bytes):  # the new stream's id (0: a check failed, try again)
                meta = meta._replace(stream_id=reply.decode())
                self._remember(_Snapshot(meta.stream_id, version, meta, repr(now), {}))
                self._watcher.saw(path, _news_of(meta))
                return CreateResult(created=True, meta=meta)
        raise self._contention(path)

    async def append(self, path: str, request: AppendRequest) -> AppendResult:
        future: asyncio.Future[AppendResult] = asyncio.get_running_loop().create_future()
        queue = self._appends.get(path)
        if queue is None:
            queue = self._appends[path] = []
            self._spawn(self._append_batches(path))
        queue.append((request, future))
        return await future

    async def read_live(self, path: str, after: Position, max_bytes: int) -> ReadResult:
        recent = self._recent.get(path)
        if recent is not None and time.monotonic() - recent.at < RECENT_SECONDS:
            records = recent.after(after)
            if records is not None:
                return _page(records, max_bytes, recent.meta)
        return await self.read(path, after, max_bytes)

    async def read(self, path: str, after: Position, max_bytes: int) -> ReadResult:
        key = (path, after, max_bytes)
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[ReadResult] = loop.create_future()
        readers = self._reads.get(key)
        if readers is None:
            # Sent on the next turn of the event loop: every identical read issued in this turn
            # (all the readers an append woke) joins it, and none began after it was sent. Each
            # reader has a future of its own, so one that leaves cancels only its own.
            readers = self._reads[key] = []
            loop.call_soon(self._spawn, self._shared_read(key))
        readers.append(answer)
        return await answer

    async def head(self, path: str) -> StreamMeta:
        snapshot = await self._load(path)
        if snapshot is None:
            raise _not_found(path)
        return self._live(snapshot, self._now()).meta

    async def delete(self, path: str) -> None:
        for _ in range(MAX_ATTEMPTS):
            commit = Commit()
            snapshot = await self._find(path, self._now(), commit)
            if snapshot is None:
                raise _not_found(path)
            if snapshot.meta.tombstone:
                raise _gone(path)
            await self._plan_delete(snapshot, commit)
            if await self._commit(commit):
                self._snapshots.pop(path, None)
                self._recent.pop(path, None)
                self._watcher.saw(path, News(int(snapshot.stream_id), None, GONE))
                return
        raise self._contention(path)

    async def wait(self, path: str, after: Offset, timeout: float) -> bool:
        if self._closed:
            return True
        return await self._watcher.wait(path, after, timeout)

    async def producer_state(self, path: str, producer_id: str) -> ProducerState | None:
        snapshot = await self._load(path, [producer_id])
        if snapshot is None:
            raise _not_found(path)
        return self._live(snapshot, self._now()).producers[producer_id]

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        for batch in self._appends.values():
            _fail(batch, StoreUnavailable("the server is shutting down; retry elsewhere"))
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._watcher.aclose()
        await self._link.aclose()

    # --- beyond the contract ---------------------------------------------------------------

    async def sweep(self) -> int:
        """Apply expiry to the streams whose deadline passed; return how many were removed.

        Runs by itself at most once per SWEEP_SECONDS; tests and tools may call it.
        """
        now = self._now()
        due = await self._call(
            self._link.call(
                "ZRANGEBYSCORE", f"{self.prefix}deadlines", "-inf", repr(now), "LIMIT", 0, 256
            )
        )
        removed = 0
        for stream_id in due:
            snapshot = await self._load_id(stream_id.decode())
            if snapshot is None:
                continue
            commit = Commit()
            liveness = self._liveness(snapshot.meta, now)
            if liveness is rules.Liveness.LIVE:  # renewed since: put its deadline right
                commit.deadline(snapshot.stream_id, self._deadline(snapshot.meta))
            else:
                commit.expect_version(snapshot.stream_id, snapshot.version, snapshot.accessed)
                await self._plan_delete(snapshot, commit)
                removed += liveness is rules.Liveness.EXPIRED
            await self._commit(commit)
        return removed

    async def paths(self, prefix: str) -> list[str]:
        """SCAN (never KEYS: it would stop Redis for every other client while it walks)."""
        pattern = _glob_escape(self.prefix + "path:" + prefix) + "*"
        skip = len(self.prefix) + len("path:")
        found: list[str] = []
        cursor: bytes | int = 0
        while True:
            cursor, keys = await self._call(
                self._link.call("SCAN", cursor, "MATCH", pattern, "COUNT", 1000)
            )
            found += [key.decode()[skip:] for key in keys]
            if int(cursor) == 0:
                return found

    def waiting(self, path: str) -> int:
        """Readers of this process parked on ``path`` (for tests and metrics)."""
        return self._watcher.waiting(path)

    # --- appending -------------------------------------------------------------------------

    async def _append_batches(self, path: str) -> None:
        """Commit the appends queued on ``path``, a batch at a time, until none are left."""
        while batch := self._appends.get(path):
            self._appends[path] = []
            try:
                await self._append_batch(path, batch)
            except Exception as error:
                _fail(batch, error)
            except BaseException:
                _fail(batch, StoreUnavailable("the server is shutting down; retry elsewhere"))
                raise
        del self._appends[path]

    async def _append_batch(
        self, path: str, batch: list[tuple[AppendRequest, asyncio.Future[AppendResult]]]
    ) -> None:
        claims = sorted({r.producer.id for r, _ in batch if r.producer is not None})
        for _ in range(MAX_ATTEMPTS):
            snapshot = self._snapshots.get(path)
            fresh = snapshot is None or any(c not in snapshot.producers for c in claims)
            if fresh:
                snapshot = await self._load(path, claims)
            if snapshot is None:
                raise _not_found(path)
            now = self._now()
            if self._liveness(snapshot.meta, now) is not rules.Liveness.LIVE:
                if not fresh:  # a read in another process may have renewed it: ask Redis
                    self._snapshots.pop(path, None)
                    continue
                self._live(snapshot, now)  # raises, and has the expiry applied
            meta, states = snapshot.meta, dict(snapshot.producers)
            outcomes: list[AppendResult | StreamError] = []
            records: list[tuple[Offset, bytes]] = []
            changed: set[str] = set()
            for request, _ in batch:
                claim = request.producer
                try:
                    plan = rules.plan_append(
                        meta, states.get(claim.id) if claim else None, request, now
                    )
                except StreamError as refusal:
                    outcomes.append(refusal)
                    continue
                if plan.record is not None:
                    records.append(plan.record)
                if plan.producer is not None:
                    states[plan.producer[0]] = plan.producer[1]
                    changed.add(plan.producer[0])
                if plan.meta is not None:
                    meta = plan.meta
                outcomes.append(plan.result)
            if meta is snapshot.meta:
                if not fresh:  # a refusal or duplicate decided on a kept state: confirm it
                    self._snapshots.pop(path, None)
                    continue
                _settle(batch, outcomes)
                return
            version = self._new_version()
            commit = Commit()
            # The version alone is checked, not the path too: a path moves to another stream
            # only after this one was deleted or made a tombstone, and either changes (or
            # removes) its version.
            commit.expect_version(snapshot.stream_id, snapshot.version)
            deadline = self._put_appended(commit, snapshot, meta, version)
            for end, data in records:
                commit.add_record(snapshot.stream_id, end, data, version)
            if records and self.retention.max_records is not None:
                commit.trim(snapshot.stream_id, self.retention.max_records)
            for producer_id in changed:
                state = states[producer_id]
                assert state is not None
                commit.put_producer(snapshot.stream_id, producer_id, state.epoch, state.last_seq)
            if await self._commit(commit, verify=(snapshot, records[:1], version)):
                self._remember(
                    _Snapshot(snapshot.stream_id, version, meta, repr(now), states, deadline)
                )
                self._remember_records(path, snapshot.meta.tail, records, meta)
                _settle(batch, outcomes)  # first: the writer's answer goes out before the wake-ups
                self._watcher.saw(path, _news_of(meta))
                return
            self._snapshots.pop(path, None)
        raise self._contention(path)

    # --- reading ---------------------------------------------------------------------------

    async def _shared_read(self, key: tuple[str, Position, int]) -> None:
        readers = self._reads.pop(key)  # reads issued from now on send their own request
        try:
            result = await self._read(*key)
        except Exception as error:
            for answer in readers:
                if not answer.done():
                    answer.set_exception(error)
        except BaseException:
            for answer in readers:
                answer.cancel()
            raise
        else:
            for answer in readers:
                if not answer.done():
                    answer.set_result(result)

    async def _read(self, path: str, after: Position, max_bytes: int) -> ReadResult:
        now = self._now()
        first = after.seq + 1 if isinstance(after, Offset) else 0  # 0: TAIL
        reply = await self._run(
            _READ, self.prefix, path, repr(now), first, max_bytes, 0 if after is TAIL else 1
        )
        if not reply:
            raise _not_found(path)
        stream_id, meta_json, version, accessed, truncated, *entries = reply
        snapshot = self._snapshot(stream_id, path, meta_json, version, accessed)
        meta = self._live(snapshot, now).meta
        self._watcher.saw(path, _news_of(meta))
        if after is TAIL:
            return ReadResult([], meta.tail, meta)
        assert isinstance(after, Offset)
        rules.check_read_offset(meta, after)
        own = _pairs(entries)
        page = Page(max_bytes)
        for segment in rules.read_plan(meta, after):
            if segment.stream_id == meta.stream_id:
                found, more = own, truncated == b"1"
            else:
                found, more = await self._range(segment.stream_id, segment.start, segment.end, page)
            if not found and more:  # no room left for the next record
                page.full = True
                break
            for end, data in _check_gap(found, segment.start, after, path):
                if not page.take(data):
                    break
                page.last = end
            if more:
                page.full = True
            if page.full:
                break
        return ReadResult(page.records, page.end(meta.tail), meta)

    async def _range(
        self, stream_id: str, start: Offset, end: Offset, page: Page
    ) -> tuple[list[tuple[Offset, bytes]], bool]:
        """Records of ``stream_id`` in (start, end], within what is left of the page."""
        reply = await self._run(
            _RANGE,
            self.prefix,
            stream_id,
            start.seq + 1,
            end.seq,
            max(page.max_bytes - page.size, 0),
            len(page.records),
        )
        return _pairs(reply[1:]), reply[0] == b"1"

    async def _records(
        self, meta: StreamMeta, after: Offset, max_bytes: int
    ) -> list[tuple[Offset, bytes]]:
        """Whole records after ``after`` across the lineage (at least one if any)."""
        page = Page(max_bytes)
        taken: list[tuple[Offset, bytes]] = []
        for segment in rules.read_plan(meta, after):
            found, more = await self._range(segment.stream_id, segment.start, segment.end, page)
            if not found and more:
                break
            for end, data in _check_gap(found, segment.start, after, meta.path):
                if not page.take(data):
                    return taken
                taken.append((end, data))
            if page.full:
                break
        return taken

    # --- loading and deciding --------------------------------------------------------------

    async def _load(self, path: str, producer_ids: Sequence[str] = ()) -> _Snapshot | None:
        return await self._load_by("path", path, producer_ids)

    async def _load_id(self, stream_id: str) -> _Snapshot | None:
        return await self._load_by("id", stream_id, ())

    async def _load_by(self, kind: str, key: str, producer_ids: Sequence[str]) -> _Snapshot | None:
        reply = await self._run(_LOAD, self.prefix, kind, key, *producer_ids)
        if not reply:
            if kind == "path":
                self._snapshots.pop(key, None)
            return None
        stream_id, path, meta_json, version, accessed, *states = reply
        producers = {
            producer_id: None if decoded is None else ProducerState(*decoded)
            for producer_id, decoded in zip(
                producer_ids, map(scripts.decode_producer, states), strict=True
            )
        }
        snapshot = self._snapshot(stream_id, path.decode(), meta_json, version, accessed, producers)
        self._remember(snapshot)
        return snapshot

    def _snapshot(
        self,
        stream_id: bytes,
        path: str,
        meta_json: bytes,
        version: bytes,
        accessed: bytes,
        producers: dict[str, ProducerState | None] | None = None,
    ) -> _Snapshot:
        text = accessed.decode()
        meta = decode_meta(stream_id.decode(), path, meta_json.decode())
        meta = meta._replace(accessed_at=float(text))
        return _Snapshot(meta.stream_id, version.decode(), meta, text, producers or {})

    async def _news(self, path: str) -> News:
        """The path's state as Redis holds it now (for the watcher)."""
        snapshot = await self._load(path)
        if snapshot is None:
            return News(0, None, GONE)
        if self._liveness(snapshot.meta, self._now()) is not rules.Liveness.LIVE:
            return News(int(snapshot.stream_id), None, GONE)
        return _news_of(snapshot.meta)

    async def _find(self, path: str, now: float, commit: Commit) -> _Snapshot | None:
        """The stream at ``path`` as it is now (possibly a tombstone); None if there is none.

        Adds to ``commit`` the checks that keep this answer true, and the removal of the
        stream if it expired (as DELETE would), so the caller's commit applies it.
        """
        snapshot = await self._load(path)
        if snapshot is None:
            commit.expect_path(path, None)
            return None
        commit.expect_path(path, snapshot.stream_id)
        commit.expect_version(snapshot.stream_id, snapshot.version, snapshot.accessed)
        liveness = self._liveness(snapshot.meta, now)
        if liveness is rules.Liveness.EXPIRED:
            await self._plan_delete(snapshot, commit)
            return None
        if liveness is rules.Liveness.TOMBSTONE and not snapshot.meta.tombstone:
            tombstone = snapshot.meta._replace(tombstone=True)
            self._put(commit, tombstone, self._new_version())
            return _Snapshot(snapshot.stream_id, "", tombstone, snapshot.accessed, {})
        return snapshot

    def _live(self, snapshot: _Snapshot, now: float) -> _Snapshot:
        """The snapshot if its stream is live; else have its expiry applied and raise."""
        liveness = self._liveness(snapshot.meta, now)
        if liveness is not rules.Liveness.LIVE and not snapshot.meta.tombstone:
            self._spawn(self._expire(snapshot.meta.path))
        if liveness is rules.Liveness.EXPIRED:
            raise _not_found(snapshot.meta.path)
        if liveness is rules.Liveness.TOMBSTONE:
            raise _gone(snapshot.meta.path)
        return snapshot

    async def _expire(self, path: str) -> None:
        """Persist the expiry a request found (not awaited by it)."""
        for _ in range(3):
            commit = Commit()
            await self._find(path, self._now(), commit)
            if await self._commit(commit):
                self._snapshots.pop(path, None)
                return

    async def _plan_delete(self, snapshot: _Snapshot, commit: Commit) -> None:
        """DELETE semantics: tombstone if forked, else remove and release the source chain."""
        meta = snapshot.meta
        if meta.forks > 0:
            self._put(commit, meta._replace(tombstone=True), self._new_version())
            return
        while True:
            commit.remove(meta.stream_id, meta.path)
            commit.announce(meta.path, meta.stream_id, None, GONE)
            origin = meta.fork
            source = await self._load_id(origin.source_id) if origin else None
            if source is None:
                return
            commit.expect_version(source.stream_id, source.version)
            meta, remove = rules.release_source(source.meta)
            if not remove:
                self._put(commit, meta, self._new_version(), announce=False)
                return

    def _put(
        self, commit: Commit, meta: StreamMeta, version: str, *, announce: bool = True
    ) -> None:
        """Write ``meta`` at ``version``, with its expiry deadline and news for waiters."""
        idle = self._idle_seconds(meta)
        commit.put_meta(
            meta.stream_id,
            meta.path,
            version,
            encode_meta(meta),
            meta.accessed_at,
            idle,
            meta.expires_at,
        )
        commit.deadline(meta.stream_id, None if meta.tombstone else self._deadline(meta))
        if announce:
            state = GONE if meta.tombstone else CLOSED if meta.closed else OPEN
            commit.announce(meta.path, meta.stream_id, None if state == GONE else meta.tail, state)

    def _put_appended(
        self, commit: Commit, snapshot: _Snapshot, meta: StreamMeta, version: str
    ) -> float | None:
        """``_put`` for an append: the lean ``update_meta`` when the path and the expiry fields
        are unchanged, and the deadline only when it moved (DEADLINE_SLACK_SECONDS). Each paced
        token is one commit, so this is Redis's work per token; returns the deadline Redis
        holds after the commit, if known."""
        before = snapshot.meta
        if (meta.ttl_seconds, meta.expires_at, meta.tombstone) != (
            before.ttl_seconds,
            before.expires_at,
            before.tombstone,
        ):
            self._put(commit, meta, version)
            return None if meta.tombstone else self._deadline(meta)
        commit.update_meta(meta.stream_id, version, encode_meta(meta), meta.accessed_at)
        deadline, written = self._deadline(meta), snapshot.deadline
        idle = self._idle_seconds(meta)
        slack = DEADLINE_SLACK_SECONDS if idle is None else min(DEADLINE_SLACK_SECONDS, idle / 100)
        if deadline is None or written is None or not 0 <= deadline - written < slack:
            commit.deadline(meta.stream_id, deadline)
            written = deadline
        state = CLOSED if meta.closed else OPEN
        commit.announce(meta.path, meta.stream_id, meta.tail, state)
        return written

    # --- expiry and retention --------------------------------------------------------------

    def _idle_seconds(self, meta: StreamMeta) -> float | None:
        """The sliding TTL that applies: the stream's own, capped by the idle retention."""
        own, retention = meta.ttl_seconds, self.retention.idle_seconds
        if own is None or retention is None:
            return retention if own is None else own
        return min(own, retention)

    def _liveness(self, meta: StreamMeta, now: float) -> rules.Liveness:
        return rules.liveness(meta, now, self.retention.idle_seconds)

    def _deadline(self, meta: StreamMeta) -> float | None:
        idle = self._idle_seconds(meta)
        idle_deadline = None if idle is None else meta.accessed_at + idle
        if meta.expires_at is None or idle_deadline is None:
            return idle_deadline if meta.expires_at is None else meta.expires_at
        return min(meta.expires_at, idle_deadline)

    # --- talking to Redis ------------------------------------------------------------------

    async def _commit(
        self,
        commit: Commit,
        verify: tuple[_Snapshot, list[tuple[Offset, bytes]], str] | None = None,
    ) -> bytes | int:
        """Send a commit: its result (0 when a check failed and nothing was written).

        With ``verify`` (the snapshot it was based on, its first record, its version), a commit
        whose reply is lost is checked after reconnecting instead of failing: applied or not,
        the caller gets the truth and does not append twice.
        """
        arguments = commit.arguments(self.prefix)
        reply: bytes | int  # the new id if the commit made one, else 1; 0 if a check failed
        if verify is None:
            reply = await self._run(_COMMIT, *arguments)
            return reply
        try:
            reply = await self._link.run(_COMMIT, *arguments)
        except _CONNECTION_ERRORS:
            return await self._recover(verify)
        except RedisError as error:
            raise _unavailable(error) from None
        return reply

    async def _recover(self, verify: tuple[_Snapshot, list[tuple[Offset, bytes]], str]) -> int:
        snapshot, first_record, version = verify
        deadline = time.monotonic() + RECOVERY_SECONDS
        while True:
            try:
                current = await self._load_id(snapshot.stream_id)
                if current is None or current.version == snapshot.version:
                    return 0  # not applied: decide again
                if current.version == version:
                    return 1
                if first_record:
                    end = first_record[0][0]
                    arguments = [self.prefix, snapshot.stream_id, scripts.entry_id(end), version]
                    return int(await self._run(_VERIFY, *arguments))
                return 0  # a close or producer-only change: deciding again is idempotent
            except StoreUnavailable:
                if time.monotonic() >= deadline:
                    raise StoreUnavailable(
                        "lost the connection to Redis during an append and could not learn "
                        "whether it was stored; retry it (with Producer-Id headers a retry is "
                        "never stored twice)",
                        retry_after=2,
                        outcome_unknown=True,
                    ) from None
                await asyncio.sleep(0.2)

    async def _run(self, script: Script, *args: str | bytes | int | float) -> Any:
        """Run one of the store's scripts; Redis failures become StoreUnavailable."""
        return await self._call(self._link.run(script, *args))

    async def _call(self, command: Awaitable[Any]) -> Any:
        """Await one Redis command; Redis failures become StoreUnavailable."""
        try:
            return await command
        except RedisError as error:
            raise _unavailable(error) from None
        except OSError as error:
            raise _unavailable(error) from None

    # --- small helpers ---------------------------------------------------------------------

    def _now(self) -> float:
        now = self._clock()
        if now >= self._next_sweep and not self._closed:
            self._next_sweep = now + self.SWEEP_SECONDS
            self._spawn(self.sweep())
        return now

    def _new_version(self) -> str:
        return f"{self._instance}.{next(self._versions)}"

    def _remember(self, snapshot: _Snapshot) -> None:
        path = snapshot.meta.path
        self._snapshots.pop(path, None)
        if len(self._snapshots) >= SNAPSHOTS:
            del self._snapshots[next(iter(self._snapshots))]
        self._snapshots[path] = snapshot

    def _remember_records(
        self, path: str, start: Offset, records: list[tuple[Offset, bytes]], meta: StreamMeta
    ) -> None:
        earlier = self._recent.pop(path, None)
        if not records:
            return
        now = time.monotonic()
        if len(self._recent) >= SNAPSHOTS:  # those of idle streams are stale anyway
            self._recent = {
                key: kept for key, kept in self._recent.items() if now - kept.at < RECENT_SECONDS
            }
        self._recent[path] = (
            _Recent(start, records, meta, now)
            if earlier is None
            else earlier.then(start, records, meta, now)
        )

    def _spawn(self, coroutine: Any) -> None:
        if self._closed:
            coroutine.close()
            return
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(_finished(self._tasks))

    def _contention(self, path: str) -> StoreUnavailable:
        return StoreUnavailable(
            f"stream {path!r} changed {MAX_ATTEMPTS} times while this request was being "
            "decided (other writers); retry it"
        )


def _pairs(flat: Sequence[bytes]) -> list[tuple[Offset, bytes]]:
    """``[entry id, data, entry id, data...]`` -> ``[(end offset, data)...]``."""
    return [(scripts.parse_entry_id(flat[i]), flat[i + 1]) for i in range(0, len(flat), 2)]


def _check_gap(
    found: list[tuple[Offset, bytes]], start: Offset, after: Offset, path: str
) -> list[tuple[Offset, bytes]]:
    """The records, if they begin right after ``start``; else retention dropped some.

    A reader from the very start (ZERO) begins at the oldest record kept; any other reader
    gets OffsetTrimmed, never a silent gap.
    """
    if found and found[0][0].seq == start.seq + 1:
        return found
    if after == ZERO:
        return found
    if found:
        first_end, first_data = found[0]
        earliest = Offset(first_end.seq - 1, first_end.position - len(first_data))
    else:
        earliest = start
    raise OffsetTrimmed(
        f"stream {path!r} no longer holds the records after offset {after}: the server keeps "
        f"a limited number of records per stream; resume from offset {earliest} (or -1, the "
        "oldest record kept)",
        earliest=earliest,
    )


def _news_of(meta: StreamMeta) -> News:
    if meta.tombstone:
        return News(int(meta.stream_id), None, GONE)
    return News(int(meta.stream_id), meta.tail, CLOSED if meta.closed else OPEN)


def _settle(
    batch: list[tuple[AppendRequest, asyncio.Future[AppendResult]]],
    outcomes: list[AppendResult | StreamError],
) -> None:
    for (_, future), outcome in zip(batch, outcomes, strict=True):
        if future.done():
            continue
        if isinstance(outcome, StreamError):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)


def _fail(
    batch: list[tuple[AppendRequest, asyncio.Future[AppendResult]]], error: Exception
) -> None:
    for _, future in batch:
        if not future.done():
            future.set_exception(error)


def _finished(tasks: set[asyncio.Task[Any]]) -> Callable[[asyncio.Task[Any]], None]:
    def done(task: asyncio.Task[Any]) -> None:
        tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # Background work (sweeps, expiry, shared reads): the next request tries again.
            logger.warning("Redis store background task failed: %r", task.exception())

    return done


def _limit(text: str | None, kind: type, default: Any) -> Any:
    if text is None:
        return default
    if text.lower() == "none":
        return None
    try:
        value = kind(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number (or 'none')") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{text!r} is not a finite number")
    return value


def _not_found(path: str) -> StreamNotFound:
    return StreamNotFound(f"no stream at {path!r}; create it with PUT first")


def _gone(path: str) -> StreamGone:
    return StreamGone(f"stream {path!r} was deleted; its history is kept only for its forks")


def _unavailable(error: Exception) -> StoreUnavailable:
    if isinstance(error, BusyLoadingError):
        return StoreUnavailable("Redis is loading its data after a restart; retry in a moment")
    if isinstance(error, ReadOnlyError):
        return StoreUnavailable(
            "Redis refuses writes (a read-only replica?); point the store at the primary"
        )
    if isinstance(error, ResponseError) and str(error).startswith("OOM"):
        return StoreUnavailable(
            "Redis is out of memory (maxmemory reached); nothing was stored: free memory or "
            "lower the store's retention limits (docs/SCALING.md)",
            retry_after=30,
        )
    if isinstance(error, ResponseError):
        raise error  # a bug in a script or a command, not a client's mistake
    return StoreUnavailable(
        f"cannot reach Redis ({type(error).__name__}: {error}); nothing was stored, retry "
        "in a moment",
        retry_after=1,
    )


def _glob_escape(text: str) -> str:
    """``text`` matched literally in a SCAN MATCH pattern."""
    return "".join("\\" + char if char in "*?[]\\" else char for char in text)
