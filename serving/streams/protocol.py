"""The Durable Streams wire protocol, without I/O: headers and bodies in, requests and bytes out.

Everything the HTTP layer needs to decide is here as plain functions over strings and bytes, so
it is tested without a server (tests/serving/streams/test_protocol.py): header validation,
JSON-mode flattening, read queries, response bodies and ETags.
"""

from __future__ import annotations

import enum
import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from serving.jsontext import parse_json
from serving.streams.errors import InvalidRequest, PayloadTooLarge
from serving.streams.offsets import TAIL, Offset, Position, parse_position
from serving.streams.rules import is_json
from serving.streams.store import AppendRequest, CreateRequest, ForkSpec, ProducerClaim

STREAM_PREFIX = "/v1/stream/"

# Header names (lower case, as ASGI delivers them).
CONTENT_TYPE = "content-type"
STREAM_TTL = "stream-ttl"
STREAM_EXPIRES_AT = "stream-expires-at"
STREAM_CLOSED = "stream-closed"
STREAM_SEQ = "stream-seq"
STREAM_FORKED_FROM = "stream-forked-from"
STREAM_FORK_OFFSET = "stream-fork-offset"
STREAM_FORK_SUB_OFFSET = "stream-fork-sub-offset"
PRODUCER_ID = "producer-id"
PRODUCER_EPOCH = "producer-epoch"
PRODUCER_SEQ = "producer-seq"

MAX_SAFE_INTEGER = 2**53 - 1
_NON_NEGATIVE = re.compile(r"0|[1-9][0-9]*")
_MAX_PATH = 1024
_CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f]")
_EMPTY_OR_DOT_SEGMENT = re.compile(r"(?:^|/)\.{0,2}(?:/|$)")


@dataclass(frozen=True, slots=True)
class Limits:
    """Size limits, enforced with a 413 that names the limit."""

    max_request_bytes: int = 8 * 1024 * 1024
    max_message_bytes: int = 1024 * 1024


# --- paths --------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def stream_path(url_path: str) -> str:
    """``/v1/stream/a/b`` -> ``a/b``; refuse empty, oversized or traversal paths.

    Cached: a stream is named again on every append and read (refusals are not cached).
    """
    path = url_path.removeprefix(STREAM_PREFIX)
    if not path:
        raise InvalidRequest("the URL names no stream: use /v1/stream/<name>")
    if len(path) > _MAX_PATH:
        raise InvalidRequest(f"stream names are limited to {_MAX_PATH} characters")
    if _CONTROL_CHARACTER.search(path):
        raise InvalidRequest("stream names cannot contain control characters")
    if _EMPTY_OR_DOT_SEGMENT.search(path):
        raise InvalidRequest(
            f"stream name {path!r} has an empty, '.' or '..' segment; use plain names like a/b"
        )
    return path


def _fork_source(value: str) -> str:
    """Stream-Forked-From names the source by URL path (or full URL) under /v1/stream/."""
    if "://" in value:
        value = "/" + value.split("://", 1)[1].partition("/")[2]
    if not value.startswith(STREAM_PREFIX):
        raise InvalidRequest(
            f"Stream-Forked-From must be a stream URL path like {STREAM_PREFIX}<name>, "
            f"got {value!r}"
        )
    return stream_path(value)


# --- header values ------------------------------------------------------------------------


def _non_negative(name: str, value: str, maximum: int = MAX_SAFE_INTEGER) -> int:
    if not _NON_NEGATIVE.fullmatch(value) or int(value) > maximum:
        raise InvalidRequest(
            f"{name} must be a non-negative decimal integer without sign, leading zeros or "
            f"exponent (at most {maximum}), got {value!r}"
        )
    return int(value)


def _flag(name: str, value: str | None) -> bool:
    if value is None:
        return False
    lowered = value.strip().lower()
    if lowered not in ("true", "false"):
        raise InvalidRequest(f"{name} must be 'true' or 'false', got {value!r}")
    return lowered == "true"


def _content_type(headers: Mapping[str, str]) -> str | None:
    value = headers.get(CONTENT_TYPE, "").strip()
    return value or None


