"""The notifier wakes every waiter on a path, and forgets waiters that gave up."""

from __future__ import annotations

import asyncio

import pytest

from serving.streams import Notifier

pytestmark = pytest.mark.anyio


async def test_notify_wakes_all_waiters_of_that_path_only() -> None:
    notifier = Notifier()
    woken = [asyncio.create_task(notifier.wait("a", 5)) for _ in range(3)]
    other = asyncio.create_task(notifier.wait("b", 0.1))
    await asyncio.sleep(0)
    assert notifier.waiting("a") == 3
    notifier.notify("a")
    assert await asyncio.gather(*woken) == [True, True, True]
    assert await other is False


async def test_timed_out_waiters_are_forgotten() -> None:
    notifier = Notifier()
    assert await notifier.wait("a", 0.01) is False
    assert notifier.waiting("a") == 0
    notifier.notify("a")  # nobody left: a no-op


async def test_notify_all_releases_everyone() -> None:
    notifier = Notifier()
    waiters = [asyncio.create_task(notifier.wait(path, 5)) for path in ("a", "b")]
    await asyncio.sleep(0)
    notifier.notify_all()
    assert await asyncio.gather(*waiters) == [True, True]


async def test_a_cancelled_waiter_is_forgotten() -> None:
    """A reader that hangs up (its task cancelled) leaves no waiter behind."""
    notifier = Notifier()
    waiter = asyncio.create_task(notifier.wait("a", 5))
    await asyncio.sleep(0)
    assert notifier.waiting("a") == 1
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert notifier.waiting("a") == 0
    notifier.notify("a")  # nobody left: a no-op
