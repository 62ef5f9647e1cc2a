"""The paced benchmark: a smoke run on our Redis server (no Node needed), and the checks that
make a lost, duplicated or misordered token stop the run (no timing is asserted)."""

from __future__ import annotations

import asyncio

import pytest

from benchmarks.paced_bench import (
    QUICK,
    BenchmarkError,
    Sizes,
    Stream,
    Workload,
    benchmark,
    main,
    read_sse,
)
from benchmarks.redis_server import redis_server_path
from benchmarks.suite import first_table

TINY = Sizes(
    rounds=1,
    workloads=(
        Workload("human200", "3 streams at 20-50 tokens/s", 3, (20, 50), seconds=0.3, spread=0.1),
        Workload("paced2000", "3 streams x 10 tokens/s", 3, (10, 10), seconds=0.3, spread=0.1),
        Workload("fast200", "3 streams x 60 tokens", 3, None, tokens=60, spread=0),
    ),
    sse_streams=2,
    sse_tokens=12,
    trial_timeout=60,
)


def _texts(count: int) -> list[str]:
    return [("" if i == 0 else " ") + f"w{i % 10}" for i in range(count)]


@pytest.mark.slow
@pytest.mark.skipif(redis_server_path() is None, reason="redis-server is not installed")
def test_a_quick_run_on_our_redis_server_measures_every_workload() -> None:
    run, text = benchmark(TINY, ["ours-redis"])
    for workload in TINY.workloads:
        result = run.results[workload.key]["ours-redis"]
        assert result.tokens == sum(tokens for _, tokens in workload.plan())
        assert result.tokens_per_second > 0 and result.server_cpu > 0
        assert result.redis_cpu is not None and result.bytes_per_token > 0
        assert result.latency_p99 is not None and result.rss_mb > 0
    assert run.sse_bytes["ours-redis"] > 0
    rows = first_table(text)[1:]
    assert len(rows) == 6  # fast, CPU, Redis CPU, p99 latency, bytes WebSocket, bytes SSE
    assert rows[0][0].startswith("200 streams x 500 tokens")


def test_every_token_once_in_order_passes() -> None:
    Stream(20, 25).check(_texts(25), "here")


@pytest.mark.parametrize(
    "texts",
    [
        _texts(24),  # the last token lost
        _texts(5) + _texts(25)[6:],  # one lost in the middle
        _texts(5) + _texts(25)[4:],  # one duplicated
        [*_texts(3), " w4", " w3", *_texts(25)[5:]],  # two swapped
    ],
    ids=["lost-last", "lost-middle", "duplicated", "swapped"],
)
def test_a_lost_duplicated_or_misordered_token_stops_the_run(texts: list[str]) -> None:
    with pytest.raises(BenchmarkError, match="lost, duplicated or misordered"):
        Stream(20, 25).check(texts, "stream 7")


def test_lateness_is_measured_from_the_schedule_of_the_most_punctual_token() -> None:
    stream = Stream(rate=10, tokens=4, arrivals=[100.0, 100.1, 100.25, 100.3])
    assert [round(x, 6) for x in stream.lateness_ms()] == [0.0, 0.0, 50.0, 0.0]


def test_a_chunked_sse_body_split_anywhere_yields_each_event_once() -> None:
    events = [b'data: {"type":"text-delta","delta":" w%d"}' % i for i in range(5)]
    body = b"".join(b"%x\r\n%s\n\n\r\n" % (len(e) + 2, e) for e in events) + b"0\r\n\r\n"

    async def read(pieces: list[bytes]) -> list[bytes]:
        reader = asyncio.StreamReader()
        for piece in pieces:
            reader.feed_data(piece)
        reader.feed_eof()
        seen: list[bytes] = []

        def on_event(event: bytes, arrived: float) -> bool:
            seen.append(event)
            return len(seen) == len(events)

        await read_sse(reader, on_event)
        return seen

    for cut in (1, 7, 30, len(body) - 3):
        assert asyncio.run(read([body[:cut], body[cut:]])) == events


def test_a_response_that_ends_early_is_an_error() -> None:
    async def read(eof: bool) -> None:
        reader = asyncio.StreamReader()
        reader.feed_data(b"5\r\ndata:\r\n")  # a partial event
        if eof:  # then the connection closes
            reader.feed_eof()
        else:  # then the body's last chunk, the connection still open
            reader.feed_data(b"0\r\n\r\n")
        await asyncio.wait_for(read_sse(reader, lambda event, arrived: False), 10)

    with pytest.raises(BenchmarkError, match="ended \\(its last chunk\\) before the stream"):
        asyncio.run(read(eof=False))
    with pytest.raises(BenchmarkError, match="connection closed before the stream ended"):
        asyncio.run(read(eof=True))


def test_the_command_line_refuses_unknown_servers(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--quick", "--servers", "ours-memory"])
    assert exit_info.value.code == 2
    assert "unknown server(s) ours-memory" in capsys.readouterr().err


def test_quick_sizes_are_small() -> None:
    assert QUICK.rounds == 1
    assert all(w.streams <= 10 for w in QUICK.workloads)
