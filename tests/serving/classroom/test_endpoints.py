"""The classroom endpoints over a real server (uvicorn on loopback), on SQLite and on a real
redis-server: the same tests on both stores are the contract (docs/PROTOCOL.md, Classroom)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from serving.background import BackgroundServer
from serving.config import ServerConfig
from serving.sessions.ratelimit import ClientLimits, ClientRate
from tests.serving.classroom.conftest import (
    OPERATE,
    SIGNER,
    bearer,
    check,
    create_room,
    join,
    send,
)


@pytest.fixture
def room(http: httpx.Client) -> dict[str, Any]:
    return create_room(http, title="Tuesday", agenda="one-day", starts_at=time.time() - 3600)


def snapshot(http: httpx.Client, room: dict[str, Any]) -> dict[str, Any]:
    response = http.get(
        f"/v1/classrooms/{room['code']}/room", headers=bearer(room["instructor_token"])
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def error(response: httpx.Response, status: int, code: str, said: str = "") -> str:
    assert response.status_code == status, response.text
    body = response.json()["error"]
    assert body["code"] == code, body
    assert said.lower() in body["message"].lower(), body
    return str(body["message"])


# --- create and join ----------------------------------------------------------------------------


def test_create_returns_the_code_urls_and_the_instructor_token(
    http: httpx.Client, room: dict[str, Any], server: BackgroundServer
) -> None:
    code = room["code"]
    assert room["display_code"] == f"{code[:3]}-{code[3:]}"
    assert room["join_url"] == f"{server.url}/classroom/{code}/join"
    assert (
        room["page_url"] == f"{server.url}/classroom/{code}?access_token={room['instructor_token']}"
    )
    grant = SIGNER.verify(room["instructor_token"])
    assert (grant.resource, sorted(grant.scopes), grant.subject) == (
        f"classrooms/{code}",
        ["control", "read", "write"],
        "instructor",
    )
    first = snapshot(http, room)
    assert (first["code"], first["title"], first["learners"], first["cells"]) == (
        code,
        "Tuesday",
        [],
        {},
    )
    # each notebook's exercises, then its quiz (checks.quiz publishes as "<notebook>.quiz")
    assert first["exercises"][:5] == ["00.1", "00.quiz", "01.1", "01.2", "01.quiz"]
    assert first["exercises"][-1] == "13.quiz"
    assert first["pace"]["agenda"] == "one-day"
    assert first["pace"]["expected"] == "01"  # an hour in: 01 objective and data (09:45-10:10)


def test_creating_needs_the_operate_scope_and_a_sane_body(http: httpx.Client) -> None:
    error(http.post("/v1/classrooms"), 401, "UNAUTHORIZED", "operate")
    reader = SIGNER.mint("classrooms/*", ["read"])
    error(http.post("/v1/classrooms", headers=bearer(reader)), 403, "FORBIDDEN", "operate")
    error(http.post("/v1/classrooms", headers=bearer("v1.forged.token")), 401, "UNAUTHORIZED")
    page_operator = SIGNER.mint("sessions/*", ["read", "write", "operate"], subject="web-operator")
    assert http.post("/v1/classrooms", headers=bearer(page_operator)).status_code == 201
    for body, said in [
        ({"agenda": "three-days"}, "agenda"),
        ({"title": 5}, "title"),
        ({"starts_at": "9am"}, "starts_at"),
        ({"colour": "red"}, "colour"),
        ([], "one JSON object"),
    ]:
        error(
            http.post("/v1/classrooms", json=body, headers=bearer(OPERATE)),
            400,
            "BAD_REQUEST",
            said,
        )


def test_joining_with_the_code_as_typed(
    http: httpx.Client, room: dict[str, Any], server: BackgroundServer
) -> None:
    code = room["code"]
    ada = join(http, f"{code[:3].lower()}-{code[3:].lower()}", "  Ada ")
    assert ada["learner"].startswith("l-") and len(ada["learner"]) == 14
    assert (ada["name"], ada["code"]) == ("Ada", code)
    assert ada["inbox_url"] == f"{server.url}/v1/classrooms/{code}/inbox"
    assert ada["page_url"] == f"{server.url}/classroom/{code}/me?access_token={ada['token']}"
    grant = SIGNER.verify(ada["token"])
    assert (grant.resource, sorted(grant.scopes), grant.subject) == (
        f"classrooms/{code}/learners/{ada['learner']}",
        ["write"],
        ada["learner"],
    )
    assert join(http, code, "Ada")["name"] == "Ada (2)"
    assert join(http, code, "ada")["name"] == "ada (3)"
    learners = snapshot(http, room)["learners"]
    assert [each["name"] for each in learners] == ["Ada", "Ada (2)", "ada (3)"]


def test_join_refusals_say_what_to_do(http: httpx.Client, room: dict[str, Any]) -> None:
    error(
        http.post("/v1/classrooms/K7Q0M4/learners", json={"name": "Ada"}),
        404,
        "CLASSROOM_NOT_FOUND",
        "projector",
    )
    unknown = "ABCDEF" if room["code"] != "ABCDEF" else "ABCDEG"
    error(
        http.post(f"/v1/classrooms/{unknown}/learners", json={"name": "Ada"}),
        404,
        "CLASSROOM_NOT_FOUND",
        "projector",
    )
    url = f"/v1/classrooms/{room['code']}/learners"
    error(http.post(url, json={"name": ""}), 400, "INVALID_NAME", "empty")
    error(http.post(url, json={"name": "x" * 41}), 400, "INVALID_NAME", "at most 40")
    error(http.post(url, json={}), 400, "INVALID_NAME")
    error(http.post(url, content=b"not json"), 400, "BAD_REQUEST", "JSON")
    assert snapshot(http, room)["learners"] == []


# --- the learners' events -----------------------------------------------------------------------


def test_events_make_the_grid_and_a_retried_batch_is_stored_once(
    http: httpx.Client, room: dict[str, Any]
) -> None:
    code = room["code"]
    ada, bob = join(http, code, "Ada"), join(http, code, "Bob")
    batch = [
        check("04.2", mistake="stratify", attempt=1, at=10),
        {"type": "hand", "raised": True, "text": "stuck", "at": 11},
    ]
    stored = send(http, code, ada, batch, seq=0)
    assert stored.status_code == 200, stored.text
    assert stored.json()["offset"] == stored.headers["stream-next-offset"]
    assert (stored.headers["producer-epoch"], stored.headers["producer-seq"]) == ("0", "0")
    assert send(http, code, ada, batch, seq=0).status_code == 204  # the retry: stored once
    assert (
        send(http, code, bob, [check("04.2", mistake="stratify", at=12)], seq=0).status_code == 200
    )
    assert (
        send(http, code, ada, [check("04.2", "correct", attempt=2, at=13)], seq=1).status_code
        == 200
    )
    view = snapshot(http, room)
    assert (
        view["offset"]
        == send(http, code, ada, [check("04.2", "correct", attempt=2, at=13)], seq=1).headers[
            "stream-next-offset"
        ]
    )
    assert view["cells"][ada["learner"]]["04.2"] | {"ts": 0} == {
        "state": "passed",
        "attempts": 2,
        "mistake": None,
        "ts": 0,
    }
    assert view["cells"][bob["learner"]]["04.2"]["state"] == "trying"
    assert view["mistakes"] == {"04.2": [{"mistake": "stratify", "learners": 1}]}
    assert [(hand["name"], hand["text"]) for hand in view["hands"]] == [("Ada", "stuck")]
    assert view["pace"]["room"] == "04"


def test_the_producer_rules_of_the_streams(http: httpx.Client, room: dict[str, Any]) -> None:
    code = room["code"]
    ada = join(http, code, "Ada")
    gap = send(http, code, ada, [check("01.1")], seq=1)
    error(gap, 409, "PRODUCER_SEQ_GAP", "must be 0")
    assert gap.headers["producer-expected-seq"] == "0"
    assert send(http, code, ada, [check("01.1")], seq=0, epoch=2).status_code == 200
    stale = send(http, code, ada, [check("01.1")], seq=1, epoch=1)
    error(stale, 403, "PRODUCER_STALE_EPOCH", "epoch 1 is stale")
    assert stale.headers["producer-epoch"] == "2"
    error(send(http, code, ada, [check("01.1")], seq=3, epoch=3), 400, "PRODUCER_EPOCH_SEQ_INVALID")
    later = send(http, code, ada, [check("01.1")], seq=4, epoch=2)
    error(later, 409, "PRODUCER_SEQ_GAP", "1 is next")
    assert later.headers["producer-expected-seq"] == "1"
    other = send(http, code, ada, [check("01.1")], seq=0, producer="l-000000000000")
    error(other, 400, "BAD_REQUEST", "Producer-Id must be your learner id")
    prefixed = send(http, code, ada, [check("01.1")], seq=0, producer=ada["learner"] + "x/page")
    error(prefixed, 400, "BAD_REQUEST", "Producer-Id must be your learner id")
    # a second producer of the same learner (the learner page) has its own sequence
    hand = {"type": "hand", "raised": True, "text": "from the page", "at": 12}
    page = send(http, code, ada, [hand], seq=0, producer=ada["learner"] + "/page")
    assert page.status_code == 200
    no_headers = http.post(
        f"/v1/classrooms/{code}/events", json=[check("01.1")], headers=bearer(ada["token"])
    )
    error(no_headers, 400, "BAD_REQUEST", "Producer-Id")
    room_now = snapshot(http, room)
    assert room_now["cells"][ada["learner"]]["01.1"]["attempts"] == 1
    assert [h["text"] for h in room_now["hands"]] == ["from the page"]


def test_a_wrong_event_is_named_and_nothing_of_its_batch_is_stored(
    http: httpx.Client, room: dict[str, Any]
) -> None:
    code = room["code"]
    ada = join(http, code, "Ada")
    bad = [check("01.1"), {**check("01.2"), "verdict": "maybe"}]
    error(send(http, code, ada, bad, seq=0), 400, "INVALID_CLASSROOM_EVENT", "events[1].verdict")
    forged = [{**check("01.1"), "learner": "l-000000000000"}]
    error(send(http, code, ada, forged, seq=0), 400, "INVALID_CLASSROOM_EVENT", "events[0].learner")
    error(
        send(http, code, ada, {"type": "check"}, seq=0),
        400,
        "INVALID_CLASSROOM_EVENT",
        "JSON array",
    )
    assert snapshot(http, room)["cells"] == {}
    assert send(http, code, ada, [check("01.1")], seq=0).status_code == 200  # seq 0 still next


def test_a_body_past_the_limit_is_refused_declared_or_sent(
    http: httpx.Client, room: dict[str, Any]
) -> None:
    code = room["code"]
    ada = join(http, code, "Ada")
    url = f"/v1/classrooms/{code}/events"
    headers = {
        **bearer(ada["token"]),
        "producer-id": ada["learner"],
        "producer-epoch": "0",
        "producer-seq": "0",
    }
    big = b"[" + b" " * (256 * 1024) + b"]"
    declared = http.post(url, content=big, headers=headers)
    error(declared, 413, "PAYLOAD_TOO_LARGE", f"the body of {len(big)} bytes exceeds")
    sent = http.post(url, content=iter([big[:1000], big[1000:]]), headers=headers)  # chunked
    error(sent, 413, "PAYLOAD_TOO_LARGE", "the body exceeds 262144 bytes")
    assert send(http, code, ada, [check("01.1")], seq=0).status_code == 200  # nothing stored


def test_tokens_and_scopes(http: httpx.Client, room: dict[str, Any]) -> None:
    code = room["code"]
    other = create_room(http)
    ada, eve = join(http, code, "Ada"), join(http, other["code"], "Eve")
    # a learner of another classroom, the instructor, no token, a forged one
    error(
        send(http, code, eve, [check("01.1")], seq=0, producer=eve["learner"]),
        403,
        "FORBIDDEN",
        "join this classroom",
    )
    instructor = {"learner": "instructor", "token": room["instructor_token"]}
    error(send(http, code, instructor, [check("01.1")], seq=0), 403, "FORBIDDEN")
    error(http.post(f"/v1/classrooms/{code}/events", json=[check("01.1")]), 401, "UNAUTHORIZED")
    error(
        send(http, code, {**ada, "token": ada["token"][:-2] + "xx"}, [check("01.1")], seq=0),
        401,
        "UNAUTHORIZED",
        "signature",
    )
    # the room and messages are the instructor's; the other room's instructor cannot read this one
    room_url = f"/v1/classrooms/{code}/room"
    error(http.get(room_url, headers=bearer(ada["token"])), 403, "FORBIDDEN", "instructor")
    error(http.get(room_url, headers=bearer(other["instructor_token"])), 403, "FORBIDDEN")
    error(http.get(room_url), 401, "UNAUTHORIZED")
    error(http.get(f"{room_url}?access_token=a&access_token=b"), 400, "BAD_REQUEST", "access_token")
    said = {"text": "hello"}
    error(
        http.post(f"/v1/classrooms/{code}/messages", json=said, headers=bearer(ada["token"])),
        403,
        "FORBIDDEN",
    )
    reader = SIGNER.mint(f"classrooms/{code}", ["read"], subject="instructor")
    error(
        http.post(f"/v1/classrooms/{code}/messages", json=said, headers=bearer(reader)),
        403,
        "FORBIDDEN",
        "'write'",
    )
    # an inbox is the learner's: the instructor's token is not a learner's
    error(
        http.get(f"/v1/classrooms/{code}/inbox", headers=bearer(room["instructor_token"])),
        403,
        "FORBIDDEN",
    )
    assert snapshot(http, room)["cells"] == {}


def test_the_logs_are_read_only_through_the_streams_api(
    http: httpx.Client, room: dict[str, Any]
) -> None:
    token = SIGNER.mint("*", ["read", "write"])
    response = http.post(
        f"/v1/stream/classrooms/{room['code']}/log",
        content=json.dumps(
            {"type": "joined", "learner": "l-000000000000", "name": "Mallory", "ts": 1}
        ),
        headers={**bearer(token), "content-type": "application/json"},
    )
    error(response, 403, "CLASSROOM_LOG_READ_ONLY", "/v1/classrooms")
    assert snapshot(http, room)["learners"] == []


# --- messages and the inbox ---------------------------------------------------------------------


def test_messages_reach_everyone_or_one_learner(http: httpx.Client, room: dict[str, Any]) -> None:
    code = room["code"]
    ada, bob = join(http, code, "Ada"), join(http, code, "Bob")
    url = f"/v1/classrooms/{code}/messages"
    teacher = bearer(room["instructor_token"])
    to_all = http.post(url, json={"text": "break until 11", "to": None}, headers=teacher)
    assert to_all.status_code == 201, to_all.text
    to_bob = http.post(
        url,
        json={"text": "look at stratify=", "to": bob["learner"], "kind": "hint"},
        headers=teacher,
    )
    assert to_bob.status_code == 201
    error(
        http.post(url, json={"text": "x", "to": "l-000000000000"}, headers=teacher),
        404,
        "LEARNER_NOT_FOUND",
        "no learner",
    )
    error(http.post(url, json={"text": ""}, headers=teacher), 400, "BAD_REQUEST", "text")
    error(
        http.post(url, json={"text": "x", "kind": "shout"}, headers=teacher),
        400,
        "BAD_REQUEST",
        "kind",
    )

    def inbox(learner: dict[str, Any], query: str = "") -> dict[str, Any]:
        response = http.get(f"/v1/classrooms/{code}/inbox{query}", headers=bearer(learner["token"]))
        assert response.status_code == 200, response.text
        return dict(response.json())

    for_ada, for_bob = inbox(ada), inbox(bob)
    assert [m["text"] for m in for_ada["messages"]] == ["break until 11"]
    assert [(m["text"], m["kind"], m["to"]) for m in for_bob["messages"]] == [
        ("break until 11", "message", None),
        ("look at stratify=", "hint", bob["learner"]),
    ]
    assert for_bob["messages"][0]["offset"] == to_all.json()["offset"]
    assert for_ada["next"] == for_bob["next"] == to_bob.json()["offset"]
    assert inbox(bob, f"?after={for_bob['next']}")["messages"] == []
    assert [
        m["text"] for m in inbox(bob, f"?after={for_bob['messages'][0]['offset']}")["messages"]
    ] == ["look at stratify="]
    error(
        http.get(f"/v1/classrooms/{code}/inbox?after=soon", headers=bearer(ada["token"])),
        400,
        "INVALID_OFFSET",
    )
    error(
        http.get(f"/v1/classrooms/{code}/inbox?wait=31", headers=bearer(ada["token"])),
        400,
        "BAD_REQUEST",
        "wait",
    )


def test_the_inbox_long_polls_until_a_message_for_the_learner(
    http: httpx.Client, room: dict[str, Any], server: BackgroundServer
) -> None:
    code = room["code"]
    ada, bob = join(http, code, "Ada"), join(http, code, "Bob")
    start = http.get(f"/v1/classrooms/{code}/inbox", headers=bearer(ada["token"])).json()["next"]
    answers: list[dict[str, Any]] = []

    def poll() -> None:
        with httpx.Client(base_url=server.url, timeout=60) as own:
            answers.append(
                own.get(
                    f"/v1/classrooms/{code}/inbox?after={start}&wait=30",
                    headers=bearer(ada["token"]),
                ).json()
            )

    service = server.app.state.classrooms
    waiting = threading.Event()
    store_wait = service.store.wait

    async def wait(path: str, after: Any, timeout: float) -> bool:
        if path.endswith("/messages"):
            waiting.set()
        return bool(await store_wait(path, after, timeout))

    service.store.wait = wait  # to post only once the poll waits in the server
    poller = threading.Thread(target=poll)
    poller.start()
    try:
        assert waiting.wait(20), "the inbox did not wait for a message"
    finally:
        del service.store.wait  # the class's method again
    teacher = bearer(room["instructor_token"])
    url = f"/v1/classrooms/{code}/messages"
    assert (
        http.post(url, json={"text": "only Bob", "to": bob["learner"]}, headers=teacher).status_code
        == 201
    )
    assert (
        http.post(url, json={"text": "for Ada", "to": ada["learner"]}, headers=teacher).status_code
        == 201
    )
    poller.join(45)
    assert not poller.is_alive()
    assert [m["text"] for m in answers[0]["messages"]] == ["for Ada"]


# --- the live room ------------------------------------------------------------------------------


def room_events(
    server: BackgroundServer, room: dict[str, Any], count: int, after: Any = None
) -> Iterator[dict[str, Any]]:
    """The first ``count`` ``room`` events of one SSE response; ``after()`` runs once the
    first has arrived."""
    url = (
        f"{server.url}/v1/classrooms/{room['code']}/room/events"
        f"?access_token={room['instructor_token']}"
    )
    with httpx.Client(timeout=30) as own, own.stream("GET", url) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        fields: dict[str, str] = {}
        seen = 0
        for line in response.iter_lines():
            if line.startswith("retry:"):
                assert line == "retry: 1000"
            elif line and not line.startswith(":"):
                name, _, value = line.partition(": ")
                fields[name] = value
            elif not line and fields:
                assert fields["event"] == "room"
                data = json.loads(fields["data"])
                assert data["offset"] == fields["id"]
                yield data
                seen += 1
                fields = {}
                if seen == 1 and after is not None:
                    after()
                if seen == count:
                    return


def test_the_room_stream_sends_a_snapshot_at_once_then_when_the_room_changes_and_again_on_reconnect(
    http: httpx.Client, room: dict[str, Any], server: BackgroundServer
) -> None:
    code = room["code"]
    ada = join(http, code, "Ada")
    first, second = room_events(
        server, room, 2, after=lambda: send(http, code, ada, [check("04.2", "correct")], seq=0)
    )
    assert [each["name"] for each in first["learners"]] == ["Ada"] and first["cells"] == {}
    assert second["offset"] > first["offset"]
    assert second["cells"][ada["learner"]]["04.2"]["state"] == "passed"
    (again,) = room_events(server, room, 1)  # a reconnect: a fresh, whole snapshot
    assert again["offset"] == second["offset"] and again["cells"] == second["cells"]


def test_a_burst_of_batches_is_coalesced_into_few_snapshots(
    http: httpx.Client, room: dict[str, Any], server: BackgroundServer
) -> None:
    code = room["code"]
    learners = [join(http, code, f"L{number}") for number in range(20)]

    def burst() -> None:
        for learner in learners:
            assert send(http, code, learner, [check("01.1", "correct")], seq=0).status_code == 200

    snapshots = []
    for each in room_events(server, room, 50, after=burst):
        snapshots.append(each)
        if len(each["cells"]) == len(learners):
            break
    assert len(snapshots[-1]["cells"]) == 20
    assert len(snapshots) <= 20  # 20 appends, never a snapshot per append and one more


def test_joins_and_events_are_rate_limited(
    http: httpx.Client, room: dict[str, Any], server: BackgroundServer
) -> None:
    service = server.app.state.classrooms
    saved = service.limits
    service.limits = ClientLimits(
        {
            "classroom_joins": ClientRate(burst=2, per_minute=1),
            "classroom_events": ClientRate(burst=1, per_minute=1),
        }
    )
    try:
        code = room["code"]
        ada = join(http, code, "Ada")
        join(http, code, "Bob")
        refused = http.post(f"/v1/classrooms/{code}/learners", json={"name": "Cy"})
        error(refused, 429, "RATE_LIMITED", "joins")
        assert int(refused.headers["retry-after"]) >= 1
        assert send(http, code, ada, [check("01.1")], seq=0).status_code == 200
        error(send(http, code, ada, [check("01.1")], seq=1), 429, "RATE_LIMITED", "event batches")
    finally:
        service.limits = saved
    assert [each["name"] for each in snapshot(http, room)["learners"]] == ["Ada", "Bob"]


def test_an_open_server_creates_rooms_without_a_token() -> None:
    config = ServerConfig(store_url="memory://", open_access=True)
    with BackgroundServer(config) as running, httpx.Client(base_url=running.url) as own:
        created = own.post("/v1/classrooms")
        assert created.status_code == 201, created.text
        code = created.json()["code"]
        ada = join(own, code, "Ada")
        assert send(own, code, ada, [check("01.1")], seq=0).status_code == 200
        view = own.get(f"/v1/classrooms/{code}/room").json()  # no instructor token on --open
        assert view["cells"][ada["learner"]]["01.1"]["attempts"] == 1
        error(
            own.get(f"/v1/classrooms/{code}/inbox"), 401, "UNAUTHORIZED"
        )  # a learner is their token
