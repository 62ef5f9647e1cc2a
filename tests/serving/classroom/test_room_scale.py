"""A real room (issue 19 item 5): 40 learners on flaky Wi-Fi, the instructor's grid exact.

A real server (``python -m serving``, tokens checked; SQLite, and a real redis-server) runs one
classroom. 40 learners, each the learner's own client (course.classroom.ClassroomClient, with
its own state folder, its sender and inbox threads), reach it only through a fault proxy
(tests/serving/faults.py) that cuts every connection at random every 0.1-0.8 s and twice
refuses every connection for a second (the Wi-Fi is gone). Each learner runs a check every
few hundred ms (the room's "every few seconds", compressed to keep the test short), working
through exercises (wrong attempts with a mistake id, then right), and some raise and lower
their hand. The instructor's page follows the room's SSE stream directly (it is on the
server's machine).

When the network is back and every learner's queue is delivered (bounded waits):

- the room snapshot (GET /v1/classrooms/{code}/room) equals the grid computed here from what
  the learners did: every cell's state, attempts and latest mistake, every hand;
- the raw log (the Durable Streams GET of classrooms/<CODE>/log, with a read token for it)
  holds each learner's events exactly once, in the order the learner made them;
- the page's SSE stream received snapshots while the network was failing, and its last one is
  the final snapshot.

The learners' threads (80, and the test's driver) share the test process; the server has its
own. Nothing is timed: counts, orders and bounded waits only.
"""

from __future__ import annotations

import contextlib
import json
import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from benchmarks.redis_server import RedisServer, redis_server_path
from benchmarks.servers import free_port
from serving.tokens import TokenSigner
from tests.serving.faults import ThreadedFaultProxy
from tests.serving.serving_process import serving_process

classroom = pytest.importorskip("course.classroom")

SECRET = "classroom-scale-secret-0123456789abcdef"
SIGNER = TokenSigner(SECRET.encode())
OPERATE = SIGNER.mint("*", ["operate"])
LEARNERS = 40
ACTIONS = 20
"""Checks and hands per learner: 800 events in about 7 s (an action every 0.2-0.5 s)."""
OUTAGE_SECONDS = 1.0
DELIVERY_SECONDS = 40.0
"""The bound on delivering every queue once the network is back (each sender backs off at
most 0.5 s, so a few seconds is the expected case on a loaded machine)."""
EXERCISES = ("01.1", "01.2", "02.1", "02.2", "03.1", "03.2", "03.3")
MISTAKES = ("leaky-split", "wrong-metric", "unscaled", "off-by-one")


