"""Shared fixtures for the benchmark tests: one of our servers (memory store) per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from benchmarks.servers import SERVERS, RunningServer
from benchmarks.streams_workloads import Sizes

_TINY = Sizes(
    seconds=0.1,
    rounds=2,
    writers=2,
    catch_up_messages=300,
    catch_up_batch=40,
    latency_samples=5,
    fan_out_readers=3,
    trial_timeout=30,
)


@pytest.fixture(scope="session")
def our_memory_server() -> Iterator[RunningServer]:
    with RunningServer(SERVERS["ours-memory"]) as server:
        yield server


@pytest.fixture
def tiny() -> Sizes:
    """Sizes that exercise every code path of every scenario in about a second."""
    return _TINY
