"""What only the Redis store does: processes sharing streams, retention, surviving Redis failures.

The store contract itself runs on Redis in test_store.py (conftest.STORES). Here several
RedisStore instances (each with its own connections, as separate server processes have) share
one real redis-server; the last test runs two real server processes and SIGKILLs one.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from benchmarks.redis_server import RedisServer, redis_server_path
from benchmarks.servers import free_port
from serving.streams import (
    ZERO,
    AppendRequest,
    CreateRequest,
    Offset,
    OffsetTrimmed,
    ProducerClaim,
    StoreUnavailable,
    StreamNotFound,
)
from serving.streams.http import StreamsApp
from serving.streams.redis_store import RedisStore

from .conftest import FakeClock

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(redis_server_path() is None, reason="redis-server is not installed"),
]

TEXT = "text/plain"
JSON = "application/json"


@pytest.fixture
async def open_stores(redis_server: RedisServer) -> AsyncIterator[Callable[..., RedisStore]]:
    """Makes stores sharing one key prefix, as the processes of one deployment do."""
    prefix = f"test-{uuid.uuid4().hex[:12]}:"
    opened: list[RedisStore] = []

    def open_store(
        url: str = redis_server.url, clock: Callable[[], float] = time.time, **options: str
    ) -> RedisStore:
        query = "&".join(f"{name}={value}" for name, value in {"prefix": prefix, **options}.items())
        store = RedisStore.from_url(f"{url}?{query}", clock=clock)
        opened.append(store)
        return store

    yield open_store
    for store in opened:
        await store.aclose()


async def append_text(store: RedisStore, path: str, text: str, **claim: int) -> Offset:
    producer = ProducerClaim("writer", claim["epoch"], claim["seq"]) if claim else None
    request = AppendRequest(data=text.encode(), content_type=TEXT, producer=producer)
    return (await store.append(path, request)).tail


async def read_text(store: RedisStore, path: str, after: Offset = ZERO) -> str:
    return b"".join((await store.read(path, after, 1 << 20)).records).decode()


# --- several processes, one Redis -----------------------------------------------------------


async def test_processes_see_the_same_stream_with_the_same_offsets(open_stores) -> None:
    first, second = open_stores(), open_stores()
    await first.create("s", CreateRequest(content_type=TEXT))
    one = await append_text(first, "s", "one ")
    two = await append_text(second, "s", "two ")
    three = await append_text(first, "s", "three")
    assert [one, two, three] == [Offset(1, 4), Offset(2, 8), Offset(3, 13)]
    for store in (first, second):
        assert await read_text(store, "s") == "one two three"
        assert await read_text(store, "s", after=one) == "two three"
        assert (await store.head("s")).tail == three


async def test_concurrent_appends_from_processes_lose_and_duplicate_nothing(open_stores) -> None:
    stores = [open_stores() for _ in range(3)]
    await stores[0].create("s", CreateRequest(content_type=TEXT))

    async def writer(index: int) -> list[Offset]:
        store = stores[index % len(stores)]
        return [await append_text(store, "s", f"{index}.{n};") for n in range(30)]

    tails = [tail for tails in await asyncio.gather(*map(writer, range(6))) for tail in tails]
    assert sorted(tails) == [tail for tail in sorted(tails)] and len(set(tails)) == 180
    pieces = (await read_text(stores[1], "s")).rstrip(";").split(";")
    assert sorted(pieces) == sorted(f"{i}.{n}" for i in range(6) for n in range(30))
    for index in range(6):  # each writer's appends stay in its order
        own = [piece for piece in pieces if piece.startswith(f"{index}.")]
        assert own == [f"{index}.{n}" for n in range(30)]


async def test_producer_fencing_holds_across_processes(open_stores) -> None:
    first, second = open_stores(), open_stores()
    await first.create("s", CreateRequest(content_type=TEXT))
    await append_text(first, "s", "a", epoch=0, seq=0)
    retry = AppendRequest(data=b"a", content_type=TEXT, producer=ProducerClaim("writer", 0, 0))
    assert (await second.append("s", retry)).duplicate  # the retry reached the other process
    await append_text(second, "s", "b", epoch=1, seq=0)
    stale = AppendRequest(data=b"c", content_type=TEXT, producer=ProducerClaim("writer", 0, 1))
    with pytest.raises(Exception, match="stale"):
        await first.append("s", stale)  # first's kept state is old: it must ask Redis again
    assert await read_text(first, "s") == "ab"


async def test_a_reader_waiting_in_one_process_wakes_when_another_appends(open_stores) -> None:
    reader, writer = open_stores(), open_stores()
    tail = (await writer.create("s", CreateRequest(content_type=TEXT))).meta.tail
    waiting = asyncio.create_task(reader.wait("s", tail, timeout=10))
    while reader.waiting("s") == 0:
        await asyncio.sleep(0.001)
    await asyncio.sleep(0.05)  # parked, subscribed, state loaded
    started = time.perf_counter()
    await append_text(writer, "s", "news")
    assert await waiting
    assert time.perf_counter() - started < 0.5  # typically a millisecond or two
    assert await read_text(reader, "s", after=tail) == "news"
    # a close or a delete in another process wakes too
    after = (await reader.head("s")).tail
    waiting = asyncio.create_task(reader.wait("s", after, timeout=10))
    await asyncio.sleep(0.05)
    await writer.delete("s")
    assert await asyncio.wait_for(waiting, 5)


async def test_a_live_read_of_this_process_own_append_skips_redis_and_stays_exact(
    open_stores, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = open_stores(), open_stores()
    await first.create("s", CreateRequest(content_type=TEXT))
    one = await append_text(first, "s", "one ")
    two = await append_text(first, "s", "two ")
    scripts_run: list[object] = []
    run = first._link.run

    async def counted(script: object, *args: object) -> object:
        scripts_run.append(script)
        return await run(script, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(first._link, "run", counted)
    live = await first.read_live("s", one, 1 << 20)
    assert scripts_run == []  # answered from the commit's own records
    held = await second.read("s", one, 1 << 20)  # exactly what Redis holds there
    assert (live.records, live.next_offset, live.meta.tail) == (
        held.records,
        held.next_offset,
        held.meta.tail,
    )
    assert (live.records, live.next_offset, live.up_to_date) == ([b"two "], two, True)
    # Its consecutive commits form one run, answered from any record boundary in it.
    assert b"".join((await first.read_live("s", ZERO, 1 << 20)).records) == b"one two "
    assert scripts_run == []
    # At its tail (the news that woke a reader there came from elsewhere): Redis answers.
    assert (await first.read_live("s", two, 1 << 20)).records == []
    assert len(scripts_run) == 1
    # Another process writes after it: a plain read sees that write at once; a live read may
    # answer as of the commit, and its reader, waiting on, is woken by that write's news.
    three = await append_text(second, "s", "three")
    assert await read_text(first, "s", after=one) == "two three"
    stale = await first.read_live("s", one, 1 << 20)
    if stale.next_offset == two:
        assert await first.wait("s", two, timeout=5)
    assert await read_text(first, "s", after=two) == "three"
    assert (await first.head("s")).tail == three
    # Its own consecutive commits form one run: a reader two records behind is answered too,
    # and a one-byte budget still takes one whole record, and says it stopped there.
    await append_text(first, "s", "four")
    await append_text(first, "s", "five")
    scripts_run.clear()
    behind = await first.read_live("s", three, 1 << 20)
    assert (behind.records, behind.up_to_date) == ([b"four", b"five"], True)
    small = await first.read_live("s", three, 1)
    assert (small.records, small.next_offset, small.up_to_date) == ([b"four"], Offset(4, 17), False)
    assert scripts_run == []


async def test_wait_times_out_without_news_from_anywhere(open_stores) -> None:
    store = open_stores()
    tail = (await store.create("s", CreateRequest(content_type=TEXT))).meta.tail
    started = time.perf_counter()
    assert not await store.wait("s", tail, timeout=0.2)
    assert 0.15 < time.perf_counter() - started < 2


# --- retention ------------------------------------------------------------------------------


async def test_max_records_trims_the_oldest_and_a_resuming_reader_is_told(open_stores) -> None:
    store = open_stores(max_records="3")
    await store.create("s", CreateRequest(content_type=TEXT))
    offsets = [await append_text(store, "s", f"{n}") for n in range(5)]
    assert await read_text(store, "s", after=offsets[1]) == "234"  # kept: records 3 to 5
    with pytest.raises(OffsetTrimmed, match="resume from offset") as refused:
        await store.read("s", offsets[0], 1 << 20)
    assert refused.value.earliest == offsets[1]
    assert await read_text(store, "s") == "234"  # from the start: the oldest record kept
    assert await read_text(store, "s", after=refused.value.earliest) == "234"


async def test_a_trimmed_offset_is_a_410_with_a_clear_message(open_stores) -> None:
    store = open_stores(max_records="1")
    await store.create("s", CreateRequest(content_type=TEXT))
    first = await append_text(store, "s", "old")
    await append_text(store, "s", "new")
    await append_text(store, "s", "newest")
    app = StreamsApp(store, signer=None, open_access=True)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as http:
        response = await http.get("/v1/stream/s", params={"offset": str(first)})
    assert response.status_code == 410
    error = response.json()["error"]
    assert error["code"] == "OFFSET_TRIMMED" and "resume from offset" in error["message"]


async def test_an_idle_stream_expires_and_the_sweep_frees_its_keys(
    open_stores, redis_server: RedisServer
) -> None:
    clock = FakeClock()
    store = open_stores(idle_seconds="100", clock=clock)
    await store.create("idle", CreateRequest(content_type=TEXT))
    await store.create("busy", CreateRequest(content_type=TEXT))
    await append_text(store, "idle", "x")
    clock.advance(60)
    await read_text(store, "busy")  # a read renews the idle deadline
    clock.advance(60)
    assert await store.sweep() == 1
    with pytest.raises(StreamNotFound):
        await store.head("idle")
    assert await read_text(store, "busy") == ""
    keys = await store._link.call("KEYS", f"{store.prefix}*")  # only the busy stream is left
    assert {key.decode().removeprefix(store.prefix).split(":")[0] for key in keys} == {
        "ids",
        "deadlines",
        "path",
        "meta",
    }


async def test_appends_move_the_sweep_deadline_lazily_but_never_late(open_stores) -> None:
    clock = FakeClock()
    store = open_stores(idle_seconds="10000", clock=clock)  # slack: 60 s
    await store.create("s", CreateRequest(content_type=TEXT))
    key = f"{store.prefix}deadlines"

    async def held() -> float:
        return float(await store._link.call("ZSCORE", key, "1"))

    await append_text(store, "s", "a")
    first = await held()
    assert first == clock.now + 10000
    clock.advance(30)
    await append_text(store, "s", "b")  # moved 30 s: not rewritten, so at most 60 s early
    assert await held() == first
    clock.advance(40)
    await append_text(store, "s", "c")  # moved 70 s: rewritten
    assert await held() == clock.now + 10000
    # An early deadline reached by the sweep is put right, the stream kept.
    clock.advance(30)
    await append_text(store, "s", "d")
    clock.advance(10000 - 35)  # past what Redis holds, before the real deadline
    assert await store.sweep() == 0
    assert await held() > clock.now
    assert await read_text(store, "s") == "abcd"


# --- Redis failures -------------------------------------------------------------------------


async def test_redis_down_is_a_503_with_retry_after_not_a_500(open_stores) -> None:
    store = open_stores(url=f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    with pytest.raises(StoreUnavailable, match="cannot reach Redis"):
        await store.create("s", CreateRequest(content_type=TEXT))
    app = StreamsApp(store, signer=None, open_access=True)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as http:
        for method in ("PUT", "POST", "GET", "HEAD", "DELETE"):
            response = await http.request(
                method, "/v1/stream/s", content=b"x", headers={"content-type": TEXT}
            )
            assert response.status_code == 503, method
            assert response.headers["retry-after"] == "1"


async def test_a_redis_crash_with_append_only_on_loses_no_acknowledged_append() -> None:
    with RedisServer(appendonly=True) as redis:
        store = RedisStore.from_url(redis.url)
        await store.create("s", CreateRequest(content_type=JSON))
        acknowledged: list[int] = []
        crash_at = 150

        async def writer() -> None:
            number = 0
            while len(acknowledged) < 300:
                data = json.dumps({"n": number}).encode()
                try:
                    await store.append("s", AppendRequest(data=data, content_type=JSON))
                except StoreUnavailable:  # Redis restarting: not acknowledged, try the next
                    await asyncio.sleep(0.02)
                else:
                    acknowledged.append(number)
                number += 1

        task = asyncio.create_task(writer())
        while len(acknowledged) < crash_at:
            await asyncio.sleep(0.001)
        await asyncio.to_thread(redis.restart)  # SIGKILL, then start on the same files
        await asyncio.wait_for(task, 60)
        result = await store.read("s", ZERO, 1 << 24)
        stored = [json.loads(record)["n"] for record in result.records]
        await store.aclose()
    assert len(acknowledged) == 300  # the writer went on after the crash (retrying refusals)
    assert set(acknowledged) <= set(stored), "an acknowledged append was lost"
    assert len(stored) == len(set(stored)), "an append was stored twice"
    assert stored == sorted(stored)


# --- failover: two server processes, one killed ---------------------------------------------


def start_server(store_url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    command = [sys.executable, "-m", "serving", "--open", "--store", store_url]
    command += ["--port", str(port), "--long-poll-timeout", "2", "--models", "/nonexistent"]
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(command, env=environment, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.head(f"{url}/v1/stream/probe", timeout=1)
            return process, url
        except httpx.TransportError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("the server did not start")


@pytest.mark.slow
async def test_sigkill_one_of_two_processes_clients_resume_on_the_other(
    redis_server: RedisServer,
) -> None:
    store_url = f"{redis_server.url}?prefix=failover-{uuid.uuid4().hex[:8]}:"
    (first, first_url), (second, second_url) = await asyncio.gather(
        asyncio.to_thread(start_server, store_url), asyncio.to_thread(start_server, store_url)
    )
    servers = [first_url, second_url]
    total = 400
    stream = "/v1/stream/failover"
    try:
        async with httpx.AsyncClient(timeout=10) as http:
            created = await http.put(first_url + stream, headers={"content-type": TEXT})
            assert created.status_code == 201

            async def writer() -> None:
                """Producer headers make a retry on the other server safe (deduplicated)."""
                url = first_url
                for seq in range(total):
                    headers = {"content-type": TEXT, "producer-id": "w"}
                    headers |= {"producer-epoch": "0", "producer-seq": str(seq)}
                    while True:
                        try:
                            answer = await http.post(
                                url + stream, content=f"{seq};", headers=headers
                            )
                        except httpx.TransportError:
                            url = second_url  # the first one died: go on with the other
                            continue
                        assert answer.status_code in (200, 204), answer.text
                        break
                    await asyncio.sleep(0.002)
                await http.post(url + stream, headers={"stream-closed": "true"})

            async def long_poll_reader(start: int) -> str:
                seen, offset, index = "", "-1", start
                while True:
                    try:
                        answer = await http.get(
                            servers[index % 2] + stream,
                            params={"offset": offset, "live": "long-poll"},
                        )
                    except httpx.TransportError:
                        index += 1  # reconnect to the other server, from the same offset
                        continue
                    seen += answer.text
                    offset = answer.headers["stream-next-offset"]
                    if answer.headers.get("stream-closed") == "true":
                        return seen

            async def sse_reader(start: int) -> str:
                seen, offset, index = "", "-1", start
                while True:
                    try:
                        params = {"offset": offset, "live": "sse"}
                        async with http.stream(
                            "GET", servers[index % 2] + stream, params=params
                        ) as answer:
                            event = ""
                            async for line in answer.aiter_lines():
                                if line.startswith("event:"):
                                    event = line.removeprefix("event:").strip()
                                elif line.startswith("data:") and event == "data":
                                    seen += line.removeprefix("data:").removeprefix(" ")
                                elif line.startswith("data:") and event == "control":
                                    control = json.loads(line.removeprefix("data:"))
                                    offset = control["streamNextOffset"]
                                    if control.get("streamClosed"):
                                        return seen
                    except httpx.TransportError:
                        pass
                    index += 1

            readers = [asyncio.create_task(long_poll_reader(i)) for i in range(4)]
            readers += [asyncio.create_task(sse_reader(i)) for i in range(4)]
            writing = asyncio.create_task(writer())
            while True:  # kill the first process in the middle of the run
                head = await http.head(second_url + stream)
                if Offset.parse(head.headers["stream-next-offset"]).seq >= total // 2:
                    break
                await asyncio.sleep(0.01)
            first.send_signal(signal.SIGKILL)
            first.wait()
            await asyncio.wait_for(writing, 60)
            seen = await asyncio.wait_for(asyncio.gather(*readers), 60)
    finally:
        for process in (first, second):
            if process.poll() is None:
                process.terminate()
                process.wait(10)
    expected = "".join(f"{seq};" for seq in range(total))
    for text in seen:
        assert text == expected, "a reader lost, repeated or reordered an event"
