"""The wire protocol without a server: header validation, JSON mode, read queries, ETags."""

from __future__ import annotations

import json

import pytest

from serving.streams import (
    TAIL,
    ZERO,
    ForkSpec,
    InvalidRequest,
    InvalidStreamOffset,
    Offset,
    PayloadTooLarge,
    ProducerClaim,
)
from serving.streams.protocol import (
    Limits,
    Live,
    encode_body,
    etag,
    etag_matches,
    format_expires_at,
    parse_append,
    parse_create,
    parse_expires_at,
    parse_read,
    render_records,
    stream_path,
)

LIMITS = Limits()
JSON = "application/json"


# --- JSON mode ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "record"),
    [
        (b'{"event": "created"}', b'{"event": "created"}'),
        (b'[{"event": "a"}, {"event": "b"}]', b'{"event":"a"},{"event":"b"}'),
        (b"[[1, 2], [3, 4]]", b"[1,2],[3,4]"),
        (b"[[[1, 2, 3]]]", b"[[1,2,3]]"),
        (b'  "text"\n', b'"text"'),
        (b'["\\u00e9", 1]', '"é",1'.encode()),
        (b'["\\u00e9", "\\ud800"]', b'"\\u00e9","\\ud800"'),
    ],
)
def test_json_flattens_one_level(body: bytes, record: bytes) -> None:
    assert encode_body(JSON, body, LIMITS, initial=False) == record
    assert json.loads(b"[" + record + b"]") is not None


def test_empty_json_array_is_an_empty_stream_on_put_and_an_error_on_post() -> None:
    assert encode_body(JSON, b"[]", LIMITS, initial=True) is None
    with pytest.raises(InvalidRequest, match="empty JSON array"):
        encode_body(JSON, b"[]", LIMITS, initial=False)


@pytest.mark.parametrize(
    "body", [b"{", b"NaN", b"[Infinity]", b"[1e999]", b"\xff", b"\xef\xbb\xbf{}"]
)
def test_invalid_json_is_refused(body: bytes) -> None:
    with pytest.raises(InvalidRequest):
        encode_body(JSON, body, LIMITS, initial=False)


def test_a_byte_order_mark_is_named_in_the_error() -> None:
    with pytest.raises(InvalidRequest, match="byte order mark"):
        encode_body(JSON, b"\xef\xbb\xbf{}", LIMITS, initial=False)


def test_other_content_types_are_stored_verbatim() -> None:
    assert encode_body("text/plain", b"a\x00b", LIMITS, initial=False) == b"a\x00b"
    assert encode_body("text/plain", b"", LIMITS, initial=False) is None


def test_message_limit_applies_per_message() -> None:
    limits = Limits(max_request_bytes=1000, max_message_bytes=10)
    assert encode_body(JSON, b"[1,2,3,4,5,6,7,8]", limits, initial=False) == b"1,2,3,4,5,6,7,8"
    with pytest.raises(PayloadTooLarge, match="exceeds the limit of 10 bytes"):
        encode_body(JSON, b'[1, "a long string"]', limits, initial=False)
    with pytest.raises(PayloadTooLarge):
        encode_body("text/plain", b"x" * 11, limits, initial=False)


def test_reads_render_as_concatenation_or_json_array() -> None:
    assert render_records("text/plain", [b"a", b"b"]) == b"ab"
    assert render_records("application/json; charset=utf-8", [b"1", b"2,3"]) == b"[1,2,3]"
    assert render_records(JSON, []) == b"[]"


# --- PUT ----------------------------------------------------------------------------------


def test_parse_create_reads_every_header() -> None:
    request = parse_create(
        {
            "content-type": "text/plain",
            "stream-ttl": "3600",
            "stream-closed": "true",
            "stream-forked-from": "/v1/stream/src/a",
            "stream-fork-offset": "0000000000000001_0000000000000005",
            "stream-fork-sub-offset": "2",
        },
        b"hi",
        LIMITS,
    )
    assert request.content_type == "text/plain"
    assert request.ttl_seconds == 3600
    assert request.closed
    assert request.fork == ForkSpec("src/a", Offset(1, 5), 2)
    assert request.initial == b"hi"


@pytest.mark.parametrize("ttl", ["-1", "+60", "060", "60.0", "1e3", "abc", ""])
def test_ttl_must_be_a_plain_non_negative_integer(ttl: str) -> None:
    with pytest.raises(InvalidRequest, match="Stream-TTL"):
        parse_create({"stream-ttl": ttl}, b"", LIMITS)


