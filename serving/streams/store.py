"""The store contract: what every stream store (memory, SQLite, later Redis) must do.

A store keeps streams: append-only logs of *records* addressed by path. It knows nothing about
HTTP; it stores, and it applies the stream rules of serving.streams.rules (pure functions, no
I/O) inside its own atomic section, so every store enforces the same rules the same way.

Vocabulary
----------
record
    What one append stores: the bytes of one POST (or PUT) body, already encoded by the
    protocol core. For ``application/json`` streams a record is the comma-joined compact JSON
    of the messages of one request (``{"a":1},{"b":2}``), so a read is served by joining
    records with ``,`` inside ``[...]``; for every other content type the records are
    concatenated as they are. Stores never parse or re-encode record bytes.
offset
    serving.streams.offsets.Offset: ``seq`` records and ``position`` bytes precede it. The
    record appended at tail ``t`` ends at ``t.after(len(data))``, which becomes the new tail;
    stores key records by that end offset. ZERO is the start of every stream.
stream id
    Each incarnation of a path gets a fresh, never reused ``stream_id`` (a delete followed by
    a create at the same path is a different stream). ETags and fork lineage use it.
lineage
    A fork's history is its source's history up to the fork offset, followed by its own
    records. StreamMeta.lineage lists the inherited pieces as Segments (oldest first); the
    stream's own records follow, starting after ``StreamMeta.base`` (ZERO for a plain stream,
    the fork offset for a fork). Lineage is computed once at fork time (history is immutable)
    so reading a fork never needs the source's metadata.

Construction
------------
Stores take a keyword ``clock: Callable[[], float] = time.time`` (Unix seconds) and read the
time only through it, so the contract tests can drive TTL and expiry without sleeping.
A store is opened by serving.streams.stores.open_store(url); the SQLite store is constructed as
``SQLiteStore(path: pathlib.Path, *, clock=time.time)`` and creates its file and schema.

Methods and their semantics
---------------------------
Every method raises StreamNotFound (404) for a path with no stream and StreamGone (410) for a
stream that was deleted or expired while forks still reference it (a *tombstone*), unless
stated otherwise. Expiry is checked on every access with rules.liveness(meta, clock()): an
expired stream behaves exactly as if it had been deleted at that moment (tombstone if it has
forks, otherwise removed, releasing its source as DELETE would).

``create(path, request) -> CreateResult``
    Creates a stream, or confirms an identical one. If a live stream exists at ``path``:
    rules.check_recreate() decides (same config -> ``created=False``; different ->
    ConfigMismatch 409; a tombstone -> ConfigMismatch 409, the path is pinned by its forks).
    With ``request.fork``: the source is looked up by path (missing or expired ->
    StreamNotFound; tombstone -> ForkSourceGone 409), rules.resolve_fork() validates content
    type and offset; with a sub-offset the store fetches the first record after the fork offset
    in the source's history and rules.fork_prefix() cuts the inherited prefix, which becomes the
    fork's first own record. The source's fork count is incremented in the same atomic step as
    the fork's creation, and only if creation succeeds. rules.new_stream() builds the metadata and
    the initial records (prefix, then the request's initial body if any). The result is durable
    when create returns.

``append(path, request) -> AppendResult``
    One atomic check-and-append: load the metadata and this producer's state, call
    rules.plan_append() (which raises the refusal errors: ContentTypeMismatch, StreamClosed,
    ProducerStaleEpoch, ProducerEpochSeqInvalid, ProducerSeqGap, StreamSeqConflict), then write
    the plan's record, metadata and producer state together, all or nothing. A duplicate
    (idempotent retry) writes nothing and returns ``duplicate=True``. Closing a stream is an
    append with ``close=True`` (with or without data). No other writer may interleave between
    the check and the write for the same stream (in one process and, for shared stores, across
    processes: a shared store such as Redis can run the same rules inside an optimistic
    transaction, WATCH the stream's keys, then MULTI/EXEC the plan, retrying on conflict).
    When append returns, the record is durable (for stores that persist) and
    waiters on the path are woken.

``read(path, after, max_bytes) -> ReadResult``
    Records after the position ``after`` (ZERO = from the start; TAIL = none, just report the
    tail), oldest first, across the whole lineage. Whole records only: it stops before the
    record that would push the total past ``max_bytes``, but always returns at least one
    record if any exists (so a huge record cannot stall a reader). Records belong to a Segment
    when ``segment.start.seq < record_end.seq <= segment.end.seq`` (compare by ``seq``; use
    rules.read_plan(meta, after) to get the segments). ``next_offset`` is the end
    offset of the last record returned, or the tail when none is returned. An offset past the
    tail raises OffsetOutOfRange (400). Reads renew a sliding TTL (``accessed_at = now``).

``head(path) -> StreamMeta``
    The current metadata. Does not renew the TTL.

``delete(path) -> None``
    A stream with live forks becomes a tombstone (StreamGone from then on; its records stay
    readable through the forks). Otherwise it is removed with its records and producer states;
    if it was a fork, its source's fork count drops, and a tombstoned source whose count
    reaches zero is removed too, cascading up the chain (rules.release_source()). Wakes
    waiters on the path.

``wait(path, after, timeout) -> bool``
    Returns True as soon as there is something new for a reader positioned at ``after``: the
    tail moved past it, the stream is closed, or the stream is gone (deleted/expired/
    tombstoned). Returns True immediately if that is already the case, and False when
    ``timeout`` seconds pass first. It never raises StreamNotFound; the caller re-reads. Stores
    in one process share serving.streams.notify.Notifier; cross-process stores must wake
    waiters in every process.

``producer_state(path, producer_id) -> ProducerState | None``
    The idempotent-producer state kept for (stream, producer id), or None. Producer states live
    as long as their stream; a fork starts with none.

``aclose() -> None``
    Release connections/threads; idempotent. Waiters are woken.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import ClassVar, NamedTuple

from serving.streams.offsets import ZERO, Offset, Position


@dataclass(frozen=True, slots=True)
class ForkSpec:
    """What a client asks for when creating a fork (Stream-Forked-From and friends)."""

    source: str
    """Path of the source stream (as in the URL, e.g. ``/v1/stream/a`` -> ``a``)."""
    offset: Offset | None = None
    """Where the fork diverges; None = the source's tail at creation time."""
    sub_offset: int = 0
    """Extra bytes (binary) or messages (JSON) of the next source record to inherit."""


