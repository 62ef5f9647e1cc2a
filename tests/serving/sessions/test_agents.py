"""Agents: parameters, the registry, and the demo agents (text, orchestrator)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from serving.sessions.agents import (
    ORCHESTRATOR,
    SUB_AGENTS,
    TEXT_AGENT,
    Agent,
    AgentRegistry,
    Param,
    demo_agents,
)
from serving.sessions.errors import InvalidSteer, UnknownAgent
from serving.sessions.runs import Run, RunContext
from serving.sessions.session import SessionLog
from serving.streams import Store

SESSION = "0123456789abcdef0123456789abcdef"


# --- parameters and the registry ------------------------------------------------------------


def test_number_params_check_type_and_range() -> None:
    speed = Param(default=1.0, minimum=0.5, maximum=10)
    assert speed.check("speed", 2) == 2.0
    for bad, message in [("fast", "must be a number"), (True, "must be a number"), (11, "between")]:
        with pytest.raises(InvalidSteer, match=message):
            speed.check("speed", bad)
    length = Param(default=0, minimum=0)
    assert length.check("length", 3.0) == 3
    with pytest.raises(InvalidSteer, match="whole number"):
        length.check("length", 2.5)


def test_choice_and_text_params() -> None:
    size = Param(default="short", choices=("short", "long"))
    assert size.check("size", "long") == "long"
    with pytest.raises(InvalidSteer, match="one of short, long"):
        size.check("size", "medium")
    with pytest.raises(InvalidSteer, match="must be a string"):
        Param(default="").check("tone", 3)


def test_agent_params_defaults_overrides_and_unknown_names() -> None:
    assert TEXT_AGENT.initial_params({"speed": 5}) == {"speed": 5.0, "length": 0}
    with pytest.raises(InvalidSteer, match="no parameter colour; it accepts: length, speed"):
        TEXT_AGENT.check_params({"colour": "red"})


def test_registry_names_agents_and_says_what_exists() -> None:
    registry = demo_agents()
    assert registry.get("text") is TEXT_AGENT
    assert "orchestrator" in registry
    with pytest.raises(
        UnknownAgent, match="no agent named 'gpt'; this server has: orchestrator, text"
    ):
        registry.get("gpt")
    with pytest.raises(ValueError, match="already registered"):
        registry.add(TEXT_AGENT)
    described = registry.describe()
    assert described["text"]["params"]["speed"]["minimum"] == 0.1
    assert AgentRegistry().describe() == {}


# --- the demo agents, run for real -------------------------------------------------------------


async def run_agent(
    store: Store, agent: Agent, request: dict[str, Any], **params: Any
) -> list[dict]:
    log = SessionLog(store, SESSION)
    await log.create()
    run = Run(
        run_id="r-1",
        agent=agent,
        log=log,
        request=request,
        params=agent.initial_params(params),
        device="laptop",
        cancel_grace=0.05,
        on_end=lambda ended: None,
    )
    run.start()
    await asyncio.wait_for(run.finished(), 10)
    return [json.loads(item) async for batch in log.scan() for item in batch.events]


@pytest.mark.anyio
async def test_text_agent_streams_the_message_token_by_token(memory_store: Store) -> None:
    events = await run_agent(memory_store, TEXT_AGENT, {"text": "to be or not"}, speed=1000)
    deltas = [e["data"]["text"] for e in events if e["type"] == "delta"]
    assert deltas == ["to", " be", " or", " not"]
    assert events[-1]["data"] == {"result": {"text": "to be or not"}}


@pytest.mark.anyio
async def test_text_agent_length_sets_the_number_of_tokens(memory_store: Store) -> None:
    events = await run_agent(memory_store, TEXT_AGENT, {"text": "la di"}, speed=1000, length=5)
    assert events[-1]["data"]["result"]["text"] == "la di la di la"


@pytest.mark.anyio
async def test_text_agent_without_text_fails_with_what_to_send(memory_store: Store) -> None:
    events = await run_agent(memory_store, TEXT_AGENT, {"prompt": "hi"})
    assert events[-1]["type"] == "run.failed"
    assert 'send data {"text": "..."}' in events[-1]["data"]["error"]


@pytest.mark.anyio
async def test_a_speed_steer_takes_effect_mid_run(memory_store: Store) -> None:
    log = SessionLog(memory_store, SESSION)
    await log.create()
    run = Run(
        run_id="r-1",
        agent=TEXT_AGENT,
        log=log,
        request={"text": "one two three four five six"},
        params=TEXT_AGENT.initial_params({"speed": 0.2}),  # a token every 5 s
        device="laptop",
        cancel_grace=0.05,
        on_end=lambda ended: None,
    )
    run.start()
    await asyncio.sleep(0.05)  # the first token goes at once, the second is 5 s away
    run.steer({"speed": 1000.0})
    await asyncio.wait_for(run.finished(), 4)  # done long before the next slow token was due
    events = [json.loads(item) async for batch in log.scan() for item in batch.events]
    assert events[-1]["data"]["result"]["text"] == "one two three four five six"


@pytest.mark.anyio
async def test_orchestrator_sub_agents_publish_directly_and_it_never_relays(
    memory_store: Store,
) -> None:
    published_by: list[str] = []
    original = RunContext._publish

    async def spy(self: RunContext, type: Any, data: Any) -> None:
        published_by.append(self.agent)
        await original(self, type, data)

    RunContext._publish = spy  # type: ignore[method-assign]
    try:
        events = await run_agent(memory_store, ORCHESTRATOR, {"text": "red green blue"}, speed=1000)
    finally:
        RunContext._publish = original  # type: ignore[method-assign]

    names = {agent.name for agent in SUB_AGENTS}
    # the orchestrator published nothing itself: every agent event came from a sub-agent context
    assert "orchestrator" not in published_by
    assert set(published_by) == names
    by_agent: dict[str, list[str]] = {}
    for event in events:
        by_agent.setdefault(event["agent"], []).append(event["type"])
    assert by_agent["orchestrator"] == ["run.completed"]
    assert by_agent["counter"] == ["progress"] * 3 + ["prediction"]
    assert by_agent["shouter"] == ["delta"] * 3 + ["prediction"]
    assert by_agent["reverser"] == ["delta"] * 3 + ["prediction"]
    # each sub-agent result is in the log exactly once, under its own name
    predictions = [e for e in events if e["type"] == "prediction"]
    assert sorted(e["agent"] for e in predictions) == sorted(names)
    result = events[-1]["data"]["result"]
    assert result["agents"]["shouter"] == {"text": "RED GREEN BLUE"}
    assert result["agents"]["reverser"] == {"text": "blue green red"}
    assert result["agents"]["counter"] == {"words": 3, "characters": 12}
    assert "3 words" in result["summary"]
