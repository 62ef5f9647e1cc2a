"""SessionService: access, commands, idempotent retries, presence, shutdown."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

import pytest

from serving.sessions.agents import TEXT_AGENT, Agent, AgentRegistry, Param
from serving.sessions.commands import Cancel, Heartbeat, Scope, Send, Steer
from serving.sessions.errors import (
    Busy,
    EventTooLarge,
    InvalidDevice,
    InvalidSteer,
    RunNotActive,
    SessionForbidden,
    SessionNotFound,
    SessionUnauthorized,
    UnknownAgent,
)
from serving.sessions.runs import RunContext
from serving.sessions.service import Session, SessionService
from serving.sessions.settings import SessionSettings
from serving.streams import Store
from serving.tokens import TokenSigner

pytestmark = pytest.mark.anyio

SIGNER = TokenSigner(b"s" * 32)


async def wait_for_cancel(request: Mapping[str, Any], run: RunContext) -> str:
    await run.delta("waiting")
    await run.cancelled.wait()
    return "stopped"


SLOW = Agent("slow", wait_for_cancel, params={"level": Param(default=1, minimum=0, maximum=9)})


def make_service(store: Store, **settings: Any) -> SessionService:
    options = {"presence_grace_seconds": 0.05, **settings}
    return SessionService(
        store,
        agents=AgentRegistry([TEXT_AGENT, SLOW]),
        signer=SIGNER,
        settings=SessionSettings(**options),
    )


@pytest.fixture
async def service(memory_store: Store) -> AsyncIterator[SessionService]:
    instance = make_service(memory_store)
    await instance.start()
    yield instance
    await instance.stop()


async def new_session(service: SessionService) -> Session:
    created = await service.create(SIGNER.mint("sessions/*", [Scope.CREATE]))
    return await service.open(created.id)


async def events_of(session: Session) -> list[dict[str, Any]]:
    await session.log.flushed()
    return [json.loads(item) async for batch in session.log.scan() for item in batch.events]


async def until(condition: Any, timeout: float = 5) -> None:
    async with asyncio.timeout(timeout):
        while not await condition():
            await asyncio.sleep(0.005)


# --- access --------------------------------------------------------------------------------


async def test_create_returns_a_128_bit_id_and_tokens_with_growing_scopes(
    service: SessionService,
) -> None:
    created = await service.create(SIGNER.mint("sessions/*", [Scope.CREATE], subject="ana"))
    assert len(created.id) == 32 and int(created.id, 16) >= 0
    assert created.tokens is not None
    grants = {name: SIGNER.verify(token) for name, token in created.tokens.items()}
    assert {name: sorted(grant.scopes) for name, grant in grants.items()} == {
        "read": ["read"],
        "write": ["read", "write"],
        "control": ["control", "read", "write"],
    }
    assert {grant.resource for grant in grants.values()} == {f"sessions/{created.id}"}
    assert grants["read"].subject == "ana"
    assert created.id != (await service.create(SIGNER.mint("*", [Scope.CREATE]))).id


async def test_creating_needs_the_create_scope(service: SessionService) -> None:
    with pytest.raises(SessionUnauthorized, match="needs a token"):
        await service.create(None)
    with pytest.raises(SessionForbidden, match="does not grant 'create'"):
        await service.create(SIGNER.mint("sessions/*", [Scope.READ, Scope.WRITE]))
    with pytest.raises(SessionUnauthorized, match="signature"):
        await service.create(TokenSigner(b"x" * 32).mint("sessions/*", [Scope.CREATE]))


async def test_tokens_are_checked_for_the_session_and_the_scope(service: SessionService) -> None:
    one = await service.create(SIGNER.mint("*", [Scope.CREATE]))
    other = await service.create(SIGNER.mint("*", [Scope.CREATE]))
    assert one.tokens and other.tokens
    assert service.authorize(one.tokens["read"], Scope.READ, one.id) is not None
    with pytest.raises(SessionForbidden, match=f"does not grant 'read' on session {other.id}"):
        service.authorize(one.tokens["control"], Scope.READ, other.id)
    with pytest.raises(SessionForbidden, match="'write'"):
        service.authorize(one.tokens["read"], Scope.WRITE, one.id)
    with pytest.raises(SessionUnauthorized, match="malformed"):
        service.authorize("garbage", Scope.READ, one.id)
    expired = SIGNER.mint(f"sessions/{one.id}", [Scope.READ], ttl_seconds=-1)
    with pytest.raises(SessionUnauthorized, match="expired"):
        service.authorize(expired, Scope.READ, one.id)


async def test_a_grant_that_expires_during_a_connection_stops_working(
    service: SessionService,
) -> None:
    created = await service.create(SIGNER.mint("*", [Scope.CREATE]))
    token = SIGNER.mint(f"sessions/{created.id}", [Scope.READ], ttl_seconds=60)
    grant = service.authorize(token, Scope.READ, created.id)
    service.clock = lambda: 2e10
    with pytest.raises(SessionUnauthorized, match="expired"):
        service.check(grant, Scope.READ, created.id)


async def test_an_open_service_checks_nothing_and_mints_nothing(memory_store: Store) -> None:
    service = SessionService(
        memory_store, agents=AgentRegistry([TEXT_AGENT]), signer=None, open_access=True
    )
    created = await service.create(None)
    assert created.tokens is None
    assert service.authorize(None, Scope.CONTROL, created.id) is None


async def test_a_closed_service_needs_a_signer_and_a_known_default_agent(
    memory_store: Store,
) -> None:
    with pytest.raises(ValueError, match="needs a TokenSigner"):
        SessionService(memory_store, agents=AgentRegistry([TEXT_AGENT]), signer=None)
    with pytest.raises(ValueError, match="default agent 'text' is not registered"):
        SessionService(memory_store, agents=AgentRegistry([SLOW]), signer=SIGNER)


async def test_device_names(service: SessionService) -> None:
    assert service.device("laptop-1", None, "ws") == "laptop-1"
    with pytest.raises(InvalidDevice, match="1 to 64 letters"):
        service.device("my laptop", None, "ws")
    grant = SIGNER.verify(SIGNER.mint("*", ["read"], subject="ana@home"))
    assert service.device(None, grant, "ws") == "ana@home"
    assert service.device(None, None, "ws").startswith("ws-")


async def test_unknown_and_malformed_session_ids(service: SessionService) -> None:
    with pytest.raises(SessionNotFound, match="32 lowercase hexadecimal"):
        await service.open("../etc")
    with pytest.raises(SessionNotFound, match="no session"):
        await service.open("0" * 32)


# --- commands --------------------------------------------------------------------------------


async def test_send_writes_the_message_starts_a_run_and_acks_with_offset_and_run(
    service: SessionService,
) -> None:
    session = await new_session(service)
    ack = await service.execute(session, Send({"text": "hi you"}, params={"speed": 1000}), "laptop")
    assert ack["type"] == "ack" and ack["run"].startswith("r-")
    await until(lambda: _has(session, "run.completed"))
    events = await events_of(session)
    assert [e["type"] for e in events] == [
        "message",
        "run.started",
        "delta",
        "delta",
        "run.completed",
    ]
    message, started = events[0], events[1]
    assert message["offset"] == ack["offset"]
    assert (message["device"], message["run"], message["data"]) == (
        "laptop",
        ack["run"],
        {"text": "hi you"},
    )
    assert started["data"] == {"message": ack["offset"], "params": {"speed": 1000.0, "length": 0}}
    assert started["agent"] == "text"


async def _has(session: Session, kind: str) -> bool:
    return any(e["type"] == kind for e in await events_of(session))


async def test_refused_sends_write_nothing(service: SessionService) -> None:
    session = await new_session(service)
    with pytest.raises(UnknownAgent):
        await service.execute(session, Send({}, agent="oracle"), "laptop")
    with pytest.raises(InvalidSteer, match="between"):
        await service.execute(session, Send({"text": "x"}, params={"speed": -1}), "laptop")
    with pytest.raises(EventTooLarge):
        await service.execute(session, Send({"text": "x" * 2_000_000}), "laptop")
    assert await events_of(session) == []


async def test_busy_when_the_session_has_its_maximum_of_runs(memory_store: Store) -> None:
    service = make_service(memory_store, max_active_runs=2)
    await service.start()
    session = await new_session(service)
    for _ in range(2):
        await service.execute(session, Send({}, agent="slow"), "laptop")
    with pytest.raises(Busy, match="already has 2 active runs"):
        await service.execute(session, Send({}, agent="slow"), "laptop")
    await service.stop()


async def test_cancel_is_a_control_event_then_cancelled_naming_the_device(
    service: SessionService,
) -> None:
    session = await new_session(service)
    run = (await service.execute(session, Send({}, agent="slow"), "laptop"))["run"]
    ack = await service.execute(session, Cancel(run, id="stop"), "phone")
    await until(lambda: _has(session, "run.cancelled"))
    events = await events_of(session)
    control = next(e for e in events if e["type"] == "control")
    assert (control["offset"], control["device"], control["data"]) == (
        ack["offset"],
        "phone",
        {"action": "cancel"},
    )
    assert (events[-1]["type"], events[-1]["device"], events[-1]["run"]) == (
        "run.cancelled",
        "phone",
        run,
    )
    with pytest.raises(RunNotActive, match=r"has already ended \(run.cancelled\)"):
        await service.execute(session, Cancel(run), "laptop")
    with pytest.raises(RunNotActive, match="no active run 'r-nope'"):
        await service.execute(session, Cancel("r-nope"), "laptop")


async def test_a_second_cancel_while_stopping_is_refused(memory_store: Store) -> None:
    service = make_service(memory_store, cancel_grace_seconds=5)
    await service.start()

    async def stubborn(request: Mapping[str, Any], run: RunContext) -> None:
        await asyncio.shield(asyncio.sleep(0.2))

    service.agents.add(Agent("stubborn", stubborn))
    session = await new_session(service)
    run = (await service.execute(session, Send({}, agent="stubborn"), "laptop"))["run"]
    await service.execute(session, Cancel(run), "laptop")
    with pytest.raises(RunNotActive, match=r"already being cancelled .by laptop."):
        await service.execute(session, Cancel(run), "phone")
    await service.stop()


async def test_steer_is_checked_applied_and_logged(service: SessionService) -> None:
    session = await new_session(service)
    run = (await service.execute(session, Send({}, agent="slow"), "laptop"))["run"]
    with pytest.raises(InvalidSteer, match="no parameter speed; it accepts: level"):
        await service.execute(session, Steer(run, {"speed": 3}), "laptop")
    ack = await service.execute(session, Steer(run, {"level": 7}), "phone")
    assert session.runs[run].params == {"level": 7}
    control = [e for e in await events_of(session) if e["type"] == "control"]
    assert [(c["offset"], c["device"], c["data"]) for c in control] == [
        (ack["offset"], "phone", {"action": "steer", "params": {"level": 7}})
    ]


async def test_a_retried_command_is_done_once(service: SessionService) -> None:
    session = await new_session(service)
    first = await service.execute(session, Send({}, agent="slow", id="c1"), "laptop")
    again = await service.execute(session, Send({}, agent="slow", id="c1"), "laptop")
    assert again == first
    other_device = await service.execute(session, Send({}, agent="slow", id="c1"), "phone")
    assert other_device["run"] != first["run"]
    concurrent = await asyncio.gather(
        *(service.execute(session, Send({}, agent="slow", id="c2"), "laptop") for _ in range(5))
    )
    assert len({reply["run"] for reply in concurrent}) == 1
    messages = [e for e in await events_of(session) if e["type"] == "message"]
    assert len(messages) == 3


async def test_heartbeat_acks_without_writing(service: SessionService) -> None:
    session = await new_session(service)
    assert await service.execute(session, Heartbeat(id="h"), "laptop") == {
        "type": "ack",
        "id": "h",
        "offset": None,
    }
    assert await events_of(session) == []


# --- presence and shutdown -------------------------------------------------------------------


async def test_presence_joined_left_and_a_quick_return_writes_nothing(
    service: SessionService,
) -> None:
    session = await new_session(service)
    await service.attach(session, "laptop")
    await service.attach(session, "laptop")  # a second tab of the same device
    service.detach(session, "laptop")
    service.detach(session, "laptop")
    await service.attach(session, "laptop")  # back within the grace period
    service.detach(session, "laptop")
    await asyncio.sleep(0.2)
    events = await events_of(session)
    assert [(e["type"], e["device"]) for e in events] == [
        ("presence.joined", "laptop"),
        ("presence.left", "laptop"),
    ]
    assert events[-1]["data"] == {"reason": "disconnected"}


async def test_info_shows_runs_devices_and_agents(service: SessionService) -> None:
    session = await new_session(service)
    await service.attach(session, "phone")
    run = (await service.execute(session, Send({}, agent="slow"), "phone"))["run"]
    info = await service.info(session)
    assert info["runs"] == [
        {"run": run, "agent": "slow", "state": "running", "params": {"level": 1}}
    ]
    assert info["devices"] == ["phone"]
    assert set(info["agents"]) == {"text", "slow"}
    assert info["offset"] == (await events_of(session))[-1]["offset"]


async def test_stop_interrupts_runs_and_marks_devices_as_left(memory_store: Store) -> None:
    service = make_service(memory_store)
    await service.start()
    session = await new_session(service)
    await service.attach(session, "laptop")
    run = (await service.execute(session, Send({}, agent="slow"), "laptop"))["run"]
    await service.stop()
    events = await events_of(session)
    endings = [(e["type"], e["run"] or e["device"]) for e in events[-2:]]
    assert sorted(endings) == [("presence.left", "laptop"), ("run.interrupted", run)]
    # a new server on the same store finds nothing left open
    report = await make_service(memory_store).start()
    assert report.interrupted_runs == [] and report.departed_devices == []


# --- the in-process cache ------------------------------------------------------------------


async def test_idle_sessions_leave_the_cache_and_busy_ones_stay(
    service: SessionService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Created sessions are not cached; opened ones stay while a run, a connection or a recent
    request uses them, and leave once idle and untouched (they used to stay for the life of
    the process); a session that left opens again with its log whole."""
    import serving.sessions.service as module

    token = SIGNER.mint("sessions/*", [Scope.CREATE])
    created = [await service.create(token) for _ in range(50)]
    assert service._sessions == {}, "a created session nobody uses is not kept"
    opened = [await service.open(item.id) for item in created[:20]]
    busy, connected = opened[0], opened[1]
    await service.execute(busy, Send(data={}, agent="slow"), "laptop")
    await service.attach(connected, "phone")
    assert len(service._sessions) == 20
    monkeypatch.setattr(module, "IDLE_SESSION_SECONDS", 0.0)
    monkeypatch.setattr(module, "SWEEP_SECONDS", 0.0)
    await service.open(created[-1].id)  # a session entering the cache sweeps it
    assert set(service._sessions) == {busy.id, connected.id, created[-1].id}
    again = await service.open(created[5].id)
    assert again is not opened[5] and (await service.info(again))["offset"] == str(
        (await opened[5].log.head()).tail
    )
    (run,) = busy.runs
    await service.execute(busy, Cancel(run=run), "laptop")
    service.detach(connected, "phone")
