"""The prediction log on Redis (real redis-server): two server processes, two recorders, one
log; Redis's own retention (max_records) is the log's cap, and a label for a trimmed record is
unknown rather than an error.
"""

from __future__ import annotations

import uuid

import pytest

from benchmarks.redis_server import RedisServer
from serving.models.records import PredictionRecorder, prediction_record
from serving.streams.redis_store import RedisStore

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def record(record_id: str, version: str = "1") -> bytes:
    return prediction_record(
        record_id=record_id,
        model="penguin-classifier",
        version=version,
        via="predict",
        session="s",
        run="r",
        row={"island": "Dream"},
        answer={"prediction": "Adelie"},
    )


async def test_two_processes_record_into_one_log_that_redis_trims(
    redis_server: RedisServer,
) -> None:
    url = f"{redis_server.url}?prefix=records-{uuid.uuid4().hex[:8]}:&max_records=5"
    first, second = RedisStore.from_url(url), RedisStore.from_url(url)
    try:
        a, b = PredictionRecorder(first), PredictionRecorder(second)
        assert a.max_bytes is None  # Redis trims: no cap of the recorder's own
        await a.add("penguin-classifier", [record("aaaa.0")])
        await a.flushed()
        await b.add("penguin-classifier", [record("bbbb.0", version="2")])
        await b.flushed()
        # each process finds the other's records (it follows the shared stream)
        assert await a.prediction("penguin-classifier", "bbbb.0") == ("2", "Adelie")
        assert await b.prediction("penguin-classifier", "aaaa.0") == ("1", "Adelie")
        for index in range(20):  # one append each: Redis keeps the last 5 records
            await a.add("penguin-classifier", [record(f"cccc.{index}")])
            await a.flushed()
        fresh = PredictionRecorder(second)  # a process that starts now reads what is kept
        assert await fresh.prediction("penguin-classifier", "cccc.19") == ("1", "Adelie")
        assert await fresh.prediction("penguin-classifier", "aaaa.0") is None
        assert [r["id"] for r in await fresh.recent("penguin-classifier")] == [
            f"cccc.{i}" for i in range(15, 20)
        ]
        # b was behind the trimmed records: it resumes at the oldest kept one, no error
        assert await b.prediction("penguin-classifier", "cccc.19") == ("1", "Adelie")
    finally:
        await first.aclose()
        await second.aclose()
