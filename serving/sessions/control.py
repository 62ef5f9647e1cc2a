"""Control across processes: a cancel or steer reaches its run wherever the run executes.

With several processes on one shared store (Redis), a client may send ``cancel`` to process B
while process A executes the run. B cannot signal A's run, so the log carries the command:

- B checks the command against the session's log (``find_run``: the run started, has not
  ended and is not being cancelled), appends the ``control`` event and acknowledges it.
- A follows the log of every session it executes runs in (``ControlFollower``) and applies
  each ``control`` event to its run: the run stops (naming the device in ``run.cancelled``)
  or sees its new parameters.

A process executing the run itself signals it directly, as with one process, and tells its
follower which event that was (``applied_here``), so no control is applied twice. A steer sent
through another process may come earlier in the log yet be read later than one applied here;
the follower then keeps the later values, so a run's parameters always end as the log says.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from serving.sessions.errors import SessionError, SessionNotFound
from serving.sessions.events import RUN_ENDINGS, EventType
from serving.sessions.offsets import EventPosition
from serving.sessions.session import SessionLog
from serving.streams.errors import OffsetTrimmed, StreamError
from serving.streams.offsets import TAIL, Offset, Position

if TYPE_CHECKING:
    from serving.sessions.runs import Run

WAIT_SECONDS = 30.0
"""A follower waits this long for news before reading again (news wakes it at once)."""
READ_EVERY_SECONDS = 0.01
"""A follower looks at news at most this often: a session streaming fast costs it about a
hundred wake-ups a second, not one per write; a cancel from another process may take up to
this much longer."""
RETRY_SECONDS = 1.0
"""After a store failure, a follower tries again this much later."""
_CONTROL = b'"type":"control"'

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoggedRun:
    """A run as the session's log tells it (for a run executing in another process)."""

    id: str
    agent: str
    ending: str | None
    """The type of its ending event, if it has ended."""
    cancelled_by: str | None
    """The device of the first cancel, if one was sent."""


async def find_run(log: SessionLog, run_id: str) -> LoggedRun | None:
    """The run ``run_id`` of a session, read from its log; None if it never started there."""
    needle = run_id.encode()
    agent = ending = cancelled_by = None
    async for batch in log.scan():
        for raw in batch.events:
            if needle not in raw:  # most events are other runs' deltas: skip them unparsed
                continue
            event = json.loads(raw)
            if event["run"] != run_id:
                continue
            kind = event["type"]
            if kind == EventType.RUN_STARTED:
                agent = event["agent"]
            elif kind in RUN_ENDINGS:
                ending = kind
            elif kind == EventType.CONTROL and event["data"].get("action") == "cancel":
                cancelled_by = cancelled_by or event["device"]
    if agent is None:
        return None
    return LoggedRun(run_id, agent, ending, cancelled_by)


class ControlFollower:
    """Follows one session's log while this process executes runs in it, and applies the
    control events sent through other processes to those runs."""

    def __init__(self, log: SessionLog, runs: Mapping[str, Run], *, max_read_bytes: int) -> None:
        self.log = log
        self.runs = runs
        """The session's runs executing in this process (the service's dict, kept live)."""
        self.max_read_bytes = max_read_bytes
        self._applied_here: list[tuple[bytes, str, Mapping[str, Any] | None]] = []
        """(event, run, steered params) applied here and not read back yet, in log order."""
        self._task: asyncio.Task[None] | None = None
        self._written_here: dict[Offset, Offset] = {}
        """Start -> end of the records this process wrote to the log: skipped, not read (a
        run streams fast; reading back everything it writes would halve its rate)."""

    @property
    def following(self) -> bool:
        return self._task is not None and not self._task.done()

    def follow(self, after: EventPosition) -> None:
        """Follow from ``after`` (the message of a run starting here), unless following already
        (then from an earlier place, which covers it)."""
        if not self.following:
            self.log.on_written = self._written_here.__setitem__
            self._task = asyncio.create_task(self._follow(after), name=f"control {self.log.id}")

    def applied_here(self, event: bytes, run: str, params: Mapping[str, Any] | None = None) -> None:
        """``event`` (as encoded for the log) was applied to ``run`` directly (with ``params``
        for a steer): skip it when it is read."""
        self._applied_here.append((event, run, params))

    def stop(self) -> None:
        """No run of the session executes here any more."""
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self.log.on_written = None
        self._applied_here.clear()
        self._written_here.clear()

    async def _follow(self, position: EventPosition | Position) -> None:
        loop = asyncio.get_running_loop()
        next_read = loop.time()
        while self.runs:
            try:
                position = self._skip_written_here(position)
                if isinstance(position, EventPosition) and not await self.log.wait(
                    position, WAIT_SECONDS
                ):
                    continue
                if (pause := next_read - loop.time()) > 0:
                    await asyncio.sleep(pause)
                next_read = loop.time() + READ_EVERY_SECONDS
                await self.log.settled()  # the news may be of a record of ours still in flight
                position = self._skip_written_here(position)
                if isinstance(position, EventPosition) and not await self.log.wait(position, 0):
                    continue  # only records of this process were new
                batch = await self.log.read(position, self.max_read_bytes)
                for raw in batch.events:
                    if _CONTROL in raw:
                        self._apply(raw)
                position = batch.position
            except SessionNotFound:
                return  # the session was deleted: its runs can be cancelled no more
            except OffsetTrimmed:  # fell behind the log's retention: go on from its end
                logger.warning("session %s: control events were trimmed unread", self.log.id)
                position = TAIL
            except (StreamError, OSError) as error:
                logger.warning("session %s: cannot follow control events (%s)", self.log.id, error)
                await asyncio.sleep(RETRY_SECONDS)

    def _skip_written_here(self, position: EventPosition | Position) -> EventPosition | Position:
        """Past the records this process wrote that start at ``position``."""
        written = self._written_here
        if not written or not isinstance(position, EventPosition) or position.skip:
            return position
        while (end := written.pop(position.record, None)) is not None:
            position = EventPosition(end)
        for start in [start for start in written if start < position.record]:
            del written[start]  # read already (they were new when the follower started)
        return position

    def _apply(self, labelled: bytes) -> None:
        stored = b"{" + labelled[labelled.index(b'",') + 2 :]  # the event without its offset
        for index, (event, _, _) in enumerate(self._applied_here):
            if event == stored:
                del self._applied_here[index]
                return
        event = json.loads(stored)
        run = self.runs.get(event["run"])
        if run is None:
            return
        data = event["data"]
        if data.get("action") == "cancel":
            run.cancel(event["device"])
        elif data.get("action") == "steer":
            with contextlib.suppress(SessionError):  # checked where it was sent; never crash
                params = run.agent.check_params(data["params"])
                for _, run_id, later in self._applied_here:  # after it in the log, applied already
                    if run_id == run.id and later:
                        params.update(later)
                run.steer(params)
