"""Agents: the code that answers a message, and the registry that names them.

An agent is an async function ``agent(request, run)``: ``request`` is the ``data`` of the user's
message, ``run`` a RunContext to publish with (``delta``, ``progress``, ``prediction``), to
read live parameters from (``run.params``), and to check for Stop (``run.cancelled``). What
it returns is the run's result (any JSON value), written in ``run.completed``.

An Agent wraps the function with a name and the parameters it accepts, at send time and while
running (steer): ``Param(default=20.0, minimum=0.1, maximum=1000)``. Two demo agents need no
ML: ``text`` streams an answer token by token; ``orchestrator`` runs three sub-agents that
publish straight into the session while it only coordinates and writes the final result.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from serving.sessions.commands import Scope
from serving.sessions.errors import InvalidSteer, UnknownAgent
from serving.sessions.runs import RunContext

AgentFunction = Callable[[Mapping[str, Any], RunContext], Coroutine[Any, Any, Any]]
"""An async function: a run is its task (asyncio.create_task takes a coroutine, not any
awaitable)."""


@dataclass(frozen=True, slots=True)
class Param:
    """A parameter an agent accepts: a number in a range, or one of some strings."""

    default: float | int | str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    help: str = ""

    def check(self, name: str, value: object) -> float | int | str:
        """The value if acceptable; InvalidSteer saying what is, otherwise."""
        if self.choices:
            if not isinstance(value, str) or value not in self.choices:
                raise InvalidSteer(
                    f"{name} must be one of {', '.join(self.choices)}; got {value!r}"
                )
            return value
        if isinstance(self.default, str):
            if not isinstance(value, str):
                raise InvalidSteer(f"{name} must be a string, got {value!r}")
            return value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidSteer(f"{name} must be a number, got {value!r}")
        if isinstance(self.default, int) and not float(value).is_integer():
            raise InvalidSteer(f"{name} must be a whole number, got {value!r}")
        if (self.minimum is not None and value < self.minimum) or (
            self.maximum is not None and value > self.maximum
        ):
            raise InvalidSteer(
                f"{name} must be between {self.minimum} and {self.maximum}, got {value!r}"
            )
        return int(value) if isinstance(self.default, int) else float(value)

    def describe(self) -> dict[str, Any]:
        described: dict[str, Any] = {"default": self.default, "help": self.help}
        if self.choices:
            described["choices"] = list(self.choices)
        else:
            described.update(minimum=self.minimum, maximum=self.maximum)
        return described


@dataclass(frozen=True)
class Agent:
    name: str
    run: AgentFunction
    params: Mapping[str, Param] = field(default_factory=dict)
    """What the agent accepts in ``send.params`` and ``steer.params``."""
    description: str = ""
    scope: Scope = Scope.WRITE
    """The token scope a ``send`` to this agent needs: ``write`` for an agent that answers in
    its session; ``operate`` for one that changes what every session shares, which no
    session's own token carries."""

    def check_params(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Checked values; InvalidSteer naming what the agent accepts otherwise."""
        unknown = sorted(set(values) - set(self.params))
        if unknown:
            accepted = ", ".join(sorted(self.params)) or "none"
            raise InvalidSteer(
                f"agent {self.name!r} has no parameter {', '.join(unknown)}; it accepts: {accepted}"
            )
        return {name: self.params[name].check(name, value) for name, value in values.items()}

    def initial_params(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Defaults, overridden by the checked ``values`` of a send."""
        params = {name: param.default for name, param in self.params.items()}
        params.update(self.check_params(values))
        return params

    def describe(self) -> dict[str, Any]:
        return {
            "description": self.description,
            "params": {name: param.describe() for name, param in self.params.items()},
        }


class AgentRegistry:
    """The agents a server offers, by name."""

    def __init__(self, agents: Iterable[Agent] = ()) -> None:
        self._agents: dict[str, Agent] = {}
        for agent in agents:
            self.add(agent)

    def add(self, agent: Agent) -> None:
        if agent.name in self._agents:
            raise ValueError(f"an agent named {agent.name!r} is already registered")
        self._agents[agent.name] = agent

    def get(self, name: str) -> Agent:
        try:
            return self._agents[name]
        except KeyError:
            available = ", ".join(sorted(self._agents)) or "none"
            raise UnknownAgent(f"no agent named {name!r}; this server has: {available}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._agents

    def describe(self) -> dict[str, Any]:
        return {name: agent.describe() for name, agent in sorted(self._agents.items())}


# --- demo agents ---------------------------------------------------------------------------

SPEED = Param(default=20.0, minimum=0.1, maximum=1_000_000.0, help="tokens per second")


def _words(request: Mapping[str, Any], agent: str) -> list[str]:
    text = request.get("text")
    if not isinstance(text, str) or not text.split():
        raise ValueError(f'the {agent} agent answers a text: send data {{"text": "..."}}')
    return text.split()


class _Pace:
    """Paces tokens at ``run.params['speed']`` per second, following speed changes at once."""

    def __init__(self, run: RunContext) -> None:
        self.run = run
        self.loop = asyncio.get_running_loop()
        self.speed = self._speed()
        self.anchor = self.loop.time()
        self.count = 0

    def _speed(self) -> float:
        return float(self.run.params.get("speed", SPEED.default))

    async def next(self) -> bool:
        """Wait for the next token's turn; False when the run was cancelled."""
        while not self.run.cancelled.is_set():
            if self._speed() != self.speed:  # steered: keep the pace from here on
                self.anchor, self.count, self.speed = self.loop.time(), 0, self._speed()
            delay = self.anchor + self.count / self.speed - self.loop.time()
            if delay <= 0.001:
                self.count += 1
                return True
            await self.run.sleep(delay)
        return False


async def stream_text(request: Mapping[str, Any], run: RunContext) -> dict[str, str]:
    """Answer by streaming the message's words back, one token at a time, ``length`` tokens."""
    words = _words(request, "text")
    pace = _Pace(run)
    tokens: list[str] = []
    while len(tokens) < (run.params["length"] or len(words)) and await pace.next():
        token = words[len(tokens) % len(words)]
        token = token if not tokens else " " + token
        tokens.append(token)
        await run.delta(token)
    return {"text": "".join(tokens)}


TEXT_AGENT = Agent(
    "text",
    stream_text,
    params={
        "speed": SPEED,
        "length": Param(
            default=0,
            minimum=0,
            maximum=1_000_000,
            help="tokens to write; 0 = as many as the message has words",
        ),
    },
    description="Demo: streams the message back token by token (no model needed).",
)


async def count_words(request: Mapping[str, Any], run: RunContext) -> dict[str, int]:
    words = _words(request, "counter")
    pace = _Pace(run)
    for done, word in enumerate(words, start=1):
        if not await pace.next():
            break
        await run.progress(done, len(words), note=word)
    result = {"words": len(words), "characters": sum(len(word) for word in words)}
    await run.prediction(result)
    return result


async def shout(request: Mapping[str, Any], run: RunContext) -> dict[str, str]:
    words = _words(request, "shouter")
    pace = _Pace(run)
    loud = []
    for word in words:
        if not await pace.next():
            break
        loud.append(word.upper())
        await run.delta(word.upper() + " ")
    result = {"text": " ".join(loud)}
    await run.prediction(result)
    return result


async def reverse(request: Mapping[str, Any], run: RunContext) -> dict[str, str]:
    words = _words(request, "reverser")
    pace = _Pace(run)
    backwards = []
    for word in reversed(words):
        if not await pace.next():
            break
        backwards.append(word)
        await run.delta(word + " ")
    result = {"text": " ".join(backwards)}
    await run.prediction(result)
    return result


SUB_AGENTS = (
    Agent("counter", count_words, description="Counts words, with progress."),
    Agent("shouter", shout, description="Streams the message in capitals."),
    Agent("reverser", reverse, description="Streams the message's words in reverse order."),
)


async def orchestrate(request: Mapping[str, Any], run: RunContext) -> dict[str, Any]:
    """Start the three sub-agents at once; they publish for themselves; combine their results."""
    _words(request, "orchestrator")
    results = await asyncio.gather(*(run.spawn(agent) for agent in SUB_AGENTS))
    by_agent = {agent.name: result for agent, result in zip(SUB_AGENTS, results, strict=True)}
    counted = by_agent["counter"]
    summary = (
        f"{counted['words']} words, {counted['characters']} letters; "
        f"loud: {by_agent['shouter']['text']}; reversed: {by_agent['reverser']['text']}"
    )
    return {"summary": summary, "agents": by_agent}


ORCHESTRATOR = Agent(
    "orchestrator",
    orchestrate,
    params={"speed": SPEED},
    description="Demo: three sub-agents (counter, shouter, reverser) publish straight into the "
    "session; the orchestrator only coordinates and writes the final result.",
)


def demo_agents() -> AgentRegistry:
    """The agents of a server without models: ``text`` and ``orchestrator``."""
    return AgentRegistry([TEXT_AGENT, ORCHESTRATOR])
