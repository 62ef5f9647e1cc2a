"""SessionLog: one session's durable log of events, on one stream of the store.

A session ``<id>`` lives in the JSON stream ``sessions/<id>``, so any Durable Streams client
with a read token can read it at ``/v1/stream/sessions/<id>``.

Writing is a *group commit*: ``publish`` queues an event and returns at once; one flusher task
writes everything queued so far as a single record (one store append), so an agent streaming
tokens costs one append per batch, not per token. Events reach the log in the order they were
published. ``append`` does the same and waits until its event is durable, returning its offset
(commands are acknowledged with it).

Store outages: a log never closes itself because the store was away. When an append answers
StoreUnavailable (Redis down or restarting), the queued events stay queued and the flusher
retries (every 0.1 s at first, then every ``RETRY_MAX_SECONDS``) until the store is back: a
run goes on through an outage of any length, and its events reach the log in order, once,
when Redis returns. Memory stays bounded because agents wait on ``flushed`` above
serving.sessions.runs.HIGH_WATER queued events or HIGH_WATER_BYTES (backpressure), so an
outage pauses a run instead of buffering it without limit (measured there). Meanwhile a
command's own event (``append``) is not kept: it fails at once with StoreUnavailable (HTTP
503, WebSocket error reply) and the client retries it; only ``durable`` appends (a run's
ending) and published events (ledger closes too) wait for the store. Before this a failed
append closed the log for good: a run lost its ending and every later command of the
session failed until the process restarted (issue 20). A stream that is gone (expired,
Redis restarted empty) closes the log, unless ``on_missing`` re-creates it (the ledger).
When the store cannot say whether an append was stored (the connection dropped mid-commit
and Redis stayed away past its 5 s check: StoreUnavailable.outcome_unknown), the log looks
for that record after the last one it wrote before sending exactly it again, so no record
(no delta, no run ending) is ever stored twice.

Reading labels every event with its offset (serving.sessions.offsets) and never parses event
JSON, so catching up on thousands of events costs little more than the store read.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from serving.sessions.errors import EventTooLarge, InvalidSessionOffset, SessionNotFound
from serving.sessions.events import EventType, encode_event
from serving.sessions.offsets import (
    MAX_EVENTS_PER_RECORD,
    START,
    EventPosition,
    join_record,
    label_records,
    record_offsets,
    record_start,
)
from serving.streams.errors import OffsetOutOfRange, StoreUnavailable, StreamGone, StreamNotFound
from serving.streams.offsets import TAIL, ZERO, Offset, Position
from serving.streams.store import AppendRequest, CreateRequest, Store, StreamMeta

JSON = "application/json"
PREFIX = "sessions/"
MAX_RECORD_EVENTS = 4096
MAX_RECORD_BYTES = 256 * 1024
"""A flush writes at most this much as one record (a bigger single event is its own record)."""
RETRY_INITIAL_SECONDS = 0.1
RETRY_MAX_SECONDS = 2.0
"""While the store is unavailable the flusher retries this often at most (doubling from
``RETRY_INITIAL_SECONDS``): Redis back means events written within about 2 s."""

logger = logging.getLogger(__name__)

assert MAX_RECORD_EVENTS <= MAX_EVENTS_PER_RECORD


def stream_path(session_id: str) -> str:
    return PREFIX + session_id


@dataclass(frozen=True, slots=True)
class Batch:
    """Events read from the log, each a JSON object with its ``offset``, and where to go on."""

    events: list[bytes]
    position: EventPosition
    """After the last event of ``events`` (the next read starts here)."""
    up_to_date: bool
    """True when nothing more was in the log at the time of the read."""


class SessionLog:
    """Append events to a session and read them back with offsets."""

    def __init__(
        self,
        store: Store,
        session_id: str,
        *,
        max_event_bytes: int = 1024 * 1024,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.id = session_id
        self.path = stream_path(session_id)
        self.max_event_bytes = max_event_bytes
        self.clock = clock
        self.failure: Exception | None = None
        """Set when an append failed for good (the stream is gone, a bug): the log accepts no
        more events; the service drops such a log and opens the session again."""
        self.unavailable: StoreUnavailable | None = None
        """Set while the store is unavailable and the flusher retries: commands fail at once."""
        self.on_missing: Callable[[], Awaitable[list[bytes]]] | None = None
        """Called when an append finds no stream (expired, trimmed away, Redis restarted empty):
        it re-creates the stream and returns events to write first (the ledger's open
        entries); None = the log fails (a session that is gone)."""
        self._tail: Offset | None = None
        """The end of the last record this log wrote."""
        self._unsure: tuple[list[bytes], dict[int, asyncio.Future[str]]] | None = None
        """A batch whose append may or may not have been stored: retried exactly as it was."""
        self._durable: set[asyncio.Future[str]] = set()
        """Futures of appends that wait through store outages instead of failing."""
        self._queue: list[bytes] = []
        self._queued_bytes = 0
        self._futures: dict[int, asyncio.Future[str]] = {}
        """Index in ``_queue`` -> the future of an ``append`` waiting for that event's offset."""
        self._in_flight = 0
        """Events of the record being written."""
        self._flusher: asyncio.Task[None] | None = None
        self._progress = asyncio.Event()
        """Set (and replaced) after every flush: wakes ``flushed`` waiters."""
        self.on_written: Callable[[Offset, Offset], None] | None = None
        """Called with the start and end of every record this log writes (a ControlFollower
        skips them instead of reading back what its own process wrote)."""

    # --- lifecycle -------------------------------------------------------------------------

    async def create(self) -> StreamMeta:
        result = await self.store.create(self.path, CreateRequest(content_type=JSON))
        return result.meta

    async def head(self) -> StreamMeta:
        try:
            return await self.store.head(self.path)
        except (StreamNotFound, StreamGone):
            raise SessionNotFound(
                f"no session {self.id!r} on this server (a wrong id, or it expired: sessions "
                "nobody uses for the server's --session-ttl are removed); create a new one"
            ) from None

    # --- writing ---------------------------------------------------------------------------

    def publish(
        self,
        type: EventType,
        *,
        run: str | None = None,
        agent: str | None = None,
        device: str | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> None:
        """Queue an event; it is written with the next flush, after every event queued before."""
        self._enqueue(self.encode(type, run, agent, device, data), None)

    async def append(
        self,
        type: EventType,
        *,
        run: str | None = None,
        agent: str | None = None,
        device: str | None = None,
        data: Mapping[str, Any] | None = None,
        durable: bool = False,
    ) -> str:
        """Write an event (after every event queued before it) and return its offset;
        ``durable``: wait through a store outage instead of failing (``append_encoded``)."""
        event = self.encode(type, run, agent, device, data)
        return await self.append_encoded(event, durable=durable)

    async def append_encoded(self, event: bytes, *, durable: bool = False) -> str:
        """Write an event already encoded with ``encode``; return its offset.

        While the store is unavailable this raises StoreUnavailable (the event is not written),
        unless ``durable``: then it waits, however long, until the store takes it.
        """
        if self.unavailable is not None and not durable:
            raise self.unavailable
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        if durable:
            self._durable.add(future)
            future.add_done_callback(self._durable.discard)
        self._enqueue(event, future)
        return await future

    def publish_encoded(self, event: bytes) -> None:
        """Queue an event already encoded; written with the next flush, through outages."""
        self._enqueue(event, None)

    @property
    def backlog(self) -> int:
        """Events queued and not yet durable."""
        return len(self._queue) + self._in_flight

    @property
    def queued_bytes(self) -> int:
        """Bytes of the events queued and not yet taken by a flush."""
        return self._queued_bytes

    async def flushed(self, backlog: int = 0) -> None:
        """Wait until at most ``backlog`` events are still queued (backpressure, shutdown)."""
        while self.backlog > backlog and self.failure is None:
            await self._progress.wait()
        if self.failure is not None:
            raise self.failure

    async def settled(self) -> None:
        """Wait until the record being written, if one is, has been recorded as written
        (``on_written`` called). Its news may wake a follower first: the store announces a
        commit before this log's flusher resumes."""
        if self._in_flight:
            await self._progress.wait()

    def encode(
        self,
        type: EventType,
        run: str | None,
        agent: str | None,
        device: str | None,
        data: Mapping[str, Any] | None,
    ) -> bytes:
        """The stored form of an event of this session (raises if the log cannot take it)."""
        if self.failure is not None:
            raise self.failure
        event = encode_event(
            type, self.id, ts=self.clock(), run=run, agent=agent, device=device, data=data
        )
        if len(event) > self.max_event_bytes:
            raise EventTooLarge(
                f"a {type.value} event of {len(event)} bytes exceeds the limit of "
                f"{self.max_event_bytes} bytes"
            )
        return event

    def _enqueue(self, event: bytes, future: asyncio.Future[str] | None) -> None:
        if future is not None:
            self._futures[len(self._queue)] = future
        self._queue.append(event)
        self._queued_bytes += len(event)
        if self._flusher is None:
            self._flusher = asyncio.get_running_loop().create_task(self._flush())

    async def _flush(self) -> None:
        try:
            # Let the tasks that are ready now publish first: a run's opening events (the
            # run.started queued by the service, the agent's first answer) share one append.
            await asyncio.sleep(0)
            delay = RETRY_INITIAL_SECONDS
            recreated = False
            while self._queue or self._unsure is not None:
                if self._unsure is not None:
                    events, futures = self._unsure
                else:
                    events, futures = self._take_batch()
                self._in_flight = len(events)
                record = join_record(events)
                try:
                    tail = await self._write(record)
                except StoreUnavailable as error:  # Redis away: keep the events, try again
                    if error.outcome_unknown or self._unsure is not None:
                        # The record may be stored already: send exactly it again, once we
                        # have looked for it in the log (never twice in the log). Commands
                        # waiting on it are answered 503 now, as in any outage.
                        self._unsure = (events, self._fail_commands(futures, error))
                        self._requeue([], {}, error)  # and the commands queued behind it
                        self.unavailable = error
                        await asyncio.sleep(delay)
                        delay = min(delay * 2, RETRY_MAX_SECONDS)
                        continue
                    if self.unavailable is None:
                        logger.warning(
                            "session %s: the store is unavailable (%s); %d event(s) wait for it",
                            self.id,
                            error.message,
                            len(events) + len(self._queue),
                        )
                    self.unavailable = error
                    self._requeue(events, futures, error)
                    if not self._queue:
                        self.unavailable = None  # nothing waits: the next command tries
                        return
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, RETRY_MAX_SECONDS)
                    continue
                except (StreamNotFound, StreamGone) as error:
                    self._unsure = None  # no stream: the record is not in it
                    if self.on_missing is None:
                        logger.warning("session %s: %s; the log is closed", self.id, error.message)
                        self._fail(error, futures)
                        return
                    if recreated:  # re-created and missing again at once: give up
                        logger.warning("session %s: %s; the log is closed", self.id, error.message)
                        self._fail(error, futures)
                        return
                    try:
                        first = await self.on_missing()
                        recreated = True
                    except StoreUnavailable as unavailable:
                        self.unavailable = unavailable
                        first = []
                    self._requeue(events, futures, None)
                    self._queue[:0] = first
                    self._queued_bytes += sum(map(len, first))
                    self._futures = {i + len(first): f for i, f in self._futures.items()}
                    continue
                except Exception as error:  # a bug: this log can write no more
                    logger.exception("session %s: append failed; the log is closed", self.id)
                    self._fail(error, futures)
                    return
                self._unsure = None
                self._tail = tail
                if self.unavailable is not None:
                    logger.warning("session %s: the store is back; queued events written", self.id)
                    self.unavailable = None
                delay = RETRY_INITIAL_SECONDS
                recreated = False
                if self.on_written is not None:
                    self.on_written(record_start(tail, len(record)), tail)
                if futures:
                    offsets = record_offsets(tail, len(record), len(events))
                    for index, future in futures.items():
                        if not future.done():
                            future.set_result(offsets[index])
                self._in_flight = 0
                self._wake()
        finally:
            self._flusher = None

    async def _write(self, record: bytes) -> Offset:
        """Append one record; its end. After an append whose outcome was unknown (the
        connection dropped mid-commit and Redis did not say in time), first look for the
        record in the log: found, it was stored, and is not written again."""
        if self._unsure is not None:
            found = await self._find(record)
            if found is not None:
                return found
        result = await self.store.append(self.path, AppendRequest(data=record, content_type=JSON))
        return result.tail

    async def _find(self, record: bytes) -> Offset | None:
        """The end of ``record`` in the log after the last record this log wrote, if there."""
        position = self._tail if self._tail is not None else ZERO
        while True:
            result = await self.store.read(self.path, position, 4 * 1024 * 1024)
            for stored in result.records:
                position = Offset(position.seq + 1, position.position + len(stored))
                if stored == record:
                    return position
            position = result.next_offset
            if result.up_to_date:
                return None

    def _wake(self) -> None:
        self._progress.set()
        self._progress = asyncio.Event()

    def _take_batch(self) -> tuple[list[bytes], dict[int, asyncio.Future[str]]]:
        """The oldest queued events that fit in one record, and the futures among them."""
        queue = self._queue
        count = len(queue)
        if count > MAX_RECORD_EVENTS or self._queued_bytes + 2 * count > MAX_RECORD_BYTES:
            count = size = 0
            for event in queue[:MAX_RECORD_EVENTS]:
                size += len(event) + 2
                if count and size > MAX_RECORD_BYTES:
                    break
                count += 1
        events = queue[:count]
        del queue[:count]
        self._queued_bytes -= sum(map(len, events))
        futures: dict[int, asyncio.Future[str]] = {}
        if self._futures:
            waiting, self._futures = self._futures, {}
            for index, future in waiting.items():
                if index < count:
                    futures[index] = future
                else:
                    self._futures[index - count] = future
        return events, futures

    def _fail_commands(
        self, futures: dict[int, asyncio.Future[str]], error: StoreUnavailable
    ) -> dict[int, asyncio.Future[str]]:
        """Fail the futures that are not ``durable``; the durable ones, which go on waiting."""
        kept = {}
        for index, future in futures.items():
            if future in self._durable:
                kept[index] = future
            elif not future.done():
                future.set_exception(error)
        return kept

    def _requeue(
        self,
        events: list[bytes],
        futures: dict[int, asyncio.Future[str]],
        error: StoreUnavailable | None,
    ) -> None:
        """Put a batch that was not written back at the head of the queue.

        With an ``error``, every waiting command that is not ``durable`` (in the batch or queued
        behind it) fails with it and its event is dropped: the client is told 503 and retries.
        """
        everything = [*events, *self._queue]
        waiting = dict(futures)
        waiting.update({index + len(events): f for index, f in self._futures.items()})
        kept: list[bytes] = []
        self._futures = {}
        for index, event in enumerate(everything):
            future = waiting.get(index)
            if future is not None and error is not None and future not in self._durable:
                if not future.done():
                    future.set_exception(error)
                continue
            if future is not None:
                self._futures[len(kept)] = future
            kept.append(event)
        self._queue = kept
        self._queued_bytes = sum(map(len, kept))
        self._in_flight = 0
        self._wake()

    def _fail(self, error: Exception, futures: dict[int, asyncio.Future[str]]) -> None:
        self.failure = error
        self._unsure = None
        lost = [*futures.values(), *self._futures.values()]
        self._queue.clear()
        self._futures.clear()
        self._queued_bytes = self._in_flight = 0
        for future in lost:
            if not future.done():
                future.set_exception(error)
        self._wake()

    # --- reading ---------------------------------------------------------------------------

    async def read(
        self, after: EventPosition | Position, max_bytes: int, *, live: bool = False
    ) -> Batch:
        """Events after ``after`` (an EventPosition, or TAIL for none), up to about max_bytes;
        ``live``: for a reader that ``wait`` woke (``Store.read_live``)."""
        try:
            if after is TAIL:
                result = await self.store.read(self.path, TAIL, max_bytes)
                return Batch([], EventPosition(result.next_offset), True)
            assert isinstance(after, EventPosition)
            read = self.store.read_live if live else self.store.read
            result = await read(self.path, after.record, max_bytes)
        except (StreamNotFound, StreamGone):
            raise SessionNotFound(f"no session {self.id!r} on this server") from None
        except OffsetOutOfRange:
            raise InvalidSessionOffset(
                f"offset {after} is past the last event of this session"
            ) from None
        events, position = label_records(result.records, after, result.next_offset)
        return Batch(events, position, result.up_to_date)

    async def read_on(self, after: EventPosition, max_bytes: int) -> Batch:
        """``read`` for a live reader: while the store is unavailable, wait its Retry-After and
        read again, so a subscription outlives a Redis outage and goes on where it was."""
        while True:
            try:
                return await self.read(after, max_bytes, live=True)
            except StoreUnavailable as error:
                await asyncio.sleep(error.retry_after)

    async def wait(self, position: EventPosition, timeout: float) -> bool:
        """True as soon as there are events after ``position``; False after ``timeout``."""
        return await self.store.wait(self.path, position.record, timeout)

    async def wait_on(self, position: EventPosition, timeout: float) -> bool:
        """``wait`` for a live reader: while the store is unavailable, pause (at most
        ``timeout``) and answer False, so the reader stays connected and reads on later."""
        try:
            return await self.wait(position, timeout)
        except StoreUnavailable as error:
            await asyncio.sleep(min(error.retry_after, timeout))
            return False

    async def scan(self, max_bytes: int = 4 * 1024 * 1024) -> AsyncIterator[Batch]:
        """Every batch of the log from the start, up to the tail at the time of the call."""
        batch = await self.read(START, max_bytes)
        yield batch
        while not batch.up_to_date:
            batch = await self.read(batch.position, max_bytes)
            yield batch
