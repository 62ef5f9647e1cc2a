"""Runs: one ending per run, Stop that really stops, steer delivered, backpressure."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

import pytest

from serving.sessions import runs as runs_module
from serving.sessions.agents import Agent, Param
from serving.sessions.runs import HIGH_WATER, Run, RunContext, RunEnded, RunState
from serving.sessions.session import SessionLog
from serving.streams import Store

pytestmark = pytest.mark.anyio

SESSION = "0123456789abcdef0123456789abcdef"


async def start_run(
    store: Store,
    agent: Agent,
    request: Mapping[str, Any] | None = None,
    *,
    grace: float = 0.05,
) -> tuple[Run, SessionLog]:
    log = SessionLog(store, SESSION)
    await log.create()
    run = Run(
        run_id="r-1",
        agent=agent,
        log=log,
        request=request or {},
        params=agent.initial_params({}),
        device="laptop",
        cancel_grace=grace,
        on_end=lambda ended: None,
    )
    run.start()
    return run, log


async def events_of(log: SessionLog) -> list[dict[str, Any]]:
    await log.flushed()
    return [json.loads(item) async for batch in log.scan() for item in batch.events]


async def test_a_completed_run_ends_with_its_result(memory_store: Store) -> None:
    async def answer(request: Mapping[str, Any], run: RunContext) -> dict[str, int]:
        await run.delta("4")
        await run.progress(1, 1)
        await run.prediction({"value": 2})
        return {"answer": 42}

    run, log = await start_run(memory_store, Agent("calc", answer))
    await run.finished()
    events = await events_of(log)
    assert [(e["type"], e["agent"], e["data"]) for e in events] == [
        ("delta", "calc", {"text": "4"}),
        ("progress", "calc", {"done": 1, "total": 1, "note": None}),
        ("prediction", "calc", {"value": 2}),
        ("run.completed", "calc", {"result": {"answer": 42}}),
    ]
    assert all(e["run"] == "r-1" for e in events)
    assert run.state is RunState.ENDED and not run.active


async def test_an_agent_error_ends_the_run_with_failed(memory_store: Store) -> None:
    async def broken(request: Mapping[str, Any], run: RunContext) -> None:
        raise LookupError("no such model: ghost")

    run, log = await start_run(memory_store, Agent("broken", broken))
    await run.finished()
    assert (await events_of(log))[-1]["type"] == "run.failed"
    assert (await events_of(log))[-1]["data"] == {
        "error": "no such model: ghost",
        "kind": "LookupError",
    }


async def test_a_refused_request_is_logged_as_one_line_and_a_bug_with_its_traceback(
    memory_store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    async def strict(request: Mapping[str, Any], run: RunContext) -> None:
        raise ValueError("the row has 2 problems:\n  - a: missing\n  - b: not a number")

    async def buggy(request: Mapping[str, Any], run: RunContext) -> None:
        raise KeyError("oops")

    for agent in (Agent("strict", strict), Agent("buggy", buggy)):
        run, _ = await start_run(memory_store, agent)
        await run.finished()
    refused, bug = [r for r in caplog.records if r.name == "serving.sessions.runs"]
    assert refused.getMessage() == (
        "run r-1: agent strict refused the request: the row has 2 problems: - a: missing - b: "
        "not a number"
    )
    assert refused.exc_info is None
    assert bug.getMessage() == "run r-1: agent buggy failed" and bug.exc_info is not None


def test_request_mistakes_are_value_errors_and_4xx_refusals() -> None:
    from serving.models.errors import ModelNotFound
    from serving.sessions.errors import InternalError
    from serving.sessions.runs import is_request_mistake

    assert is_request_mistake(ValueError("bad row"))
    assert is_request_mistake(ModelNotFound("no model named 'x'"))
    assert not is_request_mistake(InternalError("failed"))
    assert not is_request_mistake(KeyError("oops"))
    assert not is_request_mistake(RuntimeError("bug"))


async def test_a_result_that_is_not_json_fails_the_run_clearly(memory_store: Store) -> None:
    async def odd(request: Mapping[str, Any], run: RunContext) -> object:
        return {"when": object()}

    run, log = await start_run(memory_store, Agent("odd", odd))
    await run.finished()
    last = (await events_of(log))[-1]
    assert last["type"] == "run.failed"
    assert "cannot be stored" in last["data"]["error"]


async def test_cancel_stops_a_cooperative_agent_and_names_the_device(memory_store: Store) -> None:
    async def polite(request: Mapping[str, Any], run: RunContext) -> str:
        while not run.cancelled.is_set():
            await run.delta(".")
            await run.sleep(10)  # woken at once by the cancel
        return "stopped"

    run, log = await start_run(memory_store, Agent("polite", polite), grace=30)
    await asyncio.sleep(0.01)
    run.cancel("phone")
    await asyncio.wait_for(run.finished(), 5)  # far less than the 10 s sleep or 30 s grace
    last = (await events_of(log))[-1]
    assert (last["type"], last["device"]) == ("run.cancelled", "phone")


async def test_cancel_stops_an_agent_that_never_checks_after_the_grace(memory_store: Store) -> None:
    async def deaf(request: Mapping[str, Any], run: RunContext) -> None:
        await run.delta("thinking")
        await asyncio.sleep(60)

    run, log = await start_run(memory_store, Agent("deaf", deaf), grace=0.05)
    await asyncio.sleep(0.01)
    run.cancel("laptop")
    assert run.state is RunState.CANCELLING
    await asyncio.wait_for(run.finished(), 5)
    assert [e["type"] for e in await events_of(log)] == ["delta", "run.cancelled"]


async def test_cancel_and_interrupt_after_the_end_change_nothing(memory_store: Store) -> None:
    async def quick(request: Mapping[str, Any], run: RunContext) -> int:
        return 1

    run, log = await start_run(memory_store, Agent("quick", quick))
    await run.finished()
    run.cancel("laptop")
    run.interrupt("shutdown")
    assert [e["type"] for e in await events_of(log)] == ["run.completed"]


async def test_interrupt_ends_the_run_with_the_reason(memory_store: Store) -> None:
    async def slow(request: Mapping[str, Any], run: RunContext) -> None:
        await asyncio.sleep(60)

    run, log = await start_run(memory_store, Agent("slow", slow))
    run.interrupt("the server shut down")
    await asyncio.wait_for(run.finished(), 5)
    last = (await events_of(log))[-1]
    assert (last["type"], last["data"]) == ("run.interrupted", {"reason": "the server shut down"})


async def test_steer_reaches_the_agent_at_once(memory_store: Store) -> None:
    seen: list[float] = []

    async def listener(request: Mapping[str, Any], run: RunContext) -> None:
        seen.append(run.params["speed"])
        woken = await run.sleep(30)
        seen.append(run.params["speed"])
        assert woken

    agent = Agent("listener", listener, params={"speed": Param(default=1.0, minimum=0.0)})
    run, _ = await start_run(memory_store, agent)
    await asyncio.sleep(0.01)
    run.steer({"speed": 9.0})
    await asyncio.wait_for(run.finished(), 5)
    assert seen == [1.0, 9.0]


async def test_paced_agents_due_within_the_slack_wake_on_one_tick(
    memory_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    loop = asyncio.get_running_loop()
    wakes: list[float] = []
    call_at = loop.call_at

    def recorded(when: float, *args: Any, **context: Any) -> asyncio.TimerHandle:
        if args and args[0] is runs_module._resolve:
            wakes.append(when)
        return call_at(when, *args, **context)

    async def sleeper(request: Mapping[str, Any], run: RunContext) -> bool:
        return await run.sleep(request["seconds"])

    monkeypatch.setattr(loop, "call_at", recorded)
    started = loop.time()
    runs = [
        await start_run(memory_store, Agent(f"sleeper{n}", sleeper), {"seconds": seconds})
        for n, seconds in enumerate((0.0501, 0.0509))
    ]
    for run, _ in runs:
        await asyncio.wait_for(run.finished(), 5)
    slack = runs_module.SLEEP_SLACK_SECONDS
    assert len(wakes) == 2 and all(wake >= started + 0.0501 for wake in wakes)
    assert all(abs(wake / slack - round(wake / slack)) < 1e-6 for wake in wakes)  # on the grid
    assert max(wakes) - min(wakes) < slack + 1e-6  # one tick apart at most (the start moved)


async def test_a_fast_pace_keeps_its_rate_under_the_slack(
    memory_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    loop = asyncio.get_running_loop()
    asked: list[tuple[float, float]] = []
    call_at = loop.call_at

    def recorded(when: float, *args: Any, **context: Any) -> asyncio.TimerHandle:
        if args and args[0] is runs_module._resolve:
            asked.append((when, loop.time()))
        return call_at(when, *args, **context)

    async def quick(request: Mapping[str, Any], run: RunContext) -> None:
        for _ in range(5):
            await run.sleep(0.002)  # 500 tokens/s

    monkeypatch.setattr(loop, "call_at", recorded)
    run, _ = await start_run(memory_store, Agent("quick", quick))
    await asyncio.wait_for(run.finished(), 5)
    # each wake at most a tenth of its 2 ms pause late (0.2 ms), not on the 4 ms grid
    assert len(asked) == 5 and all(when - now <= 0.0022 + 1e-6 for when, now in asked)


async def test_publishing_after_the_end_is_an_error(memory_store: Store) -> None:
    contexts: list[RunContext] = []

    async def leaky(request: Mapping[str, Any], run: RunContext) -> None:
        contexts.append(run)

    run, _ = await start_run(memory_store, Agent("leaky", leaky))
    await run.finished()
    with pytest.raises(RunEnded, match="has ended"):
        await contexts[0].delta("too late")


async def test_a_fast_agent_is_held_back_before_the_queue_grows_unbounded(
    memory_store: Store,
) -> None:
    largest: list[int] = [0]

    async def firehose(request: Mapping[str, Any], run: RunContext) -> None:
        for index in range(20_000):
            await run.delta(str(index))
            largest[0] = max(largest[0], run._run.log.backlog)

    run, log = await start_run(memory_store, Agent("firehose", firehose))
    await asyncio.wait_for(run.finished(), 30)
    events = await events_of(log)
    assert len(events) == 20_001
    assert [e["data"]["text"] for e in events[:-1]] == [str(i) for i in range(20_000)]
    assert largest[0] <= HIGH_WATER + 1


async def test_written_returns_once_the_published_events_are_in_the_log(
    memory_store: Store,
) -> None:
    seen: list[list[str]] = []

    async def eager(request: Mapping[str, Any], run: RunContext) -> None:
        await run.prediction({"value": 1})
        await run.delta("later")
        await run.written()
        log = run._run.log
        seen.append(
            [json.loads(item)["type"] async for batch in log.scan() for item in batch.events]
        )

    run, _ = await start_run(memory_store, Agent("eager", eager))
    await run.finished()
    assert seen == [["prediction", "delta"]]