@dataclass(frozen=True, slots=True)
class CreateRequest:
    """A validated PUT: configuration plus optional initial content."""

    content_type: str | None = None
    """None = inherit the source's (fork) or ``application/octet-stream``."""
    ttl_seconds: int | None = None
    """Sliding time-to-live: the stream expires ``ttl_seconds`` after its last read or write."""
    expires_at: float | None = None
    """Absolute expiry, Unix seconds. Never both TTL and expires_at (the protocol refuses)."""
    closed: bool = False
    """Create the stream already closed (after the initial content)."""
    fork: ForkSpec | None = None
    initial: bytes | None = None
    """One record of initial content (encoded by the protocol core), or None."""


class Segment(NamedTuple):
    """A piece of inherited history: records of ``stream_id`` ending in (start, end]."""

    stream_id: str
    start: Offset
    end: Offset


class ForkOrigin(NamedTuple):
    """Where a fork came from, as requested (kept to answer idempotent re-creation)."""

    source: str
    source_id: str
    offset: Offset
    sub_offset: int = 0


class StreamMeta(NamedTuple):
    """Everything a store keeps about a stream besides its records and producer states.

    Immutable: rules return a new value (``meta._replace(...)``) for every change.
    """

    path: str
    stream_id: str
    content_type: str
    tail: Offset
    """Offset after the last record: where the next append goes."""
    created_at: float
    accessed_at: float
    """Last read or write (not HEAD), Unix seconds; drives the sliding TTL."""
    ttl_seconds: int | None = None
    expires_at: float | None = None
    closed: bool = False
    last_stream_seq: str | None = None
    """Highest Stream-Seq accepted (writer coordination; compared as strings)."""
    base: Offset = ZERO
    """The stream's own records start after this offset (the fork offset for forks)."""
    fork: ForkOrigin | None = None
    lineage: tuple[Segment, ...] = ()
    forks: int = 0
    """Number of forks whose lineage includes this stream (a reference count)."""
    tombstone: bool = False
    """Deleted or expired, but kept readable for its forks (answers 410)."""


