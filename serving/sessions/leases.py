"""Leases: when a server process dies for good, a surviving one ends the runs it left open.

A process that restarts closes what it left open itself (serving.sessions.ledger). With several
processes on one store (Redis), one may die and never come back; its runs must still end, with
``run.interrupted``, written by a survivor:

- Each instance (SessionSettings.instance) holds a *lease*: the stream ``sessions/_lease-<name>``
  created with a TTL of ``lease_seconds`` and renewed by a heartbeat (reading a stream renews
  its TTL) every third of that. It also writes its name once in ``sessions/_instances``.
- Every ``lease_seconds`` each instance looks at the registry: an instance whose lease has
  expired is dead. A survivor *claims* it (creating ``sessions/_claim-<name>`` succeeds for one
  process only) and recovers its ledger exactly as the dead instance would have at restart.
- An instance starting up takes its own claim before recovering its ledger, so it never
  recovers at the same time as a survivor (which would write two endings for one run).

So a run of a dead process ends within about two ``lease_seconds``. An instance stalled longer
than its lease (a frozen machine) is taken for dead: keep the lease well above any pause.

Redis outages (issue 20): while Redis is away no lease can be renewed, so when it comes back
every lease looks expired, though the processes are alive and their runs going on. A process
therefore reaps only after its own lease has been renewed without a failure for a whole
``lease_seconds``: by then every live instance has renewed its own (every third of that), and
only the dead ones are reaped. The heartbeat also keeps the internal streams alive and present:
it reads this instance's ledger and the registry (a read renews a stream's idle expiry, so an
idle week never expires them) and re-creates whichever is missing (Redis restarted empty), with
a log line.
These are ordinary streams, so this works on every store, and the state is visible with any
Durable Streams client.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable

from serving.sessions.errors import SessionNotFound
from serving.sessions.events import dumps
from serving.sessions.ledger import LEDGER_PREFIX, RUN, Ledger
from serving.sessions.session import SessionLog, stream_path
from serving.sessions.settings import SessionSettings
from serving.streams.errors import StreamError, StreamNotFound
from serving.streams.offsets import TAIL
from serving.streams.store import CreateRequest, Store

LEASE_SECONDS = SessionSettings.lease_seconds
REGISTRY = "_instances"
CLAIM_SECONDS = 600
"""A claim left by a process that died while recovering frees itself after this long."""

logger = logging.getLogger(__name__)


class Leases:
    """This instance's lease, and the reaping of dead instances' open runs."""

    def __init__(
        self,
        store: Store,
        instance: str,
        *,
        lease_seconds: float = LEASE_SECONDS,
        session_log: Callable[[str], SessionLog] | None = None,
        ledger: Ledger | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.instance = instance
        self.lease_seconds = lease_seconds
        self._session_log = session_log or (lambda session_id: SessionLog(store, session_id))
        self._registry = SessionLog(store, REGISTRY)
        self._tasks: list[asyncio.Task[None]] = []
        self._registered = False
        self._ledger = ledger
        if ledger is not None:
            ledger.on_recreated = self._check_registered
        """This instance's ledger (the service's), kept alive and re-created by the heartbeat."""
        self._clock = clock
        self._healthy_since: float | None = None
        """Since when every renewal of this lease succeeded (None: the last one failed)."""

    async def start(self) -> None:
        """Take the lease and this instance's claim (waiting while a survivor holds it).

        Call before the instance recovers its own ledger, then ``serve()`` after it.
        """
        lease = CreateRequest(content_type="application/json", ttl_seconds=self._lease_ttl())
        await self.store.create(_lease_path(self.instance), lease)
        await self._register()
        while not await self._claim(self.instance):
            await asyncio.sleep(1)
        self._healthy_since = self._clock()

    def serve(self) -> None:
        """Release this instance's claim; heartbeat and reap in the background."""
        self._tasks = [asyncio.create_task(self._heartbeat()), asyncio.create_task(self._reap())]
        self._tasks.append(asyncio.create_task(self._release(self.instance)))

    async def stop(self) -> None:
        """Stop heartbeating and give the lease up (a clean shutdown ended its own runs)."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        with contextlib.suppress(StreamError):
            await self.store.delete(_lease_path(self.instance))

    async def reap_once(self) -> list[str]:
        """Recover the ledgers of the dead instances this process could claim; their names."""
        reaped = []
        for instance in sorted(await self._instances() - {self.instance}):
            if await self._alive(instance) or not await self._has_ledger(instance):
                continue
            if not await self._claim(instance):
                continue  # another survivor is on it
            try:
                if await self._alive(instance):  # it came back meanwhile: it recovers itself
                    continue
                report = await Ledger(self.store, self._session_log, instance).recover()
                await self.store.delete(stream_path(LEDGER_PREFIX + instance))
                logger.warning(
                    "instance %r is gone: %d run(s) interrupted, %d device(s) marked as left",
                    instance,
                    len(report.interrupted_runs),
                    len(report.departed_devices),
                )
                reaped.append(instance)
            finally:
                await self._release(instance)
        return reaped

    async def orphaned(self, session: str, run: str) -> bool:
        """True when ``run`` is open in the ledger of an instance whose lease has expired (it
        died and no survivor has ended its runs yet): nothing executes the run any more, so a
        cancel or steer for it must not be acknowledged (the service answers RUN_NOT_ACTIVE;
        the run ends with ``run.interrupted`` at the next reaping). Asked only for a command
        to a run that does not execute in this process: a scan of each dead ledger."""
        for instance in sorted(await self._instances() - {self.instance}):
            if await self._alive(instance) or not await self._has_ledger(instance):
                continue
            opened = False
            with contextlib.suppress(SessionNotFound):
                async for batch in SessionLog(self.store, LEDGER_PREFIX + instance).scan():
                    for raw in batch.events:
                        entry = json.loads(raw)
                        if (entry["session"], entry["kind"], entry["key"]) == (session, RUN, run):
                            opened = bool(entry["open"])
            if opened:
                return True
        return False

    # --- the lease -------------------------------------------------------------------------

    async def renew(self) -> None:
        """Renew the lease (reading a stream renews its TTL); take it again if it expired."""
        try:
            await self.store.read(_lease_path(self.instance), TAIL, 0)
        except StreamNotFound:  # this process stalled past its lease: it is alive again
            lease = CreateRequest(content_type="application/json", ttl_seconds=self._lease_ttl())
            await self.store.create(_lease_path(self.instance), lease)

    async def _register(self) -> None:
        """Write this instance's name where survivors look (retried by the heartbeat)."""
        try:
            await self._registry.create()
            await self._registry.append_encoded(dumps({"instance": self.instance}))
        except (StreamError, OSError) as error:
            logger.warning("could not register instance %r (%s); retrying", self.instance, error)
        else:
            self._registered = True

    async def beat(self) -> None:
        """One heartbeat: renew the lease, keep the registry and the ledger alive and present."""
        try:
            await self.renew()
            await self._check_registered()
            if self._ledger is not None:
                await self._ledger.touch()
        except (StreamError, OSError):
            self._healthy_since = None
            raise
        if self._healthy_since is None:
            self._healthy_since = self._clock()

    async def _check_registered(self) -> None:
        """Read the registry (which renews its idle expiry) and put this name back if it is
        not there: after Redis restarted empty, another process may have re-created it."""
        if self._registered and self.instance not in await self._instances():
            logger.warning(
                "the instance registry %s lost %r (Redis restarted empty?); registering again",
                stream_path(REGISTRY),
                self.instance,
            )
            self._registered = False
        if not self._registered:
            await self._register()

    @property
    def may_reap(self) -> bool:
        """True once this lease has been renewed without a failure for ``lease_seconds``:
        after an outage, live instances have renewed theirs by then."""
        since = self._healthy_since
        return since is not None and self._clock() - since >= self.lease_seconds

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            try:
                await self.beat()
            except StreamError as error:
                logger.warning("lease heartbeat failed (%s); retrying", error.message)
            except OSError as error:
                logger.warning("lease heartbeat failed (%s); retrying", error)

    async def _reap(self) -> None:
        while True:
            await asyncio.sleep(self.lease_seconds)
            if not self.may_reap:
                continue  # the store was away lately: live instances need time to renew
            try:
                await self.reap_once()
            except StreamError as error:
                logger.warning("reaping dead instances failed (%s); retrying", error.message)

    async def _alive(self, instance: str) -> bool:
        try:
            await self.store.head(_lease_path(instance))
        except StreamNotFound:
            return False
        return True

    async def _has_ledger(self, instance: str) -> bool:
        try:
            await self.store.head(stream_path(LEDGER_PREFIX + instance))
        except StreamNotFound:
            return False
        return True

    async def _instances(self) -> set[str]:
        names: set[str] = set()
        try:
            async for batch in self._registry.scan():
                names.update(json.loads(raw)["instance"] for raw in batch.events)
        except SessionNotFound:  # Redis lost it: the heartbeats register everyone again
            pass
        return names

    async def _claim(self, instance: str) -> bool:
        claim = CreateRequest(content_type="application/json", ttl_seconds=CLAIM_SECONDS)
        return (await self.store.create(_claim_path(instance), claim)).created

    async def _release(self, instance: str) -> None:
        with contextlib.suppress(StreamNotFound):
            await self.store.delete(_claim_path(instance))

    def _lease_ttl(self) -> int:
        return max(1, round(self.lease_seconds))


def _lease_path(instance: str) -> str:
    return stream_path(f"_lease-{instance}")


def _claim_path(instance: str) -> str:
    return stream_path(f"_claim-{instance}")
