"""The Redis store's pure parts: commit encoding, entry ids, and merging news in any order."""

from __future__ import annotations

import itertools

from serving.streams import Offset
from serving.streams.redis_scripts import (
    CLOSED,
    GONE,
    NEW_ID,
    OPEN,
    Commit,
    News,
    decode_producer,
    encode_producer,
    entry_id,
    parse_entry_id,
)


def test_entry_ids_are_end_offsets_and_sort_like_them() -> None:
    offsets = [Offset(1, 5), Offset(2, 5), Offset(10, 90), Offset(11, 200)]
    assert [parse_entry_id(entry_id(offset)) for offset in offsets] == offsets
    assert entry_id(Offset(3, 120)) == "3-120"


def test_producer_states_round_trip_and_none_is_empty() -> None:
    assert decode_producer(encode_producer(2, 41).encode()) == (2, 41)
    assert decode_producer(b"") is None


def test_a_commit_lists_its_checks_before_its_writes() -> None:
    commit = Commit()
    commit.expect_path("a", "7")
    commit.expect_version("7", "v1")
    commit.new_id()
    commit.add_record(NEW_ID, Offset(1, 3), b"abc", "v2")
    commit.announce("a", NEW_ID, Offset(1, 3), OPEN)
    arguments = list(commit.arguments("ds:"))
    assert arguments[:2] == ["ds:", "2"]
    assert arguments[2:9] == ["P", "a", "7", "V", "7", "v1", ""]
    assert arguments[9:] == [
        "I",
        "R",
        "*",
        "1-3",
        b"abc",
        "v2",
        "N",
        "a",
        "*",
        "0000000000000001_0000000000000003",
        OPEN,
    ]


def test_news_merge_keeps_the_newest_state_whatever_the_order() -> None:
    states = [
        News(3, Offset(1, 1), OPEN),
        News(3, Offset(4, 9), OPEN),
        News(3, Offset(4, 9), CLOSED),
        News(3, None, GONE),
        News(5, Offset(0, 0), OPEN),  # the path was created again: a larger id is newer
        News(5, Offset(2, 2), OPEN),
    ]
    for order in itertools.permutations(states):
        merged = None
        for news in order:
            merged = news.merge(merged)
        assert merged == News(5, Offset(2, 2), OPEN)
    closed = News(3, Offset(4, 9), CLOSED).merge(News(3, Offset(5, 10), OPEN))
    assert closed == News(3, Offset(5, 10), CLOSED)


def test_news_parses_what_the_commit_script_publishes() -> None:
    assert News.parse(b"12 0000000000000002_0000000000000010 closed") == News(
        12, Offset(2, 10), CLOSED
    )
    assert News.parse(b"12 - gone") == News(12, None, GONE)


def test_news_for_a_reader_is_records_beyond_it_or_an_ended_stream() -> None:
    reader_at = Offset(2, 10)
    assert News(1, Offset(3, 15), OPEN).is_news_after(reader_at)
    assert not News(1, Offset(2, 10), OPEN).is_news_after(reader_at)
    assert not News(1, Offset(1, 5), OPEN).is_news_after(reader_at)  # an older state
    assert News(1, Offset(2, 10), CLOSED).is_news_after(reader_at)
    assert News(1, None, GONE).is_news_after(reader_at)
