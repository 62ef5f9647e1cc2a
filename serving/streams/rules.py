"""The stream rules, as pure functions: every store applies these and only these.

No I/O here. A store loads state, calls a rule, and persists what the rule returns inside its
own atomic section; so producer fencing, closure, fork and expiry behave identically in every
store, and the rules are tested once (tests/serving/streams/test_rules.py).
"""

from __future__ import annotations

import enum
import functools
import json
from typing import NamedTuple

from serving.streams.errors import (
    ConfigMismatch,
    ContentTypeMismatch,
    ForkSourceGone,
    InvalidForkOffset,
    OffsetOutOfRange,
    ProducerEpochSeqInvalid,
    ProducerSeqGap,
    ProducerStaleEpoch,
    StreamClosed,
    StreamSeqConflict,
)
from serving.streams.offsets import ZERO, Offset
from serving.streams.store import (
    AppendRequest,
    AppendResult,
    CreateRequest,
    ForkOrigin,
    ProducerClaim,
    ProducerState,
    Segment,
    StreamMeta,
)

DEFAULT_CONTENT_TYPE = "application/octet-stream"
JSON_CONTENT_TYPE = "application/json"


@functools.lru_cache(maxsize=256)
def media_type(content_type: str | None) -> str:
    """``Application/JSON; charset=utf-8`` -> ``application/json`` (for comparisons)."""
    if not content_type:
        return ""
    return content_type.split(";", 1)[0].strip().lower()


def is_json(content_type: str | None) -> bool:
    return media_type(content_type) == JSON_CONTENT_TYPE


# --- liveness -----------------------------------------------------------------------------


class Liveness(enum.Enum):
    LIVE = "live"
    TOMBSTONE = "tombstone"
    """Deleted or expired but referenced by forks: answer 410, keep the records."""
    EXPIRED = "expired"
    """Expired with no forks: remove it (as DELETE would) and answer 404."""


def is_expired(meta: StreamMeta, now: float, idle_seconds: float | None = None) -> bool:
    """``idle_seconds``: a sliding limit the store adds to the stream's own TTL (the Redis
    store's idle retention); the shorter of the two applies."""
    if meta.expires_at is not None and now >= meta.expires_at:
        return True
    ttl: float | None = meta.ttl_seconds
    if idle_seconds is not None and (ttl is None or idle_seconds < ttl):
        ttl = idle_seconds
    return ttl is not None and now >= meta.accessed_at + ttl


def liveness(meta: StreamMeta, now: float, idle_seconds: float | None = None) -> Liveness:
    """What an access at time ``now`` finds. An expired stream with forks becomes a tombstone."""
    if meta.tombstone:
        return Liveness.TOMBSTONE
    if is_expired(meta, now, idle_seconds):
        return Liveness.TOMBSTONE if meta.forks > 0 else Liveness.EXPIRED
    return Liveness.LIVE


# --- create -------------------------------------------------------------------------------


def check_recreate(existing: StreamMeta, request: CreateRequest) -> None:
    """PUT on a live stream: return if the configuration matches, else raise ConfigMismatch.

    Compared: content type (media type, case-insensitive), TTL, Expires-At, the closed flag,
    and for forks the source, the fork offset (only when the request names one) and the
    sub-offset. A fork request without TTL or Expires-At matches the expiry it inherited.
    Initial content is not compared: a repeated PUT is a confirmation.
    """
    if existing.tombstone:
        raise ConfigMismatch(
            f"stream {existing.path!r} was deleted but its forks still read it; the path "
            "cannot be reused until they are deleted"
        )
    differences = []
    wanted_type = request.content_type
    if wanted_type is None:
        wanted_type = existing.content_type if request.fork else DEFAULT_CONTENT_TYPE
    if media_type(wanted_type) != media_type(existing.content_type):
        differences.append(f"content type {existing.content_type!r}")
    inherits_expiry = request.fork and request.ttl_seconds is None and request.expires_at is None
    if not inherits_expiry:
        if request.ttl_seconds != existing.ttl_seconds:
            differences.append(f"Stream-TTL {existing.ttl_seconds}")
        if request.expires_at != existing.expires_at:
            differences.append("Stream-Expires-At")
    if request.closed != existing.closed:
        differences.append(f"closed={existing.closed}")
    origin = existing.fork
    if (request.fork is None) != (origin is None):
        differences.append("fork source")
    elif request.fork and origin:
        if request.fork.source != origin.source:
            differences.append(f"fork source {origin.source!r}")
        if request.fork.offset is not None and request.fork.offset != origin.offset:
            differences.append(f"fork offset {origin.offset}")
        if request.fork.sub_offset != origin.sub_offset:
            differences.append(f"fork sub-offset {origin.sub_offset}")
    if differences:
        raise ConfigMismatch(
            f"stream {existing.path!r} already exists with a different configuration ("
            + ", ".join(differences)
            + "); delete it first or use another path"
        )


