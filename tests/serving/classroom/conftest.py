"""Fixtures of the classroom tests: a real server (uvicorn on loopback) on SQLite and on a real
redis-server, so the endpoint tests are the contract both stores keep."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from serving.background import BackgroundServer
from serving.config import ServerConfig
from serving.tokens import TokenSigner

SECRET = b"classroom-tests-secret-0123456789"
SIGNER = TokenSigner(SECRET)
OPERATE = SIGNER.mint("classrooms/*", ["operate"])
STORES = ("sqlite", "redis")


@pytest.fixture(scope="module", params=STORES)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BackgroundServer]:
    """A classroom server on each store (module-scoped: starting one costs ~0.3 s)."""
    if request.param == "sqlite":
        folder: Path = tmp_path_factory.mktemp("classroom")
        url = f"sqlite:///{folder / 'store.db'}"
    else:
        redis = request.getfixturevalue("redis_server")
        url = f"{redis.url}?prefix=classroom-{uuid.uuid4().hex[:8]}:"
    config = ServerConfig(store_url=url, secret=SECRET)
    with BackgroundServer(config) as running:
        yield running


@pytest.fixture
def http(server: BackgroundServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def create_room(http: httpx.Client, **options: Any) -> dict[str, Any]:
    response = http.post("/v1/classrooms", json=options, headers=bearer(OPERATE))
    assert response.status_code == 201, response.text
    return dict(response.json())


def join(http: httpx.Client, code: str, name: str) -> dict[str, Any]:
    response = http.post(f"/v1/classrooms/{code}/learners", json={"name": name})
    assert response.status_code == 201, response.text
    return dict(response.json())


def check(
    exercise: str,
    verdict: str = "not_yet",
    *,
    mistake: str | None = None,
    attempt: int = 1,
    at: float = 1_000.0,
) -> dict[str, Any]:
    return {
        "type": "check",
        "notebook": exercise[:2],
        "exercise": exercise,
        "check": "some_check",
        "verdict": verdict,
        "mistake": mistake,
        "attempt": attempt,
        "at": at,
    }


def send(
    http: httpx.Client,
    code: str,
    learner: dict[str, Any],
    events: Any,
    *,
    seq: int,
    epoch: int = 0,
    producer: str | None = None,
) -> httpx.Response:
    headers = {
        **bearer(learner["token"]),
        "producer-id": producer or learner["learner"],
        "producer-epoch": str(epoch),
        "producer-seq": str(seq),
    }
    return http.post(f"/v1/classrooms/{code}/events", json=events, headers=headers)
