"""SessionService: the sessions of one server process, for the transports to share.

The WebSocket and HTTP layers do only I/O; everything a command means happens here: access
checks, starting runs, cancel and steer, presence, remembering acks so a retried command is
not done twice, and recovery after a crash. A ``Session`` holds one session's live state in
this process (its log writer, active runs, attached devices); it is dropped when idle and
rebuilt from the log on the next use. On a shared store (Redis), a cancel or steer for a run
executing in another process travels through the log (serving.sessions.control).
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import secrets
import time
from collections import Counter, OrderedDict
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from serving.sessions import replies
from serving.sessions.agents import AgentRegistry
from serving.sessions.commands import (
    REQUIRED_SCOPE,
    Cancel,
    Command,
    Heartbeat,
    Scope,
    Send,
    Steer,
)
from serving.sessions.control import ControlFollower, LoggedRun, find_run
from serving.sessions.errors import (
    Busy,
    ClientRateLimited,
    InvalidDevice,
    RunNotActive,
    SessionError,
    SessionExpired,
    SessionForbidden,
    SessionNotFound,
    SessionUnauthorized,
)
from serving.sessions.events import EventType
from serving.sessions.ledger import DEVICE, RUN, Ledger, RecoveryReport
from serving.sessions.offsets import parse_offset
from serving.sessions.ratelimit import ClientLimits, client_key
from serving.sessions.runs import Run, RunState
from serving.sessions.session import PREFIX, SessionLog
from serving.sessions.settings import SessionSettings
from serving.streams.store import Store
from serving.tokens import Grant, TokenError, TokenSigner

_SESSION_ID = re.compile(r"[0-9a-f]{32}")
DEVICE_NAME = re.compile(r"[A-Za-z0-9._:@-]{1,64}")
"""What a ``device`` parameter may be (docs/PROTOCOL.md, Endpoints)."""
_DEVICE = DEVICE_NAME
ENDED_RUNS_KEPT = 10_000
"""How many ended runs (server-wide) are remembered to answer a late cancel precisely."""
SHUTDOWN_REASON = "the server shut down while this was in progress"

logger = logging.getLogger(__name__)


IDLE_SESSION_SECONDS = 60.0
"""An idle session (no run, connection or pending write) not opened for this long leaves the
in-process cache; its log stays in the store, and the next request opens it again."""
SWEEP_SECONDS = 10.0
"""How often, at most, the cache is swept for such sessions."""
EXPIRED_REMEMBERED = 50_000
"""Ids of sessions this process expired, kept for one more session TTL and at most this many
(about 5 MB), so that a client coming back gets SESSION_EXPIRED rather than SESSION_NOT_FOUND;
a token for the session says the same for ever, after a restart or on another process
(``open``). Kept for a TTL, their number depends on the rate of sessions, not on the time the
server has run (benchmarks/results/retention.md)."""
EXPIRED_MESSAGE = (
    "session {id} expired: nobody used it for {ttl}, so its log, uploads and results were "
    "removed; create a new session (POST /v1/sessions, or reload the page)"
)


def device_problem(requested: str) -> str:
    """The message of an INVALID_DEVICE refusal."""
    return f"invalid device {requested!r}: use 1 to 64 letters, digits or . _ : @ -"


def resource_of(session_id: str) -> str:
    """The token resource (and stream path) of a session."""
    return PREFIX + session_id


@dataclass(frozen=True)
class CreatedSession:
    id: str
    tokens: dict[str, str] | None
    """``read`` (watch), ``write`` (read + send), ``control`` (read + send + cancel/steer);
    None on an open server, which checks no tokens."""


class Session:
    """One session's live state in this process."""

    def __init__(self, log: SessionLog, *, max_read_bytes: int) -> None:
        self.id = log.id
        self.log = log
        self.runs: dict[str, Run] = {}
        self.follower = ControlFollower(log, self.runs, max_read_bytes=max_read_bytes)
        """Applies control events sent through other processes (shared stores only)."""
        self.starting = 0
        """Sends past the ``busy`` check whose run is not registered yet."""
        self.connections: Counter[str] = Counter()
        """Open connections per device."""
        self.present: set[str] = set()
        """Devices whose ``presence.joined`` has no ``presence.left`` yet."""
        self.leaving: dict[str, asyncio.TimerHandle] = {}
        """Devices with no connection left, that leave unless they come back in time."""
        self.touched = time.monotonic()
        """When a request last opened it (SessionService.open): idle and untouched for
        IDLE_SESSION_SECONDS, it leaves the cache."""
        self.watchers: Counter[str] = Counter()
        """Open connections per device of read-only tokens: in memory only, never in the log
        or the ledger (watching writes nothing durable)."""

    @property
    def idle(self) -> bool:
        return not (
            self.runs
            or self.starting
            or self.connections
            or self.leaving
            or self.watchers
            or self.log.backlog
        )


