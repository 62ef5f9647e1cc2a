"""Which requests count as coming from the server's own computer (serving.web.local)."""

from __future__ import annotations

import pytest

from serving.web.local import is_loopback_host, why_not_local


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost", "LOCALHOST", "app.localhost"]
)
def test_loopback_hosts(host: str) -> None:
    assert is_loopback_host(host)


@pytest.mark.parametrize(
    "host", [None, "", "10.0.0.5", "192.168.1.20", "example.com", "localhost.example.com", "::2"]
)
def test_other_hosts(host: str | None) -> None:
    assert not is_loopback_host(host)


def test_the_page_of_this_computer_is_local() -> None:
    assert why_not_local("127.0.0.1", "127.0.0.1:8000", "http://127.0.0.1:8000") is None
    assert why_not_local("::1", "localhost:8000", None) is None
    assert why_not_local("127.0.0.1", "[::1]:8000", "http://[::1]:8000") is None


def test_another_machine_is_not_local() -> None:
    reason = why_not_local("192.168.1.20", "192.168.1.10:8000", None)
    assert reason == "it comes from 192.168.1.20, not from this computer"


def test_a_rebound_domain_is_not_local() -> None:
    """DNS rebinding: evil.example resolves to 127.0.0.1, but the browser sends its Host."""
    reason = why_not_local("127.0.0.1", "evil.example:8000", "http://evil.example:8000")
    assert reason is not None and "'evil.example:8000'" in reason


@pytest.mark.parametrize(
    "origin", ["http://evil.example", "http://127.0.0.1:9999", "null", "file://", "ws://x"]
)
def test_another_sites_page_is_not_local(origin: str) -> None:
    reason = why_not_local("127.0.0.1", "127.0.0.1:8000", origin)
    assert reason == f"it was sent by the page of another site ({origin})"


def test_a_malformed_host_header_is_not_local() -> None:
    assert why_not_local("127.0.0.1", "[::1", None) is not None
    assert why_not_local("127.0.0.1", "", None) is not None
