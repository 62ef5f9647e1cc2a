"""Fixtures for the sessions tests: every store-backed test runs on each store listed here."""

from __future__ import annotations

import importlib.util
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from serving.app import create_app
from serving.config import ServerConfig
from serving.sessions.agents import ORCHESTRATOR, TEXT_AGENT, Agent, AgentRegistry, Param
from serving.sessions.runs import RunContext
from serving.sessions.settings import SessionSettings
from serving.streams import MemoryStore, Store
from serving.tokens import TokenSigner


def _sqlite(tmp_path: Path) -> Store:
    from serving.streams.sqlite import SQLiteStore

    return SQLiteStore(tmp_path / "sessions.db")


STORES: dict[str, Callable[[Path], Store]] = {"memory": lambda tmp_path: MemoryStore()}
if importlib.util.find_spec("serving.streams.sqlite") is not None:
    STORES["sqlite"] = _sqlite


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(params=sorted(STORES))
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    instance = STORES[request.param](tmp_path)
    try:
        yield instance
    finally:
        await instance.aclose()


@pytest.fixture
async def memory_store() -> AsyncIterator[Store]:
    """For tests about the sessions logic itself, where the store does not matter."""
    instance = MemoryStore()
    try:
        yield instance
    finally:
        await instance.aclose()


# --- an in-process server for the endpoint tests ----------------------------------------------

SECRET = b"session-tests-secret-0123456789"


async def wait_for_cancel(request: Mapping[str, Any], run: RunContext) -> str:
    """A test agent: streams one delta, then waits until someone cancels the run."""
    await run.delta("waiting")
    await run.cancelled.wait()
    return "stopped"


SLOW = Agent("slow", wait_for_cancel, params={"level": Param(default=1, minimum=0, maximum=9)})


def agents_for_tests() -> AgentRegistry:
    return AgentRegistry([TEXT_AGENT, ORCHESTRATOR, SLOW])


@pytest.fixture
def signer() -> TokenSigner:
    return TokenSigner(SECRET)


@pytest.fixture
def make_client(signer: TokenSigner) -> Iterator[Callable[..., TestClient]]:
    """Build an in-process server (memory store) with the given session settings."""
    clients: list[TestClient] = []

    def build(*, open_access: bool = False, **settings: Any) -> TestClient:
        options = {"presence_grace_seconds": 0.05, **settings}
        config = ServerConfig(
            store_url="memory://",
            open_access=open_access,
            secret=None if open_access else SECRET,
            sessions=SessionSettings(**options),
        )
        client = TestClient(create_app(config, MemoryStore(), agents=agents_for_tests()))
        client.__enter__()
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()


@pytest.fixture
def created(client: TestClient, signer: TokenSigner) -> dict[str, Any]:
    """A new session on ``client``: the body of POST /v1/sessions."""
    token = signer.mint("sessions/*", ["create"])
    response = client.post("/v1/sessions", headers={"authorization": f"Bearer {token}"})
    assert response.status_code == 201, response.text
    return response.json()
