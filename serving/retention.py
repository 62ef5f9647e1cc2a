"""Retention: a session idle for ``session_ttl`` expires, with everything that belongs to it.

Without this a server only grew: sessions never expired on SQLite (the memory store and Redis
kept them for the life of the process, or Redis's 7-day idle retention), batch results and
uploads stayed in ``data/`` for ever, and so did the ``.part`` files of interrupted uploads and
runs. The sweep here removes, every ``sweep_seconds``:

- **sessions** idle (no read or write of their log) for ``ttl_seconds``: the log stream is
  deleted as DELETE would (a session forked through the streams API stays readable by its
  forks), its uploads folder goes with it, and its cached state leaves the service (its id
  is remembered for a TTL to answer SESSION_EXPIRED). A session in use in this process (a
  connection, a run, events queued) is never idle: its log is read at every sweep, which
  renews its idle time for every process sharing the store. Clients that come back get
  ``SESSION_EXPIRED`` (410, WebSocket 4410) instead of a hang
  (serving.sessions.service.SessionService.open);
- **uploads** folders of sessions that no longer exist (expired while no server ran);
- **batch results** not written or downloaded for ``ttl_seconds`` (a download renews a result,
  as a read renews a session: serving.models.http);
- **``.part`` files** older than ``PART_GRACE_SECONDS``: what an upload or a batch run left
  when its process was killed;
- **classrooms** (serving.classroom) past their TTL: their two streams carry the session TTL
  in the store itself (renewed by every use of the room), and a store applies a TTL when a
  stream is looked at, so a room nobody touches again would stay in the SQLite file (or in a
  memory store) for ever; the sweep looks at each ``classrooms/`` stream (a ``head``: it
  renews nothing) and the store removes the expired ones (Redis expires them by itself);
- then the SQLite store hands the freed pages back to the file system (``reclaim``:
  incremental vacuum), and the ledger is compacted (serving.sessions.ledger).

Measured (benchmarks/results/retention.md): a sweep of 10,000 expired sessions on SQLite
stalls the event loop at most a few milliseconds (heads are answered from memory, deletes go
to the writer thread 32 at a time so they share commits, file removal runs in a worker
thread); the file shrinks to what the live sessions need.

The decision is a pure function (``is_due``), the walk is thin I/O: ``collect(dry_run=True)``
says what would go (``serving gc --dry-run``) without removing anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import shutil
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path

from serving.classroom import CLASSROOM_PREFIX
from serving.sessions.session import PREFIX
from serving.streams.errors import StreamError, StreamNotFound
from serving.streams.offsets import TAIL
from serving.streams.store import Store

DEFAULT_SESSION_TTL_SECONDS = 3 * 24 * 3600.0
"""A session nobody used for three days expires: a learner who comes back after a weekend
finds it gone only if nobody opened it since Friday (``--session-ttl`` to change it)."""
SWEEP_SECONDS = 600.0
"""How often the server sweeps (at most: a TTL shorter than 4 sweeps sweeps 4 times per TTL)."""
PART_GRACE_SECONDS = 3600.0
"""A ``.part`` file untouched this long belongs to no live upload or run: an upload's body may
pause at most 30 s (serving.slowclients) and a batch run writes a chunk at least every few
seconds."""
DELETES_AT_ONCE = 32
"""Deletes in flight together: they share SQLite commits and Redis round trips. With 256 at
once, answering and waking that many stalled the event loop up to 115 ms on SQLite and 220 ms
on Redis during a sweep of 10,000 sessions; 32 keep the longest stall at a few milliseconds
for about the same total time (benchmarks/results/retention.md)."""
HEADS_PER_TURN = 256
"""Sessions looked at before the sweep lets the event loop run other work."""

_SESSION_ID = re.compile(r"[0-9a-f]{32}")
_RESULT = re.compile(r"[A-Za-z0-9_-]{22}\.csv")

logger = logging.getLogger(__name__)


def is_due(last_used: float, now: float, ttl_seconds: float) -> bool:
    """True when something last used at ``last_used`` has been idle ``ttl_seconds`` by ``now``."""
    return now - last_used >= ttl_seconds


@dataclass
class Collected:
    """What a sweep removed (or, dry, would remove)."""

    sessions: list[str] = field(default_factory=list)
    """Session ids."""
    classrooms: list[str] = field(default_factory=list)
    """Join codes of the classrooms whose streams expired and went."""
    files: list[Path] = field(default_factory=list)
    """Uploads folders, results and ``.part`` files."""
    file_bytes: int = 0
    kept_sessions: int = 0
    reclaimed_bytes: int = 0
    """What the SQLite file (and its WAL) shrank by."""
    dry_run: bool = False

    def summary(self) -> str:
        verb = "would remove" if self.dry_run else "removed"
        text = (
            f"{verb} {len(self.sessions)} expired session(s) and {len(self.files)} file(s) or "
            f"folder(s) ({self.file_bytes:,} bytes); {self.kept_sessions} session(s) kept"
        )
        if self.classrooms:
            text += f"; {len(self.classrooms)} expired classroom(s) gone"
        if self.reclaimed_bytes:
            text += f"; the store file shrank by {self.reclaimed_bytes:,} bytes"
        return text


class Retention:
    """The sweep of one server process (or of ``serving gc``)."""

    def __init__(
        self,
        store: Store,
        *,
        ttl_seconds: float,
        data_dir: Path | None = None,
        clock: Callable[[], float] = time.time,
        sweep_seconds: float = SWEEP_SECONDS,
        active: Callable[[], Collection[str]] = frozenset,
        on_expired: Callable[[str], None] | None = None,
        after_sweep: Callable[[], object] | None = None,
    ) -> None:
        if ttl_seconds <= 0:
            raise ValueError("the session TTL must be positive seconds")
        self.store = store
        self.ttl_seconds = ttl_seconds
        self.data_dir = data_dir
        self.clock = clock
        self.sweep_seconds = min(sweep_seconds, ttl_seconds / 4)
        self.active = active
        """Ids of the sessions in use in this process (never expired; renewed each sweep)."""
        self.on_expired = on_expired
        """Told each session id removed (the service forgets it and answers SESSION_EXPIRED)."""
        self.after_sweep = after_sweep
        """Awaited (if it returns an awaitable) after each sweep: ledger compaction."""
        self.last: Collected | None = None
        self._task: asyncio.Task[None] | None = None

    # --- the background task --------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="retention")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.sweep_seconds)
            try:
                collected = await self.collect()
            except StreamError as error:  # Redis away: the next sweep tries again
                logger.warning("retention: sweep skipped (%s)", error.message)
                continue
            except Exception:
                logger.exception("retention: sweep failed; the next one tries again")
                continue
            if collected.sessions or collected.files:
                logger.info("retention: %s", collected.summary())

    # --- one sweep -------------------------------------------------------------------------

    async def collect(self, *, dry_run: bool = False) -> Collected:
        """Remove (``dry_run``: only list) what expired; see the module docstring."""
        now = self.clock()
        collected = Collected(dry_run=dry_run)
        active = set(self.active())
        if not dry_run:
            await self._renew(active)
        paths = await self.store.paths(PREFIX)
        known: set[str] = set()
        for index, path in enumerate(paths):
            if index % HEADS_PER_TURN == HEADS_PER_TURN - 1:
                await asyncio.sleep(0)  # let requests in between
            session_id = path[len(PREFIX) :]
            if not _SESSION_ID.fullmatch(session_id):
                continue  # the ledger, leases, registry: internal streams
            known.add(session_id)
            if session_id in active:
                collected.kept_sessions += 1
                continue
            try:
                meta = await self.store.head(path)
            except StreamError:  # gone meanwhile, or a tombstone kept for its forks
                continue
            if is_due(meta.accessed_at, now, self.ttl_seconds):
                collected.sessions.append(session_id)
            else:
                collected.kept_sessions += 1
        if not dry_run:
            await self._delete(collected.sessions)
        collected.classrooms = await self._expired_classrooms()
        if self.data_dir is not None:
            gone = set(collected.sessions)
            files = await asyncio.to_thread(
                _collect_files, self.data_dir, now, self.ttl_seconds, gone, known, dry_run
            )
            collected.files, collected.file_bytes = files
        if not dry_run and (collected.sessions or collected.classrooms or collected.files):
            reclaim = getattr(self.store, "reclaim", None)
            if reclaim is not None:
                collected.reclaimed_bytes = await reclaim()
        if not dry_run and self.after_sweep is not None:
            result = self.after_sweep()
            if asyncio.iscoroutine(result):
                await result
        self.last = collected
        return collected

    async def _expired_classrooms(self) -> list[str]:
        """Look at every classroom stream; the codes of those the store found expired (and
        removed: SQLite's writer drops it at once, the memory store in the call).

        Also on a dry run: a stream past its TTL is already gone for every client (404), and
        any look at it removes it, as the sessions' heads already do for whatever expired."""
        gone: set[str] = set()
        for index, path in enumerate(await self.store.paths(CLASSROOM_PREFIX)):
            if index % HEADS_PER_TURN == HEADS_PER_TURN - 1:
                await asyncio.sleep(0)
            try:
                await self.store.head(path)
            except StreamNotFound:
                gone.add(path[len(CLASSROOM_PREFIX) :].split("/", 1)[0])
            except StreamError:
                continue
        return sorted(gone)

    async def _renew(self, active: set[str]) -> None:
        """Read the logs of the sessions in use here: a read renews their idle time, so no
        process sharing the store expires a session a connection of this one still holds."""
        for session_id in active:
            with contextlib.suppress(StreamError):
                await self.store.read(PREFIX + session_id, TAIL, 0)

    async def _delete(self, session_ids: list[str]) -> None:
        for start in range(0, len(session_ids), DELETES_AT_ONCE):
            chunk = session_ids[start : start + DELETES_AT_ONCE]
            outcomes = await asyncio.gather(
                *(self.store.delete(PREFIX + session_id) for session_id in chunk),
                return_exceptions=True,
            )
            for session_id, outcome in zip(chunk, outcomes, strict=True):
                if isinstance(outcome, BaseException) and not isinstance(outcome, StreamError):
                    raise outcome
                if self.on_expired is not None:
                    self.on_expired(session_id)


def _collect_files(
    data_dir: Path,
    now: float,
    ttl_seconds: float,
    expired: set[str],
    known: set[str],
    dry_run: bool,
) -> tuple[list[Path], int]:
    """Worker thread: the files and folders to remove under ``data_dir`` (and remove them)."""
    chosen: list[tuple[Path, int]] = []
    uploads = data_dir / "uploads"
    for folder in _entries(uploads):
        name = folder.name
        if not folder.is_dir() or not _SESSION_ID.fullmatch(name):
            continue
        if name in expired or (name not in known and _idle(folder, now, ttl_seconds)):
            chosen.append((folder, _size(folder)))
            continue
        chosen += _stale_parts(folder, now)
    results = data_dir / "results"
    for entry in _entries(results):
        if _RESULT.fullmatch(entry.name) and _idle(entry, now, ttl_seconds):
            chosen.append((entry, _size(entry)))
    chosen += _stale_parts(results, now)
    if not dry_run:
        for path, _ in chosen:
            with contextlib.suppress(FileNotFoundError):
                if path.is_dir():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink()
    return [path for path, _ in chosen], sum(size for _, size in chosen)


def _entries(folder: Path) -> list[Path]:
    try:
        return list(folder.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return []


def _stale_parts(folder: Path, now: float) -> list[tuple[Path, int]]:
    return [
        (entry, _size(entry))
        for entry in _entries(folder)
        if entry.name.startswith(".")
        and entry.name.endswith(".part")
        and _idle(entry, now, PART_GRACE_SECONDS)
    ]


def _idle(path: Path, now: float, seconds: float) -> bool:
    """Not modified for ``seconds`` (a folder: nor any file in it)."""
    try:
        newest = path.stat().st_mtime
        if path.is_dir():
            for entry in path.iterdir():
                newest = max(newest, entry.stat().st_mtime)
    except FileNotFoundError:
        return False
    return is_due(newest, now, seconds)


def _size(path: Path) -> int:
    try:
        if path.is_dir():
            return sum(entry.stat().st_size for entry in path.iterdir() if entry.is_file())
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def parse_duration(text: str) -> float | None:
    """``--session-ttl``: ``3d``, ``12h``, ``90m``, ``600s`` or ``600`` (seconds); ``none``
    (or ``0``): sessions never expire."""
    value = text.strip().lower()
    if value in ("none", "never", "0"):
        return None
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
    scale = units.get(value[-1:])
    number = value[:-1] if scale is not None else value
    try:
        seconds = float(number) * (scale or 1)
    except ValueError:
        raise ValueError(
            f"not a duration: {text!r}; write e.g. 3d, 12h, 90m, 600 (seconds) or none"
        ) from None
    if not seconds > 0 or seconds != seconds or seconds == float("inf"):
        raise ValueError(f"a duration must be positive: {text!r} (or none: never expire)")
    return seconds


__all__ = [
    "DEFAULT_SESSION_TTL_SECONDS",
    "Collected",
    "Retention",
    "is_due",
    "parse_duration",
]
