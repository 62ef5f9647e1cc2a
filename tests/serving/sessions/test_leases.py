"""Leases: a dead instance's open runs are ended once, by one survivor, and never a live one's."""

from __future__ import annotations

import asyncio
import json

import pytest

from serving.sessions.agents import demo_agents
from serving.sessions.commands import Cancel, Steer
from serving.sessions.errors import RunNotActive
from serving.sessions.events import EventType
from serving.sessions.leases import Leases
from serving.sessions.ledger import DEVICE, RUN, Ledger
from serving.sessions.service import SessionService
from serving.sessions.session import SessionLog
from serving.sessions.settings import SessionSettings
from serving.streams import MemoryStore
from serving.streams.errors import StoreUnavailable

pytestmark = pytest.mark.anyio
LEASE = 10


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def start_with_a_run(store: MemoryStore, instance: str, session: str, run: str) -> Leases:
    """An instance that holds its lease and has a run open in ``session``."""
    leases = Leases(store, instance, lease_seconds=LEASE)
    await leases.start()
    log = SessionLog(store, session)
    await log.create()
    ledger = Ledger(store, lambda session_id: SessionLog(store, session_id), instance)
    await ledger.log.create()
    await ledger.open(session, RUN, run)
    await leases._release(instance)  # what serve() does once the instance has recovered
    return leases


async def events(store: MemoryStore, session: str) -> list[dict]:
    found = []
    async for batch in SessionLog(store, session).scan():
        found += [json.loads(raw) for raw in batch.events]
    return found


async def test_survivors_end_a_dead_instances_run_exactly_once() -> None:
    clock = Clock()
    store = MemoryStore(clock=clock)
    await start_with_a_run(store, "a", "s1", "r1")
    survivors = [await start_with_a_run(store, name, f"s-{name}", "r") for name in ("b", "c")]
    clock.now += LEASE + 1  # a stopped heartbeating (it died); b and c renew theirs
    for survivor in survivors:
        await survivor.renew()
    reaped = await asyncio.gather(*(survivor.reap_once() for survivor in survivors))
    assert sorted(reaped) == [[], ["a"]]
    interrupted = [e for e in await events(store, "s1") if e["type"] == EventType.RUN_INTERRUPTED]
    assert [event["run"] for event in interrupted] == ["r1"]
    # the survivors' own runs are untouched, and reaping again does nothing
    for name in ("b", "c"):
        assert not any(
            e["type"] == EventType.RUN_INTERRUPTED for e in await events(store, f"s-{name}")
        )
    assert await survivors[0].reap_once() == []


async def test_a_live_instance_is_never_reaped() -> None:
    clock = Clock()
    store = MemoryStore(clock=clock)
    alive = await start_with_a_run(store, "a", "s1", "r1")
    other = await start_with_a_run(store, "b", "s2", "r2")
    for _ in range(5):
        clock.now += LEASE / 2
        await alive.renew()
        await other.renew()
        assert await other.reap_once() == []
    assert not any(e["type"] == EventType.RUN_INTERRUPTED for e in await events(store, "s1"))


async def test_an_instance_restarting_waits_while_a_survivor_recovers_it() -> None:
    clock = Clock()
    store = MemoryStore(clock=clock)
    await start_with_a_run(store, "a", "s1", "r1")
    survivor = await start_with_a_run(store, "b", "s2", "r2")
    assert await survivor._claim("a")  # a survivor is recovering a right now
    restarting = asyncio.create_task(Leases(store, "a", lease_seconds=LEASE).start())
    await asyncio.sleep(0.1)
    assert not restarting.done()
    await survivor._release("a")
    await asyncio.wait_for(restarting, 5)


class Outage(MemoryStore):
    """A memory store that answers StoreUnavailable to everything while ``down``."""

    def __init__(self, clock: Clock) -> None:
        super().__init__(clock=clock)
        self.down = False

    def __getattribute__(self, name: str):  # type: ignore[no-untyped-def]
        attribute = super().__getattribute__(name)
        if name in ("read", "head", "create", "append", "delete") and self.down:

            async def refused(*args, **kwargs):  # type: ignore[no-untyped-def]
                raise StoreUnavailable("cannot reach Redis (test)")

            return refused
        return attribute


