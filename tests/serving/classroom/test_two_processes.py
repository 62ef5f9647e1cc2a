"""Two server processes on one redis-server serve one classroom: a learner joins through one,
sends through the other (the producer's retry lands on the first and is a duplicate), and the
room read or watched through either is the same grid, live (each process follows the log)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from benchmarks.redis_server import RedisServer
from serving.background import BackgroundServer
from serving.config import ServerConfig
from tests.serving.classroom.conftest import SECRET, bearer, check, create_room, join, send
from tests.serving.classroom.test_endpoints import room_events


@pytest.fixture
def pair(redis_server: RedisServer) -> Iterator[tuple[BackgroundServer, BackgroundServer]]:
    url = f"{redis_server.url}?prefix=classroom-pair-{uuid.uuid4().hex[:8]}:"
    with (
        BackgroundServer(ServerConfig(store_url=url, secret=SECRET)) as first,
        BackgroundServer(ServerConfig(store_url=url, secret=SECRET)) as second,
    ):
        yield first, second


def test_one_room_across_two_processes(pair: tuple[BackgroundServer, BackgroundServer]) -> None:
    first, second = pair
    with httpx.Client(base_url=first.url) as one, httpx.Client(base_url=second.url) as two:
        room = create_room(one)
        code = room["code"]
        ada = join(one, code, "Ada")
        assert join(two, code, "Ada")["name"] == "Ada (2)"  # the second process folded the join
        batch = [check("04.2", "correct")]
        assert send(two, code, ada, batch, seq=0).status_code == 200
        assert send(one, code, ada, batch, seq=0).status_code == 204  # a retry elsewhere
        views = [
            c.get(f"/v1/classrooms/{code}/room", headers=bearer(room["instructor_token"])).json()
            for c in (one, two)
        ]
        assert views[0]["cells"] == views[1]["cells"]
        assert views[0]["cells"][ada["learner"]]["04.2"]["attempts"] == 1
        # watched through the first, changed through the second: the first's follower sees it
        bob = join(two, code, "Bob")
        _, changed = room_events(
            first,
            room,
            2,
            after=lambda: send(two, code, bob, [check("01.1", mistake="leak")], seq=0),
        )
        assert changed["mistakes"] == {"01.1": [{"mistake": "leak", "learners": 1}]}
