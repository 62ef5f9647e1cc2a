"""The store contract: every store in conftest.STORES must pass every test here."""

from __future__ import annotations

import asyncio

import pytest

from serving.streams import (
    TAIL,
    ZERO,
    AppendRequest,
    ConfigMismatch,
    ContentTypeMismatch,
    CreateRequest,
    ForkSourceGone,
    ForkSpec,
    InvalidForkOffset,
    Offset,
    OffsetOutOfRange,
    ProducerClaim,
    ProducerEpochSeqInvalid,
    ProducerSeqGap,
    ProducerStaleEpoch,
    ProducerState,
    Store,
    StreamClosed,
    StreamGone,
    StreamNotFound,
    StreamSeqConflict,
)

pytestmark = pytest.mark.anyio

TEXT = "text/plain"
JSON = "application/json"


async def text_stream(store: Store, path: str = "s", *chunks: bytes) -> None:
    await store.create(path, CreateRequest(content_type=TEXT))
    for chunk in chunks:
        await store.append(path, AppendRequest(data=chunk, content_type=TEXT))


async def read_all(store: Store, path: str, after: Offset = ZERO) -> bytes:
    result = await store.read(path, after, max_bytes=1 << 20)
    return b"".join(result.records)


def claim(seq: int, epoch: int = 0, producer: str = "p") -> ProducerClaim:
    return ProducerClaim(producer, epoch, seq)


# --- create -------------------------------------------------------------------------------


async def test_create_starts_empty_at_zero_with_default_content_type(store: Store) -> None:
    result = await store.create("s", CreateRequest())
    assert result.created
    assert result.meta.tail == ZERO
    assert result.meta.content_type == "application/octet-stream"
    assert not result.meta.closed


async def test_create_with_initial_content_stores_one_record(store: Store) -> None:
    result = await store.create("s", CreateRequest(content_type=TEXT, initial=b"hello"))
    assert result.meta.tail == Offset(1, 5)
    assert await read_all(store, "s") == b"hello"


async def test_create_is_idempotent_for_the_same_config(store: Store) -> None:
    first = await store.create("s", CreateRequest(content_type=TEXT, ttl_seconds=60))
    again = await store.create(
        "s", CreateRequest(content_type="Text/Plain; charset=utf-8", ttl_seconds=60)
    )
    assert not again.created
    assert again.meta.stream_id == first.meta.stream_id


@pytest.mark.parametrize(
    "other",
    [
        CreateRequest(content_type=JSON, ttl_seconds=60),
        CreateRequest(content_type=TEXT, ttl_seconds=61),
        CreateRequest(content_type=TEXT),
        CreateRequest(content_type=TEXT, ttl_seconds=60, closed=True),
    ],
)
async def test_create_refuses_a_different_config(store: Store, other: CreateRequest) -> None:
    await store.create("s", CreateRequest(content_type=TEXT, ttl_seconds=60))
    with pytest.raises(ConfigMismatch):
        await store.create("s", other)


async def test_create_closed_keeps_initial_content(store: Store) -> None:
    result = await store.create("s", CreateRequest(content_type=TEXT, closed=True, initial=b"x"))
    assert result.meta.closed
    read = await store.read("s", ZERO, 100)
    assert read.records == [b"x"]
    assert read.end_of_stream


# --- append -------------------------------------------------------------------------------


async def test_appends_get_strictly_increasing_offsets_that_sort_as_strings(store: Store) -> None:
    await text_stream(store)
    tails = []
    for size in (1, 10, 3, 200):
        result = await store.append("s", AppendRequest(data=b"x" * size, content_type=TEXT))
        tails.append(result.tail)
    assert tails == sorted(tails)
    assert [str(t) for t in tails] == sorted(str(t) for t in tails)
    assert len(set(tails)) == len(tails)
    assert (await store.head("s")).tail == tails[-1]


async def test_append_to_missing_stream_raises_not_found(store: Store) -> None:
    with pytest.raises(StreamNotFound):
        await store.append("nope", AppendRequest(data=b"x"))


async def test_append_with_other_content_type_is_refused_and_writes_nothing(store: Store) -> None:
    await text_stream(store, "s", b"a")
    with pytest.raises(ContentTypeMismatch):
        await store.append("s", AppendRequest(data=b"{}", content_type=JSON))
    assert await read_all(store, "s") == b"a"


async def test_close_with_final_append_then_appends_are_refused(store: Store) -> None:
    await text_stream(store, "s", b"a")
    closed = await store.append("s", AppendRequest(data=b"b", content_type=TEXT, close=True))
    assert closed.closed
    with pytest.raises(StreamClosed) as refused:
        await store.append("s", AppendRequest(data=b"c", content_type=TEXT))
    assert refused.value.tail == closed.tail
    assert await read_all(store, "s") == b"ab"
    assert (await store.head("s")).closed


