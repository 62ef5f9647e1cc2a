"""The classroom's pure core: join codes, names, the learners' events, and the Room fold.

No I/O here (like serving.streams.rules and serving.sessions.events): the HTTP layer
(serving.classroom.http) reads bodies and the store, this module decides. So the refusals
are tested once, and the grid the instructor sees is a function of the log alone: any
process that folds ``classrooms/<CODE>/log`` from the start computes the same snapshot, which
is what lets a Redis-backed server run several processes with one room.

Why a fold that forgives order and repeats. The log is written by many producers (every
learner is one, the server writes the joins), so learners' events interleave in any order;
each learner's own events arrive in order and once (the idempotent producer: a retried batch
is stored once). The fold still does not rely on the second property: a check is counted once
per (learner, exercise, attempt, learner clock), "passed" sticks whatever comes after, and a
learner's latest mistake is the one of their latest attempt, not the last one read. A bug in a
client that resends a batch under a new sequence number then costs nothing on the grid.

Why ``not_answered`` checks start no cell: "Run all" on a fresh learner notebook runs every
check with nothing answered; counted, it would paint the whole notebook as "trying" for every
learner who only opened it. They still say the learner is there (``last_seen``) and on which
notebook (the pace).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from serving.classroom.errors import InvalidClassroomEvent, InvalidName

# --- join codes ------------------------------------------------------------------------------

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
"""No 0/O, 1/I/L: a code read off a projector at the back of a room is typed right."""
CODE_LENGTH = 6
"""31^6 = 887 million codes: guessing one of a server's few live rooms by trying them is
hopeless under the join rate limit, and the code is the only secret a learner needs."""
_CODE = re.compile(f"[{CODE_ALPHABET}]{{{CODE_LENGTH}}}")


def parse_code(text: str) -> str | None:
    """``k7q-m4z`` -> ``K7QM4Z``; None when it is not a join code (wrong length or letters).
    One dash after the third character is accepted, as the projector shows it."""
    value = text.strip().upper()
    if len(value) == CODE_LENGTH + 1 and value[3] == "-":
        value = value[:3] + value[4:]
    return value if _CODE.fullmatch(value) else None


def display_code(code: str) -> str:
    """``K7QM4Z`` -> ``K7Q-M4Z``: two groups of three are read aloud without a mistake."""
    return f"{code[:3]}-{code[3:]}"


def new_code(choice: Callable[[str], str]) -> str:
    """A fresh code; ``choice`` picks one character (``secrets.choice``)."""
    return "".join(choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def code_problem(text: str) -> str:
    """The message of CLASSROOM_NOT_FOUND."""
    return (
        f"no classroom has the code {text!r}: check the code on the projector (6 letters and "
        "digits like K7Q-M4Z; there is no 0, O, 1, I or L in a code)"
    )


# --- learners --------------------------------------------------------------------------------

LEARNER_ID = re.compile(r"l-[0-9a-f]{12}")
"""``l-`` and 48 random bits: unique within a room, and short on a grid's tooltip."""
MAX_NAME = 40
"""A name fits a grid's row header on a projector."""


def clean_name(value: Any) -> str:
    """The name a learner chose, stripped; INVALID_NAME when it is not 1..40 characters of
    printable text."""
    if not isinstance(value, str):
        raise InvalidName('send {"name": "<your name>"}: a name is text, 1 to 40 characters')
    name = " ".join(value.split())
    if not name:
        raise InvalidName("the name is empty: type the name the instructor will see")
    if len(name) > MAX_NAME:
        raise InvalidName(f"the name has {len(name)} characters: use at most {MAX_NAME}")
    if not name.isprintable():
        raise InvalidName("the name holds control characters: type letters, digits, spaces")
    return name


