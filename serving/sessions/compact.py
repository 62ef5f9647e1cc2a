"""Compact deltas (protocol v1.1): a streamed token in 66-74 bytes instead of 207-254.

A delta's envelope repeats, token after token, what the previous delta said: its type, session,
run, agent and device; only the offset, the time and the text change. On a subscription that
asks for it (``"deltas": "compact"``, docs/PROTOCOL.md "Compact deltas"), a delta whose
envelope equals that of the previous delta sent on the subscription, and whose data is exactly
``{"text": str}``, goes out as

- WebSocket item ``{"o":"<offset>","d":"<text>","t":<ms>}``;
- SSE ``id: <offset>\\ndata: {"d":"<text>","t":<ms>}\\n\\n``;

where ``t`` is its ts minus the ts of the last delta sent *in full* on the subscription, in
integer milliseconds (ts has three decimals, so it is exact). Every other event goes in full.
The client keeps the last full delta (its reference) and rebuilds the event exactly.

Measured on the demo ``text`` agent read live (one word per token at 50 tokens a second, so
one record, one HTTP chunk and one WebSocket frame per token; offsets of 33 characters), bytes
on the wire per delta token, HTTP chunk framing and WebSocket frame headers included
(tests/serving/sessions/test_compact.py prints them; the issue's peer sends 54):

| | full | compact |
|---|---|---|
| SSE | 254 | 74 |
| WebSocket | 207 | 66 |

The encoder works on the stored bytes: the session log holds serving.sessions.events'
``encode_event`` output (a head cached per envelope ending in ``,"ts":``, ``%.3f``, then
``,"data":{"text":"..."}}``), labelled by serving.sessions.offsets (``{"offset":"...",`` +
body). So no event is decoded: the head is compared as bytes with the previous delta's, the ts
and the text's already escaped JSON string are sliced out. Anything that does not have exactly
that shape is sent in full, which is always correct. A test decodes the compact stream of
random events (quotes, backslashes, escapes, control characters, other types, interleaved
runs and agents) and compares it with the full stream, on both transports.

Pure: no I/O, standard library only, so the Python client (serving.client) imports the
decoder without loading any server module.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

FULL: Final = "full"
"""Every event in full (the default, protocol v1)."""
COMPACT: Final = "compact"
"""Deltas compact where they can be (protocol v1.1)."""
MODES: Final = (FULL, COMPACT)

_OFFSET_START: Final = len(b'{"offset":"')
_DELTA: Final = b'"type":"delta",'
_TS: Final = b',"ts":'
_TEXT: Final = b',"data":{"text":"'


def mode_problem(value: object) -> str | None:
    """Why ``value`` is not a ``deltas`` mode (None when it is one)."""
    if value in MODES:
        return None
    return f'deltas must be "{FULL}" (the default) or "{COMPACT}", got {value!r}'


def _millis(ts: bytes) -> int | None:
    """``%.3f`` -> integer milliseconds; None if ``ts`` is not written that way."""
    if len(ts) < 5 or ts[-4] != 0x2E or not ts[-3:].isdigit() or not ts[:-4].isdigit():
        return None
    return int(ts[:-4]) * 1000 + int(ts[-3:])


def _one_string(text: bytes) -> bool:
    """Whether ``text`` (bytes between an opening quote and the last byte before ``}}``) is one
    JSON string and its closing quote: no quote inside is unescaped."""
    if not text.endswith(b'"'):
        return False
    inner = text[:-1]
    if b'"' not in inner:
        return True
    # Escapes are read left to right: "\\\\" first, then an escaped quote; a quote left is bare.
    return b'"' not in inner.replace(b"\\\\", b"").replace(b'\\"', b"")


class DeltaEncoder:
    """One compact subscription's state, on the server: which deltas can go compact.

    ``_head`` is the envelope (``"type":...,"device":...``) of the previous delta sent, None
    before the first (or after a delta whose ts could not be read); ``_reference`` the ts of
    the last delta sent in full, in milliseconds. Other events change neither.
    """

    __slots__ = ("_head", "_reference")

    def __init__(self) -> None:
        self._head: bytes | None = None
        self._reference = 0

    def compact(self, event: bytes) -> tuple[bytes, bytes] | None:
        """A labelled event -> ``(offset, b'"d":"<text>","t":<ms>')`` if it goes compact, else
        None (send it in full; the encoder has taken note of it)."""
        end = event.find(b'"', _OFFSET_START)
        if not event.startswith(_DELTA, end + 2):
            return None  # not a delta: in full, and the reference stays
        ts_at = event.find(_TS, end)
        head = event[end + 2 : ts_at]
        text_at = event.find(_TEXT, ts_at)
        if ts_at < 0:
            self._head = None
            return None
        if text_at < 0 or not event.endswith(b"}}"):
            self._full(head, event[ts_at + len(_TS) : event.find(b',"data":', ts_at)])
            return None
        ts = event[ts_at + len(_TS) : text_at]
        text = event[text_at + len(_TEXT) - 1 : -2]
        if head == self._head and _one_string(text[1:]):
            ms = _millis(ts)
            if ms is not None:
                return event[_OFFSET_START:end], b'"d":%s,"t":%d' % (text, ms - self._reference)
        self._full(head, ts)
        return None

    def _full(self, head: bytes, ts: bytes) -> None:
        ms = _millis(ts)
        self._head = head if ms is not None else None
        self._reference = ms if ms is not None else 0

    def ws_items(self, events: Sequence[bytes]) -> list[bytes]:
        """Labelled events -> the items of WebSocket frames: compact where they can be."""
        items: list[bytes] = []
        for event in events:
            compact = self.compact(event)
            items.append(event if compact is None else b'{"o":"%s",%s}' % compact)
        return items

    def sse(self, events: Sequence[bytes]) -> bytes:
        """Labelled events -> their SSE events: compact where they can be."""
        out: list[bytes] = []
        for event in events:
            compact = self.compact(event)
            if compact is None:
                offset = event[_OFFSET_START : event.index(b'"', _OFFSET_START)]
                out.append(b"id: %s\ndata: %s\n\n" % (offset, event))
            else:
                out.append(b"id: %s\ndata: {%s}\n\n" % compact)
        return b"".join(out)


class DeltaDecoder:
    """One subscription's state, on the client: rebuilds compact deltas into full events.

    Feed it every event of the subscription in order (``event`` for a full one, ``delta`` for
    a compact one); start a new decoder for every new subscription (a reconnect).
    """

    __slots__ = ("_reference", "_reference_ms")

    def __init__(self) -> None:
        self._reference: Mapping[str, Any] | None = None
        self._reference_ms = 0

    def event(self, event: Mapping[str, Any]) -> None:
        """A full event was received: a delta becomes the reference of the compact ones."""
        if event.get("type") == "delta":
            self._reference = event
            self._reference_ms = round(float(event["ts"]) * 1000)

    def delta(self, offset: str, text: str, t: int) -> dict[str, Any]:
        """A compact delta (``o``, ``d``, ``t``) -> the full event it stands for."""
        reference = self._reference
        if reference is None:
            raise ValueError("a compact delta before any full delta on this subscription")
        return {
            "offset": offset,
            "type": "delta",
            "session": reference["session"],
            "run": reference["run"],
            "agent": reference["agent"],
            "device": reference["device"],
            "ts": (self._reference_ms + t) / 1000,
            "data": {"text": text},
        }

    def item(self, item: Mapping[str, Any]) -> dict[str, Any]:
        """A compact item as decoded from JSON (``{"o", "d", "t"}``) -> its full event."""
        return self.delta(str(item["o"]), str(item["d"]), int(item["t"]))
