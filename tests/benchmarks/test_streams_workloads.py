"""The workloads, one by one against our memory server: each gives a number or a clear error."""

from __future__ import annotations

from dataclasses import replace

import pytest

from benchmarks.servers import RunningServer
from benchmarks.streams_scenarios import Workload, run
from benchmarks.streams_workloads import (
    BenchmarkError,
    Sizes,
    SSEEvents,
    StreamsClient,
    Trial,
    catch_up_read,
    concurrent_appends_one_stream,
    concurrent_appends_own_streams,
    count_messages,
    fan_out,
    long_poll_latency,
    message,
    prefill_catch_up,
    sequential_appends,
    sse_latency,
)


@pytest.mark.parametrize(
    "workload",
    [
        sequential_appends,
        concurrent_appends_own_streams,
        concurrent_appends_one_stream,
        long_poll_latency,
        sse_latency,
        fan_out,
    ],
)
def test_a_workload_gives_a_positive_rate(
    our_memory_server: RunningServer, workload: Workload, tiny: Sizes
) -> None:
    async def once() -> Trial:
        async with StreamsClient(our_memory_server.url) as client:
            return await workload(client, tiny, f"workload-{workload.__name__}")

    trial = run(once())
    assert trial.operations > 0 and trial.seconds > 0


def test_latency_workloads_time_every_sample(our_memory_server: RunningServer, tiny: Sizes) -> None:
    async def once() -> list[Trial]:
        async with StreamsClient(our_memory_server.url) as client:
            return [
                await long_poll_latency(client, tiny, "latency-samples"),
                await sse_latency(client, tiny, "latency-samples"),
            ]

    for trial in run(once()):
        assert len(trial.latencies) == tiny.latency_samples
        assert all(0 < latency < 5 for latency in trial.latencies)


def test_fan_out_counts_every_delivery(our_memory_server: RunningServer, tiny: Sizes) -> None:
    async def once() -> Trial:
        async with StreamsClient(our_memory_server.url) as client:
            return await fan_out(client, tiny, "fan-out-count")

    trial = run(once())
    assert trial.operations % tiny.fan_out_readers == 0


def test_catch_up_reads_every_prefilled_message(
    our_memory_server: RunningServer, tiny: Sizes
) -> None:
    async def once() -> Trial:
        async with StreamsClient(our_memory_server.url) as client:
            stream = await prefill_catch_up(client, tiny, "full-history")
            return await catch_up_read(client, tiny, stream)

    assert run(once()).operations == tiny.catch_up_messages


def test_a_catch_up_that_misses_messages_is_an_error_not_a_number(
    our_memory_server: RunningServer, tiny: Sizes
) -> None:
    expecting_more = replace(tiny, catch_up_messages=tiny.catch_up_messages + 1)

    async def read_back() -> None:
        async with StreamsClient(our_memory_server.url) as client:
            stream = await prefill_catch_up(client, tiny, "short-history")
            await catch_up_read(client, expecting_more, stream)

    with pytest.raises(BenchmarkError, match="catch-up read 300 messages, expected 301"):
        run(read_back())


def test_an_unexpected_status_names_the_request(our_memory_server: RunningServer) -> None:
    async def append_to_nothing() -> None:
        async with StreamsClient(our_memory_server.url) as client:
            await client.append("no-such-stream", message(1))

    with pytest.raises(BenchmarkError, match="POST no-such-stream answered 404"):
        run(append_to_nothing())


def test_sse_events_are_split_across_chunks() -> None:
    events = SSEEvents()
    assert events.feed(b"event: data\ndata:[1,\n") == []
    assert events.feed(b'data: 2]\n\nevent: control\ndata:{"a":1}\n\n: keepalive\n\n') == [
        ("data", b"[1,\n2]"),
        ("control", b'{"a":1}'),
    ]


def test_messages_are_small_and_counted_by_their_key() -> None:
    body = b"[" + b",".join(message(number) for number in range(7)) + b"]"
    assert count_messages(body) == 7
    assert len(message(123)) < 80
