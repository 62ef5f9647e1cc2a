"""ClassroomService: what the classroom endpoints do, between the HTTP layer and the store.

Two durable streams per classroom, in the server's store (SQLite, memory or Redis), written
only here (the streams API refuses writes under ``classrooms/``): ``classrooms/<CODE>/log``
(the room's ``created`` record, then joins, checks, hands: what serving.classroom.room folds)
and ``classrooms/<CODE>/messages`` (the instructor's broadcasts). Offsets, resume and the
idempotent producers are the streams layer's: a learner's batch is one ``store.append`` with
its Producer-Id/Epoch/Seq, so a retried batch is stored once (204) whatever process serves it.

Retention: both streams get a sliding TTL equal to the server's session TTL (``--session-ttl``,
3 days by default), renewed by every read and write of either (a join, an event, a room read,
an inbox poll; each also renews the other stream, at most once a quarter TTL), so a classroom
nobody used for that long goes as an idle session does, log and messages together;
``--session-ttl none`` keeps classrooms for ever. An expired stream is removed on its next
access or by the server's retention sweep, which looks at every ``classrooms/`` stream
(serving.retention; SQLite, memory), or by Redis's own expiry.

Tokens (serving.tokens): the instructor's on ``classrooms/<CODE>`` with ``read`` (the room),
``write`` (messages) and ``control``; a learner's on ``classrooms/<CODE>/learners/<id>`` with
``write`` and the learner id as subject, which is where the server takes the learner from.
"""

from __future__ import annotations

import asyncio
import math
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from serving.classroom.errors import (
    ClassroomForbidden,
    ClassroomNotFound,
    ClassroomRateLimited,
    ClassroomUnauthorized,
    InvalidClassroomRequest,
    LearnerNotFound,
)
from serving.classroom.follower import Followers, RoomFollower, log_path, messages_path
from serving.classroom.room import (
    LEARNER_ID,
    Room,
    code_problem,
    new_code,
    parse_code,
    stamped,
    unique_name,
)
from serving.sessions.ratelimit import ClientLimits, ClientRate
from serving.streams.errors import StreamGone, StreamNotFound
from serving.streams.offsets import TAIL, ZERO, Offset
from serving.streams.rules import encode_json
from serving.streams.store import AppendRequest, AppendResult, CreateRequest, ProducerClaim, Store
from serving.tokens import Grant, TokenError, TokenSigner

JSON = "application/json"
INSTRUCTOR = "instructor"
INSTRUCTOR_SCOPES = ("read", "write", "control")
LEARNER_SCOPES = ("write",)
AGENDA_NAMES = ("one-day", "two-days")
MESSAGE_KINDS = ("message", "hint")
MAX_TITLE = 120
MAX_MESSAGE = 500
MAX_WAIT_SECONDS = 30.0

CLASSROOM_RATES: dict[str, ClientRate] = {
    "classroom_joins": ClientRate(burst=300, per_minute=120),
    "classroom_events": ClientRate(burst=60, per_minute=120),
}
"""Joins per network address, event batches per learner (docs/PROTOCOL.md, Classroom).
A room behind one NAT address (or a 200-learner benchmark on loopback) joins at once within
the burst; a learner checking every few seconds sends ~20 batches a minute, a reconnect
flushes its queue in one: 120 a minute is six times that. A script that loops on join is
held to 2 a second, so filling a room with fake learners takes minutes, in plain view."""


@dataclass(frozen=True)
class Joined:
    learner: str
    name: str
    token: str