def unique_name(name: str, taken: Iterable[str]) -> str:
    """``name``, or ``name (2)``, ``(3)``... if a learner of the room already has it (case
    and spacing ignored), so two Adas are two rows the instructor tells apart."""
    used = {each.casefold() for each in taken}
    if name.casefold() not in used:
        return name
    number = 2
    while f"{name} ({number})".casefold() in used:
        number += 1
    return f"{name} ({number})"


# --- the learners' events --------------------------------------------------------------------

MAX_EVENTS = 100
"""Events in one request: a learner's queue after a long cut is flushed in a few requests."""
MAX_HAND_TEXT = 200
MAX_MISTAKE = 80
VERDICTS = ("correct", "not_yet", "not_answered")
_NOTEBOOK = re.compile(r"[0-9]{2}")
_EXERCISE = re.compile(r"([0-9]{2})\.([0-9A-Za-z_]{1,20})")
_CHECK = re.compile(r"[A-Za-z_][A-Za-z0-9_.]{0,79}")
_FIELDS = {
    "check": {"type", "notebook", "exercise", "check", "verdict", "mistake", "attempt", "at"},
    "hand": {"type", "raised", "text", "at"},
}
_REQUIRED = {
    "check": ("notebook", "exercise", "check", "verdict", "attempt", "at"),
    "hand": ("raised", "at"),
}


def validate_events(value: Any) -> list[dict[str, Any]]:
    """The learner's batch, checked field by field; INVALID_CLASSROOM_EVENT naming the first
    wrong field (``events[3].verdict``) otherwise. The events returned are new dicts holding
    only the fields of the design, with ``mistake`` and ``text`` filled in when omitted."""
    if not isinstance(value, list) or not value:
        raise InvalidClassroomEvent(
            f"send a JSON array of 1 to {MAX_EVENTS} events "
            '([{"type": "check", ...}] or [{"type": "hand", ...}])'
        )
    if len(value) > MAX_EVENTS:
        raise InvalidClassroomEvent(
            f"{len(value)} events in one request: send at most {MAX_EVENTS}, the rest in the "
            "next request (with the next Producer-Seq)"
        )
    return [_event(index, event) for index, event in enumerate(value)]


def _event(index: int, event: Any) -> dict[str, Any]:
    where = f"events[{index}]"
    if not isinstance(event, dict):
        raise InvalidClassroomEvent(f"{where} is not a JSON object")
    kind = event.get("type")
    if kind not in _FIELDS:
        raise InvalidClassroomEvent(
            f"{where}.type is {kind!r}: a learner sends 'check' or 'hand' events"
        )
    unknown = sorted(set(event) - _FIELDS[kind])
    if unknown:
        raise InvalidClassroomEvent(
            f"{where}.{unknown[0]} is not a field of a {kind!r} event (it has "
            f"{', '.join(sorted(_FIELDS[kind]))}; the server adds learner and ts)"
        )
    for name in _REQUIRED[kind]:
        if name not in event:
            raise InvalidClassroomEvent(f"{where}.{name} is missing")
    at = event["at"]
    if isinstance(at, bool) or not isinstance(at, int | float) or not math.isfinite(at) or at < 0:
        raise InvalidClassroomEvent(f"{where}.at must be the time in Unix seconds (a number)")
    if kind == "hand":
        raised, text = event["raised"], event.get("text", "")
        if not isinstance(raised, bool):
            raise InvalidClassroomEvent(f"{where}.raised must be true or false")
        if not isinstance(text, str) or len(text) > MAX_HAND_TEXT:
            raise InvalidClassroomEvent(
                f"{where}.text must be text of at most {MAX_HAND_TEXT} characters"
            )
        return {"type": "hand", "raised": raised, "text": text, "at": at}
    notebook, exercise = event["notebook"], event["exercise"]
    if not isinstance(notebook, str) or not _NOTEBOOK.fullmatch(notebook):
        raise InvalidClassroomEvent(f"{where}.notebook must be a notebook id like '04'")
    match = _EXERCISE.fullmatch(exercise) if isinstance(exercise, str) else None
    if match is None or match.group(1) != notebook:
        raise InvalidClassroomEvent(
            f"{where}.exercise must be an exercise id of notebook {notebook} like '{notebook}.2'"
        )
    check = event["check"]
    if not isinstance(check, str) or not _CHECK.fullmatch(check):
        raise InvalidClassroomEvent(f"{where}.check must be the check's name (a Python name)")
    verdict = event["verdict"]
    if verdict not in VERDICTS:
        raise InvalidClassroomEvent(f"{where}.verdict must be one of {', '.join(VERDICTS)}")
    mistake = event.get("mistake")
    if mistake is not None and (
        not isinstance(mistake, str)
        or not 1 <= len(mistake) <= MAX_MISTAKE
        or not mistake.isprintable()
    ):
        raise InvalidClassroomEvent(
            f"{where}.mistake must be null or a mistake id of 1 to {MAX_MISTAKE} characters"
        )
    attempt = event["attempt"]
    if isinstance(attempt, bool) or not isinstance(attempt, int) or attempt < 1:
        raise InvalidClassroomEvent(f"{where}.attempt must be a whole number from 1")
    return {
        "type": "check",
        "notebook": notebook,
        "exercise": exercise,
        "check": check,
        "verdict": verdict,
        "mistake": mistake,
        "attempt": attempt,
        "at": at,
    }