def test_expires_at_needs_rfc3339_with_a_zone() -> None:
    moment = parse_expires_at("2030-01-01T00:00:00Z")
    assert moment == parse_expires_at("2030-01-01T01:00:00+01:00")
    assert format_expires_at(moment) == "2030-01-01T00:00:00.000Z"
    for bad in ("2030-01-01", "2030-01-01T00:00:00", "not-a-time"):
        with pytest.raises(InvalidRequest, match="RFC 3339"):
            parse_expires_at(bad)


def test_fork_headers_need_a_source_and_well_formed_values() -> None:
    with pytest.raises(InvalidRequest, match="need Stream-Forked-From"):
        parse_create({"stream-fork-sub-offset": "0"}, b"", LIMITS)
    with pytest.raises(InvalidStreamOffset):
        parse_create({"stream-forked-from": "/v1/stream/a", "stream-fork-offset": "x"}, b"", LIMITS)
    with pytest.raises(InvalidRequest, match="Sub-Offset"):
        parse_create(
            {"stream-forked-from": "/v1/stream/a", "stream-fork-sub-offset": "05"}, b"", LIMITS
        )
    full_url = parse_create({"stream-forked-from": "http://h:1/v1/stream/a/b"}, b"", LIMITS)
    assert full_url.fork == ForkSpec("a/b")


# --- POST ---------------------------------------------------------------------------------


def test_parse_append_with_producer_and_seq() -> None:
    request = parse_append(
        {
            "content-type": JSON,
            "producer-id": "p",
            "producer-epoch": "2",
            "producer-seq": "7",
            "stream-seq": "0009",
        },
        b"[1]",
        LIMITS,
    )
    assert request.data == b"1"
    assert request.producer == ProducerClaim("p", 2, 7)
    assert request.stream_seq == "0009"


def test_close_only_needs_no_content_type() -> None:
    request = parse_append({"stream-closed": "true"}, b"", LIMITS)
    assert request.close and request.data is None


@pytest.mark.parametrize(
    ("headers", "words"),
    [
        ({"content-type": "text/plain"}, "empty body"),
        ({"producer-id": "p", "producer-epoch": "0"}, "together"),
        ({"producer-id": "", "producer-epoch": "0", "producer-seq": "0"}, "must not be empty"),
        ({"producer-id": "p", "producer-epoch": "1e3", "producer-seq": "0"}, "Producer-Epoch"),
        ({"producer-id": "p", "producer-epoch": "0", "producer-seq": str(2**53)}, "Producer-Seq"),
        ({"stream-closed": "yes"}, "'true' or 'false'"),
    ],
)
def test_malformed_appends_are_refused(headers: dict[str, str], words: str) -> None:
    body = b"" if headers.get("content-type") == "text/plain" else b"x"
    with pytest.raises(InvalidRequest, match=words):
        parse_append({"content-type": "text/plain", **headers} if body else headers, body, LIMITS)


# --- GET ----------------------------------------------------------------------------------


def test_parse_read_modes() -> None:
    assert parse_read({}).position == ZERO
    assert parse_read({"offset": ["now"], "live": ["sse"]}).live is Live.SSE
    query = parse_read({"offset": ["-1"], "live": ["long-poll"], "cursor": ["12"]})
    assert (query.position, query.live, query.cursor) == (ZERO, Live.LONG_POLL, "12")
    assert parse_read({"offset": ["now"]}).position is TAIL


@pytest.mark.parametrize(
    "query",
    [
        {"offset": [""]},
        {"offset": ["a", "b"]},
        {"live": ["sse"]},
        {"offset": ["-1"], "live": ["catch-up"]},
        {"offset": ["0 1"]},
    ],
)
def test_bad_read_queries_are_refused(query: dict[str, list[str]]) -> None:
    with pytest.raises(InvalidRequest):
        parse_read(query)


def test_stream_paths() -> None:
    assert stream_path("/v1/stream/chat/42") == "chat/42"
    for bad in (
        "/v1/stream/",
        "/v1/stream/a//b",
        "/v1/stream/a/../b",
        "/v1/stream/x\n",
        "/v1/stream/" + "a" * 1025,
    ):
        with pytest.raises(InvalidRequest):
            stream_path(bad)


def test_etags_change_with_data_and_closure() -> None:
    tag = etag("7", "-1", Offset(1, 1), closed=False)
    assert tag != etag("7", "-1", Offset(2, 2), closed=False)
    assert tag != etag("7", "-1", Offset(1, 1), closed=True)
    assert etag_matches(tag, tag) and etag_matches(f'"x", {tag}', tag)
    assert not etag_matches('"other"', tag) and not etag_matches(None, tag)