async def test_close_only_is_idempotent(store: Store) -> None:
    await text_stream(store, "s", b"a")
    first = await store.append("s", AppendRequest(close=True))
    second = await store.append("s", AppendRequest(close=True))
    assert first.closed and second.closed
    assert first.tail == second.tail


async def test_stream_seq_must_increase(store: Store) -> None:
    await text_stream(store)
    await store.append("s", AppendRequest(data=b"a", stream_seq="0002"))
    with pytest.raises(StreamSeqConflict):
        await store.append("s", AppendRequest(data=b"b", stream_seq="0002"))
    with pytest.raises(StreamSeqConflict):
        await store.append("s", AppendRequest(data=b"b", stream_seq="0001"))
    await store.append("s", AppendRequest(data=b"c", stream_seq="0010"))
    assert await read_all(store, "s") == b"ac"


async def test_concurrent_appends_lose_and_duplicate_nothing(store: Store) -> None:
    await text_stream(store)
    chunks = [f"<{i}>".encode() for i in range(50)]
    results = await asyncio.gather(
        *(store.append("s", AppendRequest(data=chunk, content_type=TEXT)) for chunk in chunks)
    )
    assert len({r.tail for r in results}) == 50
    read = await store.read("s", ZERO, 1 << 20)
    assert sorted(read.records) == sorted(chunks)


# --- idempotent producers -----------------------------------------------------------------


async def test_producer_sequence_is_accepted_in_order(store: Store) -> None:
    await text_stream(store)
    for seq in range(3):
        result = await store.append("s", AppendRequest(data=b"x", producer=claim(seq)))
        assert not result.duplicate
        assert result.producer == ProducerState(epoch=0, last_seq=seq)
    assert await store.producer_state("s", "p") == ProducerState(0, 2)


async def test_producer_retry_is_a_duplicate_and_writes_nothing(store: Store) -> None:
    await text_stream(store)
    first = await store.append("s", AppendRequest(data=b"once", producer=claim(0)))
    retry = await store.append("s", AppendRequest(data=b"once", producer=claim(0)))
    assert retry.duplicate
    assert retry.tail == first.tail
    assert retry.producer == ProducerState(0, 0)
    assert await read_all(store, "s") == b"once"


async def test_new_producer_must_start_at_seq_zero(store: Store) -> None:
    await text_stream(store)
    with pytest.raises(ProducerSeqGap) as gap:
        await store.append("s", AppendRequest(data=b"x", producer=claim(1)))
    assert (gap.value.expected_seq, gap.value.received_seq) == (0, 1)


async def test_producer_gap_reports_expected_and_received(store: Store) -> None:
    await text_stream(store)
    await store.append("s", AppendRequest(data=b"x", producer=claim(0)))
    with pytest.raises(ProducerSeqGap) as gap:
        await store.append("s", AppendRequest(data=b"x", producer=claim(5)))
    assert (gap.value.expected_seq, gap.value.received_seq) == (1, 5)
    assert await store.producer_state("s", "p") == ProducerState(0, 0)


async def test_stale_epoch_is_fenced_with_the_current_epoch(store: Store) -> None:
    await text_stream(store)
    await store.append("s", AppendRequest(data=b"a", producer=claim(0, epoch=0)))
    await store.append("s", AppendRequest(data=b"b", producer=claim(0, epoch=2)))
    with pytest.raises(ProducerStaleEpoch) as stale:
        await store.append("s", AppendRequest(data=b"zombie", producer=claim(1, epoch=0)))
    assert stale.value.current_epoch == 2
    assert await read_all(store, "s") == b"ab"


async def test_new_epoch_must_restart_at_seq_zero(store: Store) -> None:
    await text_stream(store)
    await store.append("s", AppendRequest(data=b"a", producer=claim(0)))
    with pytest.raises(ProducerEpochSeqInvalid):
        await store.append("s", AppendRequest(data=b"b", producer=claim(3, epoch=1)))


async def test_refused_append_does_not_advance_producer_state(store: Store) -> None:
    await text_stream(store)
    with pytest.raises(ContentTypeMismatch):
        await store.append("s", AppendRequest(data=b"{}", content_type=JSON, producer=claim(0)))
    assert await store.producer_state("s", "p") is None


