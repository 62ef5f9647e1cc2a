"""SSE framing: payloads can never forge events; binary travels as base64."""

from __future__ import annotations

import base64
import json

from hypothesis import given
from hypothesis import strategies as st

from serving.streams.offsets import Offset
from serving.streams.sse import control_event, data_event, uses_base64


def test_text_lines_become_data_lines_whatever_the_line_break() -> None:
    event = data_event("text/plain", [b"a\r\n\r\nevent: control\rdata: x", b"\nz"])
    assert event == (b"event: data\ndata:a\ndata:\ndata:event: control\ndata:data: x\ndata:z\n\n")
    assert event.count(b"\n\n") == 1


def test_json_records_become_one_array() -> None:
    assert (
        data_event("application/json", [b'{"a":1}', b"2,3"])
        == b'event: data\ndata:[{"a":1},2,3]\n\n'
    )


def test_binary_is_base64() -> None:
    assert uses_base64("application/octet-stream") and uses_base64("image/png")
    assert not uses_base64("text/csv") and not uses_base64("application/json; charset=utf-8")
    event = data_event("application/octet-stream", [b"\x00\n", b"\xff"])
    assert base64.b64decode(event.split(b"data:")[1].strip()) == b"\x00\n\xff"


def test_control_event_fields() -> None:
    open_event = control_event(Offset(1, 2), "77", up_to_date=True)
    body = json.loads(open_event.removeprefix(b"event: control\ndata:"))
    assert body == {
        "streamNextOffset": "0000000000000001_0000000000000002",
        "streamCursor": "77",
        "upToDate": True,
    }
    closed = json.loads(
        control_event(Offset(1, 2), "77", up_to_date=True, closed=True).split(b"data:")[1]
    )
    assert closed["streamClosed"] is True
    assert "streamCursor" not in closed
    partial = json.loads(control_event(Offset(1, 2), "77", up_to_date=False).split(b"data:")[1])
    assert "upToDate" not in partial


@given(cursor=st.text(), up_to_date=st.booleans(), closed=st.booleans())
def test_control_event_is_one_line_of_valid_json_whatever_the_cursor(
    cursor: str, up_to_date: bool, closed: bool
) -> None:
    event = control_event(Offset(3, 40), cursor, up_to_date=up_to_date, closed=closed)
    head, separator, payload = event.partition(b"\ndata:")
    assert head == b"event: control" and separator and payload.endswith(b"\n\n")
    assert b"\n" not in payload.removesuffix(b"\n\n")  # a cursor can never break the event
    expected: dict[str, object] = {"streamNextOffset": "0000000000000003_0000000000000040"}
    if closed:
        expected["streamClosed"] = True
    else:
        expected["streamCursor"] = cursor
    if up_to_date:
        expected["upToDate"] = True
    assert json.loads(payload) == expected
    assert list(json.loads(payload)) == list(expected)  # the fields in the protocol's order
