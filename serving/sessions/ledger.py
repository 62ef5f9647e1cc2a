"""The ledger: what must be closed if the server dies, and the recovery that closes it.

Runs and device attachments are *open* things: a run must end with one ending event, a device
that joined must leave. When the server is killed, nothing writes those endings, so before an
open thing starts the service records it in a ledger (the JSON stream
``sessions/_ledger-<instance>``) and records it closed after its ending is written. On
start-up, ``recover`` reads the ledger, checks each session that still has open things against
its own log (the ending may have been written just before the crash), writes
``run.interrupted`` / ``presence.left`` for the rest, and closes them in the ledger.

Each server instance has its own ledger: several processes sharing one store (Redis) must have
different instance names, so that one restarting never ends the runs another is executing. A
restarted process keeps its name and recovers what it left open.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from serving.sessions.events import RUN_ENDINGS, EventType, dumps
from serving.sessions.session import SessionLog
from serving.streams.store import Store

LEDGER_PREFIX = "_ledger-"
"""Session ids are hex, so ledger names cannot clash with a session."""
RUN = "run"
DEVICE = "device"
RESTART_REASON = "the server stopped while this was in progress"


@dataclass
class RecoveryReport:
    """What recovery closed, for the log and the tests."""

    interrupted_runs: list[tuple[str, str]] = field(default_factory=list)
    """(session, run) pairs that got a ``run.interrupted`` event."""
    departed_devices: list[tuple[str, str]] = field(default_factory=list)
    """(session, device) pairs that got a ``presence.left`` event."""


class Ledger:
    def __init__(
        self, store: Store, session_log: Callable[[str], SessionLog], instance: str = "main"
    ) -> None:
        self.log = SessionLog(store, LEDGER_PREFIX + instance)
        self.session_log = session_log
        """Returns the SessionLog of a session id (the service's, so writes share one queue)."""

    async def open(self, session: str, kind: str, key: str) -> None:
        await self._write(session, kind, key, opened=True)

    async def close(self, session: str, kind: str, key: str) -> None:
        await self._write(session, kind, key, opened=False)

    async def _write(self, session: str, kind: str, key: str, *, opened: bool) -> None:
        entry = dumps({"session": session, "kind": kind, "key": key, "open": opened})
        await self.log.append_encoded(entry)

    async def recover(self) -> RecoveryReport:
        """Close everything the ledger says is open; call once, before serving."""
        await self.log.create()  # idempotent: the ledger of the previous run, or a new one
        still_open: dict[str, set[tuple[str, str]]] = {}
        async for batch in self.log.scan():
            for raw in batch.events:
                entry = json.loads(raw)
                items = still_open.setdefault(entry["session"], set())
                item = (entry["kind"], entry["key"])
                if entry["open"]:
                    items.add(item)
                else:
                    items.discard(item)
        report = RecoveryReport()
        for session, items in still_open.items():
            if items:
                await self._close_session(session, items, report)
        return report

    async def _close_session(
        self, session: str, items: set[tuple[str, str]], report: RecoveryReport
    ) -> None:
        log = self.session_log(session)
        ended, present = await _replay(log)
        for kind, key in sorted(items):
            if kind == RUN and key not in ended:
                await log.append(
                    EventType.RUN_INTERRUPTED, run=key, data={"reason": RESTART_REASON}
                )
                report.interrupted_runs.append((session, key))
            elif kind == DEVICE and key in present:
                await log.append(
                    EventType.PRESENCE_LEFT, device=key, data={"reason": RESTART_REASON}
                )
                report.departed_devices.append((session, key))
            await self.close(session, kind, key)


async def _replay(log: SessionLog) -> tuple[set[str], set[str]]:
    """The runs that have ended, and the devices present, according to a session's log."""
    ended: set[str] = set()
    present: set[str] = set()
    async for batch in log.scan():
        for raw in batch.events:
            event = json.loads(raw)
            kind = event["type"]
            if kind in RUN_ENDINGS:
                ended.add(event["run"])
            elif kind == EventType.PRESENCE_JOINED:
                present.add(event["device"])
            elif kind == EventType.PRESENCE_LEFT:
                present.discard(event["device"])
    return ended, present