async def test_retry_of_the_closing_append_is_a_duplicate(store: Store) -> None:
    await text_stream(store)
    request = AppendRequest(data=b"final", close=True, producer=claim(0))
    first = await store.append("s", request)
    retry = await store.append("s", AppendRequest(data=b"other", close=True, producer=claim(0)))
    assert retry.duplicate and retry.closed
    assert retry.tail == first.tail
    assert await read_all(store, "s") == b"final"
    with pytest.raises(StreamClosed):
        await store.append("s", AppendRequest(data=b"x", producer=claim(1)))
    with pytest.raises(StreamClosed):
        await store.append("s", AppendRequest(data=b"x", producer=claim(0, producer="q")))


async def test_producer_close_only_advances_state(store: Store) -> None:
    await text_stream(store)
    await store.append("s", AppendRequest(data=b"a", producer=claim(0)))
    closed = await store.append("s", AppendRequest(close=True, producer=claim(1)))
    assert closed.closed and not closed.duplicate
    assert closed.producer == ProducerState(0, 1)


# --- read ---------------------------------------------------------------------------------


async def test_read_from_an_offset_returns_only_later_records(store: Store) -> None:
    await text_stream(store)
    first = await store.append("s", AppendRequest(data=b"one"))
    await store.append("s", AppendRequest(data=b"two"))
    assert await read_all(store, "s", first.tail) == b"two"


async def test_read_limit_returns_whole_records_and_the_offset_to_resume(store: Store) -> None:
    await text_stream(store, "s", b"aaaa", b"bbbb", b"cccc")
    page = await store.read("s", ZERO, max_bytes=9)
    assert page.records == [b"aaaa", b"bbbb"]
    assert not page.up_to_date
    rest = await store.read("s", page.next_offset, max_bytes=9)
    assert rest.records == [b"cccc"]
    assert rest.up_to_date


async def test_read_returns_one_record_even_if_larger_than_the_limit(store: Store) -> None:
    await text_stream(store, "s", b"x" * 100, b"y")
    page = await store.read("s", ZERO, max_bytes=10)
    assert page.records == [b"x" * 100]


async def test_read_at_tail_is_empty_and_up_to_date(store: Store) -> None:
    await text_stream(store, "s", b"abc")
    tail = (await store.head("s")).tail
    for position in (tail, TAIL):
        read = await store.read("s", position, 100)
        assert read.records == []
        assert read.next_offset == tail
        assert read.up_to_date and not read.end_of_stream


async def test_read_beyond_tail_is_refused(store: Store) -> None:
    await text_stream(store, "s", b"abc")
    with pytest.raises(OffsetOutOfRange):
        await store.read("s", Offset(9, 9), 100)


async def test_read_missing_stream_raises_not_found(store: Store) -> None:
    with pytest.raises(StreamNotFound):
        await store.read("nope", ZERO, 100)


# --- expiry -------------------------------------------------------------------------------


async def test_ttl_expires_an_idle_stream(store: Store, clock) -> None:
    await store.create("s", CreateRequest(content_type=TEXT, ttl_seconds=2))
    clock.advance(1.9)
    await store.head("s")
    clock.advance(0.2)
    with pytest.raises(StreamNotFound):
        await store.head("s")
    with pytest.raises(StreamNotFound):
        await store.append("s", AppendRequest(data=b"x"))


async def test_ttl_slides_on_reads_and_writes_but_not_head(store: Store, clock) -> None:
    await store.create("s", CreateRequest(content_type=TEXT, ttl_seconds=2))
    clock.advance(1.5)
    await store.read("s", TAIL, 100)
    clock.advance(1.5)
    await store.append("s", AppendRequest(data=b"x"))
    clock.advance(1.5)
    await store.head("s")
    clock.advance(0.6)
    with pytest.raises(StreamNotFound):
        await store.read("s", ZERO, 100)


async def test_expires_at_is_absolute(store: Store, clock) -> None:
    await store.create("s", CreateRequest(content_type=TEXT, expires_at=clock.now + 3))
    clock.advance(2)
    await store.read("s", ZERO, 100)
    clock.advance(1)
    with pytest.raises(StreamNotFound):
        await store.read("s", ZERO, 100)


async def test_expired_path_can_be_created_again_as_a_new_stream(store: Store, clock) -> None:
    old = await store.create("s", CreateRequest(content_type=TEXT, ttl_seconds=1, initial=b"x"))
    clock.advance(2)
    new = await store.create("s", CreateRequest(content_type=JSON))
    assert new.created
    assert new.meta.stream_id != old.meta.stream_id
    assert await read_all(store, "s") == b""


# --- delete -------------------------------------------------------------------------------


