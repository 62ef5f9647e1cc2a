"""Control across processes: a cancel or steer sent through one instance reaches a run that
another instance executes, through the session's log.

Two SessionServices (instances "a" and "b") share one store marked as shared, as two server
processes share Redis; tests/serving/sessions/test_failover.py does the same with real processes
and a real redis-server.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Mapping
from typing import Any

import pytest

from serving.sessions.agents import Agent, AgentRegistry, Param
from serving.sessions.commands import Cancel, Scope, Send, Steer
from serving.sessions.control import find_run
from serving.sessions.errors import InvalidSteer, RunNotActive
from serving.sessions.offsets import START
from serving.sessions.runs import RunContext
from serving.sessions.service import Session, SessionService
from serving.sessions.settings import SessionSettings
from serving.streams import MemoryStore, Store
from serving.streams.redis_store import RedisStore
from serving.tokens import TokenSigner

pytestmark = pytest.mark.anyio

SIGNER = TokenSigner(b"c" * 32)


class SharedMemoryStore(MemoryStore):
    """A memory store that two services in one process share like two processes share Redis."""

    shared = True


async def until_steered(request: Mapping[str, Any], run: RunContext) -> int:
    """Waits until cancelled, or until steered to a level above 5 (then returns it)."""
    await run.delta("waiting")
    while not run.cancelled.is_set() and run.params["level"] <= 5:
        await run.sleep(10)
    return run.params["level"]


async def stubborn(request: Mapping[str, Any], run: RunContext) -> None:
    """Takes its time to stop, so a run stays in ``cancelling`` for a while."""
    await asyncio.shield(asyncio.sleep(0.3))


async def chatty(request: Mapping[str, Any], run: RunContext) -> None:
    """Writes 100 records (a delta every 2 ms), then waits until cancelled."""
    for number in range(100):
        await run.delta(f"token {number}")
        await asyncio.sleep(0.002)
    await run.cancelled.wait()


AGENT = Agent("slow", until_steered, params={"level": Param(default=1, minimum=0, maximum=9)})
STUBBORN = Agent("stubborn", stubborn)
CHATTY = Agent("chatty", chatty)


def make_service(store: Store, instance: str) -> SessionService:
    return SessionService(
        store,
        agents=AgentRegistry([AGENT, STUBBORN, CHATTY]),
        signer=SIGNER,
        settings=SessionSettings(
            default_agent="slow",
            instance=instance,
            presence_grace_seconds=0.05,
            cancel_grace_seconds=1,
        ),
    )


@pytest.fixture
async def services() -> AsyncIterator[tuple[SessionService, SessionService]]:
    async with service_pair(SharedMemoryStore()) as pair:
        yield pair


@pytest.fixture(params=["memory", "redis"])
async def services_on_each_store(
    request: pytest.FixtureRequest,
) -> AsyncIterator[tuple[SessionService, SessionService]]:
    """Two instances on the shared memory store, then on a real redis-server, where a commit's
    news reaches a follower before its own log has recorded the record as written."""
    if request.param == "memory":
        store: Store = SharedMemoryStore()
    else:
        redis = request.getfixturevalue("redis_server")
        store = RedisStore.from_url(f"{redis.url}?prefix=control-{uuid.uuid4().hex[:8]}:")
    async with service_pair(store) as pair:
        yield pair


@contextlib.asynccontextmanager
async def service_pair(store: Store) -> AsyncIterator[tuple[SessionService, SessionService]]:
    pair = (make_service(store, "a"), make_service(store, "b"))
    for service in pair:
        await service.start()
    yield pair
    for service in pair:
        await service.stop()
    await store.aclose()


async def run_in_a(
    a: SessionService, b: SessionService, agent: str = "slow"
) -> tuple[Session, Session, str]:
    """A session open in both instances, and a run executing in ``a``."""
    created = await a.create(SIGNER.mint("sessions/*", [Scope.CREATE]))
    in_a, in_b = await a.open(created.id), await b.open(created.id)
    run = (await a.execute(in_a, Send({}, agent=agent), "laptop"))["run"]
    return in_a, in_b, run


async def events_of(session: Session) -> list[dict[str, Any]]:
    await session.log.flushed()
    return [json.loads(item) async for batch in session.log.scan() for item in batch.events]


async def ending(session: Session, run: str) -> dict[str, Any]:
    async with asyncio.timeout(5):
        while True:
            for event in await events_of(session):
                if (
                    event["run"] == run
                    and event["type"].startswith("run.")
                    and (event["type"] != "run.started")
                ):
                    return event
            await asyncio.sleep(0.005)


async def test_a_cancel_sent_through_b_stops_the_run_executing_in_a(services) -> None:
    a, b = services
    in_a, in_b, run = await run_in_a(a, b)
    ack = await b.execute(in_b, Cancel(run, id="stop"), "phone")
    ended = await ending(in_a, run)
    assert (ended["type"], ended["device"]) == ("run.cancelled", "phone")
    controls = [e for e in await events_of(in_a) if e["type"] == "control"]
    assert [(c["offset"], c["device"], c["data"]) for c in controls] == [
        (ack["offset"], "phone", {"action": "cancel"})
    ]
    assert run not in in_a.runs
    with pytest.raises(RunNotActive, match=r"has already ended \(run.cancelled\)"):
        await b.execute(in_b, Cancel(run), "phone")


async def test_a_steer_sent_through_b_reaches_the_run_executing_in_a(services) -> None:
    a, b = services
    in_a, in_b, run = await run_in_a(a, b)
    with pytest.raises(InvalidSteer, match="level must be between 0 and 9, got 12"):
        await b.execute(in_b, Steer(run, {"level": 12}), "phone")
    await b.execute(in_b, Steer(run, {"level": 7}), "phone")
    ended = await ending(in_a, run)
    assert (ended["type"], ended["data"]) == ("run.completed", {"result": 7})


async def test_b_refuses_runs_that_are_unknown_ended_or_being_cancelled(services) -> None:
    a, b = services
    in_a, in_b, run = await run_in_a(a, b, "stubborn")
    with pytest.raises(RunNotActive, match="no active run 'r-nope'"):
        await b.execute(in_b, Cancel("r-nope"), "phone")
    await b.execute(in_b, Cancel(run), "phone")
    with pytest.raises(RunNotActive, match=r"already being cancelled \(by phone\)"):
        await b.execute(in_b, Cancel(run), "tablet")
    assert (await ending(in_a, run))["device"] == "phone"
    logged = await find_run(in_b.log, run)
    assert logged is not None
    assert (logged.agent, logged.ending, logged.cancelled_by) == (
        "stubborn",
        "run.cancelled",
        "phone",
    )
    with pytest.raises(RunNotActive, match=r"has already ended \(run.cancelled\)"):
        await b.execute(in_b, Cancel(run), "phone")


async def test_a_control_sent_where_the_run_executes_is_applied_once(services) -> None:
    a, b = services
    in_a, _, run = await run_in_a(a, b)
    applied: list[dict[str, Any]] = []
    steer = in_a.runs[run].steer
    in_a.runs[run].steer = lambda params: (applied.append(dict(params)), steer(params))
    await a.execute(in_a, Steer(run, {"level": 2}), "laptop")
    await a.execute(in_a, Cancel(run), "laptop")
    ended = await ending(in_a, run)
    assert (ended["type"], ended["device"]) == ("run.cancelled", "laptop")
    assert applied == [{"level": 2}]


async def test_steers_end_in_log_order_when_one_from_b_is_read_after_one_applied_here(
    services,
) -> None:
    a, b = services
    in_a, in_b, run = await run_in_a(a, b)
    in_a.follower.stop()
    paused = asyncio.get_running_loop().create_future()
    in_a.follower._task = asyncio.ensure_future(paused)  # following, but reading nothing yet
    first = await b.execute(in_b, Steer(run, {"level": 4}), "phone")
    second = await a.execute(in_a, Steer(run, {"level": 3}), "laptop")  # applied at once
    assert first["offset"] < second["offset"]
    paused.cancel()
    in_a.follower._task = None
    in_a.follower.follow(START)  # now a reads b's steer, then its own
    await asyncio.sleep(0.05)
    assert in_a.runs[run].params == {"level": 3}  # the last in the log wins
    await b.execute(in_b, Cancel(run), "phone")
    assert (await ending(in_a, run))["device"] == "phone"


async def test_a_follower_does_not_read_back_what_its_own_process_wrote(
    services_on_each_store,
) -> None:
    a, b = services_on_each_store
    in_a, in_b, run = await run_in_a(a, b, "chatty")
    read_back = 0
    read = in_a.log.read

    async def counted(*args: Any) -> Any:
        nonlocal read_back
        batch = await read(*args)
        if asyncio.current_task().get_name().startswith("control"):  # the follower's task
            read_back += len(batch.events)
        return batch

    in_a.log.read = counted
    async with asyncio.timeout(5):
        while sum(e["type"] == "delta" for e in await events_of(in_a)) < 100:
            await asyncio.sleep(0.01)
    # it skips the records its process wrote, even one whose news woke it before the log
    # had recorded it as written (SessionLog.settled); at most the first, written before it
    # began to follow, is read
    assert read_back <= 1, f"the follower read back {read_back} of the run's 100 deltas"
    await b.execute(in_b, Cancel(run), "phone")
    assert (await ending(in_a, run))["device"] == "phone"