@pytest.fixture(params=["sqlite", "redis"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'streams.db'}"
        return
    if redis_server_path() is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    with RedisServer() as redis:
        yield redis.url


@pytest.fixture
def server(store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("SERVING_SECRET", SECRET)
    port = free_port()
    (tmp_path / "models").mkdir()
    arguments = [
        *("--port", str(port), "--store", store_url),
        *("--data-dir", str(tmp_path / "data"), "--models", str(tmp_path / "models")),
    ]
    with serving_process(arguments, tmp_path / "server.log"):
        yield f"http://127.0.0.1:{port}"


class Page:
    """The instructor's page: the room's SSE stream in a thread, every snapshot kept."""

    def __init__(self, url: str, code: str, token: str) -> None:
        self.url = f"{url}/v1/classrooms/{code}/room/events"
        self.headers = {"authorization": f"Bearer {token}"}
        self.snapshots: list[dict[str, Any]] = []
        self.connections = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._follow, daemon=True)

    def _follow(self) -> None:
        while not self.stop.is_set():
            self.connections += 1
            with (
                contextlib.suppress(httpx.HTTPError),
                httpx.stream("GET", self.url, headers=self.headers, timeout=None) as response,
            ):
                event, data = "message", []
                for line in response.iter_lines():
                    if self.stop.is_set():
                        return
                    if not line:
                        if event == "room" and data:
                            self.snapshots.append(json.loads("\n".join(data)))
                        event, data = "message", []
                    elif line.startswith("event:"):
                        event = line[6:].strip()
                    elif line.startswith("data:"):
                        data.append(line[5:].removeprefix(" "))
            self.stop.wait(0.5)


class Learner:
    """What one learner did, in the order they did it (the events their client enqueued)."""

    def __init__(self, client: Any, rng: random.Random) -> None:
        self.client = client
        self.rng = rng
        self.events: list[dict[str, Any]] = []
        self.exercise = 0
        self.hand_up = False
        self.next_at = 0.0

    def act(self) -> None:
        if self.rng.random() < 0.12:
            self.hand_up = not self.hand_up
            if self.hand_up:
                self.client.help(f"stuck on {EXERCISES[self.exercise % len(EXERCISES)]}")
            else:
                self.client.lower_hand()
            self.events.append({"type": "hand", "raised": self.hand_up})
            return
        exercise = EXERCISES[self.exercise % len(EXERCISES)]
        right = self.rng.random() < 0.3
        event = self.client.publish_check(
            f"check_{exercise.replace('.', '_')}",
            "correct" if right else "not_yet",
            None if right else self.rng.choice(MISTAKES),
            notebook=exercise[:2],
            exercise=exercise,
        )
        assert event is not None
        self.events.append(event)
        if right and self.rng.random() < 0.8:  # some run a passed check again
            self.exercise += 1


def expected_grid(learners: list[Learner]) -> tuple[dict[str, Any], list[str]]:
    """The cells and the raised hands (learner ids, in no order) of what the learners did."""
    cells: dict[str, Any] = {}
    hands = []
    for learner in learners:
        row: dict[str, Any] = {}
        for event in learner.events:
            if event["type"] != "check":
                continue
            cell = row.setdefault(
                event["exercise"], {"state": "trying", "attempts": 0, "mistake": None}
            )
            cell["attempts"] += 1
            if event["verdict"] == "correct":
                cell["state"] = "passed"
            cell["mistake"] = None if cell["state"] == "passed" else event["mistake"]
        if row:
            cells[learner.client.learner] = row
        if learner.hand_up:
            hands.append(learner.client.learner)
    return cells, hands


def grid_of(snapshot: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    cells = {
        learner: {
            exercise: {key: cell[key] for key in ("state", "attempts", "mistake")}
            for exercise, cell in row.items()
        }
        for learner, row in snapshot["cells"].items()
    }
    return cells, [hand["learner"] for hand in snapshot["hands"]]


def read_log(url: str, code: str, token: str) -> list[dict[str, Any]]:
    """The whole raw log, read as any Durable Streams client reads it (page after page)."""
    events: list[dict[str, Any]] = []
    offset = "-1"
    with httpx.Client(headers={"authorization": f"Bearer {token}"}, timeout=30) as http:
        for _ in range(10_000):
            response = http.get(f"{url}/v1/stream/classrooms/{code}/log", params={"offset": offset})
            assert response.status_code == 200, response.text
            events += response.json()
            offset = response.headers["stream-next-offset"]
            if response.headers.get("stream-up-to-date") == "true":
                return events
    raise AssertionError("the log never said it was up to date")


def without_now(snapshot: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in snapshot.items() if key != "now"}


@pytest.mark.slow
def test_forty_learners_through_network_cuts_give_the_exact_grid_and_every_event_once(
    server: str, tmp_path: Path
) -> None:
    created = httpx.post(
        f"{server}/v1/classrooms",
        json={"title": "scale"},
        headers={"authorization": f"Bearer {OPERATE}"},
        timeout=30,
    )
    assert created.status_code == 201, created.text
    code, instructor = created.json()["code"], created.json()["instructor_token"]
    page = Page(server, code, instructor)
    page.thread.start()
    rng = random.Random(19)
    with ThreadedFaultProxy(int(server.rsplit(":", 1)[1]), seed=19) as proxy:
        learners = [
            Learner(
                classroom.ClassroomClient(
                    proxy.url,
                    code,
                    f"Learner {index}",
                    tmp_path / f"learner-{index}",
                    max_backoff=0.5,
                ).join(),
                random.Random(index),
            )
            for index in range(LEARNERS)
        ]
        try:
            proxy.cut_every(0.1, 0.8)
            # the run ends on counts, not on the clock: every learner acts ACTIONS times; the
            # Wi-Fi goes for a second when a third, then two thirds, of all actions are done
            outages = [LEARNERS * ACTIONS // 3, 2 * LEARNERS * ACTIONS // 3]
            back_at = None
            started = time.monotonic()
            for learner in learners:
                learner.next_at = started + rng.uniform(0, 0.4)
            while outages or any(len(learner.events) < ACTIONS for learner in learners):
                now, done = time.monotonic(), sum(len(learner.events) for learner in learners)
                if outages and done >= outages[0] and back_at is None:
                    proxy.refuse()
                    back_at = now + OUTAGE_SECONDS
                if back_at is not None and now >= back_at:
                    proxy.allow()
                    outages.pop(0)
                    back_at = None
                for learner in learners:
                    if now >= learner.next_at and len(learner.events) < ACTIONS:
                        learner.act()
                        learner.next_at = now + rng.uniform(0.2, 0.5)
                time.sleep(0.02)
            during_faults = len(page.snapshots)
            proxy.stop_cutting()
            proxy.allow()
            deadline = time.monotonic() + DELIVERY_SECONDS
            for learner in learners:
                delivered = learner.client.flush(timeout=max(deadline - time.monotonic(), 0.1))
                status = learner.client.status()
                assert delivered, (
                    f"{status.learner} still has {status.queued} events queued after the network "
                    f"came back (last problem: {status.last_error})"
                )
        finally:
            for learner in learners:
                learner.client.close()
        cuts, refused = proxy.cuts, proxy.refused
    assert cuts >= 3 and refused >= 2, "the network did not fail as planned"

    # the raw log: each learner's events once each, in the learner's order. Read with a token
    # an operator mints (`serving token`): the instructor's token is for `classrooms/<CODE>`,
    # which the streams layer matches exactly, so it does not reach `classrooms/<CODE>/log`.
    log = read_log(server, code, SIGNER.mint(f"classrooms/{code}/log", ["read"]))
    for learner in learners:
        mine = [event for event in log if event.get("learner") == learner.client.learner]
        assert [event["type"] for event in mine].count("joined") == 1
        sent = [event for event in mine if event["type"] != "joined"]
        assert len(sent) == len(learner.events), "an event was lost or stored twice"
        for stored, made_event in zip(sent, learner.events, strict=True):
            assert {key: stored[key] for key in made_event} == made_event

    # the grid: what the learners did, once the follower has read it all (bounded wait)
    expected = expected_grid(learners)
    room = f"{server}/v1/classrooms/{code}/room"
    headers = {"authorization": f"Bearer {instructor}"}
    deadline = time.monotonic() + 30
    while True:
        snapshot = httpx.get(room, headers=headers, timeout=30).json()
        cells, hands = grid_of(snapshot)
        if (cells, sorted(hands)) == (expected[0], sorted(expected[1])):
            break
        if time.monotonic() > deadline:
            assert cells == expected[0]
            assert sorted(hands) == sorted(expected[1])
        time.sleep(0.2)
    assert [each["learner"] for each in snapshot["learners"]] == [
        learner.client.learner for learner in learners
    ]
    assert all(
        each["hand"] is None for each in snapshot["learners"] if each["learner"] not in hands
    )

    # the page stayed live: snapshots while the network failed, and the final one last
    deadline = time.monotonic() + 30
    while not page.snapshots or page.snapshots[-1]["offset"] != snapshot["offset"]:
        assert time.monotonic() < deadline, "the page never showed the final snapshot"
        time.sleep(0.1)
    page.stop.set()
    assert during_faults >= 3
    final = httpx.get(room, headers=headers, timeout=30).json()
    assert without_now(page.snapshots[-1]) == without_now(final)


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_an_answer_cut_mid_body_stops_neither_the_sender_nor_the_inbox(
    server: str, tmp_path: Path
) -> None:
    created = httpx.post(
        f"{server}/v1/classrooms", headers={"authorization": f"Bearer {OPERATE}"}, timeout=30
    )
    code, instructor = created.json()["code"], created.json()["instructor_token"]
    headers = {"authorization": f"Bearer {instructor}"}
    with ThreadedFaultProxy(int(server.rsplit(":", 1)[1])) as proxy:
        client = classroom.ClassroomClient(
            proxy.url, code, "Ada", tmp_path / "ada", max_backoff=0.2, inbox_wait=1
        ).join()
        try:
            proxy.truncate(True)  # the server stores the batch; Ada gets half its answer
            client.publish_check(
                "check_01_1", "not_yet", "unscaled", notebook="01", exercise="01.1"
            )
            deadline = time.monotonic() + 20
            while proxy.truncated < 2:  # the sender's answer and the inbox's
                assert time.monotonic() < deadline, "no answer was cut"
                time.sleep(0.05)
            proxy.truncate(False)
            client.publish_check("check_01_1", "correct", None, notebook="01", exercise="01.1")
            assert client.flush(timeout=20), f"still queued: {client.status().queued}"
            sent = httpx.post(
                f"{server}/v1/classrooms/{code}/messages",
                json={"text": "look at the board", "to": None, "kind": "message"},
                headers=headers,
                timeout=30,
            )
            assert sent.status_code == 201, sent.text
            deadline = time.monotonic() + 20
            while not client.messages():
                assert time.monotonic() < deadline, "the inbox stopped"
                time.sleep(0.05)
        finally:
            client.close()
    room = httpx.get(f"{server}/v1/classrooms/{code}/room", headers=headers, timeout=30).json()
    cell = room["cells"][client.learner]["01.1"]
    assert (cell["state"], cell["attempts"]) == ("passed", 2)