async def test_delete_removes_and_a_recreated_stream_starts_fresh(store: Store) -> None:
    await text_stream(store, "s", b"old")
    old_id = (await store.head("s")).stream_id
    await store.delete("s")
    with pytest.raises(StreamNotFound):
        await store.head("s")
    await store.create("s", CreateRequest(content_type=TEXT, initial=b"new"))
    assert await read_all(store, "s") == b"new"
    assert (await store.head("s")).stream_id != old_id


async def test_delete_missing_raises_not_found(store: Store) -> None:
    with pytest.raises(StreamNotFound):
        await store.delete("nope")


async def test_delete_forgets_producer_state(store: Store) -> None:
    await text_stream(store)
    await store.append("s", AppendRequest(data=b"x", producer=claim(0)))
    await store.delete("s")
    await text_stream(store)
    assert await store.producer_state("s", "p") is None


# --- forks --------------------------------------------------------------------------------


def fork(source: str = "s", offset: Offset | None = None, sub_offset: int = 0) -> CreateRequest:
    return CreateRequest(fork=ForkSpec(source, offset, sub_offset))


async def test_fork_at_tail_inherits_history_and_then_diverges(store: Store) -> None:
    await text_stream(store, "s", b"A", b"B")
    created = await store.create("f", fork())
    assert created.meta.content_type == TEXT
    assert created.meta.tail == (await store.head("s")).tail
    await store.append("s", AppendRequest(data=b"source-only"))
    await store.append("f", AppendRequest(data=b"C"))
    assert await read_all(store, "f") == b"ABC"
    assert await read_all(store, "s") == b"ABsource-only"


async def test_fork_at_every_offset(store: Store) -> None:
    await text_stream(store)
    offsets = [ZERO]
    for chunk in (b"A", b"B", b"C"):
        offsets.append((await store.append("s", AppendRequest(data=chunk))).tail)
    for index, offset in enumerate(offsets):
        await store.create(f"f{index}", fork(offset=offset))
        assert await read_all(store, f"f{index}") == b"ABC"[:index]


async def test_fork_reads_resume_across_the_boundary(store: Store) -> None:
    await text_stream(store, "s", b"A", b"B")
    await store.create("f", fork())
    await store.append("f", AppendRequest(data=b"C"))
    await store.append("f", AppendRequest(data=b"D"))
    offsets, position, seen = [], ZERO, []
    while True:
        page = await store.read("f", position, max_bytes=1)
        if not page.records:
            break
        seen += page.records
        position = page.next_offset
        offsets.append(position)
    assert seen == [b"A", b"B", b"C", b"D"]
    assert offsets == sorted(offsets)
    assert await read_all(store, "f", offsets[1]) == b"CD"


async def test_fork_of_a_fork_stitches_three_levels(store: Store) -> None:
    await text_stream(store, "a", b"A")
    await store.create("b", fork("a"))
    await store.append("b", AppendRequest(data=b"B"))
    await store.create("c", fork("b"))
    await store.append("c", AppendRequest(data=b"C"))
    await store.append("a", AppendRequest(data=b"x"))
    assert await read_all(store, "c") == b"ABC"
    middle = Offset(1, 1)
    await store.create("d", fork("c", offset=middle))
    assert await read_all(store, "d") == b"A"


async def test_fork_sub_offset_takes_part_of_the_next_record(store: Store) -> None:
    await text_stream(store, "s", b"first", b"second")
    anchor = Offset(1, 5)
    created = await store.create("f", fork(offset=anchor, sub_offset=3))
    assert await read_all(store, "f") == b"firstsec"
    read = await store.read("f", created.meta.tail, 100)
    assert read.records == [] and read.up_to_date


async def test_fork_sub_offset_on_json_counts_messages(store: Store) -> None:
    await store.create("j", CreateRequest(content_type=JSON, initial=b'{"a":1},{"b":2},{"c":3}'))
    await store.create("f", fork("j", offset=ZERO, sub_offset=2))
    assert await read_all(store, "f") == b'{"a":1},{"b":2}'


@pytest.mark.parametrize(
    ("offset", "sub_offset"),
    [(Offset(9, 9), 0), (ZERO, 6), (None, 1)],
    ids=["offset-beyond-tail", "sub-offset-overshoots", "sub-offset-past-tail"],
)
async def test_fork_at_an_impossible_position_is_refused(
    store: Store, offset: Offset | None, sub_offset: int
) -> None:
    await text_stream(store, "s", b"hello")
    with pytest.raises(InvalidForkOffset):
        await store.create("f", fork(offset=offset, sub_offset=sub_offset))
    await store.delete("s")
    with pytest.raises(StreamNotFound):
        await store.head("s")


async def test_fork_of_missing_source_raises_not_found(store: Store) -> None:
    with pytest.raises(StreamNotFound):
        await store.create("f", fork("nope"))


