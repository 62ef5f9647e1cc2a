"""The ledger: what must be closed if the server dies, and the recovery that closes it.

Runs and device attachments are *open* things: a run must end with one ending event, a device
that joined must leave. When the server is killed, nothing writes those endings, so before an
open thing starts the service records it in a ledger (the JSON stream
``sessions/_ledger-<instance>``) and records it closed after its ending is written. On
start-up, ``recover`` reads the ledger, checks each session that still has open things against
its own log (the ending may have been written just before the crash), writes
``run.interrupted`` / ``presence.left`` for the rest, and closes them in the ledger.

The ledger is an internal stream that must outlive any idleness and any loss: the lease
heartbeat reads it (a read renews a stream's idle expiry; serving.sessions.leases), and when an
append finds it missing (Redis restarted empty) it is re-created with the things this process
has open at that moment, with a log line. A ``close`` is queued and waits through a store outage
(it comes after the run's ending, which waits too), so a run is never closed here without its
ending in the log.

Compaction (issue 17): a ledger only ever grew, two records per run and per device visit.
Whenever nothing is open in this process and ``COMPACT_AFTER`` writes were made since the last
compaction (the retention sweep asks, serving.retention), the ledger is deleted and created
empty; recovery does the same once it has closed everything. Both are safe because nothing is
open then: a crash between the delete and the create leaves no ledger, which recovery reads as
empty, as it should. A busy process is compacted at its first quiet moment (no run, no device
connected); until then Redis keeps the newest ``max_records`` records (REFRESH_EVERY) and a
SQLite ledger costs about 120 bytes per write.

Each server instance has its own ledger: several processes sharing one store (Redis) must have
different instance names, so that one restarting never ends the runs another is executing. A
restarted process keeps its name and recovers what it left open.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from serving.sessions.errors import SessionNotFound
from serving.sessions.events import RUN_ENDINGS, EventType, dumps
from serving.sessions.session import SessionLog
from serving.streams.errors import StreamNotFound
from serving.streams.offsets import TAIL
from serving.streams.store import Store

LEDGER_PREFIX = "_ledger-"
"""Session ids are hex, so ledger names cannot clash with a session."""
RUN = "run"
DEVICE = "device"
RESTART_REASON = "the server stopped while this was in progress"
REFRESH_EVERY = 1000
"""After this many writes to the ledger, the things still open that were last written that many
writes ago are written (open) again. A Redis store keeps ``max_records`` records per stream
(100,000 by default) and drops the oldest; without this, a run open while 100,000 other things
opened and closed would lose its "open" record, and after a kill -9 it would never get its
``run.interrupted``. With it, the newest record of an open thing is at most
``2 * REFRESH_EVERY`` + (things open) writes old, so ``max_records`` above that (docs/SCALING.md)
keeps every open thing. Cost: one record per long-open thing per 1,000 writes."""
COMPACT_AFTER = 1000
"""Writes since the last compaction before a quiet moment compacts the ledger again."""

logger = logging.getLogger(__name__)


@dataclass
class RecoveryReport:
    """What recovery closed, for the log and the tests."""

    interrupted_runs: list[tuple[str, str]] = field(default_factory=list)
    """(session, run) pairs that got a ``run.interrupted`` event."""
    departed_devices: list[tuple[str, str]] = field(default_factory=list)
    """(session, device) pairs that got a ``presence.left`` event."""


class Ledger:
    def __init__(
        self,
        store: Store,
        session_log: Callable[[str], SessionLog],
        instance: str = "main",
        *,
        refresh_every: int = REFRESH_EVERY,
    ) -> None:
        self.log = SessionLog(store, LEDGER_PREFIX + instance)
        self.session_log = session_log
        """Returns the SessionLog of a session id (the service's, so writes share one queue)."""
        self._open: set[tuple[str, str, str]] = set()
        """(session, kind, key) this process opened and has not closed."""
        self.log.on_missing = self._recreate
        self.on_recreated: Callable[[], Awaitable[None]] | None = None
        """Called when the ledger was re-created (the leases put this instance back in the
        registry at once: a survivor must know it before it can die)."""
        self.refresh_every = refresh_every
        self._writes = 0
        self._written_at: dict[tuple[str, str, str], int] = {}
        """The write count when each open thing's open record was last written."""
        self.compact_after = COMPACT_AFTER
        self._compacted_at = 0
        """The write count at the last compaction."""
        self._compacting: asyncio.Future[None] | None = None
        """Set while the ledger is deleted and created again: ``open`` waits for it."""

    async def open(self, session: str, kind: str, key: str) -> None:
        """Record an open thing; durable when this returns (StoreUnavailable if Redis is away:
        the run is then not started)."""
        while self._compacting is not None:
            await asyncio.shield(self._compacting)
        item = (session, kind, key)
        self._open.add(item)
        self._written_at[item] = self._count_write()
        try:
            await self.log.append_encoded(_entry(session, kind, key, opened=True))
        except BaseException:
            # Not started. The entry may still be written (its append's outcome was unknown
            # and it is sent again when Redis is back): a close after it cancels it.
            self._open.discard(item)
            self._written_at.pop(item, None)
            self.log.publish_encoded(_entry(session, kind, key, opened=False))
            raise

    async def close(self, session: str, kind: str, key: str) -> None:
        """Record a closed thing: queued, written as soon as the store takes it (through an
        outage of any length), after the open things' endings queued before it."""
        self._open.discard((session, kind, key))
        self._written_at.pop((session, kind, key), None)
        self._count_write()
        self.log.publish_encoded(_entry(session, kind, key, opened=False))

    def _count_write(self) -> int:
        """Count one write; every ``refresh_every`` writes, queue the open record again of
        each thing still open whose last one is that old (REFRESH_EVERY says why)."""
        self._writes += 1
        if self._writes % self.refresh_every == 0:
            for item in sorted(self._open):
                if self._writes - self._written_at.get(item, 0) >= self.refresh_every:
                    self._writes += 1
                    self._written_at[item] = self._writes
                    self.log.publish_encoded(_entry(*item, opened=True))
        return self._writes

    async def compact(self, *, force: bool = False) -> bool:
        """Delete the ledger and create it empty, if nothing is open in this process and
        ``compact_after`` writes were made since the last time (``force``: any number);
        whether it did (the module docstring says why this is safe)."""
        if self._compacting is not None or self._open or self.log.unavailable is not None:
            return False  # (Redis away: not now; ``open`` would wait for the outage)
        if not force and self._writes - self._compacted_at < self.compact_after:
            return False
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._compacting = done
        try:
            await self.log.flushed()
            if self._open or self.log.backlog:
                return False
            with contextlib.suppress(StreamNotFound):
                await self.log.store.delete(self.log.path)
            fresh = SessionLog(self.log.store, self.log.id)
            fresh.on_missing = self._recreate
            await fresh.create()
            self.log = fresh
            self._compacted_at = self._writes
            return True
        finally:
            self._compacting = None
            done.set_result(None)

    async def _recreate(self) -> list[bytes]:
        """The ledger stream is missing (expired, or Redis restarted empty): create it again
        with what this process has open now, so a survivor can still end those things."""
        await self.log.create()
        if self.on_recreated is not None:
            await self.on_recreated()  # Redis lost data: the registry too, perhaps
        logger.warning(
            "the ledger %s was missing (expired, or Redis lost it); re-created with the %d "
            "thing(s) open in this process",
            self.log.path,
            len(self._open),
        )
        return [_entry(*item, opened=True) for item in sorted(self._open)]

    async def touch(self) -> None:
        """Read the ledger (a read renews a stream's idle expiry); re-create it if missing."""
        try:
            await self.log.store.read(self.log.path, TAIL, 0)
        except StreamNotFound:
            for entry in await self._recreate():
                self.log.publish_encoded(entry)

    async def recover(self) -> RecoveryReport:
        """Close everything the ledger says is open; call once, before serving."""
        await self.log.create()  # idempotent: the ledger of the previous run, or a new one
        still_open: dict[str, set[tuple[str, str]]] = {}
        async for batch in self.log.scan():
            for raw in batch.events:
                entry = json.loads(raw)
                items = still_open.setdefault(entry["session"], set())
                item = (entry["kind"], entry["key"])
                if entry["open"]:
                    items.add(item)
                else:
                    items.discard(item)
        report = RecoveryReport()
        for session, items in still_open.items():
            if items:
                await self._close_session(session, items, report)
        await self.log.flushed()  # the closes are written (a reaper deletes the ledger next)
        await self.compact(force=True)  # everything is closed: start from an empty ledger
        return report

    async def _close_session(
        self, session: str, items: set[tuple[str, str]], report: RecoveryReport
    ) -> None:
        log = self.session_log(session)
        try:
            ended, present = await _replay(log)
        except SessionNotFound:  # the session expired meanwhile: nothing to end in it
            for kind, key in sorted(items):
                await self.close(session, kind, key)
            return
        for kind, key in sorted(items):
            if kind == RUN and key not in ended:
                await log.append(
                    EventType.RUN_INTERRUPTED, run=key, data={"reason": RESTART_REASON}
                )
                report.interrupted_runs.append((session, key))
            elif kind == DEVICE and present[key] == 1:  # not (also) joined through another one
                await log.append(
                    EventType.PRESENCE_LEFT, device=key, data={"reason": RESTART_REASON}
                )
                report.departed_devices.append((session, key))
            await self.close(session, kind, key)


def _entry(session: str, kind: str, key: str, *, opened: bool) -> bytes:
    return dumps({"session": session, "kind": kind, "key": key, "open": opened})


async def _replay(log: SessionLog) -> tuple[set[str], Counter[str]]:
    """The runs that have ended, and per device present, how many processes it is present
    through according to a session's log: each process writes its own ``presence.joined``.
    A device that reconnected to a survivor after its process died counts 2, so the reaping
    of the dead process writes no ``presence.left`` for a device that is still there."""
    ended: set[str] = set()
    present: Counter[str] = Counter()
    async for batch in log.scan():
        for raw in batch.events:
            event = json.loads(raw)
            kind = event["type"]
            if kind in RUN_ENDINGS:
                ended.add(event["run"])
            elif kind == EventType.PRESENCE_JOINED:
                present[event["device"]] += 1
            elif kind == EventType.PRESENCE_LEFT and present[event["device"]] > 0:
                present[event["device"]] -= 1
    return ended, present
