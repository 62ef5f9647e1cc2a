"""StreamMeta as compact JSON: the one encoding the persistent stores (SQLite, Redis) keep.

The path and the stream id are left out: every store keeps them in its own keys or columns.
"""

from __future__ import annotations

import json

from serving.streams.offsets import Offset
from serving.streams.store import ForkOrigin, Segment, StreamMeta


def encode_meta(meta: StreamMeta) -> str:
    """StreamMeta as JSON, without the path and stream id (the store keeps them apart)."""
    fork = meta.fork
    return json.dumps(
        {
            "content_type": meta.content_type,
            "tail": str(meta.tail),
            "created_at": meta.created_at,
            "accessed_at": meta.accessed_at,
            "ttl_seconds": meta.ttl_seconds,
            "expires_at": meta.expires_at,
            "closed": meta.closed,
            "last_stream_seq": meta.last_stream_seq,
            "base": str(meta.base),
            "fork": None
            if fork is None
            else [fork.source, fork.source_id, str(fork.offset), fork.sub_offset],
            "lineage": [[s.stream_id, str(s.start), str(s.end)] for s in meta.lineage],
            "forks": meta.forks,
            "tombstone": meta.tombstone,
        },
        separators=(",", ":"),
    )


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
