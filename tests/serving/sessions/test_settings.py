"""SessionSettings refuses values that cannot work, saying which."""

from __future__ import annotations

import pytest

from serving.sessions.settings import SessionSettings


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"cancel_grace_seconds": -1}, "cancel_grace_seconds must not be negative"),
        ({"max_active_runs": 0}, "must be at least 1"),
        ({"instance": "two words"}, "invalid instance name"),
        ({"instance": ""}, "invalid instance name"),
    ],
)
def test_impossible_settings_are_refused(options: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SessionSettings(**options)


def test_defaults_suit_one_process() -> None:
    settings = SessionSettings()
    assert settings.instance == "main"
    assert settings.cancel_grace_seconds < 0.1


def test_a_lease_shorter_than_a_second_is_refused() -> None:
    with pytest.raises(ValueError, match="lease_seconds must be at least 1"):
        SessionSettings(lease_seconds=0.5)
    assert SessionSettings(lease_seconds=2).lease_seconds == 2
