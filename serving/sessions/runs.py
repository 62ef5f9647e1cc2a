"""Runs: the work that answers a message, decoupled from every connection.

A run is two tasks: the *agent* task (the agent's own code) and a *supervisor* that waits for
it, then writes the run's one ending event: ``run.completed`` with the agent's return value,
``run.failed`` with its exception, ``run.cancelled`` naming the device that asked, or
``run.interrupted`` when the server stops. Clients come and go; the run does not notice.

Stop really stops: a cancel sets the run's ``cancelled`` signal (and wakes the agent if it is
sleeping in ``RunContext.sleep``); an agent that has not returned ``cancel_grace`` seconds later
has its task cancelled, which interrupts it at its next ``await``.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import math
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from serving.errors import ServingError
from serving.sessions.errors import EventTooLarge
from serving.sessions.events import EventType
from serving.sessions.session import SessionLog

if TYPE_CHECKING:
    from serving.sessions.agents import Agent

YIELD_EVERY = 256
"""An agent publishing without pause yields to the event loop every this many queued events."""
HIGH_WATER = 4096
"""An agent that has this many events queued waits until they are written (backpressure)."""
HIGH_WATER_BYTES = 8 * 1024 * 1024
"""... or this many bytes of events (big predictions): what a run may hold in memory while
Redis is away. Measured: an agent streaming deltas as fast as it can through a 5 s outage
paused at 4,097 queued events (589 KB encoded, 1.7 MB traced), then completed once the store
was back."""
SLEEP_SLACK_SECONDS = 0.004
SLEEP_SLACK_SHARE = 0.1
MIN_SLACK_SECONDS = 0.0005
"""An agent's ``sleep`` ends on a grid of the loop's clock (timer slack, as the kernel has for
threads): 4 ms, or a tenth of the sleep if that is less, none under half a millisecond. Paced
agents whose tokens fall due within the same few milliseconds wake on one turn, so their
appends, store commits, Redis round trips and deliveries are shared (issue 21:
docs/SCALING.md), for at most a tenth of each pause: a fast agent keeps its rate (a flat 4 ms
grid made an explanation streamed at 1,000 tokens/s four times slower)."""

logger = logging.getLogger(__name__)


class RunState(enum.Enum):
    RUNNING = "running"
    CANCELLING = "cancelling"
    """Cancel requested; the agent is stopping (at most ``cancel_grace`` seconds)."""
    ENDED = "ended"


class RunEnded(RuntimeError):
    """An agent published after its run ended (e.g. from a task it forgot to await)."""


class Run:
    """One run of one agent in one session."""

    def __init__(
        self,
        *,
        run_id: str,
        agent: Agent,
        log: SessionLog,
        request: Mapping[str, Any],
        params: dict[str, Any],
        device: str | None,
        cancel_grace: float,
        on_end: Callable[[Run], None],
    ) -> None:
        self.id = run_id
        self.agent = agent
        self.log = log
        self.request = request
        self.params = params
        """Current values of the agent's parameters; steer updates them in place."""
        self.device = device
        """The device whose message started the run."""
        self.cancel_grace = cancel_grace
        self.on_end = on_end
        self.state = RunState.RUNNING
        self.ending: EventType | None = None
        self.cancelled = asyncio.Event()
        self.cancelled_by: str | None = None
        self.interrupt_reason: str | None = None
        self._sleepers: set[asyncio.Future[bool]] = set()
        """The agent's ``RunContext.sleep`` calls in progress: a cancel or steer ends them."""
        self._agent_task: asyncio.Task[Any] | None = None
        self._supervisor: asyncio.Task[None] | None = None

    def start(self) -> None:
        context = RunContext(self, self.agent.name)
        self._agent_task = asyncio.create_task(
            self.agent.run(self.request, context), name=f"agent {self.agent.name} {self.id}"
        )
        self._supervisor = asyncio.create_task(self._supervise(), name=f"run {self.id}")

    @property
    def active(self) -> bool:
        return self.state is not RunState.ENDED

    async def finished(self) -> None:
        """Wait until the run's ending event is written."""
        if self._supervisor is not None:
            await asyncio.shield(self._supervisor)

    # --- control ---------------------------------------------------------------------------

    def cancel(self, device: str | None) -> None:
        """Ask the agent to stop; force it ``cancel_grace`` seconds later."""
        if self.state is not RunState.RUNNING:
            return
        self.state = RunState.CANCELLING
        self.cancelled_by = device
        self.cancelled.set()
        self._wake()
        asyncio.get_running_loop().call_later(self.cancel_grace, self._force_stop)

    def steer(self, params: Mapping[str, Any]) -> None:
        """Apply checked parameter values; the agent sees them at once."""
        self.params.update(params)
        self._wake()

    def interrupt(self, reason: str) -> None:
        """The server is stopping: end the run at once with ``run.interrupted``."""
        if self.state is RunState.ENDED:
            return
        self.interrupt_reason = reason
        self.cancelled.set()
        self._force_stop()

    def _force_stop(self) -> None:
        if self._agent_task is not None and not self._agent_task.done():
            self._agent_task.cancel()

    def _wake(self) -> None:
        sleepers, self._sleepers = self._sleepers, set()
        for sleeper in sleepers:
            _resolve(sleeper, True)

    # --- the ending ------------------------------------------------------------------------

    async def _supervise(self) -> None:
        assert self._agent_task is not None
        await asyncio.wait({self._agent_task})
        ending, device, data = self._outcome(self._agent_task)
        self.state = RunState.ENDED
        try:
            try:
                await self._write_ending(ending, device, data)
            except (TypeError, ValueError, EventTooLarge) as error:  # a result it cannot store
                reason = f"the agent's result cannot be stored: {error}"
                await self._write_ending(
                    EventType.RUN_FAILED, None, {"error": reason, "kind": type(error).__name__}
                )
        except Exception:
            logger.exception("run %s: could not write its ending event", self.id)
        finally:
            self.on_end(self)

    async def _write_ending(
        self, ending: EventType, device: str | None, data: dict[str, Any]
    ) -> None:
        self.ending = ending
        # Durable: through a store outage the ending waits in the queue until Redis is back
        # (the ledger keeps the run open until then), so every run gets its one ending.
        await self.log.append(
            ending, run=self.id, agent=self.agent.name, device=device, data=data, durable=True
        )

    def _outcome(self, task: asyncio.Task[Any]) -> tuple[EventType, str | None, dict[str, Any]]:
        if self.interrupt_reason is not None:
            return EventType.RUN_INTERRUPTED, None, {"reason": self.interrupt_reason}
        if self.cancelled.is_set():
            return EventType.RUN_CANCELLED, self.cancelled_by, {}
        if task.cancelled():
            return (
                EventType.RUN_FAILED,
                None,
                {"error": "the agent task was cancelled", "kind": "CancelledError"},
            )
        error = task.exception()
        if error is not None:
            if is_request_mistake(error):  # the client's to fix: one line
                logger.warning(
                    "run %s: agent %s refused the request: %s",
                    self.id,
                    self.agent.name,
                    _describe(error, limit=300, one_line=True),
                )
            else:  # a bug: its traceback is what a maintainer needs
                logger.warning("run %s: agent %s failed", self.id, self.agent.name, exc_info=error)
            return (
                EventType.RUN_FAILED,
                None,
                {"error": _describe(error), "kind": type(error).__name__},
            )
        return EventType.RUN_COMPLETED, None, {"result": task.result()}