def parse_expires_at(value: str) -> float:
    """An RFC 3339 timestamp with a time zone -> Unix seconds."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None or "T" not in value.upper():
        raise InvalidRequest(
            f"Stream-Expires-At must be an RFC 3339 timestamp with a time zone, such as "
            f"2030-01-01T00:00:00Z; got {value!r}"
        )
    return moment.timestamp()


def format_expires_at(seconds: float) -> str:
    """Unix seconds -> RFC 3339 in UTC with milliseconds (``...T12:00:00.000Z``)."""
    text = datetime.fromtimestamp(seconds, tz=UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


# --- bodies -------------------------------------------------------------------------------


def encode_body(
    content_type: str | None, body: bytes, limits: Limits, *, initial: bool
) -> bytes | None:
    """Turn a request body into one record; None when there is nothing to store.

    JSON mode: the body must be valid UTF-8 JSON. A single value is one message, stored as
    sent; a top-level array is flattened one level (each element is a message) and stored as
    comma-joined compact JSON. ``[]`` is an empty stream on PUT (``initial``) and an error on
    POST. Other content types are stored verbatim.
    """
    if not body:
        return None
    if not is_json(content_type):
        if len(body) > limits.max_message_bytes:
            raise PayloadTooLarge(
                f"message of {len(body)} bytes exceeds the limit of "
                f"{limits.max_message_bytes} bytes"
            )
        return body
    if body.startswith(b"\xef\xbb\xbf"):
        raise InvalidRequest("JSON body starts with a byte order mark: send UTF-8 without a BOM")
    try:
        value = parse_json(body.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise InvalidRequest(f"JSON body is not valid UTF-8: {error.reason}") from None
    except ValueError as error:
        raise InvalidRequest(f"body is not valid JSON: {error}") from None
    if not isinstance(value, list):
        record = body.strip()  # already valid JSON: stored as sent, no re-encoding
        if len(record) > limits.max_message_bytes:
            raise PayloadTooLarge(
                f"a JSON message of {len(record)} bytes exceeds the limit of "
                f"{limits.max_message_bytes} bytes"
            )
        return record
    if not value:
        if initial:
            return None
        raise InvalidRequest("an empty JSON array appends nothing; send at least one message")
    record = _dump_messages(value)
    if len(record) > limits.max_message_bytes:
        largest = max(len(_dump_messages([message])) for message in value)
        if largest > limits.max_message_bytes:
            raise PayloadTooLarge(
                f"a JSON message of {largest} bytes exceeds the limit of "
                f"{limits.max_message_bytes} bytes"
            )
    return record


def _dump_messages(messages: list[object]) -> bytes:
    """Comma-joined compact JSON of the messages (the record format of JSON streams)."""
    try:
        text = json.dumps(messages, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except ValueError:
        raise InvalidRequest("JSON numbers must be finite (1e400 overflows)") from None
    try:
        data = text.encode()
    except UnicodeEncodeError:  # lone surrogates (\ud800): keep them escaped
        data = json.dumps(messages, separators=(",", ":"), allow_nan=False).encode()
    return data[1:-1]


def render_records(content_type: str, records: list[bytes]) -> bytes:
    """The body of a catch-up read: concatenation, or a JSON array in JSON mode."""
    if is_json(content_type):
        return b"[" + b",".join(records) + b"]"
    return b"".join(records)


# --- requests -----------------------------------------------------------------------------


def parse_create(
    headers: Mapping[str, str], body: bytes, limits: Limits, fork_content_type: str | None = None
) -> CreateRequest:
    """A PUT -> CreateRequest. ``fork_content_type`` encodes a fork's initial body."""
    ttl_text = headers.get(STREAM_TTL)
    expires_text = headers.get(STREAM_EXPIRES_AT)
    if ttl_text is not None and expires_text is not None:
        raise InvalidRequest("send Stream-TTL or Stream-Expires-At, not both")
    ttl = None if ttl_text is None else _non_negative("Stream-TTL", ttl_text.strip())
    expires_at = None if expires_text is None else parse_expires_at(expires_text)
    fork = parse_fork(headers)
    content_type = _content_type(headers)
    initial = encode_body(content_type or fork_content_type, body, limits, initial=True)
    return CreateRequest(
        content_type=content_type,
        ttl_seconds=ttl,
        expires_at=expires_at,
        closed=_flag("Stream-Closed", headers.get(STREAM_CLOSED)),
        fork=fork,
        initial=initial,
    )


