"""ClassroomService without HTTP, on a store with an injected clock: retention (a classroom
idle for the session TTL goes, and use renews it) and the open server's own signer."""

from __future__ import annotations

import pytest

from serving.classroom.errors import ClassroomNotFound
from serving.classroom.service import ClassroomService
from serving.streams import MemoryStore
from serving.streams.offsets import ZERO
from serving.streams.store import ProducerClaim
from tests.serving.classroom.conftest import SIGNER, check

pytestmark = pytest.mark.anyio
TTL = 3600.0


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_a_classroom_idle_for_the_session_ttl_goes_and_use_renews_it() -> None:
    clock = Clock()
    store = MemoryStore(clock=clock)
    service = ClassroomService(store, signer=SIGNER, ttl_seconds=TTL, clock=clock)
    code, _, _ = await service.create("", None, None)
    joined = await service.join(code, "Ada")
    clock.now += TTL - 600
    claim = ProducerClaim(joined.learner, 0, 0)
    await service.events(code, joined.learner, claim, [check("01.1")])
    for _ in range(3):  # only the learner's inbox polls, every 50 minutes: the room is kept
        clock.now += TTL - 600
        await service.inbox(code, joined.learner, ZERO, 0)
    follower = await service.follower(code)
    assert follower.room.cells[joined.learner]["01.1"].attempts
    clock.now += TTL  # nobody for the TTL: both streams go
    with pytest.raises(ClassroomNotFound, match="check the code on the projector"):
        await service.join(code, "Bob")
    with pytest.raises(ClassroomNotFound):
        await service.inbox(code, joined.learner, ZERO, 0)
    await store.aclose()


async def test_no_ttl_keeps_classrooms() -> None:
    clock = Clock()
    store = MemoryStore(clock=clock)
    service = ClassroomService(store, signer=SIGNER, ttl_seconds=None, clock=clock)
    code, _, _ = await service.create("", None, None)
    clock.now += 365 * 86400
    assert (await service.join(code, "Ada")).name == "Ada"
    await store.aclose()


async def test_an_open_server_signs_learner_tokens_with_a_key_of_its_own() -> None:
    store = MemoryStore()
    service = ClassroomService(store, signer=None, open_access=True)
    code, _, _ = await service.create("", None, None)
    joined = await service.join(code, "Ada")
    assert service.learner(joined.token, code) == joined.learner
    service.instructor(None, "read", code)  # --open: no instructor token needed
    with pytest.raises(Exception, match="signature"):
        ClassroomService(store, signer=None, open_access=True).learner(joined.token, code)
    await store.aclose()