def is_request_mistake(error: BaseException) -> bool:
    """Whether an agent's exception says the request was wrong, not the server: a ValueError
    (the agents' convention: serving.sessions.agents, serving.models.agents.requests, and
    course.schema.RowValidationError for a bad row), or a ServingError the server answers with
    a 4xx status (an unknown model). Logged as one line, where a bug keeps its traceback: a
    learner's typo printed 8 to 20 lines of traceback into the server's terminal."""
    if isinstance(error, ValueError):
        return True
    return isinstance(error, ServingError) and error.status < 500


def _describe(error: BaseException, limit: int = 1000, *, one_line: bool = False) -> str:
    text = str(error) or type(error).__name__
    if one_line:
        text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


class RunContext:
    """What an agent gets: its request's run, a publisher, the cancel signal, live parameters.

    Events published here carry this context's agent name; a sub-agent started with ``spawn``
    gets its own context, so it publishes straight into the session under its own name.
    """

    def __init__(self, run: Run, agent: str) -> None:
        self._run = run
        self.agent = agent
        """The name every event published here carries."""
        self.session = run.log.id
        self.run = run.id
        self.params: Mapping[str, Any] = MappingProxyType(run.params)
        """The run's parameters, live: a steer changes them while the agent runs."""
        self.cancelled = run.cancelled
        """Set when someone cancels the run: stop soon, return whatever you have."""

    async def delta(self, text: str) -> None:
        """A token or chunk of a streamed answer."""
        await self._publish(EventType.DELTA, {"text": text})

    async def progress(
        self, done: float, total: float | None = None, note: str | None = None
    ) -> None:
        await self._publish(EventType.PROGRESS, {"done": done, "total": total, "note": note})

    async def prediction(self, data: Mapping[str, Any]) -> None:
        """A result worth showing on its own (a model's prediction, a sub-agent's answer)."""
        await self._publish(EventType.PREDICTION, data)

    async def written(self) -> None:
        """Wait until every event published so far is in the log (readers can see it).

        Publishing only queues; an agent that has something to show at once (a prediction)
        waits here before heavy work, so that the write and the delivery of that event do not
        compete with it for the CPU.
        """
        await self._run.log.flushed()

    async def ended(self) -> None:
        """Wait until the run's ending event is written (for work done behind a run, after
        its answer: a batch's prediction records, serving.models.agents.scoring)."""
        await self._run.finished()

    async def sleep(self, seconds: float) -> bool:
        """Sleep, but wake early on a cancel or a steer; True if woken early.

        A paced agent sleeps once per token, so this is a future and a timer, not
        ``asyncio.timeout`` around an Event (measured on uvloop: 5.1 µs against 18.6 µs).
        """
        if self.cancelled.is_set():
            return True
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[bool] = loop.create_future()
        wake = loop.time() + seconds
        slack = min(SLEEP_SLACK_SECONDS, seconds * SLEEP_SLACK_SHARE)
        if slack >= MIN_SLACK_SECONDS:  # a fast pace keeps its rate: no slack below this
            wake = math.ceil(wake / slack) * slack
        timer = loop.call_at(wake, _resolve, waiter, False)
        sleepers = self._run._sleepers
        sleepers.add(waiter)
        try:
            return await waiter
        finally:
            timer.cancel()
            sleepers.discard(waiter)

    async def spawn(self, agent: Agent, request: Mapping[str, Any] | None = None) -> Any:
        """Run a sub-agent in this run; it publishes under its own name; returns its result."""
        context = RunContext(self._run, agent.name)
        return await agent.run(self.request if request is None else request, context)

    @property
    def request(self) -> Mapping[str, Any]:
        return self._run.request

    async def _publish(self, type: EventType, data: Mapping[str, Any]) -> None:
        if self._run.state is RunState.ENDED:
            raise RunEnded(f"run {self.run} has ended; {self.agent} can publish no more")
        log = self._run.log
        log.publish(type, run=self.run, agent=self.agent, data=data)
        backlog = log.backlog
        if backlog > HIGH_WATER:
            await log.flushed(HIGH_WATER // 2)
        elif log.queued_bytes > HIGH_WATER_BYTES:
            await log.flushed()
        elif backlog % YIELD_EVERY == 0:
            await asyncio.sleep(0)  # let the log flush and the connections deliver


def _resolve(waiter: asyncio.Future[bool], woken: bool) -> None:
    if not waiter.done():
        waiter.set_result(woken)
