"""ServerConfig refuses configurations that cannot work."""

from __future__ import annotations

import pytest

from serving.config import DEFAULT_STORE_URL, PROJECT_DIR, ServerConfig


def test_defaults_keep_streams_in_the_project_data_folder() -> None:
    expected = PROJECT_DIR / "data" / "streams.db"
    assert f"sqlite:///{expected}" == DEFAULT_STORE_URL
    config = ServerConfig(secret=b"s" * 16)
    assert (config.host, config.port, config.open_access) == ("127.0.0.1", 8000, False)


def test_a_closed_server_needs_a_secret() -> None:
    with pytest.raises(ValueError, match="secret"):
        ServerConfig()
    assert ServerConfig(open_access=True).secret is None


def test_long_poll_timeout_must_be_positive() -> None:
    with pytest.raises(ValueError, match="long_poll_timeout"):
        ServerConfig(open_access=True, long_poll_timeout=0)