@pytest.mark.parametrize("a_survives", [True, False])
async def test_after_an_outage_only_dead_instances_are_reaped(a_survives: bool) -> None:
    """Redis away longer than the lease: every lease looks expired when it is back. A survivor
    waits until its own lease has been healthy for a whole lease before reaping, and a live
    instance renews within a third of that, so only a dead one is reaped."""
    clock = Clock()
    store = Outage(clock)
    a = await start_with_a_run(store, "a", "s1", "r1")
    b = await start_with_a_run(store, "b", "s2", "r2")
    a._clock = b._clock = clock
    await b.beat()
    store.down = True
    for instance in (a, b):
        with pytest.raises(StoreUnavailable):
            await instance.beat()
    clock.now += 6 * LEASE  # a long outage
    store.down = False
    await b.beat()
    assert not b.may_reap, "b reaps right after the outage: a live a would lose its runs"
    for _ in range(4):  # a heartbeat every third of the lease, for more than a lease
        clock.now += LEASE / 3
        if a_survives:
            await a.beat()
        await b.beat()
    assert b.may_reap
    assert await b.reap_once() == ([] if a_survives else ["a"])
    interrupted = [e for e in await events(store, "s1") if e["type"] == EventType.RUN_INTERRUPTED]
    assert len(interrupted) == (0 if a_survives else 1)


class SharedMemory(MemoryStore):
    """A memory store that says it is shared, as Redis is: the services in this test stand for
    processes on one store."""

    shared = True


SESSION = "5" * 32


async def test_after_a_crash_a_reconnected_device_stays_and_an_orphaned_run_refuses_commands() -> (
    None
):
    """Process a dies (its heartbeat stops) with a run and the device ``phone`` open; the phone
    reconnects to b. Once a's lease has expired, a cancel or steer sent to b for a's run is
    RUN_NOT_ACTIVE (nothing would apply it; it used to be acknowledged and logged), and b's
    reaping ends the run with run.interrupted but writes no presence.left for the phone, which
    is present through b."""
    clock = Clock()
    store = SharedMemory(clock=clock)
    a = await start_with_a_run(store, "a", SESSION, "r-orphan")
    await SessionLog(store, SESSION).append(EventType.RUN_STARTED, run="r-orphan", agent="text")
    a_ledger = Ledger(store, lambda session_id: SessionLog(store, session_id), "a")
    await a_ledger.open(SESSION, DEVICE, "phone")
    await SessionLog(store, SESSION).append(EventType.PRESENCE_JOINED, device="phone")
    await a_ledger.open(SESSION, DEVICE, "tablet")  # gone with a: it must be marked as left
    await SessionLog(store, SESSION).append(EventType.PRESENCE_JOINED, device="tablet")

    b = SessionService(
        store,
        agents=demo_agents(),
        signer=None,
        open_access=True,
        settings=SessionSettings(instance="b", lease_seconds=LEASE),
        clock=clock,
    )
    b_leases = Leases(store, "b", lease_seconds=LEASE, ledger=b.ledger)
    b_leases._clock = clock
    await b_leases.start()
    await b.start()
    b.orphaned = b_leases.orphaned
    session = await b.open(SESSION)
    await b.attach(session, "phone")  # the phone's client reconnected, to b

    ack = await b.execute(session, Steer(run="r-orphan", params={"speed": 5.0}), "phone")
    assert ack["type"] == "ack"  # a is alive as far as anyone can tell: it may still run it
    del a  # a dies: its heartbeat stops
    clock.now += LEASE + 1
    await b_leases.renew()
    for command in (Cancel(run="r-orphan"), Steer(run="r-orphan", params={"speed": 5.0})):
        with pytest.raises(RunNotActive, match="the server process that ran it stopped"):
            await b.execute(session, command, "phone")

    assert await b_leases.reap_once() == ["a"]
    logged = await events(store, SESSION)
    assert [(e["type"], e["device"]) for e in logged if e["type"] == "presence.left"] == [
        ("presence.left", "tablet")
    ]
    assert [e["run"] for e in logged if e["type"] == EventType.RUN_INTERRUPTED] == ["r-orphan"]
    with pytest.raises(RunNotActive, match="already ended"):
        await b.execute(session, Cancel(run="r-orphan"), "phone")
    await b.stop()
    await b_leases.stop()


async def test_a_wiped_registry_is_refilled_by_every_live_instance() -> None:
    """Redis restarted empty: b's heartbeat re-creates the registry first; a must still put its
    own name back (not just see that a registry exists), or nobody would end its runs."""
    clock = Clock()
    store = MemoryStore(clock=clock)
    a = await start_with_a_run(store, "a", "s1", "r1")
    b = await start_with_a_run(store, "b", "s2", "r2")
    a._clock = b._clock = clock
    await store.delete("sessions/_instances")
    await b.beat()
    await a.beat()
    assert await b._instances() == {"a", "b"}
    clock.now += LEASE + 1  # a dies
    await b.beat()
    assert await b.reap_once() == ["a"]