class ClassroomService:
    """The classrooms of one server process (the store is shared with other processes)."""

    def __init__(
        self,
        store: Store,
        *,
        signer: TokenSigner | None,
        open_access: bool = False,
        ttl_seconds: float | None = None,
        token_ttl_seconds: float | None = None,
        max_read_bytes: int = 4 * 1024 * 1024,
        exercises: Callable[[], Sequence[str]] = tuple,
        pace: Callable[[str | None, float | None, str | None, float], dict[str, Any]] | None = None,
        clock: Callable[[], float] = time.time,
        rates: dict[str, ClientRate] | None = None,
    ) -> None:
        self.store = store
        # An --open server has no secret, yet a learner's identity is their token: such a
        # server signs classroom tokens with a key of this process (gone at a restart).
        self.signer = signer if signer is not None else TokenSigner(secrets.token_bytes(32))
        self.open_access = open_access
        self.ttl_seconds = None if ttl_seconds is None else max(1, math.ceil(ttl_seconds))
        self.token_ttl_seconds = token_ttl_seconds
        self.clock = clock
        self._exercises = exercises
        self._pace = pace
        self.followers = Followers(store, self._room, max_read_bytes=max_read_bytes)
        self.limits = ClientLimits(dict(CLASSROOM_RATES if rates is None else rates))
        self._join_locks: dict[str, asyncio.Lock] = {}
        self._touched: dict[str, float] = {}
        """Stream path -> when this process last renewed it on the side (``_touch``)."""

    def _room(self, code: str) -> Room:
        return Room(code, exercises=tuple(self._exercises()), pace=self._pace)

    # --- access ----------------------------------------------------------------------------

    def _grant(self, token: str | None, who: str) -> Grant:
        if not token:
            raise ClassroomUnauthorized(
                f"this endpoint needs the {who} token: send 'Authorization: Bearer <token>' "
                "or '?access_token=<token>'"
            )
        try:
            return self.signer.verify(token, now=self.clock())
        except TokenError as error:
            raise ClassroomUnauthorized(str(error)) from None

    def may_create(self, token: str | None) -> None:
        """Creating a classroom needs ``operate`` (on ``classrooms/*``, or the ``sessions/*``
        the local page's operator token has), unless the server is open."""
        if self.open_access:
            return
        grant = self._grant(
            token, "an operator ('serving token --scope operate --stream classrooms/*')"
        )
        if not (grant.allows("operate", "classrooms/") or grant.allows("operate", "sessions/")):
            raise ClassroomForbidden(
                "creating a classroom needs the 'operate' scope: mint one with 'serving token "
                "--scope operate --stream classrooms/*' (your token grants "
                f"{', '.join(sorted(grant.scopes))} on {grant.resource!r})"
            )

    def instructor(self, token: str | None, scope: str, code: str) -> None:
        """Check the instructor's token for ``scope`` on the classroom (none on --open)."""
        if self.open_access and not token:
            return
        grant = self._grant(token, "instructor's")
        if not grant.allows(scope, f"classrooms/{code}"):
            raise ClassroomForbidden(
                f"your token does not grant {scope!r} on classroom {code}: this is the "
                "instructor's (from POST /v1/classrooms); learners' tokens only send their "
                "own events"
            )

    def learner(self, token: str | None, code: str) -> str:
        """The learner id a learner token names for this classroom."""
        grant = self._grant(token, "learner's (from joining the classroom)")
        learner = grant.subject
        if not LEARNER_ID.fullmatch(learner) or not grant.allows(
            "write", f"classrooms/{code}/learners/{learner}"
        ):
            raise ClassroomForbidden(
                f"this token is not a learner's token of classroom {code} (it grants "
                f"{', '.join(sorted(grant.scopes))} on {grant.resource!r}): join this "
                "classroom to get one"
            )
        return learner

    def limit(self, kind: str, client: str | None) -> None:
        if self.open_access or client is None:
            return
        wait = self.limits.take(kind, client)
        if wait <= 0:
            return
        rate = self.limits.rates[kind]
        retry_after = max(1, math.ceil(wait))
        what = "joins" if kind == "classroom_joins" else "event batches"
        raise ClassroomRateLimited(
            f"too many {what} from {client} (at most {rate.burst} at once, then "
            f"{rate.per_minute:g} a minute): retry in {retry_after} s",
            retry_after=retry_after,
        )

    # --- classrooms ------------------------------------------------------------------------

    @staticmethod
    def code_of(text: str) -> str:
        code = parse_code(text)
        if code is None:
            raise ClassroomNotFound(code_problem(text))
        return code

    async def create(
        self, title: str, agenda: str | None, starts_at: float | None
    ) -> tuple[str, float, str]:
        """A new classroom: its code, creation time and instructor token."""
        now = self.clock()
        created = {
            "type": "created",
            "title": title,
            "agenda": agenda,
            "starts_at": starts_at,
            "ts": now,
        }
        for _ in range(8):  # 31^6 codes: a collision is already rare, eight in a row never
            code = new_code(secrets.choice)
            request = CreateRequest(
                content_type=JSON,
                ttl_seconds=self.ttl_seconds,
                initial=encode_json({**created, "code": code}),
            )
            result = await self.store.create(log_path(code), request)
            if result.created:
                await self.store.create(
                    messages_path(code),
                    CreateRequest(content_type=JSON, ttl_seconds=self.ttl_seconds),
                )
                token = self.signer.mint(
                    f"classrooms/{code}",
                    INSTRUCTOR_SCOPES,
                    subject=INSTRUCTOR,
                    ttl_seconds=self.token_ttl_seconds,
                )
                return code, now, token
        raise RuntimeError("no free classroom code after 8 tries")  # pragma: no cover

    async def follower(self, code: str) -> RoomFollower:
        """The room's follower, caught up with the log (CLASSROOM_NOT_FOUND if it is gone)."""
        follower = self.followers.get(code)
        try:
            await follower.sync()
        except (StreamNotFound, StreamGone):
            follower.gone = True
            raise ClassroomNotFound(code_problem(code)) from None
        return follower

    async def join(self, code: str, name: str) -> Joined:
        lock = self._join_locks.setdefault(code, asyncio.Lock())
        async with lock:  # names are made unique against an up-to-date fold
            follower = await self.follower(code)
            shown = unique_name(name, follower.room.learner_names())
            learner = "l-" + secrets.token_hex(6)
            event = {"type": "joined", "learner": learner, "name": shown, "ts": self.clock()}
            await self._append(code, AppendRequest(data=encode_json(event), content_type=JSON))
            await follower.sync()
        token = self.signer.mint(
            f"classrooms/{code}/learners/{learner}",
            LEARNER_SCOPES,
            subject=learner,
            ttl_seconds=self.token_ttl_seconds,
        )
        return Joined(learner, shown, token)

    async def _append(self, code: str, request: AppendRequest) -> AppendResult:
        try:
            result = await self.store.append(log_path(code), request)
            await self._touch(messages_path(code))
            return result
        except (StreamNotFound, StreamGone):
            raise ClassroomNotFound(code_problem(code)) from None

    async def _touch(self, path: str) -> None:
        """Renew the other stream of a classroom in use (a read renews a stream's TTL), at
        most once a quarter TTL per process: a room is one thing, its log and its messages
        stay or go together whichever of them its learners use."""
        if self.ttl_seconds is None:
            return
        now = self.clock()
        if now - self._touched.get(path, -math.inf) < self.ttl_seconds / 4:
            return
        await self.store.read(path, TAIL, 0)
        self._touched[path] = now
        if len(self._touched) > 10_000:  # rooms come and go: forget the oldest
            for key in list(self._touched)[:5_000]:
                del self._touched[key]

    async def events(
        self, code: str, learner: str, claim: ProducerClaim, events: list[dict[str, Any]]
    ) -> AppendResult:
        """Append a learner's validated batch as one record, under their producer claim."""
        if claim.id != learner and not claim.id.startswith(learner + "/"):
            # '<learner>/<name>': a second producer of the same learner (the learner page,
            # next to the notebook), with sequence numbers of its own
            raise InvalidClassroomRequest(
                f"Producer-Id must be your learner id {learner!r} (the server stores your "
                f"events under it), or {learner + '/<name>'!r} for a second sender of yours "
                f"such as the learner page, not {claim.id!r}"
            )
        data = b",".join(encode_json(event) for event in stamped(events, learner, self.clock()))
        return await self._append(code, AppendRequest(data=data, content_type=JSON, producer=claim))

    async def message(self, code: str, text: str, to: str | None, kind: str) -> str:
        if to is not None:
            follower = await self.follower(code)
            if not follower.room.has_learner(to):
                raise LearnerNotFound(
                    f"no learner {to!r} joined classroom {code}: send to a learner id of the "
                    "room (its 'learners'), or to null for everyone"
                )
        record = encode_json({"text": text, "kind": kind, "to": to, "ts": self.clock()})
        try:
            result = await self.store.append(
                messages_path(code), AppendRequest(data=record, content_type=JSON)
            )
        except (StreamNotFound, StreamGone):
            raise ClassroomNotFound(code_problem(code)) from None
        return str(result.tail)

    async def inbox(
        self, code: str, learner: str, after: Offset, wait: float
    ) -> tuple[list[dict[str, Any]], str]:
        """Messages to everyone or to ``learner`` after ``after``, waiting up to ``wait``
        seconds for one; and the offset to ask from next."""
        path = messages_path(code)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        try:
            await self._touch(log_path(code))  # a polling learner keeps the room
            while True:
                result = await self.store.read(path, after, 1024 * 1024)
                found = []
                position = after
                for record in result.records:
                    position = position.after(len(record))
                    message = _one(record)
                    if message.get("to") in (None, learner):
                        found.append(
                            {
                                "offset": str(position),
                                "text": message.get("text"),
                                "kind": message.get("kind"),
                                "to": message.get("to"),
                                "ts": message.get("ts"),
                            }
                        )
                after = result.next_offset
                remaining = deadline - loop.time()
                if found or not result.up_to_date:
                    if found or remaining <= 0:
                        return found, str(after)
                    continue
                if remaining <= 0:
                    return found, str(after)
                await self.store.wait(path, after, remaining)
        except (StreamNotFound, StreamGone):
            raise ClassroomNotFound(code_problem(code)) from None

    def stop(self) -> None:
        self.followers.stop()


def _one(record: bytes) -> dict[str, Any]:
    import json

    value = json.loads(record)
    return value if isinstance(value, dict) else {}


def parse_after(text: str | None) -> Offset:
    if text is None or text in ("", "-1"):
        return ZERO
    return Offset.parse(text)
