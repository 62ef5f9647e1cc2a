"""The memory store's paging, checked against a plain reference model with random histories.

The contract suite (test_store.py) covers the semantics; this pins the bisected paging of
MemoryStore across fork segments, where off-by-one errors would lose or repeat records.
"""

from __future__ import annotations

import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st

from serving.streams import ZERO, AppendRequest, CreateRequest, ForkSpec, MemoryStore

chunks = st.lists(st.binary(min_size=1, max_size=12), min_size=0, max_size=8)


@settings(max_examples=60, deadline=None)
@given(chunks, chunks, st.integers(min_value=0, max_value=8), st.integers(1, 40))
def test_paged_reads_of_a_fork_return_every_record_once(
    source_chunks: list[bytes], fork_chunks: list[bytes], fork_at: int, page: int
) -> None:
    async def scenario() -> list[bytes]:
        store = MemoryStore()
        await store.create("s", CreateRequest())
        offsets = [ZERO]
        for chunk in source_chunks:
            offsets.append((await store.append("s", AppendRequest(chunk))).tail)
        at = offsets[min(fork_at, len(offsets) - 1)]
        await store.create("f", CreateRequest(fork=ForkSpec("s", at)))
        for chunk in fork_chunks:
            await store.append("f", AppendRequest(chunk))
        seen: list[bytes] = []
        position = ZERO
        while True:
            result = await store.read("f", position, page)
            assert result.records or result.up_to_date
            assert sum(map(len, result.records)) <= page or len(result.records) == 1
            seen += result.records
            if result.up_to_date:
                return seen
            assert result.next_offset > position
            position = result.next_offset

    inherited = source_chunks[: min(fork_at, len(source_chunks))]
    assert asyncio.run(scenario()) == inherited + fork_chunks


def test_streams_nobody_touches_again_are_swept_after_expiry() -> None:
    now = [1000.0]
    store = MemoryStore(clock=lambda: now[0])

    async def scenario() -> None:
        await store.create("idle", CreateRequest(ttl_seconds=1))
        await store.create("kept", CreateRequest())
        now[0] += MemoryStore.SWEEP_SECONDS
        await store.head("kept")

    asyncio.run(scenario())
    assert "idle" not in store._by_path
