"""The stream rules, as pure functions (every store applies these)."""

from __future__ import annotations

import pytest

from serving.streams import (
    ZERO,
    AppendRequest,
    ConfigMismatch,
    ContentTypeMismatch,
    CreateRequest,
    ForkOrigin,
    ForkSourceGone,
    ForkSpec,
    InvalidForkOffset,
    Offset,
    ProducerClaim,
    ProducerStaleEpoch,
    ProducerState,
    Segment,
    StreamClosed,
    StreamMeta,
    rules,
)

NOW = 1000.0


def meta(**changes: object) -> StreamMeta:
    base = StreamMeta("s", "1", "text/plain", Offset(2, 10), created_at=NOW, accessed_at=NOW)
    return base._replace(**changes)


def test_media_type_ignores_case_and_parameters() -> None:
    assert rules.media_type("Application/JSON; charset=utf-8") == "application/json"
    assert rules.is_json("application/json") and not rules.is_json("application/jsonl")


@pytest.mark.parametrize(
    ("changes", "now", "state"),
    [
        ({}, NOW + 10**6, rules.Liveness.LIVE),
        ({"ttl_seconds": 5}, NOW + 4.9, rules.Liveness.LIVE),
        ({"ttl_seconds": 5}, NOW + 5, rules.Liveness.EXPIRED),
        ({"ttl_seconds": 5, "forks": 1}, NOW + 5, rules.Liveness.TOMBSTONE),
        ({"expires_at": NOW + 1}, NOW + 1, rules.Liveness.EXPIRED),
        ({"tombstone": True, "forks": 1}, NOW, rules.Liveness.TOMBSTONE),
    ],
)
def test_liveness(changes: dict[str, object], now: float, state: rules.Liveness) -> None:
    assert rules.liveness(meta(**changes), now) is state


@pytest.mark.parametrize(
    ("changes", "idle", "now", "state"),
    [
        ({}, 2.5, NOW + 2.4, rules.Liveness.LIVE),
        ({}, 2.5, NOW + 2.5, rules.Liveness.EXPIRED),  # a fraction of a second counts
        ({"ttl_seconds": 5}, 2.5, NOW + 2.5, rules.Liveness.EXPIRED),  # the shorter applies
        ({"ttl_seconds": 2}, 100.0, NOW + 2, rules.Liveness.EXPIRED),  # and never extends
        ({"ttl_seconds": 2}, 100.0, NOW + 1.9, rules.Liveness.LIVE),
    ],
)
def test_liveness_with_a_store_idle_limit(
    changes: dict[str, object], idle: float, now: float, state: rules.Liveness
) -> None:
    assert rules.liveness(meta(**changes), now, idle_seconds=idle) is state


def test_recreate_accepts_the_same_config_and_names_every_difference() -> None:
    existing = meta(ttl_seconds=60)
    rules.check_recreate(existing, CreateRequest(content_type="TEXT/PLAIN", ttl_seconds=60))
    with pytest.raises(ConfigMismatch, match=r"content type .*Stream-TTL 60.*closed=False"):
        rules.check_recreate(existing, CreateRequest(content_type="application/json", closed=True))
    with pytest.raises(ConfigMismatch, match="deleted"):
        rules.check_recreate(meta(tombstone=True), CreateRequest(content_type="text/plain"))


def test_fork_resolution() -> None:
    source = meta()
    assert rules.resolve_fork(CreateRequest(fork=ForkSpec("s")), source) == Offset(2, 10)
    with pytest.raises(InvalidForkOffset, match="beyond"):
        rules.resolve_fork(CreateRequest(fork=ForkSpec("s", Offset(3, 0))), source)
    with pytest.raises(ContentTypeMismatch):
        rules.resolve_fork(
            CreateRequest(content_type="application/json", fork=ForkSpec("s")), source
        )
    with pytest.raises(ForkSourceGone):
        rules.resolve_fork(CreateRequest(fork=ForkSpec("s")), meta(tombstone=True))


def test_fork_prefix_cuts_bytes_or_messages() -> None:
    assert rules.fork_prefix(b"hello", "text/plain", 3) == b"hel"
    assert rules.fork_prefix(b'{"a":1},{"b":2},3', "application/json", 2) == b'{"a":1},{"b":2}'
    with pytest.raises(InvalidForkOffset, match="exceeds"):
        rules.fork_prefix(b"hi", "text/plain", 3)
    with pytest.raises(InvalidForkOffset, match="none"):
        rules.fork_prefix(None, "text/plain", 1)


def test_lineage_and_read_plan_stitch_history() -> None:
    root = meta(stream_id="r", tail=Offset(3, 30))
    fork_meta, records = rules.new_stream(
        "f", "f", CreateRequest(fork=ForkSpec("s")), NOW, root, Offset(2, 20), prefix=b"xy"
    )
    assert fork_meta.lineage == (Segment("r", ZERO, Offset(2, 20)),)
    assert records == [(Offset(3, 22), b"xy")]
    assert fork_meta.tail == Offset(3, 22)
    assert rules.read_plan(fork_meta, ZERO) == [
        Segment("r", ZERO, Offset(2, 20)),
        Segment("f", Offset(2, 20), Offset(3, 22)),
    ]
    assert rules.read_plan(fork_meta, Offset(3, 22)) == []


def test_plan_append_writes_record_state_and_metadata_together() -> None:
    plan = rules.plan_append(
        meta(),
        None,
        AppendRequest(b"abc", "text/plain", producer=ProducerClaim("p", 0, 0)),
        NOW + 1,
    )
    assert plan.record == (Offset(3, 13), b"abc")
    assert plan.producer == ("p", ProducerState(0, 0))
    assert plan.meta is not None and plan.meta.tail == Offset(3, 13)
    assert plan.meta.accessed_at == NOW + 1


def test_plan_append_carries_every_field_it_does_not_change() -> None:
    forked = meta(
        ttl_seconds=60,
        expires_at=NOW + 99,
        last_stream_seq="b",
        base=Offset(1, 5),
        fork=ForkOrigin("src", "0", Offset(1, 5), 2),
        lineage=(Segment("0", ZERO, Offset(1, 5)),),
        forks=3,
        tombstone=False,
    )
    assert all(value not in (None, 0, (), ZERO) for value in forked if value is not False)
    plan = rules.plan_append(forked, None, AppendRequest(b"abc", "text/plain"), NOW + 1)
    assert plan.meta == forked._replace(tail=Offset(3, 13), accessed_at=NOW + 1)


def test_duplicates_are_recognised_before_closure_and_stale_epochs_fenced() -> None:
    closed = meta(closed=True)
    state = ProducerState(1, 4)
    plan = rules.plan_append(
        closed, state, AppendRequest(b"x", producer=ProducerClaim("p", 1, 4)), NOW
    )
    assert plan.result.duplicate and plan.meta is None and plan.record is None
    with pytest.raises(StreamClosed):
        rules.plan_append(
            closed, state, AppendRequest(b"x", producer=ProducerClaim("p", 1, 5)), NOW
        )
    with pytest.raises(ProducerStaleEpoch):
        rules.plan_append(
            closed, state, AppendRequest(b"x", producer=ProducerClaim("p", 0, 9)), NOW
        )


def test_release_source_removes_a_tombstone_with_its_last_fork() -> None:
    assert rules.release_source(meta(forks=2, tombstone=True)) == (
        meta(forks=1, tombstone=True),
        False,
    )
    assert rules.release_source(meta(forks=1, tombstone=True))[1] is True
    assert rules.release_source(meta(forks=1))[1] is False
