"""SessionLog: group-committed writes, offset-labelled reads, resume from any event."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest

from serving.sessions.errors import EventTooLarge, InvalidSessionOffset, SessionNotFound
from serving.sessions.events import EventType
from serving.sessions.offsets import START, EventPosition, parse_offset
from serving.sessions.session import Batch, SessionLog
from serving.streams import MemoryStore, Store
from serving.streams.errors import StoreUnavailable
from serving.streams.offsets import TAIL, ZERO
from serving.streams.protocol import render_records
from serving.streams.store import AppendRequest, AppendResult

pytestmark = pytest.mark.anyio

SESSION = "0123456789abcdef0123456789abcdef"


async def new_log(store: Store, **options: object) -> SessionLog:
    log = SessionLog(store, SESSION, **options)  # type: ignore[arg-type]
    await log.create()
    return log


async def read_all(log: SessionLog, after: EventPosition = START) -> list[dict]:
    events: list[dict] = []
    async for batch in _batches(log, after):
        events.extend(json.loads(item) for item in batch.events)
    return events


async def _batches(log: SessionLog, after: EventPosition) -> AsyncIterator[Batch]:
    batch = await log.read(after, 1 << 20)
    yield batch
    while not batch.up_to_date:
        batch = await log.read(batch.position, 1 << 20)
        yield batch


async def test_append_returns_the_offset_readers_see(store: Store) -> None:
    log = await new_log(store)
    first = await log.append(EventType.MESSAGE, run="r-1", device="laptop", data={"text": "hi"})
    second = await log.append(EventType.DELTA, run="r-1", agent="text", data={"text": "yo"})
    events = await read_all(log)
    assert [event["offset"] for event in events] == [first, second]
    assert events[0] == {
        "offset": first,
        "type": "message",
        "session": SESSION,
        "run": "r-1",
        "agent": None,
        "device": "laptop",
        "ts": events[0]["ts"],
        "data": {"text": "hi"},
    }


async def test_published_events_are_written_in_order_in_few_records(store: Store) -> None:
    log = await new_log(store)
    for index in range(500):
        log.publish(EventType.DELTA, run="r", agent="text", data={"text": str(index)})
    last = await log.append(EventType.RUN_COMPLETED, run="r", agent="text")
    events = await read_all(log)
    assert [event["data"].get("text") for event in events[:-1]] == [str(i) for i in range(500)]
    assert events[-1]["offset"] == last
    offsets = [event["offset"] for event in events]
    assert offsets == sorted(offsets) and len(set(offsets)) == 501
    meta = await log.head()
    assert meta.tail.seq < 50, "group commit should write many events per record"
    assert log.backlog == 0


async def test_events_published_by_tasks_ready_together_share_one_record(store: Store) -> None:
    # A run's opening: the service queues run.started, and the agent's task, ready in the
    # same turn of the event loop, publishes its first answer: one append, not two.
    log = await new_log(store)
    before = (await log.head()).tail.seq

    async def agent() -> None:
        log.publish(EventType.PREDICTION, run="r", agent="predict", data={"label": "Gentoo"})

    log.publish(EventType.RUN_STARTED, run="r", agent="predict")
    first_answer = asyncio.create_task(agent())
    await first_answer
    await log.flushed()
    assert [event["type"] for event in await read_all(log)] == ["run.started", "prediction"]
    assert (await log.head()).tail.seq == before + 1


async def test_resume_after_every_event_gives_exactly_the_rest(store: Store) -> None:
    log = await new_log(store)
    for index in range(30):
        log.publish(EventType.DELTA, data={"text": str(index)})
        if index % 7 == 0:
            await log.flushed()  # vary the record sizes
    await log.flushed()
    everything = await read_all(log)
    for cut, event in enumerate(everything):
        rest = await read_all(log, parse_offset(event["offset"]))
        assert rest == everything[cut + 1 :]


async def test_reading_from_the_tail_gives_no_events_and_the_position_to_wait_at(
    store: Store,
) -> None:
    log = await new_log(store)
    last = await log.append(EventType.DELTA, data={"text": "a"})
    batch = await log.read(TAIL, 1024)
    assert batch.events == [] and batch.up_to_date
    assert str(batch.position) == last
    assert not await log.wait(batch.position, 0.01)
    waiter = asyncio.create_task(log.wait(batch.position, 5))
    await asyncio.sleep(0.01)
    await log.append(EventType.DELTA, data={"text": "b"})
    assert await asyncio.wait_for(waiter, 5)
    assert [json.loads(e)["data"] for e in (await log.read(batch.position, 1024)).events] == [
        {"text": "b"}
    ]


async def test_reads_are_bounded_but_always_make_progress(store: Store) -> None:
    log = await new_log(store)
    for index in range(50):
        await log.append(EventType.DELTA, data={"text": "x" * 100 + str(index)})
    batch = await log.read(START, 1)
    assert len(batch.events) == 1 and not batch.up_to_date
    assert len(await read_all(log)) == 50


async def test_unknown_session_and_bad_offsets(store: Store) -> None:
    missing = SessionLog(store, "f" * 32)
    with pytest.raises(SessionNotFound, match="no session"):
        await missing.read(START, 1024)
    with pytest.raises(SessionNotFound):
        await missing.head()
    log = await new_log(store)
    last = await log.append(EventType.DELTA, data={"text": "a"})
    beyond = parse_offset(last)
    with pytest.raises(InvalidSessionOffset, match="past the last event"):
        await log.read(EventPosition(beyond.record.after(10)), 1024)
    with pytest.raises(InvalidSessionOffset, match="past the last event"):
        await log.read(EventPosition(beyond.record, 1), 1024)


async def test_an_oversized_event_is_refused_and_nothing_is_written(store: Store) -> None:
    log = await new_log(store, max_event_bytes=300)
    with pytest.raises(EventTooLarge, match="exceeds the limit of 300 bytes"):
        log.publish(EventType.MESSAGE, data={"text": "x" * 300})
    assert (await log.head()).tail == ZERO


async def test_the_log_is_a_plain_json_stream_for_durable_streams_readers(store: Store) -> None:
    log = await new_log(store)
    for index in range(5):
        log.publish(EventType.DELTA, run="r", data={"text": str(index)})
    await log.flushed()
    result = await store.read(log.path, ZERO, 1 << 20)
    messages = json.loads(render_records("application/json", result.records))
    assert [message["data"]["text"] for message in messages] == ["0", "1", "2", "3", "4"]
    assert all("offset" not in message for message in messages)


class FailingStore(MemoryStore):
    """A real memory store whose appends fail, as a full disk would."""

    async def append(self, path: str, request: AppendRequest) -> AppendResult:
        raise OSError("disk full")


async def test_a_failed_append_fails_its_waiters_and_closes_the_log() -> None:
    store = FailingStore()
    log = await new_log(store)
    log.publish(EventType.DELTA, data={"text": "lost"})
    with pytest.raises(OSError, match="disk full"):
        await log.append(EventType.DELTA, data={"text": "lost too"})
    assert log.backlog == 0
    with pytest.raises(OSError, match="disk full"):
        log.publish(EventType.DELTA, data={"text": "refused"})
    with pytest.raises(OSError, match="disk full"):
        await log.flushed()


async def test_scan_reads_the_whole_log(store: Store) -> None:
    log = await new_log(store)
    for index in range(20):
        await log.append(EventType.DELTA, data={"text": "y" * 50 + str(index)})
    seen = [json.loads(item) async for batch in log.scan(max_bytes=200) for item in batch.events]
    assert len(seen) == 20


class AwayStore(MemoryStore):
    """A memory store whose appends answer StoreUnavailable while ``away``, as Redis down."""

    def __init__(self) -> None:
        super().__init__()
        self.away = False
        self.refused = 0
        self.back = asyncio.Event()

    async def append(self, path: str, request: AppendRequest) -> AppendResult:
        if self.away:
            self.refused += 1
            if self.refused >= 3:  # the flusher retried twice: Redis comes back
                self.away = False
                self.back.set()
            raise StoreUnavailable("cannot reach Redis (test)")
        return await super().append(path, request)


async def test_through_a_store_outage_events_wait_and_are_written_once_in_order() -> None:
    """Redis away: published events and durable appends wait and are written when it is back
    (a run goes on); a command's own append fails at once with 503; the log never closes."""
    store = AwayStore()
    log = await new_log(store)
    await log.append(EventType.DELTA, data={"text": "before"})
    store.away = True
    log.publish(EventType.DELTA, data={"text": "queued 1"})
    with pytest.raises(StoreUnavailable):  # the command's event is dropped: its client retries
        await log.append(EventType.MESSAGE, data={"text": "a send during the outage"})
    assert log.unavailable is not None
    with pytest.raises(StoreUnavailable):  # while the flusher retries, commands fail at once
        await log.append(EventType.MESSAGE, data={"text": "another send"})
    log.publish(EventType.DELTA, data={"text": "queued 2"})
    ending = asyncio.ensure_future(log.append(EventType.RUN_COMPLETED, run="r", durable=True))
    await asyncio.wait_for(store.back.wait(), 30)
    await asyncio.wait_for(ending, 30)
    await log.flushed()
    assert log.unavailable is None and log.failure is None
    texts = [event.get("data", {}).get("text", event["type"]) for event in await read_all(log)]
    assert texts == ["before", "queued 1", "queued 2", "run.completed"]
    await log.append(EventType.MESSAGE, data={"text": "after"})  # commands work again


