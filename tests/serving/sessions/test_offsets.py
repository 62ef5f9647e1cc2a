"""Event offsets: per-event positions inside multi-event records, and resuming from them."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from serving.sessions.errors import InvalidSessionOffset
from serving.sessions.offsets import (
    START,
    EventPosition,
    join_record,
    label_records,
    parse_offset,
    parse_start,
    record_offsets,
)
from serving.streams.offsets import TAIL, ZERO, Offset


def event(n: int) -> bytes:
    return json.dumps({"type": "delta", "data": {"text": f"t{n}"}}, separators=(",", ":")).encode()


def records_of(sizes: list[int]) -> list[bytes]:
    """Records holding ``sizes[i]`` events each, numbered 0, 1, 2... across records."""
    counter = iter(range(10_000))
    return [join_record([event(next(counter)) for _ in range(size)]) for size in sizes]


def end_of(records: list[bytes], start: Offset = ZERO) -> Offset:
    for record in records:
        start = start.after(len(record))
    return start


def texts(labelled: list[bytes]) -> list[str]:
    return [json.loads(item)["data"]["text"] for item in labelled]


def offsets(labelled: list[bytes]) -> list[str]:
    return [json.loads(item)["offset"] for item in labelled]


def test_every_event_gets_an_offset_and_the_envelope_keeps_its_fields() -> None:
    records = records_of([3, 1])
    labelled, position = label_records(records, START, end_of(records))
    assert texts(labelled) == ["t0", "t1", "t2", "t3"]
    first_end = ZERO.after(len(records[0]))
    assert offsets(labelled) == [
        f"{ZERO}.000001",
        f"{ZERO}.000002",
        str(first_end),
        str(first_end.after(len(records[1]))),
    ]
    assert position == EventPosition(end_of(records))
    assert json.loads(labelled[0])["type"] == "delta"


def test_writer_offsets_match_reader_offsets() -> None:
    records = records_of([4])
    end = end_of(records)
    labelled, _ = label_records(records, START, end)
    assert record_offsets(end, len(records[0]), 4) == offsets(labelled)


@given(st.lists(st.integers(min_value=1, max_value=5), min_size=1, max_size=6), st.data())
def test_resuming_after_any_offset_gives_exactly_the_rest(
    sizes: list[int], data: st.DataObject
) -> None:
    records = records_of(sizes)
    everything, _ = label_records(records, START, end_of(records))
    assert offsets(everything) == sorted(offsets(everything))  # string order = log order
    assert len(set(offsets(everything))) == len(everything)
    cut = data.draw(st.integers(min_value=0, max_value=len(everything) - 1))
    resume = parse_offset(offsets(everything)[cut])
    # the store returns the records that end after resume.record
    skipped = 0
    start = ZERO
    for record in records:
        if start == resume.record:
            break
        start = start.after(len(record))
        skipped += 1
    rest, _ = label_records(records[skipped:], resume, end_of(records))
    assert rest == everything[cut + 1 :]


def test_parse_start_words_and_offsets() -> None:
    assert parse_start("start") == START
    assert parse_start("new") is TAIL
    assert parse_start(str(Offset(2, 30))) == EventPosition(Offset(2, 30))
    assert parse_start(f"{Offset(2, 30)}.000004") == EventPosition(Offset(2, 30), 4)
    assert str(EventPosition(Offset(2, 30), 4)) == f"{Offset(2, 30)}.000004"


@pytest.mark.parametrize(
    "text", ["", "-1", "now", "0", "abc", f"{ZERO}.", f"{ZERO}.1", f"{ZERO}.000000", f"{ZERO}x"]
)
def test_malformed_offsets_are_refused_with_what_to_send(text: str) -> None:
    with pytest.raises(InvalidSessionOffset, match=r"use 'start', 'new', or the offset|sub-offset"):
        parse_start(text)


def test_a_sub_offset_past_the_record_is_refused() -> None:
    records = records_of([2])
    with pytest.raises(InvalidSessionOffset, match="does not name an event"):
        label_records(records, EventPosition(ZERO, 2), end_of(records))


def test_a_sub_offset_at_the_tail_is_refused() -> None:
    with pytest.raises(InvalidSessionOffset, match="past the last event"):
        label_records([], EventPosition(Offset(3, 90), 1), Offset(3, 90))


def test_reading_from_the_start_of_a_trimmed_log_labels_the_oldest_kept_events() -> None:
    records = records_of([2, 1, 2])
    labelled, position = label_records(records[1:], START, end_of(records))
    assert texts(labelled) == ["t2", "t3", "t4"]
    everything, _ = label_records(records, START, end_of(records))
    assert offsets(labelled) == offsets(everything)[2:]
    assert position == EventPosition(end_of(records))


def test_an_offset_between_record_boundaries_is_refused() -> None:
    records = records_of([1, 1])
    # pretend the client resumed from a made-up position: the records do not end where the
    # store says, so the offsets would be wrong
    with pytest.raises(InvalidSessionOffset, match="does not name an event"):
        label_records(records[1:], EventPosition(Offset(1, 5)), end_of(records))
