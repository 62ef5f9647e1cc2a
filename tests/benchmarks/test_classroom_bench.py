"""The classroom benchmark: its SSE reading, its verdicts, and a --quick run on a real server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from benchmarks import classroom_bench
from benchmarks.classroom_bench import QUICK, Step, _sse, main, markdown, verdict


def test_sse_messages_are_read_across_chunks_and_keepalives_skipped() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for chunk in (
            b"retry: 1000\n\n: keep",
            b"alive\n\nevent: room\nid: 0_1\nda",
            b"ta: {}\n\n",
        ):
            yield chunk
        yield b'event: room\r\ndata: {"a":\r\ndata: 1}\r\n\r\n'

    async def read() -> list[tuple[str, str]]:
        return [message async for message in _sse(chunks())]

    assert asyncio.run(read()) == [("room", "{}"), ("room", '{"a":\n1}')]


def test_the_verdict_needs_no_errors_and_a_p99_under_a_second() -> None:
    fast = Step(200, seconds=10, sent=600, latencies_ms=[20.0] * 99 + [900.0])
    assert verdict(fast) == "p99 < 1 s"
    assert verdict(Step(200, seconds=10, sent=600, latencies_ms=[1500.0] * 100)) == "p99 >= 1 s"
    assert verdict(Step(200, seconds=10, sent=600, latencies_ms=[20.0], unseen=1)) == "errors"
    assert verdict(Step(200, seconds=10, sent=600, latencies_ms=[20.0], page_reconnects=1)) == (
        "errors"
    )
    assert verdict(Step(200, seconds=10)) == "errors"  # nothing measured is not a pass
    page = markdown([fast], QUICK)
    assert page.splitlines()[2].startswith("| learners | checks/s | event->page p50 ms |")
    assert "| 200 | 60.0 | 20 | 20 | 0 | 0 | 0 | p99 < 1 s |" in page
    assert "**met**" in page


@pytest.mark.slow
def test_quick_run_hosts_every_learner_without_errors_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    monkeypatch.setattr(classroom_bench, "RESULTS_PATH", tmp_path / "classroom.md")
    assert main(["--quick"]) == 0, capsys.readouterr().out
    printed = capsys.readouterr().out
    rows = [line for line in printed.splitlines() if line.startswith(("| 10 |", "| 20 |"))]
    assert len(rows) == 4  # the headline and the detail row of each room
    headline = [row.split("|")[1:-1] for row in rows[:2]]
    assert all(float(cells[1]) > 0 and cells[6].strip() == "0" for cells in headline)
    assert not (tmp_path / "classroom.md").exists()
