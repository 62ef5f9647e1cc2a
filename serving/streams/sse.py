"""Server-Sent Events framing for live reads (protocol section 5.7), without I/O.

Each batch of records becomes one ``data`` event followed by one ``control`` event carrying the
next offset. Text streams send their text, one ``data:`` line per line (so a payload can never
inject an event boundary); JSON streams send one JSON array per event; every other content type
is base64 (announced by the Stream-SSE-Data-Encoding response header).
"""

from __future__ import annotations

import base64
import json
import re

from serving.streams.offsets import Offset
from serving.streams.rules import is_json, media_type

_LINE_BREAK = re.compile(rb"\r\n|\r|\n")
_PLAIN_ASCII = re.compile(r"[ !#-\[\]-~]*")
"""Printable ASCII but the quote and the backslash: a JSON string's content as it is."""


def uses_base64(content_type: str) -> bool:
    """Binary streams travel as base64 in SSE; text/* and JSON travel as text."""
    kind = media_type(content_type)
    return not (kind.startswith("text/") or kind == "application/json")


def data_event(content_type: str, records: list[bytes]) -> bytes:
    if is_json(content_type):
        payload = b"[" + b",".join(records) + b"]"
    elif uses_base64(content_type):
        payload = base64.b64encode(b"".join(records))
    else:
        payload = b"".join(records)
    lines = _LINE_BREAK.split(payload)
    return b"event: data\n" + b"".join(b"data:" + line + b"\n" for line in lines) + b"\n"


def control_event(
    next_offset: Offset, cursor: str, *, up_to_date: bool, closed: bool = False
) -> bytes:
    """``{"streamNextOffset", "streamCursor", "upToDate"}``; a closed stream drops the cursor.

    Written by hand rather than with json.dumps (one per live delivery): an offset is digits
    and an underscore, and the cursor is quoted as is when it needs no escaping.
    """
    fields = f'"streamNextOffset":"{next_offset}"'
    if closed:
        fields += ',"streamClosed":true'
    else:
        fields += ',"streamCursor":' + _json_string(cursor)
    if up_to_date:
        fields += ',"upToDate":true'
    return f"event: control\ndata:{{{fields}}}\n\n".encode()


def _json_string(text: str) -> str:
    if _PLAIN_ASCII.fullmatch(text):
        return f'"{text}"'
    return json.dumps(text)


KEEPALIVE = b": keepalive\n\n"
