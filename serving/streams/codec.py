"""StreamMeta as compact JSON: the one encoding the persistent stores (SQLite, Redis) keep.

The path and the stream id are left out: every store keeps them in its own keys or columns.
"""

from __future__ import annotations

import functools
import json

from serving.streams.offsets import Offset
from serving.streams.store import ForkOrigin, Segment, StreamMeta


def encode_meta(meta: StreamMeta) -> str:
    """StreamMeta as JSON, without the path and stream id (the store keeps them apart).

    The Redis store writes it with every commit, so with every paced token: the fields an
    append changes (tail, accessed_at, last_stream_seq) are formatted here, the others come
    JSON-encoded from a cache keyed by their values (measured: 2.7 µs a call against 20.7 µs
    for one json.dumps of the whole, on a busy 2-core machine; ``test_codec`` holds the two
    forms equal).
    """
    fixed = _fixed_fields(
        meta.content_type,
        meta.created_at,
        meta.ttl_seconds,
        meta.expires_at,
        meta.closed,
        meta.base,
        meta.fork,
        meta.lineage,
        meta.forks,
        meta.tombstone,
    )
    seq = meta.last_stream_seq
    accessed = float.__repr__(float(meta.accessed_at))
    last_seq = "null" if seq is None else json.dumps(seq)
    return f'{fixed},"tail":"{meta.tail}","accessed_at":{accessed},"last_stream_seq":{last_seq}}}'


@functools.lru_cache(maxsize=4096)
def _fixed_fields(
    content_type: str,
    created_at: float,
    ttl_seconds: int | None,
    expires_at: float | None,
    closed: bool,
    base: Offset,
    fork: ForkOrigin | None,
    lineage: tuple[Segment, ...],
    forks: int,
    tombstone: bool,
) -> str:
    """The JSON object of the fields an append leaves alone, without its closing brace."""
    return json.dumps(
        {
            "content_type": content_type,
            "created_at": created_at,
            "ttl_seconds": ttl_seconds,
            "expires_at": expires_at,
            "closed": closed,
            "base": str(base),
            "fork": None
            if fork is None
            else [fork.source, fork.source_id, str(fork.offset), fork.sub_offset],
            "lineage": [[s.stream_id, str(s.start), str(s.end)] for s in lineage],
            "forks": forks,
            "tombstone": tombstone,
        },
        separators=(",", ":"),
    )[:-1]


def decode_meta(stream_id: str, path: str, text: str) -> StreamMeta:
    row = json.loads(text)
    fork = row["fork"]
    return StreamMeta(
        path=path,
        stream_id=stream_id,
        content_type=row["content_type"],
        tail=Offset.parse(row["tail"]),
        created_at=row["created_at"],
        accessed_at=row["accessed_at"],
        ttl_seconds=row["ttl_seconds"],
        expires_at=row["expires_at"],
        closed=row["closed"],
        last_stream_seq=row["last_stream_seq"],
        base=Offset.parse(row["base"]),
        fork=None if fork is None else ForkOrigin(fork[0], fork[1], Offset.parse(fork[2]), fork[3]),
        lineage=tuple(
            Segment(source_id, Offset.parse(start), Offset.parse(end))
            for source_id, start, end in row["lineage"]
        ),
        forks=row["forks"],
        tombstone=row["tombstone"],
    )
