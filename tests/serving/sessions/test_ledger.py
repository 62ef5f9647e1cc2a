"""Recovery: what a killed server left open is closed, once, when the next one starts."""

from __future__ import annotations

import json
import uuid

import pytest

from benchmarks.redis_server import RedisServer
from serving.sessions.events import EventType
from serving.sessions.ledger import DEVICE, RUN, Ledger
from serving.sessions.session import SessionLog
from serving.streams import Store
from serving.streams.redis_store import RedisStore

pytestmark = pytest.mark.anyio

A = "a" * 32
B = "b" * 32


async def events_of(log: SessionLog) -> list[dict]:
    await log.flushed()
    return [json.loads(item) async for batch in log.scan() for item in batch.events]


async def crashed_state(store: Store) -> dict[str, SessionLog]:
    """What a server killed mid-way leaves: open runs and devices, some already ended."""
    logs = {session: SessionLog(store, session) for session in (A, B)}
    ledger = Ledger(store, logs.__getitem__)
    await ledger.log.create()
    for log in logs.values():
        await log.create()
    a = logs[A]
    for run in ("r-live", "r-done"):
        await ledger.open(A, RUN, run)
        await a.append(EventType.RUN_STARTED, run=run, agent="text")
    await a.append(EventType.RUN_COMPLETED, run="r-done", agent="text")  # killed before closing
    await ledger.open(A, RUN, "r-unstarted")  # killed between the ledger and the message
    for device in ("phone", "laptop"):
        await ledger.open(A, DEVICE, device)
        await a.append(EventType.PRESENCE_JOINED, device=device)
    await a.append(EventType.PRESENCE_LEFT, device="laptop")
    await ledger.open(B, RUN, "r-closed")
    await logs[B].append(EventType.RUN_STARTED, run="r-closed", agent="text")
    await logs[B].append(EventType.RUN_COMPLETED, run="r-closed", agent="text")
    await ledger.close(B, RUN, "r-closed")  # a clean run: nothing to do
    return logs


async def test_recovery_ends_what_was_left_open_and_only_that(store: Store) -> None:
    logs = await crashed_state(store)
    before = {session: len(await events_of(log)) for session, log in logs.items()}
    report = await Ledger(store, logs.__getitem__).recover()
    assert sorted(report.interrupted_runs) == [(A, "r-live"), (A, "r-unstarted")]
    assert report.departed_devices == [(A, "phone")]
    added = (await events_of(logs[A]))[before[A] :]
    assert sorted((e["type"], e["run"] or e["device"]) for e in added) == [
        ("presence.left", "phone"),
        ("run.interrupted", "r-live"),
        ("run.interrupted", "r-unstarted"),
    ]
    assert all("the server stopped" in e["data"]["reason"] for e in added)
    assert len(await events_of(logs[B])) == before[B]


async def test_recovery_runs_once(store: Store) -> None:
    logs = await crashed_state(store)
    await Ledger(store, logs.__getitem__).recover()
    count = len(await events_of(logs[A]))
    report = await Ledger(store, logs.__getitem__).recover()
    assert report.interrupted_runs == [] and report.departed_devices == []
    assert len(await events_of(logs[A])) == count


async def test_recovery_on_a_fresh_store_creates_the_ledger(store: Store) -> None:
    report = await Ledger(store, lambda session: SessionLog(store, session)).recover()
    assert report.interrupted_runs == [] and report.departed_devices == []
    assert (await store.head("sessions/_ledger-main")).content_type == "application/json"


async def test_each_instance_recovers_only_its_own_ledger(store: Store) -> None:
    """Two processes on one store: one restarting must not end the other's live runs."""
    log = SessionLog(store, A)
    await log.create()
    mine = Ledger(store, lambda session: log, "one")
    theirs = Ledger(store, lambda session: log, "two")
    for ledger, run in ((mine, "r-mine"), (theirs, "r-theirs")):
        await ledger.log.create()
        await ledger.open(A, RUN, run)
        await log.append(EventType.RUN_STARTED, run=run, agent="text")
    report = await Ledger(store, lambda session: log, "one").recover()
    assert report.interrupted_runs == [(A, "r-mine")]
    assert [e["run"] for e in await events_of(log) if e["type"] == "run.interrupted"] == ["r-mine"]


@pytest.mark.parametrize("how", ["an append finds it gone", "the heartbeat touches it"])
async def test_a_vanished_ledger_is_recreated_with_what_is_open(store: Store, how: str) -> None:
    """Expired, or Redis restarted empty: the ledger comes back with this process's open
    things, so a restart or a survivor still ends them; before, every send answered 500."""
    logs = {session: SessionLog(store, session) for session in (A, B)}
    ledger = Ledger(store, logs.__getitem__)
    await ledger.recover()
    for log in logs.values():
        await log.create()
    await ledger.open(A, RUN, "r-open")
    await ledger.open(A, RUN, "r-closed")
    await ledger.close(A, RUN, "r-closed")
    await ledger.log.flushed()
    await store.delete(ledger.log.path)
    if how == "the heartbeat touches it":
        await ledger.touch()
    await ledger.open(B, RUN, "r-new")
    await ledger.log.flushed()
    report = await Ledger(store, logs.__getitem__).recover()  # what a restart would do
    assert sorted(report.interrupted_runs) == [(A, "r-open"), (B, "r-new")]


async def test_a_long_open_run_keeps_its_open_record_through_redis_trimming(
    redis_server: RedisServer,
) -> None:
    """Redis keeps ``max_records`` records per stream. A run open while many other things open
    and close (here 400 other runs against 60 records) must keep its "open" record, or a
    restart (or a survivor's reaper) never writes its run.interrupted: the ledger writes what
    is still open again every ``refresh_every`` writes."""
    store = RedisStore.from_url(
        f"{redis_server.url}?prefix=trim-{uuid.uuid4().hex[:8]}:&max_records=60"
    )
    try:
        logs = {session: SessionLog(store, session) for session in (A, B)}
        ledger = Ledger(store, logs.__getitem__, refresh_every=20)
        await ledger.log.create()
        for log in logs.values():
            await log.create()
        await ledger.open(A, RUN, "r-long")
        await logs[A].append(EventType.RUN_STARTED, run="r-long", agent="text")
        for number in range(400):
            await ledger.open(B, RUN, f"r-{number}")
            await ledger.close(B, RUN, f"r-{number}")
            if number % 50 == 0:
                await ledger.log.flushed()  # many records, not one group commit
        await ledger.log.flushed()
        entries = [json.loads(raw) async for batch in ledger.log.scan() for raw in batch.events]
        assert not any(e["key"] == "r-0" for e in entries), "the store did not trim the ledger"
        report = await Ledger(store, logs.__getitem__).recover()  # the restart after a kill -9
        assert report.interrupted_runs == [(A, "r-long")]
        endings = [e for e in await events_of(logs[A]) if e["type"] == "run.interrupted"]
        assert [e["run"] for e in endings] == ["r-long"]
    finally:
        await store.aclose()
