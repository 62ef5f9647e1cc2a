"""Rate limits, pure and with the clock injected: how many commands a connection may send, and
how many sessions, uploads and batch jobs one client may start.

``TokenBucket`` is one limit (``burst`` at once, refilled at ``rate`` per second).
``ClientLimits`` keeps one bucket per client for each kind of costly request, so that whoever
can reach the server cannot fill its disk or its CPU: before it, a loop on ``POST
/v1/sessions`` created sessions as fast as SQLite wrote them, and each 64 MiB upload stayed on
disk. A refused request is ``429 RATE_LIMITED`` with ``Retry-After`` (serving.sessions.errors
ClientRateLimited); docs/PROTOCOL.md lists the defaults below and why.

Who a client is (``client_key``): the subject of its token when the token names one (``serving
token --subject alice``: a person keeps their allowance on any address), else its network
address. The page on the server's own computer gets tokens with the subject ``web`` (and its
sessions' tokens inherit it): those count per address, like tokens without a subject.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "DEFAULT_CLIENT_RATES",
    "PAGE_SUBJECTS",
    "ClientLimits",
    "ClientRate",
    "TokenBucket",
    "client_key",
]


class TokenBucket:
    """``burst`` commands at once, refilled at ``rate`` per second."""

    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self._tokens = float(burst)
        self._updated = clock()

    def take(self) -> bool:
        """Spend one token; False when the bucket is empty (the command must be refused)."""
        self._refill()
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True

    def wait_seconds(self) -> float:
        """How long until ``take`` can succeed (0 now); infinite for a rate of 0."""
        self._refill()
        if self._tokens >= 1:
            return 0.0
        return math.inf if self.rate <= 0 else (1 - self._tokens) / self.rate

    def _refill(self) -> None:
        now = self.clock()
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now


@dataclass(frozen=True)
class ClientRate:
    """One client may do something ``burst`` times at once, then ``per_minute`` times a
    minute (tokens come back one by one, as with a connection's commands)."""

    burst: int
    per_minute: float

    def __post_init__(self) -> None:
        if self.burst < 1 or self.per_minute <= 0:
            raise ValueError("a client rate needs a burst of at least 1 and a positive rate")


DEFAULT_CLIENT_RATES: dict[str, ClientRate] = {
    "sessions": ClientRate(burst=30, per_minute=10),
    "uploads": ClientRate(burst=10, per_minute=2),
    "batch": ClientRate(burst=10, per_minute=6),
}
"""Per client, on a server that checks tokens (docs/PROTOCOL.md, Limits). A learner's page
creates one session and keeps it (a reload reuses it), and a lesson runs a few batch jobs over
a few uploads: these are ten times that, and a script that loops is stopped within a second.
Sustained, they bound what one client adds: 600 sessions (a few hundred bytes each, empty),
7.5 GiB of uploads (120 of at most 64 MiB) and 360 batch runs an hour, which retention then
removes."""

PAGE_SUBJECTS = frozenset({"web", "web-operator", "web-models"})
"""The subjects of the tokens serving.web.page hands the page: counted per address."""

MAX_CLIENTS = 10_000
"""Buckets kept per kind: the least recently seen client beyond this is forgotten (it starts
again with a full burst), so that memory stays bounded (about 200 bytes a client)."""


def client_key(subject: str | None, address: str | None) -> str | None:
    """Who a request counts against: ``subject:<name>`` or ``address:<ip>``; None for a caller
    in this process (no network address, no subject of its own), which is not limited."""
    if subject and subject not in PAGE_SUBJECTS:
        return f"subject:{subject}"
    return f"address:{address}" if address else None


class ClientLimits:
    """A bucket per (kind, client); ``take`` says how long to wait when one is empty."""

    def __init__(
        self,
        rates: dict[str, ClientRate],
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = MAX_CLIENTS,
    ) -> None:
        self.rates = dict(rates)
        self.clock = clock
        self.max_clients = max_clients
        self._buckets: dict[str, OrderedDict[str, TokenBucket]] = {
            kind: OrderedDict() for kind in rates
        }

    def take(self, kind: str, client: str) -> float:
        """Spend one of ``client``'s ``kind``: 0 if allowed, else the seconds to wait (the
        request must be refused). A kind without a rate is not limited."""
        rate = self.rates.get(kind)
        if rate is None:
            return 0.0
        buckets = self._buckets[kind]
        bucket = buckets.get(client)
        if bucket is None:
            bucket = buckets[client] = TokenBucket(rate.per_minute / 60, rate.burst, self.clock)
            while len(buckets) > self.max_clients:
                buckets.popitem(last=False)
        else:
            buckets.move_to_end(client)
        if bucket.take():
            return 0.0
        return bucket.wait_seconds()

    def clients(self, kind: str) -> int:
        """How many clients of ``kind`` are remembered (for tests and measurements)."""
        return len(self._buckets.get(kind, ()))
