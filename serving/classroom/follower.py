"""Per process, per classroom: tail ``classrooms/<CODE>/log`` through the store and fold it.

Like serving.sessions (a read from the last offset, then ``store.wait`` from there), so a room
is one reader of its log however many pages watch it: the follower folds each new record once,
bumps ``version`` and wakes the room's SSE streams, which then send at most one snapshot per
``MIN_SNAPSHOT_SECONDS`` each (a burst of 200 learners' checks is one snapshot, not 200).
On a shared store (Redis) ``wait`` wakes in every process, so every process's follower sees
what the learners sent through the others.

The follower tails only while a page watches (``subscribe``); a GET of the room or a join
catches up on demand (``sync``). Followers of rooms nobody watches are dropped beyond
``KEPT_IDLE`` (least recently used first) and rebuilt from the log when needed: a room of 200
learners after a day folds in well under a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from serving.classroom.room import Room
from serving.streams.errors import StreamError, StreamGone, StreamNotFound
from serving.streams.offsets import ZERO
from serving.streams.store import Store

MIN_SNAPSHOT_SECONDS = 0.25
"""At most ~4 snapshots a second per stream: a page redraws no faster than a person reads."""
TAIL_WAIT_SECONDS = 15.0
"""One ``store.wait`` at a time, renewed: a deleted or expired log is noticed this fast."""
RETRY_SECONDS = 1.0
"""After a store failure (Redis away), the tail tries again this often."""
SHARED_SNAPSHOT_SECONDS = 1.0
"""Streams of one room (the projector and the instructor's phone) share an encoded snapshot of
the same version for this long: a full room (200 learners by 36 exercises, 466 KiB of JSON)
takes ~22 ms to build and ~22 ms to encode, so each page beyond the first costs nothing."""
KEPT_IDLE = 256
"""Followers of unwatched rooms kept in memory (folded state of a big room: ~1 MB)."""

logger = logging.getLogger(__name__)


def log_path(code: str) -> str:
    return f"classrooms/{code}/log"


def messages_path(code: str) -> str:
    return f"classrooms/{code}/messages"


class RoomFollower:
    """The fold of one classroom's log in this process, kept up to date."""

    def __init__(self, store: Store, room: Room, *, max_read_bytes: int) -> None:
        self.store = store
        self.room = room
        self.path = log_path(room.code)
        self.max_read_bytes = max_read_bytes
        self.offset = ZERO
        self.version = 0
        """Bumped at every record folded: a stream sends a snapshot when it moved."""
        self.subscribers = 0
        self.gone = False
        """The log was deleted or expired: its streams end."""
        self._lock = asyncio.Lock()
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._encoded: tuple[int, float, str, bytes] | None = None
        """(version, built at, offset, JSON) of the last snapshot encoded for the streams."""

    async def sync(self) -> None:
        """Read and fold everything after ``offset`` up to the tail (StreamNotFound if the
        log is gone)."""
        async with self._lock:
            while True:
                result = await self.store.read(self.path, self.offset, self.max_read_bytes)
                for record in result.records:
                    for event in json.loads(b"[" + record + b"]"):
                        self.room.apply(event)
                if result.records:
                    self.offset = result.next_offset
                    self._bump()
                if result.up_to_date:
                    return

    def _bump(self) -> None:
        self.version += 1
        self._changed.set()
        self._changed = asyncio.Event()

    async def changed(self, seen: int, timeout: float) -> bool:
        """Wait until ``version`` passes ``seen`` (True) or ``timeout`` passes (False)."""
        if self.version != seen or self.gone:
            return True
        event = self._changed
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await event.wait()
        return self.version != seen or self.gone

    def subscribe(self) -> None:
        self.subscribers += 1
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(
                self._tail(), name=f"classroom {self.room.code}"
            )

    def unsubscribe(self) -> None:
        self.subscribers -= 1
        if self.subscribers <= 0 and self._task is not None:
            self._task.cancel()
            self._task = None

    async def _tail(self) -> None:
        while self.subscribers > 0:
            try:
                await self.sync()
                await self.store.wait(self.path, self.offset, TAIL_WAIT_SECONDS)
            except (StreamNotFound, StreamGone):
                self.gone = True
                self._bump()
                return
            except StreamError as error:  # the store away: retry, the pages keep their grid
                logger.warning("classroom %s: tail paused (%s)", self.room.code, error.message)
                await asyncio.sleep(RETRY_SECONDS)

    def snapshot(self, now: float) -> dict[str, Any]:
        return self.room.snapshot(str(self.offset), now)

    def encoded(self, now: float, monotonic: float) -> tuple[str, bytes]:
        """The snapshot's offset and compact JSON, shared by the streams of this room while
        the version and the second are the same."""
        cached = self._encoded
        if (
            cached is None
            or cached[0] != self.version
            or monotonic - cached[1] >= SHARED_SNAPSHOT_SECONDS
        ):
            snapshot = self.snapshot(now)
            data = json.dumps(snapshot, separators=(",", ":")).encode()
            cached = self._encoded = (self.version, monotonic, snapshot["offset"], data)
        return cached[2], cached[3]


class Followers:
    """The followers of this process, one per classroom in use."""

    def __init__(
        self, store: Store, make_room: Callable[[str], Room], *, max_read_bytes: int
    ) -> None:
        self.store = store
        self.make_room = make_room
        self.max_read_bytes = max_read_bytes
        self._followers: OrderedDict[str, RoomFollower] = OrderedDict()

    def get(self, code: str) -> RoomFollower:
        follower = self._followers.get(code)
        if follower is None or follower.gone:
            follower = RoomFollower(
                self.store, self.make_room(code), max_read_bytes=self.max_read_bytes
            )
            self._followers[code] = follower
        self._followers.move_to_end(code)
        idle = [key for key, each in self._followers.items() if each.subscribers <= 0]
        for key in idle[: max(0, len(idle) - KEPT_IDLE)]:
            del self._followers[key]
        return follower

    def stop(self) -> None:
        for follower in self._followers.values():
            if follower._task is not None:
                follower._task.cancel()
        self._followers.clear()
