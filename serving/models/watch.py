"""Models appear live: the running server rescans its models folder every second or so.

``ModelWatcher(registry).start()`` (in the app's lifespan: serving.models.mount) calls
``registry.rescan()`` every ``registry.rescan_seconds`` in a worker thread: the ``stat`` calls,
the checksum and the loading of a new artifact (tens of milliseconds for a scikit-learn
pipeline, whose compiled form is also proved there) never block the event loop, so requests
keep flowing while a model arrives. Polling rather than inotify: the scan costs 0.05 ms for
one version (2.3 ms for 100), works on every OS and file system (network drives, Docker
volumes), and needs no dependency.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from serving.models.registry import ModelRegistry

__all__ = ["ModelWatcher"]

logger = logging.getLogger(__name__)


class ModelWatcher:
    """Calls ``registry.rescan`` every ``registry.rescan_seconds`` (never if None)."""

    def __init__(self, registry: ModelRegistry) -> None:
        self.registry = registry
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start watching (on the running event loop)."""
        if self.registry.rescan_seconds is not None and self._task is None:
            self._task = asyncio.create_task(self._watch(self.registry.rescan_seconds))

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _watch(self, seconds: float) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await asyncio.to_thread(self.registry.rescan)
            except Exception:  # a bug in a scan must not stop the next ones
                logger.exception("the scan of %s failed", self.registry.models_dir)
