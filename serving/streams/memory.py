"""The in-memory store: fast, simple, gone on restart (tests, experiments, benchmarks).

Atomicity comes from asyncio itself: no method awaits between loading state and writing it,
so every check-and-append runs without interleaving.
"""

from __future__ import annotations

import bisect
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from serving.streams import rules
from serving.streams.errors import StreamGone, StreamNotFound
from serving.streams.notify import Notifier
from serving.streams.offsets import TAIL, Offset, Position
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


@dataclass(slots=True)
class _Stream:
    meta: StreamMeta
    records: list[bytes] = field(default_factory=list)
    """Own records; records[i] ends at seq ``meta.base.seq + 1 + i``..."""
    ends: list[Offset] = field(default_factory=list)
    """...and at offset ``ends[i]``."""
    producers: dict[str, ProducerState] = field(default_factory=dict)


class MemoryStore(Store):
    """Streams in a dict. ``clock`` returns Unix seconds (injectable for TTL tests).

    Expired streams are removed when next touched, and by a sweep over all streams at most
    once per ``SWEEP_SECONDS``, so streams nobody asks about again do not pile up.
    """

    SWEEP_SECONDS = 60.0

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._by_path: dict[str, _Stream] = {}
        self._by_id: dict[str, _Stream] = {}
        self._ids = itertools.count(1)
        self._notifier = Notifier()
        self._next_sweep = clock() + self.SWEEP_SECONDS

    # --- the contract ----------------------------------------------------------------------

    async def create(self, path: str, request: CreateRequest) -> CreateResult:
        now = self._clock()
        existing = self._find(path, now)
        if existing is not None:
            rules.check_recreate(existing.meta, request)
            return CreateResult(created=False, meta=existing.meta)
        source = fork_offset = prefix = None
        if request.fork is not None:
            source = self._find(request.fork.source, now)
            if source is None:
                raise StreamNotFound(f"fork source {request.fork.source!r} does not exist")
            fork_offset = rules.resolve_fork(request, source.meta)
            if request.fork.sub_offset:
                following = self._read_records(source.meta, fork_offset, max_bytes=0)[0]
                prefix = rules.fork_prefix(
                    following[0] if following else None,
                    source.meta.content_type,
                    request.fork.sub_offset,
                )
        meta, records = rules.new_stream(
            path,
            str(next(self._ids)),
            request,
            now,
            None if source is None else source.meta,
            fork_offset,
            prefix,
        )
        stream = _Stream(meta, [data for _, data in records], [end for end, _ in records])
        if source is not None:
            source.meta = source.meta._replace(forks=source.meta.forks + 1)
        self._by_path[path] = stream
        self._by_id[meta.stream_id] = stream
        self._notifier.notify(path)
        return CreateResult(created=True, meta=meta)

    async def append(self, path: str, request: AppendRequest) -> AppendResult:
        now = self._clock()
        stream = self._live(path, now)
        claim = request.producer
        state = stream.producers.get(claim.id) if claim else None
        plan = rules.plan_append(stream.meta, state, request, now)
        if plan.record is not None:
            end, data = plan.record
            stream.records.append(data)
            stream.ends.append(end)
        if plan.producer is not None:
            producer_id, new_state = plan.producer
            stream.producers[producer_id] = new_state
        if plan.meta is not None:
            stream.meta = plan.meta
            self._notifier.notify(path)
        return plan.result

    async def read(self, path: str, after: Position, max_bytes: int) -> ReadResult:
        now = self._clock()
        stream = self._live(path, now)
        stream.meta = stream.meta._replace(accessed_at=now)
        if after is TAIL:
            return ReadResult([], stream.meta.tail, stream.meta)
        assert isinstance(after, Offset)
        rules.check_read_offset(stream.meta, after)
        records, next_offset = self._read_records(stream.meta, after, max_bytes)
        return ReadResult(records, next_offset, stream.meta)

    async def head(self, path: str) -> StreamMeta:
        return self._live(path, self._clock()).meta

    async def delete(self, path: str) -> None:
        stream = self._live(path, self._clock())
        self._delete(stream)

    async def wait(self, path: str, after: Offset, timeout: float) -> bool:
        stream = self._find(path, self._clock())
        if stream is None or stream.meta.tombstone:
            return True
        if stream.meta.tail > after or stream.meta.closed:
            return True
        return await self._notifier.wait(path, timeout)

    async def producer_state(self, path: str, producer_id: str) -> ProducerState | None:
        return self._live(path, self._clock()).producers.get(producer_id)

    async def aclose(self) -> None:
        self._notifier.notify_all()

    async def paths(self, prefix: str) -> list[str]:
        return [path for path in self._by_path if path.startswith(prefix)]

    # --- helpers ---------------------------------------------------------------------------

    def _find(self, path: str, now: float) -> _Stream | None:
        """The stream at ``path`` (possibly a tombstone), applying expiry; None if absent."""
        if now >= self._next_sweep:
            self._next_sweep = now + self.SWEEP_SECONDS
            for other in list(self._by_path):
                if other in self._by_path:
                    self._find(other, now)
        stream = self._by_path.get(path)
        if stream is None:
            return None
        state = rules.liveness(stream.meta, now)
        if state is rules.Liveness.EXPIRED:
            self._delete(stream)
            return None
        if state is rules.Liveness.TOMBSTONE and not stream.meta.tombstone:
            stream.meta = stream.meta._replace(tombstone=True)
            self._notifier.notify(path)
        return stream

    def _live(self, path: str, now: float) -> _Stream:
        stream = self._find(path, now)
        if stream is None:
            raise StreamNotFound(f"no stream at {path!r}; create it with PUT first")
        if stream.meta.tombstone:
            raise StreamGone(f"stream {path!r} was deleted; its history is kept only for its forks")
        return stream

    def _delete(self, stream: _Stream) -> None:
        """DELETE semantics: tombstone if forked, else remove and release the source chain."""
        if stream.meta.forks > 0:
            stream.meta = stream.meta._replace(tombstone=True)
            self._notifier.notify(stream.meta.path)
            return
        while True:
            del self._by_path[stream.meta.path]
            del self._by_id[stream.meta.stream_id]
            self._notifier.notify(stream.meta.path)
            origin = stream.meta.fork
            source = self._by_id.get(origin.source_id) if origin else None
            if source is None:
                return
            source.meta, remove = rules.release_source(source.meta)
            if not remove:
                return
            stream = source

    def _read_records(
        self, meta: StreamMeta, after: Offset, max_bytes: int
    ) -> tuple[list[bytes], Offset]:
        """Whole records after ``after`` up to ``max_bytes`` (at least one), and the next offset."""
        records: list[bytes] = []
        budget = max_bytes
        next_offset = after
        for segment in rules.read_plan(meta, after):
            owner = self._by_id[segment.stream_id]
            first = segment.start.seq - owner.meta.base.seq
            last = segment.end.seq - owner.meta.base.seq
            start_position = owner.ends[first - 1].position if first else owner.meta.base.position
            # ends[i].position counts the bytes up to record i: bisect for the budget's end.
            stop = bisect.bisect_right(
                owner.ends, start_position + budget, first, last, key=_position
            )
            if stop == first and not records:
                stop = first + 1
            records.extend(owner.records[first:stop])
            if stop > first:
                next_offset = owner.ends[stop - 1]
            if stop < last:
                return records, next_offset
            budget -= owner.ends[last - 1].position - start_position
        return records, meta.tail


def _position(offset: Offset) -> int:
    return offset.position