def stamped(events: Sequence[Mapping[str, Any]], learner: str, ts: float) -> list[dict[str, Any]]:
    """The events as stored: the learner from the token (never from the body) and the
    server's clock, so no learner can write as another nor back-date the log."""
    return [{**event, "learner": learner, "ts": ts} for event in events]


# --- the fold --------------------------------------------------------------------------------


def exercise_key(exercise: str) -> tuple[int, int, str]:
    """Notebook order, then exercise number (``04.10`` after ``04.9``)."""
    notebook, _, rest = exercise.partition(".")
    number = int(rest) if rest.isdigit() else 10**6
    return (int(notebook) if notebook.isdigit() else 10**6, number, rest)


@dataclass
class _Cell:
    passed: bool = False
    attempts: set[tuple[int, float]] = field(default_factory=set)
    latest: tuple[float, int] = (-math.inf, 0)
    mistake: str | None = None
    ts: float = 0.0


@dataclass
class _Learner:
    learner: str
    name: str
    joined: float
    last_seen: float
    hand: dict[str, Any] | None = None
    hand_at: float = -math.inf
    """The learner clock of the hand event that set ``hand`` (the latest one wins)."""
    notebook: str | None = None
    notebook_at: float = -math.inf


@dataclass
class Room:
    """The fold of one classroom's log: feed it events in log order with ``apply``.

    ``exercises``: the course's exercise ids in notebook order (course.exercises), to which the
    ids seen in events are added. ``pace``: how to compute the pace section (serving.classroom
    gives course.agenda's; None leaves it empty).
    """

    code: str
    exercises: Sequence[str] = ()
    pace: Callable[[str | None, float | None, str | None, float], dict[str, Any]] | None = None
    title: str = ""
    agenda: str | None = None
    starts_at: float | None = None
    created_at: float | None = None
    learners: dict[str, _Learner] = field(default_factory=dict)
    cells: dict[str, dict[str, _Cell]] = field(default_factory=dict)
    seen_exercises: set[str] = field(default_factory=set)
    events: int = 0

    def apply(self, event: Mapping[str, Any]) -> None:
        """Fold one stored event (a ``created``, ``joined``, ``check`` or ``hand``). Events
        of learners who never joined, or of unknown types, are skipped: the log is only
        written by this layer, but a fold never fails on what it reads."""
        self.events += 1
        kind = event.get("type")
        if kind == "created":
            self.title = str(event.get("title") or "")
            self.agenda = event.get("agenda")
            self.starts_at = event.get("starts_at")
            self.created_at = event.get("ts")
            return
        learner_id = event.get("learner")
        if not isinstance(learner_id, str):
            return
        ts = float(event.get("ts") or 0.0)
        if kind == "joined":
            if learner_id not in self.learners:
                self.learners[learner_id] = _Learner(learner_id, str(event.get("name", "")), ts, ts)
            return
        learner = self.learners.get(learner_id)
        if learner is None:
            return
        learner.last_seen = max(learner.last_seen, ts)
        at = float(event.get("at") or 0.0)
        if kind == "hand":
            if at >= learner.hand_at:
                learner.hand_at = at
                learner.hand = (
                    {"text": event.get("text", ""), "ts": ts} if event.get("raised") else None
                )
            return
        if kind != "check":
            return
        exercise = str(event.get("exercise"))
        if at >= learner.notebook_at:
            learner.notebook_at = at
            learner.notebook = event.get("notebook")
        if event.get("verdict") == "not_answered":
            return
        self.seen_exercises.add(exercise)
        cell = self.cells.setdefault(learner_id, {}).setdefault(exercise, _Cell())
        attempt = int(event.get("attempt") or 0)
        cell.attempts.add((attempt, at))
        if event.get("verdict") == "correct":
            cell.passed = True
        if (at, attempt) >= cell.latest:
            cell.latest = (at, attempt)
            cell.mistake = None if event.get("verdict") == "correct" else event.get("mistake")
            cell.ts = ts

    def learner_names(self) -> list[str]:
        return [learner.name for learner in self.learners.values()]

    def has_learner(self, learner_id: str) -> bool:
        return learner_id in self.learners

    def snapshot(self, offset: str, now: float) -> dict[str, Any]:
        """The room as the instructor's page shows it (docs/PROTOCOL.md, Classroom)."""
        known = list(self.exercises)
        extra = sorted(self.seen_exercises.difference(known), key=exercise_key)
        exercises = sorted([*known, *extra], key=exercise_key) if extra else known
        cells: dict[str, dict[str, Any]] = {}
        mistakes: dict[str, Counter[str]] = {}
        for learner_id, row in self.cells.items():
            out = cells[learner_id] = {}
            for exercise, cell in row.items():
                out[exercise] = {
                    "state": "passed" if cell.passed else "trying",
                    "attempts": len(cell.attempts),
                    "mistake": None if cell.passed else cell.mistake,
                    "ts": cell.ts,
                }
                if not cell.passed and cell.mistake is not None:
                    mistakes.setdefault(exercise, Counter())[cell.mistake] += 1
        learners = [
            {
                "learner": each.learner,
                "name": each.name,
                "joined": each.joined,
                "last_seen": each.last_seen,
                "hand": each.hand,
            }
            for each in self.learners.values()
        ]
        hands = sorted(
            (
                {"learner": each.learner, "name": each.name, **each.hand}
                for each in self.learners.values()
                if each.hand is not None
            ),
            key=lambda hand: (hand["ts"], hand["learner"]),
        )
        on = Counter(each.notebook for each in self.learners.values() if each.notebook)
        # most learners; a tie goes to the earlier notebook (the room waits for the slower)
        room = min(on, key=lambda notebook: (-on[notebook], notebook)) if on else None
        pace = (
            self.pace(self.agenda, self.starts_at, room, now)
            if self.pace is not None
            else {
                "agenda": self.agenda,
                "expected": None,
                "room": room,
                "behind_minutes": None,
                "ahead_minutes": None,
            }
        )
        return {
            "code": self.code,
            "title": self.title,
            "offset": offset,
            "now": now,
            "learners": learners,
            "exercises": exercises,
            "cells": cells,
            "mistakes": {
                exercise: [
                    {"mistake": mistake, "learners": count}
                    for mistake, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
                ]
                for exercise, counts in sorted(mistakes.items(), key=lambda kv: exercise_key(kv[0]))
            },
            "hands": hands,
            "pace": pace,
        }