@dataclass(frozen=True, slots=True)
class ProducerClaim:
    """The Producer-Id / Producer-Epoch / Producer-Seq headers of one append."""

    id: str
    epoch: int
    seq: int


class ProducerState(NamedTuple):
    """What the store remembers per (stream, producer id)."""

    epoch: int
    last_seq: int


class AppendRequest(NamedTuple):
    """A validated POST (a named tuple, like the other per-append values: cheap to build)."""

    data: bytes | None = None
    """One record (encoded by the protocol core); None = close only."""
    content_type: str | None = None
    """The request's Content-Type; checked against the stream's when there is data."""
    close: bool = False
    stream_seq: str | None = None
    producer: ProducerClaim | None = None


class AppendResult(NamedTuple):
    """What happened: the tail after the append, and the producer's state."""

    tail: Offset
    closed: bool
    duplicate: bool = False
    """True for an idempotent retry: nothing was written."""
    producer: ProducerState | None = None


@dataclass(frozen=True, slots=True)
class CreateResult:
    created: bool
    """False when an identical stream already existed (idempotent PUT)."""
    meta: StreamMeta


class ReadResult(NamedTuple):
    records: list[bytes]
    next_offset: Offset
    meta: StreamMeta
    """Metadata at the time of the read (content type, closed flag, tail, TTL)."""

    @property
    def up_to_date(self) -> bool:
        """True when the reader has everything the stream held at the time of the read."""
        return self.next_offset == self.meta.tail

    @property
    def end_of_stream(self) -> bool:
        """True when the reader is at the tail of a closed stream: nothing more will come."""
        return self.meta.closed and self.up_to_date


class Store(abc.ABC):
    """The contract every store implements; see the module docstring for the semantics."""

    shared: ClassVar[bool] = False
    """True when other server processes may write to the same streams (Redis), so a process
    must follow the logs it acts on to see what the others do."""

    @abc.abstractmethod
    async def create(self, path: str, request: CreateRequest) -> CreateResult: ...

    @abc.abstractmethod
    async def append(self, path: str, request: AppendRequest) -> AppendResult: ...

    @abc.abstractmethod
    async def read(self, path: str, after: Position, max_bytes: int) -> ReadResult: ...

    async def read_live(self, path: str, after: Position, max_bytes: int) -> ReadResult:
        """``read`` for a live reader that ``wait`` just woke, which may be answered as of a
        moment since its wait began: told "up to date" early, it waits again and is woken at
        once. A shared store answers its own process's last append from memory here."""
        return await self.read(path, after, max_bytes)

    @abc.abstractmethod
    async def head(self, path: str) -> StreamMeta: ...

    @abc.abstractmethod
    async def delete(self, path: str) -> None: ...

    @abc.abstractmethod
    async def wait(self, path: str, after: Offset, timeout: float) -> bool: ...

    @abc.abstractmethod
    async def producer_state(self, path: str, producer_id: str) -> ProducerState | None: ...

    @abc.abstractmethod
    async def aclose(self) -> None: ...

    async def paths(self, prefix: str) -> list[str]:
        """The paths of the streams that begin with ``prefix`` (tombstones and streams that
        expired but were not removed yet included; ``head`` tells them apart). For retention
        sweeps (serving.retention), not for requests: it walks every stream of the prefix."""
        raise NotImplementedError(f"{type(self).__name__} cannot list its streams")