def parse_fork(headers: Mapping[str, str]) -> ForkSpec | None:
    source = headers.get(STREAM_FORKED_FROM)
    offset_text = headers.get(STREAM_FORK_OFFSET)
    sub_text = headers.get(STREAM_FORK_SUB_OFFSET)
    if source is None:
        if offset_text is not None or sub_text is not None:
            raise InvalidRequest(
                "Stream-Fork-Offset and Stream-Fork-Sub-Offset need Stream-Forked-From"
            )
        return None
    offset = None if offset_text is None else Offset.parse(offset_text.strip())
    sub_offset = 0 if sub_text is None else _non_negative("Stream-Fork-Sub-Offset", sub_text)
    return ForkSpec(_fork_source(source.strip()), offset, sub_offset)


def parse_append(headers: Mapping[str, str], body: bytes, limits: Limits) -> AppendRequest:
    """A POST -> AppendRequest (body encoded as one record)."""
    close = _flag("Stream-Closed", headers.get(STREAM_CLOSED))
    content_type = _content_type(headers)
    if not body:
        if not close:
            raise InvalidRequest(
                "empty body: send the bytes to append, or Stream-Closed: true to close the stream"
            )
        data = None
    else:
        if content_type is None:
            raise InvalidRequest("Content-Type is required to append; use the stream's type")
        data = encode_body(content_type, body, limits, initial=False)
    stream_seq = headers.get(STREAM_SEQ)
    if stream_seq is not None and not stream_seq:
        raise InvalidRequest("Stream-Seq must not be empty")
    return AppendRequest(
        data=data,
        content_type=content_type,
        close=close,
        stream_seq=stream_seq,
        producer=parse_producer(headers),
    )


def parse_producer(headers: Mapping[str, str]) -> ProducerClaim | None:
    producer_id = headers.get(PRODUCER_ID)
    epoch = headers.get(PRODUCER_EPOCH)
    seq = headers.get(PRODUCER_SEQ)
    if producer_id is None and epoch is None and seq is None:
        return None
    if producer_id is None or epoch is None or seq is None:
        raise InvalidRequest(
            "Producer-Id, Producer-Epoch and Producer-Seq must be sent together or not at all"
        )
    producer_id, epoch, seq = producer_id.strip(), epoch.strip(), seq.strip()
    if not producer_id:
        raise InvalidRequest("Producer-Id must not be empty")
    return ProducerClaim(
        producer_id,
        _non_negative("Producer-Epoch", epoch),
        _non_negative("Producer-Seq", seq),
    )


class Live(enum.Enum):
    """How a GET reads: catch up and return, long-poll for news, or stream SSE events."""

    CATCH_UP = "catch-up"
    LONG_POLL = "long-poll"
    SSE = "sse"


@dataclass(frozen=True, slots=True)
class ReadQuery:
    position: Position
    live: Live = Live.CATCH_UP
    cursor: str | None = None

    @property
    def start(self) -> str:
        """The requested start as it appears in ETags."""
        return "now" if self.position is TAIL else str(self.position)


def parse_read(query: Mapping[str, list[str]]) -> ReadQuery:
    """The GET query string (parsed with blank values kept) -> ReadQuery."""
    offsets = query.get("offset")
    if offsets is not None and len(offsets) > 1:
        raise InvalidRequest("send one offset parameter, not several")
    offset_text = offsets[0] if offsets else None
    if offset_text == "":
        raise InvalidRequest("offset is empty: use -1 for the start, or now for the tail")
    lives = query.get("live", [])
    if len(lives) > 1:
        raise InvalidRequest("send one live parameter, not several")
    live = Live.CATCH_UP
    if lives:
        try:
            live = Live(lives[0])
        except ValueError:
            raise InvalidRequest(f"live must be long-poll or sse, got {lives[0]!r}") from None
        if live is Live.CATCH_UP:
            raise InvalidRequest(f"live must be long-poll or sse, got {lives[0]!r}")
        if offset_text is None:
            raise InvalidRequest(
                f"live={live.value} needs an offset: -1 for the start, now for the tail, or "
                "the last Stream-Next-Offset you received"
            )
    cursors = query.get("cursor")
    return ReadQuery(parse_position(offset_text), live, cursors[0] if cursors else None)


def etag(stream_id: str, start: str, end: Offset, closed: bool) -> str:
    """``"<stream id>:<start>:<end>[:c]"``: changes with new data and with closure."""
    return f'"{stream_id}:{start}:{end}{":c" if closed else ""}"'


def etag_matches(if_none_match: str | None, tag: str) -> bool:
    if not if_none_match:
        return False
    candidates = (candidate.strip() for candidate in if_none_match.split(","))
    return any(candidate in (tag, "W/" + tag, "*") for candidate in candidates)
