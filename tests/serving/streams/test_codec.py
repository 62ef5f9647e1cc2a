"""The metadata codec: what a persistent store writes, it reads back unchanged."""

from __future__ import annotations

import json

from serving.streams import ForkOrigin, Offset, Segment, StreamMeta
from serving.streams.codec import decode_meta, encode_meta


def test_a_fork_round_trips_with_its_lineage() -> None:
    meta = StreamMeta(
        path="chat/fork",
        stream_id="7",
        content_type="application/json",
        tail=Offset(5, 120),
        created_at=1_700_000_000.25,
        accessed_at=1_700_000_001.5,
        ttl_seconds=60,
        closed=True,
        last_stream_seq="b",
        base=Offset(3, 80),
        fork=ForkOrigin("chat/source", "2", Offset(3, 80), 1),
        lineage=(
            Segment("1", Offset(0, 0), Offset(2, 40)),
            Segment("2", Offset(2, 40), Offset(3, 80)),
        ),
        forks=2,
        tombstone=True,
    )
    assert decode_meta("7", "chat/fork", encode_meta(meta)) == meta


def test_the_path_and_id_are_not_in_the_json() -> None:
    meta = StreamMeta("a/b", "42", "text/plain", Offset(0, 0), 1.0, 1.0)
    stored = json.loads(encode_meta(meta))
    assert "a/b" not in stored.values() and "42" not in stored.values()
    assert decode_meta("43", "c", encode_meta(meta)) == meta._replace(stream_id="43", path="c")
