"""The metadata codec: what a persistent store writes, it reads back unchanged."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

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


def _plain_json(meta: StreamMeta) -> dict[str, object]:
    """The meta as one json.dumps of every field would write it: what encode_meta must equal."""
    fork = meta.fork
    return {
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
    }


offsets = st.builds(Offset, st.integers(0, 10**9), st.integers(0, 10**12))
finite = st.floats(allow_nan=False, allow_infinity=False)
metas = st.builds(
    StreamMeta,
    path=st.just("p"),
    stream_id=st.just("1"),
    content_type=st.text(max_size=20),
    tail=offsets,
    created_at=finite,
    accessed_at=finite | st.integers(0, 2**40),
    ttl_seconds=st.none() | st.integers(0, 10**9),
    expires_at=st.none() | finite,
    closed=st.booleans(),
    last_stream_seq=st.none() | st.text(max_size=10),
    base=offsets,
    fork=st.none()
    | st.builds(ForkOrigin, st.text(max_size=8), st.text(max_size=4), offsets, st.integers(0, 99)),
    lineage=st.lists(st.builds(Segment, st.text(max_size=4), offsets, offsets), max_size=3).map(
        tuple
    ),
    forks=st.integers(0, 50),
    tombstone=st.booleans(),
)


@given(metas)
def test_the_cached_encoding_equals_one_json_dumps_of_every_field(meta: StreamMeta) -> None:
    encoded = encode_meta(meta)
    assert json.loads(encoded) == _plain_json(meta)
    decoded = decode_meta("1", "p", encoded)
    assert decoded == meta._replace(accessed_at=float(meta.accessed_at))
