"""Stream cursors: the CDN cache-collapsing token of live reads (protocol section 8.1).

A cursor is the number of 20-second intervals since 2024-10-09T00:00:00Z. When a client echoes
a cursor that is not behind the clock, the answer jumps ahead by a random 1-3600 seconds' worth
of intervals, so cursors never repeat and cached empty answers cannot loop.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from datetime import UTC, datetime

EPOCH = datetime(2024, 10, 9, tzinfo=UTC).timestamp()
INTERVAL_SECONDS = 20
MAX_JITTER_SECONDS = 3600


def current_interval(now: float) -> int:
    return int((now - EPOCH) // INTERVAL_SECONDS)


def next_cursor(
    client_cursor: str | None,
    now: float,
    jitter: Callable[[int, int], int] = random.randint,
) -> str:
    """The Stream-Cursor to answer with, given the ``cursor`` the client echoed (if any)."""
    interval = current_interval(now)
    if client_cursor is None or not client_cursor.isdigit():
        return str(interval)
    echoed = int(client_cursor)
    if echoed < interval:
        return str(interval)
    jitter_seconds = jitter(1, MAX_JITTER_SECONDS)
    return str(echoed + max(1, math.ceil(jitter_seconds / INTERVAL_SECONDS)))
