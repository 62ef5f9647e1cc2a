"""Offsets: wire format, ordering, sentinels."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from serving.streams import TAIL, ZERO, InvalidStreamOffset, Offset, parse_position

parts = st.integers(min_value=0, max_value=10**16 - 1)


def test_wire_form_is_two_zero_padded_numbers() -> None:
    assert str(Offset(3, 120)) == "0000000000000003_0000000000000120"
    assert Offset.parse("0000000000000003_0000000000000120") == Offset(3, 120)


@given(parts, parts, parts, parts)
def test_string_order_is_stream_order(seq_a: int, pos_a: int, seq_b: int, pos_b: int) -> None:
    a, b = Offset(seq_a, pos_a), Offset(seq_b, pos_b)
    assert (str(a) < str(b)) == (a < b)
    assert Offset.parse(str(a)) == a


def test_after_moves_past_one_record() -> None:
    assert ZERO.after(5) == Offset(1, 5)
    assert Offset(1, 5).after(3) > Offset(1, 5)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "0",
        "0_0",
        "-1_0",
        "0000000000000000_000000000000000x",
        "0000000000000000,0000000000000000",
        "٠٠٠٠٠٠٠٠٠٠٠٠٠٠٠٠_0000000000000000",
        " 0000000000000000_0000000000000000",
        "../x",
    ],
)
def test_anything_else_is_refused_with_a_hint(text: str) -> None:
    with pytest.raises(InvalidStreamOffset, match="Stream-Next-Offset"):
        Offset.parse(text)


def test_sentinels() -> None:
    assert parse_position(None) == ZERO
    assert parse_position("-1") == ZERO
    assert parse_position("now") is TAIL
    assert parse_position(str(Offset(2, 9))) == Offset(2, 9)
