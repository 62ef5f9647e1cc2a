"""The event envelope: one shape for every event, compact JSON without line breaks."""

from __future__ import annotations

import json

import pytest

from serving.sessions.events import (
    RUN_ENDINGS,
    Event,
    EventType,
    JSONFragment,
    dumps,
    encode_event,
)


def test_encoded_event_has_every_envelope_field_but_offset() -> None:
    encoded = encode_event(
        EventType.DELTA, "s1", ts=12.34567, run="r-1", agent="text", data={"text": "hi"}
    )
    assert json.loads(encoded) == {
        "type": "delta",
        "session": "s1",
        "run": "r-1",
        "agent": "text",
        "device": None,
        "ts": 12.346,
        "data": {"text": "hi"},
    }


def test_missing_data_is_an_empty_object() -> None:
    assert json.loads(encode_event(EventType.PRESENCE_JOINED, "s", ts=0, device="d"))["data"] == {}


def test_encoding_never_contains_a_line_break_the_log_uses_them_as_separators() -> None:
    encoded = encode_event(EventType.DELTA, "s", ts=0, data={"text": "line\nbreak \u2028 é \ud800"})
    assert b"\n" not in encoded
    assert json.loads(encoded)["data"]["text"] == "line\nbreak \u2028 é \ud800"


def test_nan_is_refused_with_a_clear_message() -> None:
    with pytest.raises(ValueError, match="NaN"):
        dumps({"x": float("nan")})


def test_numpy_like_values_become_plain_json() -> None:
    class Scalar:
        def item(self) -> float:
            return 0.5

    class Array:
        def tolist(self) -> list[int]:
            return [1, 2]

    assert json.loads(dumps({"p": Scalar(), "a": Array()})) == {"p": 0.5, "a": [1, 2]}


def test_other_objects_are_refused() -> None:
    with pytest.raises(TypeError, match="object is not JSON serializable"):
        dumps({"x": object()})


def test_event_from_dict_round_trip_and_ends_run() -> None:
    fields = json.loads(
        encode_event(EventType.RUN_COMPLETED, "s", ts=1, run="r", data={"result": 3})
    )
    event = Event.from_dict({"offset": "o", **fields})
    assert event.type == EventType.RUN_COMPLETED
    assert event.ends_run
    assert event.data == {"result": 3}
    assert not Event.from_dict({**fields, "offset": "o", "type": "delta"}).ends_run


def test_event_from_dict_refuses_non_events() -> None:
    with pytest.raises(KeyError):
        Event.from_dict({"type": "ack", "id": "1"})
    with pytest.raises(TypeError):
        Event.from_dict(
            {
                "offset": "o",
                "type": "delta",
                "session": "s",
                "run": None,
                "agent": None,
                "device": None,
                "ts": 0,
                "data": [1],
            }
        )


def test_run_endings_are_exactly_the_four_run_end_types() -> None:
    assert {ending.value for ending in RUN_ENDINGS} == {
        "run.completed",
        "run.cancelled",
        "run.failed",
        "run.interrupted",
    }


LABELS = ["Adelie", 'say "hi"', "back\\slash", "é ☃ \ud800", "tab\there", None, 3, -2.5, True]


@pytest.mark.parametrize("value", [LABELS, [], {"nested": [1, None]}, "text", None, 0.1])
def test_a_fragment_is_sent_exactly_as_json_dumps_would_send_its_value(value) -> None:
    data = {"rows": [0, 9], "predictions": value, "errors": [[5, "bad"]]}
    fragment = JSONFragment(json.dumps(value, separators=(",", ":")).encode("ascii"))
    with_fragment = encode_event(
        EventType.PREDICTION, "s", ts=1, run="r", data=data | {"predictions": fragment}
    )
    assert with_fragment == encode_event(EventType.PREDICTION, "s", ts=1, run="r", data=data)


def test_a_fragment_must_be_ascii_without_line_breaks() -> None:
    for text in ['["é"]', '["a",\n"b"]']:
        with pytest.raises(ValueError, match="compact ASCII JSON without line breaks"):
            JSONFragment(text.encode())


def test_a_fragment_is_only_embedded_at_the_top_of_the_data() -> None:
    with pytest.raises(TypeError, match="only be a top-level value"):
        encode_event(EventType.PREDICTION, "s", ts=0, data={"a": [JSONFragment(b"1")]})


def test_data_with_a_fragment_needs_string_keys() -> None:
    with pytest.raises(TypeError, match="keys must be strings, got int 1"):
        encode_event(EventType.PREDICTION, "s", ts=0, data={1: JSONFragment(b"1")})
