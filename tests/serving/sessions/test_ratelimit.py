"""The token bucket that limits commands per connection."""

from __future__ import annotations

import pytest

from serving.sessions.ratelimit import (
    PAGE_SUBJECTS,
    ClientLimits,
    ClientRate,
    TokenBucket,
    client_key,
)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_refused_then_refilled_at_the_rate() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=4, burst=3, clock=clock)
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    clock.now += 0.25  # one token back
    assert bucket.take()
    assert not bucket.take()
    clock.now += 60  # never more than the burst
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]


# --- per client: sessions, uploads, batch jobs -------------------------------------------------


def test_each_client_has_its_own_buckets_and_is_told_how_long_to_wait() -> None:
    clock = Clock()
    limits = ClientLimits({"sessions": ClientRate(burst=2, per_minute=6)}, clock=clock)
    assert [limits.take("sessions", "address:10.0.0.1") for _ in range(2)] == [0, 0]
    assert limits.take("sessions", "address:10.0.0.1") == pytest.approx(10)  # 6 a minute
    assert limits.take("sessions", "address:10.0.0.2") == 0  # another client: its own bucket
    assert limits.take("uploads", "address:10.0.0.1") == 0  # a kind without a rate: no limit
    clock.now += 4
    assert limits.take("sessions", "address:10.0.0.1") == pytest.approx(6)
    clock.now += 6
    assert limits.take("sessions", "address:10.0.0.1") == 0


def test_the_buckets_kept_are_bounded() -> None:
    limits = ClientLimits({"batch": ClientRate(burst=1, per_minute=1)}, max_clients=100)
    for index in range(1_000):
        limits.take("batch", f"address:{index}")
    assert limits.clients("batch") == 100
    assert limits.take("batch", "address:999") > 0  # the most recent are the ones kept


def test_who_a_client_is() -> None:
    assert client_key("alice", "10.0.0.1") == "subject:alice"
    assert client_key("", "10.0.0.1") == "address:10.0.0.1"
    assert client_key(None, None) is None  # in process: not limited
    assert client_key("web", None) is None
    for page in PAGE_SUBJECTS:  # the page's loopback tokens: per address
        assert client_key(page, "127.0.0.1") == "address:127.0.0.1"