async def test_fork_with_other_content_type_is_refused_without_pinning_the_source(
    store: Store,
) -> None:
    await text_stream(store, "s", b"x")
    with pytest.raises(ContentTypeMismatch):
        await store.create("f", CreateRequest(content_type=JSON, fork=ForkSpec("s")))
    await store.delete("s")
    with pytest.raises(StreamNotFound):
        await store.head("s")


async def test_fork_inherits_expiry_unless_given_its_own(store: Store) -> None:
    await store.create("s", CreateRequest(content_type=TEXT, ttl_seconds=3600))
    inherited = await store.create("f1", fork())
    own = await store.create("f2", CreateRequest(ttl_seconds=60, fork=ForkSpec("s")))
    assert inherited.meta.ttl_seconds == 3600
    assert own.meta.ttl_seconds == 60


async def test_fork_is_idempotent_and_starts_open_without_producers(store: Store) -> None:
    await text_stream(store)
    await store.append("s", AppendRequest(data=b"x", producer=claim(0), close=True))
    first = await store.create("f", fork())
    again = await store.create("f", fork())
    assert first.created and not again.created
    assert not first.meta.closed
    result = await store.append("f", AppendRequest(data=b"y", producer=claim(0)))
    assert not result.duplicate


async def test_deleted_source_becomes_a_tombstone_while_forks_live(store: Store) -> None:
    await text_stream(store, "s", b"kept")
    await store.create("f", fork())
    await store.delete("s")
    for operation in (
        store.head("s"),
        store.read("s", ZERO, 100),
        store.append("s", AppendRequest(data=b"x")),
        store.delete("s"),
    ):
        with pytest.raises(StreamGone):
            await operation
    with pytest.raises(ConfigMismatch):
        await store.create("s", CreateRequest(content_type=TEXT))
    with pytest.raises(ForkSourceGone):
        await store.create("g", fork())
    assert await read_all(store, "f") == b"kept"


async def test_deleting_the_last_fork_removes_tombstones_up_the_chain(store: Store) -> None:
    await text_stream(store, "a", b"A")
    await store.create("b", fork("a"))
    await store.create("c", fork("b"))
    await store.delete("a")
    await store.delete("b")
    assert await read_all(store, "c") == b"A"
    await store.delete("c")
    for path in ("a", "b", "c"):
        with pytest.raises(StreamNotFound):
            await store.head(path)


async def test_deleting_forks_keeps_a_live_source(store: Store) -> None:
    await text_stream(store, "s", b"alive")
    await store.create("f1", fork())
    await store.create("f2", fork())
    await store.delete("f1")
    await store.delete("f2")
    await store.delete("s")
    with pytest.raises(StreamNotFound):
        await store.head("s")


async def test_expired_source_with_forks_is_a_tombstone(store: Store, clock) -> None:
    await store.create("s", CreateRequest(content_type=TEXT, ttl_seconds=2, initial=b"x"))
    await store.create("f", CreateRequest(ttl_seconds=100, fork=ForkSpec("s")))
    clock.advance(3)
    with pytest.raises(StreamGone):
        await store.head("s")
    assert await read_all(store, "f") == b"x"


# --- wait ---------------------------------------------------------------------------------


async def test_wait_returns_at_once_when_data_is_already_there(store: Store) -> None:
    await text_stream(store, "s", b"x")
    assert await store.wait("s", ZERO, timeout=5)


async def test_wait_times_out_without_news(store: Store) -> None:
    await text_stream(store)
    assert not await store.wait("s", ZERO, timeout=0.05)


async def test_wait_wakes_on_append(store: Store) -> None:
    await text_stream(store)
    waiter = asyncio.create_task(store.wait("s", ZERO, timeout=5))
    await asyncio.sleep(0.01)
    assert not waiter.done()
    await store.append("s", AppendRequest(data=b"x"))
    assert await asyncio.wait_for(waiter, 1)


@pytest.mark.parametrize("change", ["close", "delete"])
async def test_wait_wakes_on_close_and_delete(store: Store, change: str) -> None:
    await text_stream(store)
    waiter = asyncio.create_task(store.wait("s", ZERO, timeout=5))
    await asyncio.sleep(0.01)
    if change == "close":
        await store.append("s", AppendRequest(close=True))
    else:
        await store.delete("s")
    assert await asyncio.wait_for(waiter, 1)


async def test_wait_on_a_closed_stream_returns_at_once(store: Store) -> None:
    await text_stream(store)
    await store.append("s", AppendRequest(close=True))
    assert await store.wait("s", ZERO, timeout=5)
