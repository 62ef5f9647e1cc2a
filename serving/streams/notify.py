"""Waking live readers: an in-process notifier shared by the stores.

A reader that found nothing new registers a waiter on the stream's path and sleeps; the store
calls notify(path) after each committed change (append, close, delete, expiry). Waiters are
plain futures, so thousands of idle readers cost no tasks or timers beyond their own.
Call every method from the event loop's thread (a store with a writer thread hands over
with ``loop.call_soon_threadsafe``).
"""

from __future__ import annotations

import asyncio


class Notifier:
    """Per-path wake-ups: ``await wait(path, timeout)`` returns True when notified."""

    def __init__(self) -> None:
        self._waiters: dict[str, set[asyncio.Future[bool]]] = {}

    async def wait(self, path: str, timeout: float) -> bool:
        """Sleep until notify(path) or timeout; True if notified.

        The waiter is registered before the first suspension, so a caller that checked the
        store and then calls wait() cannot miss a change made in between. The timeout is one
        plain timer that resolves the future with False: cheaper than ``asyncio.timeout``,
        which matters when one append wakes many readers.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bool] = loop.create_future()
        self._waiters.setdefault(path, set()).add(future)
        timer = loop.call_later(timeout, _resolve, future, False)
        try:
            return await future
        finally:
            timer.cancel()
            current = self._waiters.get(path)
            if current is not None:
                current.discard(future)
                if not current:
                    del self._waiters[path]

    def notify(self, path: str) -> None:
        """Wake every waiter on ``path``."""
        for future in self._waiters.pop(path, ()):
            _resolve(future, True)

    def notify_all(self) -> None:
        """Wake everyone (shutdown)."""
        for path in list(self._waiters):
            self.notify(path)

    def waiting(self, path: str) -> int:
        """How many readers wait on ``path`` (for tests and metrics)."""
        return len(self._waiters.get(path, ()))


def _resolve(future: asyncio.Future[bool], notified: bool) -> None:
    if not future.done():
        future.set_result(notified)
