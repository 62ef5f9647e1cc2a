"""Stream cursors never go backwards and never repeat an echoed value."""

from __future__ import annotations

from serving.streams.cursor import EPOCH, INTERVAL_SECONDS, current_interval, next_cursor

NOW = EPOCH + 1000 * INTERVAL_SECONDS + 5


def test_cursor_is_the_current_interval_without_an_echo() -> None:
    assert current_interval(NOW) == 1000
    assert next_cursor(None, NOW) == "1000"


def test_a_stale_or_garbage_echo_gets_the_current_interval() -> None:
    assert next_cursor("999", NOW) == "1000"
    assert next_cursor("abc", NOW) == "1000"


def test_an_echo_at_or_ahead_of_the_clock_jumps_ahead() -> None:
    assert next_cursor("1000", NOW, jitter=lambda low, high: low) == "1001"
    assert next_cursor("1000", NOW, jitter=lambda low, high: high) == str(1000 + 3600 // 20)
    assert int(next_cursor("5000", NOW)) > 5000