class LostReplyStore(MemoryStore):
    """Stores the ``lose``-th append, then answers as the Redis store does when the connection
    dropped mid-commit and Redis did not come back in time to say whether it was applied."""

    def __init__(self, lose: int) -> None:
        super().__init__()
        self.appends = 0
        self.lose = lose

    async def append(self, path: str, request: AppendRequest) -> AppendResult:
        self.appends += 1
        result = await super().append(path, request)
        if self.appends == self.lose:
            raise StoreUnavailable("could not learn whether it was stored", outcome_unknown=True)
        return result


@pytest.mark.parametrize("lose", [1, 2])
async def test_an_append_of_unknown_outcome_is_never_stored_twice(lose: int) -> None:
    """A record whose reply was lost (1: a delta's, 2: a run's ending's) is looked for before
    it is sent again, so the log holds it once (twice, it would repeat deltas or end a run
    twice); the run's ending waits through it (durable)."""
    store = LostReplyStore(lose)
    log = await new_log(store)
    log.publish(EventType.DELTA, run="r", data={"text": "a delta"})
    await asyncio.sleep(0.01)  # the delta's record is on its way
    offset = await asyncio.wait_for(log.append(EventType.RUN_COMPLETED, run="r", durable=True), 30)
    await log.append(EventType.MESSAGE, data={"text": "after"})
    events = await read_all(log)
    assert [event["type"] for event in events] == ["delta", "run.completed", "message"]
    assert events[1]["offset"] == offset