def resolve_fork(request: CreateRequest, source: StreamMeta) -> Offset:
    """Validate a fork against its (live) source and return the fork offset."""
    assert request.fork is not None
    if source.tombstone:
        raise ForkSourceGone(
            f"cannot fork {source.path!r}: it was deleted and is kept only for its existing forks"
        )
    if request.content_type is not None and media_type(request.content_type) != media_type(
        source.content_type
    ):
        raise ContentTypeMismatch(
            f"a fork must keep its source's content type {source.content_type!r}, "
            f"not {request.content_type!r}; omit Content-Type to inherit it"
        )
    offset = request.fork.offset if request.fork.offset is not None else source.tail
    if offset > source.tail:
        raise InvalidForkOffset(
            f"Stream-Fork-Offset {offset} is beyond the source's tail {source.tail}"
        )
    return offset


def fork_prefix(next_record: bytes | None, content_type: str, sub_offset: int) -> bytes:
    """Cut the first ``sub_offset`` bytes (or JSON messages) of the record after the fork offset."""
    if next_record is None:
        raise InvalidForkOffset(
            "Stream-Fork-Sub-Offset needs a record after the fork offset, and there is none"
        )
    if is_json(content_type):
        messages = json.loads(b"[" + next_record + b"]")
        if sub_offset > len(messages):
            raise InvalidForkOffset(
                f"Stream-Fork-Sub-Offset {sub_offset} exceeds the {len(messages)} messages "
                "of the record after the fork offset"
            )
        return b",".join(encode_json(message) for message in messages[:sub_offset])
    if sub_offset > len(next_record):
        raise InvalidForkOffset(
            f"Stream-Fork-Sub-Offset {sub_offset} exceeds the {len(next_record)} bytes "
            "of the record after the fork offset"
        )
    return next_record[:sub_offset]


def encode_json(value: object) -> bytes:
    """The one JSON encoding records use: compact, UTF-8 (lone surrogates escaped)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    try:
        return text.encode()
    except UnicodeEncodeError:
        return json.dumps(value, separators=(",", ":"), allow_nan=False).encode()


def fork_lineage(source: StreamMeta, fork_offset: Offset) -> tuple[Segment, ...]:
    """The source's history up to ``fork_offset``, as segments."""
    pieces = [*source.lineage, Segment(source.stream_id, source.base, source.tail)]
    lineage = []
    for piece in pieces:
        end = min(piece.end, fork_offset)
        if piece.start < end:
            lineage.append(Segment(piece.stream_id, piece.start, end))
    return tuple(lineage)


def new_stream(
    path: str,
    stream_id: str,
    request: CreateRequest,
    now: float,
    source: StreamMeta | None = None,
    fork_offset: Offset | None = None,
    prefix: bytes | None = None,
) -> tuple[StreamMeta, list[tuple[Offset, bytes]]]:
    """Metadata and initial records ``(end offset, data)`` of a new stream or fork."""
    content_type = request.content_type
    ttl, expires_at = request.ttl_seconds, request.expires_at
    base, origin = ZERO, None
    lineage: tuple[Segment, ...] = ()
    if request.fork is not None:
        assert source is not None and fork_offset is not None
        content_type = content_type or source.content_type
        if ttl is None and expires_at is None:
            ttl, expires_at = source.ttl_seconds, source.expires_at
        base = fork_offset
        lineage = fork_lineage(source, fork_offset)
        origin = ForkOrigin(
            request.fork.source, source.stream_id, fork_offset, request.fork.sub_offset
        )
    records = []
    tail = base
    for data in (prefix, request.initial):
        if data:
            tail = tail.after(len(data))
            records.append((tail, data))
    meta = StreamMeta(
        path=path,
        stream_id=stream_id,
        content_type=content_type or DEFAULT_CONTENT_TYPE,
        tail=tail,
        created_at=now,
        accessed_at=now,
        ttl_seconds=ttl,
        expires_at=expires_at,
        closed=request.closed,
        base=base,
        fork=origin,
        lineage=lineage,
    )
    return meta, records


# --- append -------------------------------------------------------------------------------


class AppendPlan(NamedTuple):
    """What a store must persist, atomically, for one append."""

    result: AppendResult
    meta: StreamMeta | None = None
    """New metadata, or None when nothing changes (a duplicate)."""
    record: tuple[Offset, bytes] | None = None
    producer: tuple[str, ProducerState] | None = None


