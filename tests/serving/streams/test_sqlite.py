"""The SQLite store beyond the shared contract: durability, restarts, crashes, its own limits.

The contract itself (test_store.py) runs on SQLite through conftest.STORES.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from serving.streams import (
    ZERO,
    AppendRequest,
    CreateRequest,
    ForkSpec,
    MemoryStore,
    Offset,
    ProducerClaim,
    ProducerState,
    Store,
    StreamClosed,
    StreamGone,
    StreamNotFound,
    StreamSeqConflict,
    open_store,
)
from serving.streams.sqlite import TAIL_CACHE_BYTES, SQLiteCommitError, SQLiteStore

pytestmark = pytest.mark.anyio

TEXT = "text/plain"
JSON = "application/json"


def claim(seq: int, epoch: int = 0) -> ProducerClaim:
    return ProducerClaim("p", epoch, seq)


async def read_all(store: Store, path: str, after: Offset = ZERO) -> bytes:
    return b"".join((await store.read(path, after, max_bytes=1 << 30)).records)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "data" / "streams.db"


# --- restart ------------------------------------------------------------------------------


async def test_everything_survives_a_restart(db: Path, clock) -> None:
    store = SQLiteStore(db, clock=clock)
    await store.create("plain", CreateRequest(content_type=TEXT, initial=b"a"))
    await store.append("plain", AppendRequest(data=b"b", producer=claim(0), stream_seq="01"))
    await store.append("plain", AppendRequest(data=b"c", producer=claim(1)))
    await store.create("closed", CreateRequest(content_type=JSON, initial=b'{"a":1}'))
    await store.append("closed", AppendRequest(close=True))
    await store.create("ttl", CreateRequest(content_type=TEXT, ttl_seconds=10))
    await store.create("fork", CreateRequest(fork=ForkSpec("plain", Offset(2, 2), sub_offset=0)))
    await store.append("fork", AppendRequest(data=b"F"))
    await store.create("gone", CreateRequest(content_type=TEXT, initial=b"kept"))
    await store.create("child", CreateRequest(fork=ForkSpec("gone")))
    await store.delete("gone")
    await store.create("deleted", CreateRequest(content_type=TEXT, initial=b"x"))
    used_ids = {(await store.head(path)).stream_id for path in ("plain", "fork", "deleted")}
    await store.delete("deleted")
    paths = ("plain", "closed", "ttl", "fork", "child")
    heads = {path: await store.head(path) for path in paths}
    await store.aclose()

    store = SQLiteStore(db, clock=clock)
    try:
        assert {path: await store.head(path) for path in paths} == heads
        assert await read_all(store, "plain") == b"abc"
        assert await read_all(store, "fork") == b"abF"
        assert await read_all(store, "child") == b"kept"
        assert await read_all(store, "closed") == b'{"a":1}'
        with pytest.raises(StreamClosed):
            await store.append("closed", AppendRequest(data=b"{}"))
        with pytest.raises(StreamGone):
            await store.head("gone")
        with pytest.raises(StreamNotFound):
            await store.head("deleted")
        assert await store.producer_state("plain", "p") == ProducerState(0, 1)
        retry = await store.append("plain", AppendRequest(data=b"c", producer=claim(1)))
        assert retry.duplicate
        with pytest.raises(StreamSeqConflict):
            await store.append("plain", AppendRequest(data=b"d", stream_seq="01"))
        assert await read_all(store, "plain") == b"abc"
        recreated = await store.create("deleted", CreateRequest(content_type=TEXT))
        assert recreated.meta.stream_id not in used_ids
        clock.advance(11)
        with pytest.raises(StreamNotFound):
            await store.head("ttl")
    finally:
        await store.aclose()


async def test_a_reads_ttl_renewal_survives_a_restart(db: Path, clock) -> None:
    store = SQLiteStore(db, clock=clock)
    await store.create("s", CreateRequest(content_type=TEXT, ttl_seconds=10))
    clock.advance(8)
    await store.read("s", ZERO, 100)
    await store.aclose()
    store = SQLiteStore(db, clock=clock)
    try:
        clock.advance(8)
        await store.head("s")
        clock.advance(3)
        with pytest.raises(StreamNotFound):
            await store.head("s")
    finally:
        await store.aclose()


async def test_concurrent_appends_all_survive_a_restart_in_order(db: Path, clock) -> None:
    store = SQLiteStore(db, clock=clock)
    paths = [f"s{i}" for i in range(4)]
    for path in paths:
        await store.create(path, CreateRequest(content_type=TEXT))
    requests = [(path, f"<{path}:{i}>".encode()) for i in range(50) for path in paths]
    results = await asyncio.gather(
        *(store.append(path, AppendRequest(data=data)) for path, data in requests)
    )
    contents = {path: await read_all(store, path) for path in paths}
    await store.aclose()
    for path in paths:
        tails = [r.tail for (p, _), r in zip(requests, results, strict=True) if p == path]
        assert tails == sorted(set(tails))
        assert contents[path] == b"".join(f"<{path}:{i}>".encode() for i in range(50))
    store = SQLiteStore(db, clock=clock)
    try:
        assert {path: await read_all(store, path) for path in paths} == contents
    finally:
        await store.aclose()


def paths_in_file(db: Path) -> set[str]:
    with closing(sqlite3.connect(db)) as other_connection:
        return {path for (path,) in other_connection.execute("SELECT path FROM streams")}


async def test_streams_nobody_touches_again_are_swept_from_the_file(db: Path, clock) -> None:
    store = SQLiteStore(db, clock=clock)
    await store.create("idle", CreateRequest(ttl_seconds=1))
    await store.create("kept", CreateRequest())
    await store.aclose()
    clock.advance(2)
    store = SQLiteStore(db, clock=clock)  # sweeps what expired while it was closed
    try:
        await store.create("idle-too", CreateRequest(ttl_seconds=1))
        assert paths_in_file(db) == {"kept", "idle-too"}
        clock.advance(SQLiteStore.SWEEP_SECONDS)
        await store.head("kept")
        await store.create("new", CreateRequest())  # committed after the sweep
        assert paths_in_file(db) == {"kept", "new"}
    finally:
        await store.aclose()


# --- durability and offsets ---------------------------------------------------------------


async def test_an_append_is_committed_to_the_file_when_it_returns(db: Path, clock) -> None:
    store = SQLiteStore(db, clock=clock)
    try:
        await store.create("s", CreateRequest(content_type=TEXT))
        result = await store.append("s", AppendRequest(data=b"durable"))
        with closing(sqlite3.connect(db)) as other_connection:
            rows = other_connection.execute("SELECT seq, position, data FROM records").fetchall()
        assert rows == [(result.tail.seq, result.tail.position, b"durable")]
    finally:
        await store.aclose()


async def test_offsets_are_the_memory_stores(db: Path, clock) -> None:
    async def script(store: Store) -> list[object]:
        seen: list[object] = []
        await store.create("s", CreateRequest(content_type=TEXT, initial=b"init"))
        for size in (1, 7, 300, 2, 4096, 5):
            seen.append((await store.append("s", AppendRequest(data=b"x" * size))).tail)
        fork = await store.create("f", CreateRequest(fork=ForkSpec("s", seen[2], sub_offset=2)))
        seen.append(fork.meta.tail)
        seen.append((await store.append("f", AppendRequest(data=b"own"))).tail)
        position = ZERO
        while True:
            page = await store.read("f", position, max_bytes=250)
            seen.append((page.next_offset, [len(record) for record in page.records]))
            if page.up_to_date:
                return seen
            position = page.next_offset

    sqlite_store = SQLiteStore(db, clock=clock)
    try:
        assert await script(sqlite_store) == await script(MemoryStore(clock=clock))
    finally:
        await sqlite_store.aclose()


async def test_pages_across_the_tail_cache_boundary_match_one_full_read(db: Path, clock) -> None:
    store = SQLiteStore(db, clock=clock)
    record_size = 1000
    count = 2 * TAIL_CACHE_BYTES // record_size
    chunks = [str(i).rjust(record_size, ".").encode() for i in range(count)]
    await store.create("s", CreateRequest(content_type=TEXT))
    await asyncio.gather(*(store.append("s", AppendRequest(data=chunk)) for chunk in chunks))
    try:
        for reopen in (False, True):
            if reopen:  # a fresh store serves everything from the file
                await store.aclose()
                store = SQLiteStore(db, clock=clock)
            assert (await store.read("s", ZERO, max_bytes=1 << 30)).records == chunks
            pages, offsets, position = [], [], ZERO
            while True:
                page = await store.read("s", position, max_bytes=7 * record_size + 1)
                pages += page.records
                offsets.append(page.next_offset)
                if page.up_to_date:
                    break
                position = page.next_offset
            assert pages == chunks
            assert offsets == sorted(set(offsets))
            assert offsets[0] == Offset(7, 7 * record_size)
    finally:
        await store.aclose()


async def test_a_failed_commit_loses_nothing_and_the_store_goes_on(db: Path, clock) -> None:
    store = SQLiteStore(db, clock=clock)
    try:
        await store.create("s", CreateRequest(content_type=TEXT, initial=b"a"))
        writer_connection = store._writer._connection  # fault injection: SQLite refuses writes
        writer_connection.execute("PRAGMA query_only = ON")
        with pytest.raises(SQLiteCommitError, match="nothing of this request was stored"):
            await store.append("s", AppendRequest(data=b"lost", producer=claim(0)))
        assert (await store.head("s")).tail == Offset(1, 1)
        assert await read_all(store, "s") == b"a"
        writer_connection.execute("PRAGMA query_only = OFF")
        result = await store.append("s", AppendRequest(data=b"b", producer=claim(0)))
        assert (result.tail, result.duplicate) == (Offset(2, 2), False)
        assert await read_all(store, "s") == b"ab"
    finally:
        await store.aclose()


# --- opening the file ---------------------------------------------------------------------


async def test_open_store_creates_the_file_and_its_folder(db: Path) -> None:
    store = open_store(f"sqlite:///{db}")
    try:
        assert isinstance(store, SQLiteStore)
        assert db.exists()
        assert sqlite3.connect(db).execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        await store.aclose()


async def test_a_second_store_on_the_same_file_is_refused(db: Path) -> None:
    first = SQLiteStore(db)
    with pytest.raises(ValueError, match="already open in another SQLite store"):
        SQLiteStore(db)
    await first.aclose()
    second = SQLiteStore(db)
    await second.aclose()


def test_a_file_that_is_not_a_database_is_refused_clearly(tmp_path: Path) -> None:
    not_a_database = tmp_path / "notes.txt"
    not_a_database.write_text("these are my notes, not streams\n" * 100)
    with pytest.raises(ValueError, match="not a usable SQLite streams file"):
        SQLiteStore(not_a_database)


# --- a real crash -------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start_server(db: Path, port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "serving", "--open", "--store", f"sqlite:///{db}"]
    process = subprocess.Popen(
        [*command, "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server exited at startup"
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return process
        time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"the server did not listen on port {port} within 30 s")


async def _append_until_killed(
    client: httpx.AsyncClient, url: str, writer: int, acked: list[tuple[dict, str]]
) -> None:
    """Append {"w": writer, "i": 0, 1, ...} one at a time; record each acknowledged one."""
    index = 0
    while True:
        message = {"w": writer, "i": index}
        try:
            response = await client.post(url, json=message)
        except httpx.TransportError:
            return  # the server died with this append in flight: it may or may not be stored
        assert response.status_code == 204, response.text
        acked.append((message, response.headers["stream-next-offset"]))
        index += 1


async def _read_everything(client: httpx.AsyncClient, url: str, offset: str = "-1") -> list[dict]:
    messages: list[dict] = []
    while True:
        response = await client.get(url, params={"offset": offset})
        assert response.status_code == 200, response.text
        messages += response.json()
        offset = response.headers["stream-next-offset"]
        if "stream-up-to-date" in response.headers:
            return messages


async def test_acknowledged_appends_survive_kill_9_exactly_once_in_order(tmp_path: Path) -> None:
    db = tmp_path / "streams.db"
    port = _free_port()
    url = f"http://127.0.0.1:{port}/v1/stream/crash"
    writers = 8
    acked: list[tuple[dict, str]] = []
    server = _start_server(db, port)
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            created = await client.put(url, headers={"content-type": JSON})
            assert created.status_code == 201
            appending = [
                asyncio.create_task(_append_until_killed(client, url, writer, acked))
                for writer in range(writers)
            ]
            deadline = time.monotonic() + 5  # the kill comes with 8 appends in flight
            while len(acked) < 100 and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            server.send_signal(signal.SIGKILL)
            server.wait()
            await asyncio.gather(*appending)
    finally:
        server.kill()
        server.wait()
    assert len(acked) >= 20, "too few appends were acknowledged before the kill to prove much"

    server = _start_server(db, port)
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            stored = await _read_everything(client, url)
            keys = [(m["w"], m["i"]) for m in stored]
            assert len(keys) == len(set(keys)), "an append is stored twice"
            for writer in range(writers):
                indexes = [i for w, i in keys if w == writer]
                assert indexes == list(range(len(indexes))), f"writer {writer}: gap or reorder"
                acknowledged = [m["i"] for m, _ in acked if m["w"] == writer]
                assert len(indexes) in (len(acknowledged), len(acknowledged) + 1)
            offsets_by_writer: dict[int, list[str]] = {}
            for message, offset in acked:
                offsets_by_writer.setdefault(message["w"], []).append(offset)
            for writer, offsets in offsets_by_writer.items():
                assert offsets == sorted(set(offsets))
                after_last_ack = await _read_everything(client, url, offsets[-1])
                position = keys.index((writer, len(offsets) - 1)) + 1
                assert after_last_ack == stored[position:], "acknowledged offset moved"
    finally:
        server.terminate()
        server.wait(timeout=10)