class SessionService:
    def __init__(
        self,
        store: Store,
        *,
        agents: AgentRegistry,
        signer: TokenSigner | None,
        open_access: bool = False,
        settings: SessionSettings | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if signer is None and not open_access:
            raise ValueError("a SessionService that is not open needs a TokenSigner")
        self.store = store
        self.agents = agents
        self.signer = signer
        self.open_access = open_access
        self.settings = settings or SessionSettings()
        self.clock = clock
        if self.settings.default_agent not in agents:
            raise ValueError(f"the default agent {self.settings.default_agent!r} is not registered")
        self.ledger = Ledger(
            store, lambda session_id: self._session(session_id).log, self.settings.instance
        )
        self._sessions: dict[str, Session] = {}
        self._remembered: OrderedDict[tuple[str, str, str], dict[str, Any]] = OrderedDict()
        self._in_flight: dict[tuple[str, str, str], asyncio.Task[dict[str, Any]]] = {}
        self._ended_runs: OrderedDict[tuple[str, str], str] = OrderedDict()
        """(session, run) -> the ending event type, for recently ended runs."""
        self._swept = time.monotonic()
        self._expired: OrderedDict[str, float] = OrderedDict()
        """Sessions this process expired (serving.retention) and when, newest last."""
        self.orphaned: Callable[[str, str], Awaitable[bool]] | None = None
        """Whether a run executing elsewhere was left by a dead process (Leases.orphaned; set
        by serving.app on a shared store): a cancel or steer for it is RUN_NOT_ACTIVE."""
        self._background: set[asyncio.Task[Any]] = set()
        self._stopping = False
        self.client_limits = None if open_access else ClientLimits(dict(self.settings.client_rates))
        """Sessions, uploads and batch jobs per client (serving.sessions.ratelimit); None on
        an open server, where anyone may delete any stream anyway."""

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> RecoveryReport:
        """Close what a previous server process left open (see serving.sessions.ledger)."""
        report = await self.ledger.recover()
        if report.interrupted_runs or report.departed_devices:
            logger.warning(
                "recovery: %d run(s) interrupted, %d device(s) marked as left",
                len(report.interrupted_runs),
                len(report.departed_devices),
            )
        return report

    async def stop(self) -> None:
        """Interrupt every run, mark every device as left, and write everything queued."""
        self._stopping = True
        runs = [run for session in self._sessions.values() for run in session.runs.values()]
        for run in runs:
            run.interrupt(SHUTDOWN_REASON)
        await asyncio.gather(*(run.finished() for run in runs), return_exceptions=True)
        departures = []
        for session in list(self._sessions.values()):
            for device in list(session.leaving):
                session.leaving.pop(device).cancel()
            departures += [
                self._leave(session, device, SHUTDOWN_REASON, even_if_connected=True)
                for device in list(session.present)
            ]
        await asyncio.gather(*departures, return_exceptions=True)  # a failing store: go on
        while self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
        logs = [session.log for session in self._sessions.values()] + [self.ledger.log]
        await asyncio.gather(*(log.flushed() for log in logs), return_exceptions=True)

    async def stop_within(self, seconds: float) -> None:
        """``stop``, but give up after ``seconds`` (Redis away: the writes wait for it; the
        ledger keeps what was not ended open, and the restart or a survivor ends it)."""
        try:
            async with asyncio.timeout(seconds):
                await self.stop()
        except TimeoutError:
            logger.warning(
                "stopping: the store did not take the last events within %g s; what is still "
                "open is ended by this instance's restart or by a surviving process",
                seconds,
            )

    # --- access ----------------------------------------------------------------------------

    def authorize(self, token: str | None, scope: Scope, session_id: str) -> Grant | None:
        """The grant of a token allowing ``scope`` on the session; None on an open server."""
        if self.open_access:
            return None
        assert self.signer is not None
        if not token:
            raise SessionUnauthorized(
                "this server needs a token: send 'Authorization: Bearer <token>' or "
                "'?access_token=<token>' (creating a session returns its tokens)"
            )
        try:
            grant = self.signer.verify(token, now=self.clock())
        except TokenError as error:
            raise SessionUnauthorized(str(error)) from None
        self.check(grant, scope, session_id)
        return grant

    def required_scope(self, command: Command) -> Scope:
        """The scope a command needs: REQUIRED_SCOPE's, except a ``send`` to an agent that
        changes what every session shares (``Agent.scope``: ``retrain`` needs ``operate``).
        An unknown agent needs ``write``: the send is then refused as UNKNOWN_AGENT."""
        if isinstance(command, Send):
            name = command.agent or self.settings.default_agent
            if name in self.agents:
                return self.agents.get(name).scope
        return REQUIRED_SCOPE[type(command)]

    def check(self, grant: Grant | None, scope: Scope, session_id: str) -> None:
        """Check a grant again for one command (it may have expired since the connection)."""
        if grant is None:
            return
        if grant.expires_at is not None and self.clock() >= grant.expires_at:
            raise SessionUnauthorized("token expired; get a new one and reconnect")
        if not grant.allows(scope, resource_of(session_id)):
            raise SessionForbidden(
                f"your token does not grant {scope.value!r} on session {session_id} (it grants "
                f"{', '.join(sorted(grant.scopes))} on {grant.resource!r})"
            )

    def client_of(self, grant: Grant | None, address: str | None) -> str | None:
        """Who a request counts against for the client limits (ratelimit.client_key)."""
        return client_key(grant.subject if grant is not None else None, address)

    def limit(self, kind: str, client: str | None, *, command_id: str | None = None) -> None:
        """Spend one of ``client``'s ``kind`` (``sessions``, ``uploads``, ``batch``), or refuse
        with ClientRateLimited (429, Retry-After) when it has none left."""
        if self.client_limits is None or client is None:
            return
        wait = self.client_limits.take(kind, client)
        if wait <= 0:
            return
        rate = self.client_limits.rates[kind]
        retry_after = max(1, math.ceil(wait))
        what = {"sessions": "new sessions", "uploads": "uploads", "batch": "batch jobs"}
        hint = {
            "sessions": "; reuse the session you have (its tokens keep working)",
            "batch": "; one batch job can score a whole table",
        }
        raise ClientRateLimited(
            f"too many {what.get(kind, kind)} from {client} (at most {rate.burst} at once, "
            f"then {rate.per_minute:g} a minute): retry in {retry_after} s{hint.get(kind, '')}",
            retry_after=retry_after,
            command_id=command_id,
        )

    def device(self, requested: str | None, grant: Grant | None, fallback: str) -> str:
        """The device name a connection or request acts as."""
        if requested is not None:
            if not _DEVICE.fullmatch(requested):
                raise InvalidDevice(device_problem(requested))
            return requested
        if grant is not None and grant.subject and _DEVICE.fullmatch(grant.subject):
            return grant.subject
        return f"{fallback}-{secrets.token_hex(3)}"

    # --- sessions --------------------------------------------------------------------------

    async def create(self, token: str | None, *, address: str | None = None) -> CreatedSession:
        """A new session; ``address``: the client's network address, for the client limits."""
        session_id = secrets.token_hex(16)  # 128 random bits
        grant = self.authorize(token, Scope.CREATE, session_id)
        self.limit("sessions", self.client_of(grant, address))
        created = self._session(session_id)
        await created.log.create()
        self._forget_if_idle(created)  # nobody uses it yet: opened again when someone does
        if self.signer is None:
            return CreatedSession(session_id, None)
        resource = resource_of(session_id)
        subject = grant.subject if grant is not None else ""
        ttl = self.settings.token_ttl_seconds
        scopes = {
            "read": [Scope.READ],
            "write": [Scope.READ, Scope.WRITE],
            "control": [Scope.READ, Scope.WRITE, Scope.CONTROL],
        }
        tokens = {
            name: self.signer.mint(resource, granted, ttl_seconds=ttl, subject=subject)
            for name, granted in scopes.items()
        }
        return CreatedSession(session_id, tokens)

    async def open(self, session_id: str, grant: Grant | None = None) -> Session:
        """The live state of an existing session; SessionExpired if it existed and expired
        (this process expired it, or ``grant``, the request's verified token, was made for
        it: the server mints session tokens only for sessions it created), else
        SessionNotFound."""
        if not _SESSION_ID.fullmatch(session_id):
            raise SessionNotFound(
                f"no session {session_id!r}: session ids are 32 lowercase hexadecimal characters"
            )
        session = self._sessions.get(session_id)
        if session is not None and session.log.failure is not None and not session.runs:
            # Its log failed for good (its stream vanished: expired, or Redis restarted
            # empty): look again, so a session that is back, or a new one, works.
            del self._sessions[session_id]
            session = None
        if session is None:
            session = self._session(session_id)
            try:
                await session.log.head()
            except SessionNotFound:
                self._forget_if_idle(session)
                if session_id in self._expired or (
                    grant is not None and grant.resource == resource_of(session_id)
                ):
                    raise SessionExpired(self._expired_message(session_id)) from None
                raise
        session.touched = time.monotonic()
        return session

    async def info(self, session: Session) -> dict[str, Any]:
        meta = await session.log.head()
        return {
            "id": session.id,
            "created_at": meta.created_at,
            "offset": str(meta.tail),
            "runs": [
                {
                    "run": run.id,
                    "agent": run.agent.name,
                    "state": run.state.value,
                    "params": run.params,
                }
                for run in session.runs.values()
            ],
            "devices": sorted(session.present),
            "watchers": sorted(session.watchers),
            "agents": self.agents.describe(),
        }

    # --- retention (serving.retention) ----------------------------------------------------

    def in_use(self) -> list[str]:
        """The sessions in use in this process: a connection, a run, events queued."""
        return [session.id for session in self._sessions.values() if not session.idle]

    def expired(self, session_id: str) -> None:
        """Retention removed the session: forget it, and say SESSION_EXPIRED to who comes."""
        session = self._sessions.get(session_id)
        if session is not None and session.idle:
            del self._sessions[session_id]
        now = self.clock()
        self._expired[session_id] = now
        kept = self.settings.session_ttl_seconds or 0.0
        while self._expired and (
            len(self._expired) > EXPIRED_REMEMBERED
            or next(iter(self._expired.values())) < now - kept
        ):
            self._expired.popitem(last=False)

    def _expired_message(self, session_id: str) -> str:
        ttl = self.settings.session_ttl_seconds
        idle = "the session TTL" if ttl is None else _duration(ttl)
        return EXPIRED_MESSAGE.format(id=session_id, ttl=idle)

    def _session(self, session_id: str) -> Session:
        session = self._sessions.get(session_id)
        if session is None:
            self._sweep()
            log = SessionLog(
                self.store,
                session_id,
                max_event_bytes=self.settings.max_event_bytes,
                clock=self.clock,
            )
            session = self._sessions[session_id] = Session(
                log, max_read_bytes=self.settings.max_read_bytes
            )
        return session

    def _sweep(self) -> None:
        """Drop the sessions that are idle and were not opened for IDLE_SESSION_SECONDS (at
        most once per SWEEP_SECONDS, when a session enters the cache). An HTTP request opens
        a session and leaves it idle (info, a command whose run has ended, SSE once done):
        before this, every session ever opened stayed in memory for the life of the process
        (1.7 KB each in the sessions layer, measured with tracemalloc over 2,000 sessions).
        The idle time is far above a request's, so no request loses the session it opened."""
        now = time.monotonic()
        if now - self._swept < SWEEP_SECONDS:
            return
        self._swept = now
        for session in list(self._sessions.values()):
            if session.idle and now - session.touched > IDLE_SESSION_SECONDS:
                del self._sessions[session.id]

    def _forget_if_idle(self, session: Session) -> None:
        if session.idle and self._sessions.get(session.id) is session:
            del self._sessions[session.id]

    # --- commands --------------------------------------------------------------------------

    async def execute(
        self, session: Session, command: Command, device: str, *, client: str | None = None
    ) -> dict[str, Any]:
        """Do a send, cancel, steer or heartbeat; return the ack (or raise a SessionError).

        A command runs to completion even if the client goes away meanwhile. A command with an
        ``id`` is done once per (session, device, id): a retry gets the first ack back.
        ``client`` (``client_of``): whom a batch job counts against; None = nobody.
        """
        try:
            return await self._execute_once(session, command, device, client)
        except SessionError as error:
            error.command_id = command.id
            raise

    async def _execute_once(
        self, session: Session, command: Command, device: str, client: str | None
    ) -> dict[str, Any]:
        if isinstance(command, Heartbeat):
            return replies.ack(command.id)
        if command.id is None:
            return await self._shielded(self._execute(session, command, device, client), None)
        key = (session.id, device, command.id)
        remembered = self._remembered.get(key)
        if remembered is not None:
            return remembered
        in_flight = self._in_flight.get(key)
        if in_flight is not None:
            return await asyncio.shield(in_flight)
        return await self._shielded(self._execute(session, command, device, client), key)

    async def _shielded(
        self, work: Coroutine[Any, Any, dict[str, Any]], key: tuple[str, str, str] | None
    ) -> dict[str, Any]:
        task = asyncio.create_task(work)
        if key is not None:
            self._in_flight[key] = task
        task.add_done_callback(lambda done: self._settle(done, key))
        return await asyncio.shield(task)

    def _settle(self, task: asyncio.Task[dict[str, Any]], key: tuple[str, str, str] | None) -> None:
        if key is not None:
            self._in_flight.pop(key, None)
        if task.cancelled() or task.exception() is not None or key is None:
            return
        self._remembered[key] = task.result()
        while len(self._remembered) > self.settings.remembered_commands:
            self._remembered.popitem(last=False)

    async def _execute(
        self, session: Session, command: Command, device: str, client: str | None
    ) -> dict[str, Any]:
        if isinstance(command, Send):
            return await self._send(session, command, device, client)
        if isinstance(command, Cancel):
            return await self._cancel(session, command, device)
        assert isinstance(command, Steer)
        return await self._steer(session, command, device)

    async def _send(
        self, session: Session, command: Send, device: str, client: str | None
    ) -> dict[str, Any]:
        agent = self.agents.get(command.agent or self.settings.default_agent)
        params = agent.initial_params(command.params)
        run_id = "r-" + secrets.token_hex(6)
        message = session.log.encode(EventType.MESSAGE, run_id, None, device, command.data)
        if len(session.runs) + session.starting >= self.settings.max_active_runs:
            raise Busy(
                f"this session already has {self.settings.max_active_runs} active runs; wait "
                "for one to end, or cancel one"
            )
        if agent.name in self.settings.client_limited_agents:
            self.limit("batch", client)
        session.starting += 1
        try:
            await self.ledger.open(session.id, RUN, run_id)
            try:
                message_offset = await session.log.append_encoded(message)
            except BaseException:  # (Redis away: 503) no run started: nothing to end
                await self.ledger.close(session.id, RUN, run_id)
                raise
            run = Run(
                run_id=run_id,
                agent=agent,
                log=session.log,
                request=command.data,
                params=params,
                device=device,
                cancel_grace=self.settings.cancel_grace_seconds,
                on_end=lambda ended: self._run_ended(session, ended),
            )
            session.runs[run_id] = run
        finally:
            session.starting -= 1
        session.log.publish(
            EventType.RUN_STARTED,
            run=run_id,
            agent=agent.name,
            device=device,
            data={"message": message_offset, "params": params},
        )
        run.start()
        if self.store.shared:
            session.follower.follow(parse_offset(message_offset))
        return replies.ack(command.id, message_offset, run=run_id)

    async def _cancel(self, session: Session, command: Cancel, device: str) -> dict[str, Any]:
        run = await self._active_run(session, command.run)
        if isinstance(run, Run):
            run.cancel(device)
        return await self._control(session, run, device, {"action": "cancel"}, command.id)

    async def _steer(self, session: Session, command: Steer, device: str) -> dict[str, Any]:
        run = await self._active_run(session, command.run)
        agent = run.agent if isinstance(run, Run) else self.agents.get(run.agent)
        params = agent.check_params(command.params)
        if isinstance(run, Run):
            run.steer(params)
        return await self._control(
            session, run, device, {"action": "steer", "params": params}, command.id
        )

    async def _control(
        self,
        session: Session,
        run: Run | LoggedRun,
        device: str,
        data: dict[str, Any],
        command_id: str | None,
    ) -> dict[str, Any]:
        """Write the control event of a cancel or steer; a run executing in another process
        applies it when it reads it there."""
        event = session.log.encode(EventType.CONTROL, run.id, None, device, data)
        if isinstance(run, Run) and session.follower.following:
            session.follower.applied_here(event, run.id, data.get("params"))
        offset = await session.log.append_encoded(event)
        return replies.ack(command_id, offset)

    async def _active_run(self, session: Session, run_id: str) -> Run | LoggedRun:
        """The run a cancel or steer is for: executing here, or (on a shared store) in another
        process according to the log; RunNotActive if it is not running."""
        run = session.runs.get(run_id)
        if run is not None and run.state is RunState.RUNNING:
            return run
        if run is not None:
            raise RunNotActive(f"run {run_id} is already being cancelled (by {run.cancelled_by})")
        ending = self._ended_runs.get((session.id, run_id))
        if ending is not None:
            raise RunNotActive(f"run {run_id} has already ended ({ending})")
        logged = await find_run(session.log, run_id) if self.store.shared else None
        if logged is None:
            raise RunNotActive(
                f"no active run {run_id!r} in this session (unknown, or it ended before the "
                "server restarted)"
            )
        if logged.ending is not None:
            raise RunNotActive(f"run {run_id} has already ended ({logged.ending})")
        if self.orphaned is not None and await self.orphaned(session.id, run_id):
            raise RunNotActive(
                f"run {run_id} is not running any more: the server process that ran it "
                "stopped, and the run ends with run.interrupted shortly"
            )
        if logged.cancelled_by is not None:
            raise RunNotActive(
                f"run {run_id} is already being cancelled (by {logged.cancelled_by})"
            )
        return logged

    def _run_ended(self, session: Session, run: Run) -> None:
        session.runs.pop(run.id, None)
        if not session.runs:
            session.follower.stop()
        self._ended_runs[session.id, run.id] = run.ending.value if run.ending else "ended"
        while len(self._ended_runs) > ENDED_RUNS_KEPT:
            self._ended_runs.popitem(last=False)
        self._spawn(self._close_run(session, run))

    async def _close_run(self, session: Session, run: Run) -> None:
        await self.ledger.close(session.id, RUN, run.id)
        self._forget_if_idle(session)

    # --- presence --------------------------------------------------------------------------

    def watches_only(self, grant: Grant | None, session_id: str) -> bool:
        """A connection whose token cannot write the session (a ``read`` token, a watch
        link): its presence is ephemeral, in this process's memory only. It used to write
        ``presence.joined``/``presence.left`` and two ledger records per connect (300 connects
        with new device names: 600 events, 600 ledger records), so a watcher could fill a
        session it may only read, and trim a run's "open" record out of the ledger."""
        return grant is not None and not grant.allows(Scope.WRITE, resource_of(session_id))

    async def attach(self, session: Session, device: str, *, watching: bool = False) -> None:
        """A connection of ``device`` opened: it joins, unless it is present already;
        ``watching`` (a read-only token): counted in memory, nothing written."""
        if watching:
            session.watchers[device] += 1
            return
        session.connections[device] += 1
        timer = session.leaving.pop(device, None)
        if timer is not None:
            timer.cancel()  # back within the grace period: it never left
            return
        if device in session.present:
            return
        session.present.add(device)
        await self.ledger.open(session.id, DEVICE, device)
        session.log.publish(EventType.PRESENCE_JOINED, device=device)

    def detach(self, session: Session, device: str, *, watching: bool = False) -> None:
        """A connection of ``device`` closed: it leaves after the grace period if none is left."""
        if watching:
            session.watchers[device] -= 1
            if session.watchers[device] <= 0:
                del session.watchers[device]
            self._forget_if_idle(session)
            return
        session.connections[device] -= 1
        if session.connections[device] > 0:
            return
        del session.connections[device]
        if device not in session.present or self._stopping:
            self._forget_if_idle(session)
            return
        session.leaving[device] = asyncio.get_running_loop().call_later(
            self.settings.presence_grace_seconds,
            lambda: self._spawn(self._leave(session, device, "disconnected")),
        )

    async def _leave(
        self, session: Session, device: str, reason: str, *, even_if_connected: bool = False
    ) -> None:
        session.leaving.pop(device, None)
        if device not in session.present:
            return
        if session.connections[device] and not even_if_connected:
            return
        session.present.discard(device)
        await session.log.append(EventType.PRESENCE_LEFT, device=device, data={"reason": reason})
        await self.ledger.close(session.id, DEVICE, device)
        self._forget_if_idle(session)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background_done)

    def _background_done(self, task: asyncio.Task[None]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("sessions: background write failed", exc_info=task.exception())


def _duration(seconds: float) -> str:
    """``3 days``, ``12 hours``, ``90 minutes``, ``45 seconds``."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds:g} seconds"