def plan_append(
    meta: StreamMeta, producer: ProducerState | None, request: AppendRequest, now: float
) -> AppendPlan:
    """Decide an append on a live stream; raise the refusal errors.

    Order matters and is fixed: producer fencing and de-duplication come first (so a retry of an
    accepted request gets 204 even after the stream was closed by it), then closure, content
    type, Stream-Seq; only then is anything written.
    """
    claim = request.producer
    if claim is not None:
        duplicate = _check_producer(claim, producer)
        if duplicate is not None:
            return AppendPlan(
                AppendResult(meta.tail, meta.closed, duplicate=True, producer=duplicate)
            )
    if meta.closed:
        if request.close and not request.data and claim is None:
            return AppendPlan(AppendResult(meta.tail, closed=True))  # closing twice is fine
        raise StreamClosed(
            f"stream {meta.path!r} is closed: it accepts no more appends", tail=meta.tail
        )
    if (
        request.data
        and request.content_type is not None
        and request.content_type != meta.content_type
        and media_type(request.content_type) != media_type(meta.content_type)
    ):
        raise ContentTypeMismatch(
            f"Content-Type {request.content_type!r} does not match the stream's "
            f"{meta.content_type!r}"
        )
    last_seq = meta.last_stream_seq
    if request.stream_seq is not None and last_seq is not None and request.stream_seq <= last_seq:
        raise StreamSeqConflict(
            f"Stream-Seq {request.stream_seq!r} must be greater than the last accepted {last_seq!r}"
        )
    tail, record = meta.tail, None
    if request.data:
        tail = tail.after(len(request.data))
        record = (tail, request.data)
    # Built positionally, not with meta._replace (1.3 µs against 2.7: this runs once per token);
    # test_rules holds every other field carried over.
    new_meta = StreamMeta(
        meta.path,
        meta.stream_id,
        meta.content_type,
        tail,
        meta.created_at,
        now,
        meta.ttl_seconds,
        meta.expires_at,
        meta.closed or request.close,
        request.stream_seq if request.stream_seq is not None else meta.last_stream_seq,
        meta.base,
        meta.fork,
        meta.lineage,
        meta.forks,
        meta.tombstone,
    )
    new_state = None if claim is None else ProducerState(claim.epoch, claim.seq)
    return AppendPlan(
        result=AppendResult(tail, new_meta.closed, producer=new_state),
        meta=new_meta,
        record=record,
        producer=None if claim is None or new_state is None else (claim.id, new_state),
    )


def _check_producer(claim: ProducerClaim, state: ProducerState | None) -> ProducerState | None:
    """Fence stale epochs and gaps; return the current state if the claim is a duplicate."""
    if state is None:
        if claim.seq != 0:
            raise ProducerSeqGap(
                f"producer {claim.id!r} is new to this stream: its first Producer-Seq must be 0",
                expected_seq=0,
                received_seq=claim.seq,
            )
        return None
    if claim.epoch < state.epoch:
        raise ProducerStaleEpoch(
            f"producer {claim.id!r} epoch {claim.epoch} is stale: the stream has seen epoch "
            f"{state.epoch}; restart with a higher epoch",
            current_epoch=state.epoch,
        )
    if claim.epoch > state.epoch:
        if claim.seq != 0:
            raise ProducerEpochSeqInvalid(
                f"producer {claim.id!r} started epoch {claim.epoch}: Producer-Seq must restart "
                f"at 0, got {claim.seq}"
            )
        return None
    if claim.seq <= state.last_seq:
        return state
    if claim.seq != state.last_seq + 1:
        raise ProducerSeqGap(
            f"producer {claim.id!r} sent Producer-Seq {claim.seq} but {state.last_seq + 1} "
            "is next; resend the missing requests",
            expected_seq=state.last_seq + 1,
            received_seq=claim.seq,
        )
    return None


# --- read ---------------------------------------------------------------------------------


def check_read_offset(meta: StreamMeta, after: Offset) -> None:
    if after > meta.tail:
        raise OffsetOutOfRange(
            f"offset {after} is beyond the tail {meta.tail} of stream {meta.path!r}"
        )


def read_plan(meta: StreamMeta, after: Offset) -> list[Segment]:
    """The pieces of history to read, oldest first, for a reader positioned at ``after``."""
    pieces = [*meta.lineage, Segment(meta.stream_id, meta.base, meta.tail)]
    plan = []
    for piece in pieces:
        start = max(piece.start, after)
        if start < piece.end:
            plan.append(Segment(piece.stream_id, start, piece.end))
    return plan


# --- delete -------------------------------------------------------------------------------


def release_source(source: StreamMeta) -> tuple[StreamMeta, bool]:
    """A fork of ``source`` was removed: the source's new metadata, and whether to remove it."""
    released = source._replace(forks=max(0, source.forks - 1))
    return released, released.tombstone and released.forks == 0
