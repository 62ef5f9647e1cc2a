"""The classroom's pure core: join codes, names, the learners' events checked field by field,
and the Room fold, which gives the grid of what the learners did whatever the order and
repetition of the log's events (serving/classroom/room.py)."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from serving.classroom.errors import InvalidClassroomEvent, InvalidName
from serving.classroom.room import (
    MAX_EVENTS,
    Room,
    clean_name,
    display_code,
    new_code,
    parse_code,
    stamped,
    unique_name,
    validate_events,
)
from tests.serving.classroom.conftest import check


def test_codes_read_off_a_projector() -> None:
    assert parse_code("k7q-m4z") == "K7QM4Z"
    assert parse_code(" K7QM4Z ") == "K7QM4Z"
    assert display_code("K7QM4Z") == "K7Q-M4Z"
    for wrong in ("K7QM4", "K7QM4ZZ", "K7QM0Z", "K7QMOZ", "K7QM1Z", "K7QMIZ", "K7QMLZ", "K7-QM4Z"):
        assert parse_code(wrong) is None, wrong
    code = new_code(random.Random(1).choice)
    assert parse_code(code) == code


def test_names_are_trimmed_bounded_and_made_unique() -> None:
    assert clean_name("  Ada   Lovelace ") == "Ada Lovelace"
    for wrong, said in [
        ("", "empty"),
        ("   ", "empty"),
        ("x" * 41, "41 characters"),
        (7, "a name is text"),
        (None, "a name is text"),
        ("a\x07b", "control"),
    ]:
        with pytest.raises(InvalidName, match=said):
            clean_name(wrong)
    assert unique_name("Ada", ["Bob"]) == "Ada"
    assert unique_name("Ada", ["ada", "Ada (2)"]) == "Ada (3)"


def test_a_valid_batch_keeps_only_the_fields_of_the_design() -> None:
    hand = {"type": "hand", "raised": True, "at": 5}
    checked = validate_events([check("04.2", mistake="stratify"), hand])
    assert checked[0] == check("04.2", mistake="stratify")
    assert checked[1] == {"type": "hand", "raised": True, "text": "", "at": 5}
    missing_mistake = check("04.2")
    del missing_mistake["mistake"]
    assert validate_events([missing_mistake])[0]["mistake"] is None
    assert stamped(checked, "l-0123456789ab", 9.0)[0]["learner"] == "l-0123456789ab"


BAD: list[tuple[Any, str]] = [
    ({}, "JSON array"),
    ([], "JSON array"),
    ([check("04.1")] * (MAX_EVENTS + 1), f"at most {MAX_EVENTS}"),
    (["x"], r"events\[0\] is not a JSON object"),
    ([{"type": "joined", "at": 1}], r"events\[0\].type"),
    ([check("04.1"), {**check("04.1"), "learner": "l-000000000000"}], r"events\[1\].learner"),
    ([{**check("04.1"), "extra": 1}], r"events\[0\].extra"),
    (
        [{k: v for k, v in check("04.1").items() if k != "attempt"}],
        r"events\[0\].attempt is missing",
    ),
    ([{**check("04.1"), "verdict": "right"}], r"events\[0\].verdict"),
    ([{**check("04.1"), "exercise": "05.1"}], r"events\[0\].exercise"),
    ([{**check("04.1"), "notebook": "4"}], r"events\[0\].notebook"),
    ([{**check("04.1"), "check": "no spaces"}], r"events\[0\].check"),
    ([{**check("04.1"), "attempt": 0}], r"events\[0\].attempt"),
    ([{**check("04.1"), "attempt": True}], r"events\[0\].attempt"),
    ([{**check("04.1"), "at": "now"}], r"events\[0\].at"),
    ([{**check("04.1"), "mistake": ""}], r"events\[0\].mistake"),
    ([{"type": "hand", "raised": "yes", "at": 1}], r"events\[0\].raised"),
    ([{"type": "hand", "raised": True, "text": "x" * 201, "at": 1}], r"events\[0\].text"),
]


@pytest.mark.parametrize(("batch", "said"), BAD)
def test_every_wrong_field_is_named(batch: Any, said: str) -> None:
    with pytest.raises(InvalidClassroomEvent, match=said):
        validate_events(batch)


# --- the fold ---------------------------------------------------------------------------------

EXERCISES = ("01.1", "01.2", "04.2")
MISTAKES = (None, "leak", "stratify")


def joined(learner: str, name: str, ts: float = 0.0) -> dict[str, Any]:
    return {"type": "joined", "learner": learner, "name": name, "ts": ts}


@st.composite
def what_learners_did(draw: st.DrawFn) -> dict[str, list[dict[str, Any]]]:
    """Per learner, their events in the order they made them (``at`` increasing)."""
    done: dict[str, list[dict[str, Any]]] = {}
    for number in range(draw(st.integers(1, 4))):
        learner = f"l-{number:012x}"
        events = []
        attempts: Counter[str] = Counter()
        for at in range(draw(st.integers(0, 12))):
            if draw(st.booleans()) and draw(st.booleans()):
                raised = draw(st.booleans())
                events.append({"type": "hand", "raised": raised, "text": f"t{at}", "at": at})
                continue
            exercise = draw(st.sampled_from(EXERCISES))
            verdict = draw(st.sampled_from(("correct", "not_yet", "not_yet", "not_answered")))
            attempts[exercise] += 1
            event = check(
                exercise,
                verdict,
                mistake=None if verdict == "correct" else draw(st.sampled_from(MISTAKES)),
                attempt=attempts[exercise],
                at=float(at),
            )
            events.append(event)
        done[learner] = [
            {**event, "learner": learner, "ts": 100.0 + i} for i, event in enumerate(events)
        ]
    return done


def expected_grid(done: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """The grid computed the obvious way, from each learner's events in order."""
    cells: dict[str, dict[str, Any]] = {}
    mistakes: dict[str, Counter[str]] = {}
    hands = {}
    for learner, events in done.items():
        hand = None
        for event in events:
            if event["type"] == "hand":
                hand = event["text"] if event["raised"] else None
                continue
            if event["verdict"] == "not_answered":
                continue
            cell = cells.setdefault(learner, {}).setdefault(
                event["exercise"], {"state": "trying", "attempts": 0, "mistake": None}
            )
            cell["attempts"] += 1
            if event["verdict"] == "correct":
                cell["state"] = "passed"
            cell["mistake"] = None if cell["state"] == "passed" else event["mistake"]
        hands[learner] = hand
        for exercise, cell in cells.get(learner, {}).items():
            if cell["mistake"] is not None:
                mistakes.setdefault(exercise, Counter())[cell["mistake"]] += 1
    return {"cells": cells, "mistakes": mistakes, "hands": hands}


@settings(max_examples=300, deadline=None)
@given(done=what_learners_did(), data=st.data())
def test_any_interleaving_and_duplication_gives_the_grid_of_what_the_learners_did(
    done: dict[str, list[dict[str, Any]]], data: st.DataObject
) -> None:
    rng = data.draw(st.randoms(use_true_random=False))
    log = [event for events in done.values() for event in events]
    log += [rng.choice(log) for _ in range(rng.randint(0, len(log)))] if log else []  # repeats
    rng.shuffle(log)
    room = Room("K7QM4Z", exercises=EXERCISES)
    for learner in done:  # a learner joins before their token exists, so before their events
        room.apply(joined(learner, learner.upper()))
    for event in log:
        room.apply(event)
    snapshot = room.snapshot("offset", now=0.0)
    want = expected_grid(done)
    got = {
        learner: {
            exercise: {key: cell[key] for key in ("state", "attempts", "mistake")}
            for exercise, cell in row.items()
        }
        for learner, row in snapshot["cells"].items()
    }
    assert got == {learner: row for learner, row in want["cells"].items() if row}
    assert {
        exercise: {entry["mistake"]: entry["learners"] for entry in entries}
        for exercise, entries in snapshot["mistakes"].items()
    } == {exercise: dict(counts) for exercise, counts in want["mistakes"].items()}
    for entries in snapshot["mistakes"].values():
        counts = [entry["learners"] for entry in entries]
        assert counts == sorted(counts, reverse=True)
    assert {
        each["learner"]: (each["hand"] or {}).get("text") for each in snapshot["learners"]
    } == want["hands"]
    raised_at = {
        learner: [e for e in events if e["type"] == "hand"][-1]["ts"]
        for learner, events in done.items()
        if want["hands"][learner] is not None
    }
    assert [(hand["learner"], hand["ts"]) for hand in snapshot["hands"]] == sorted(
        raised_at.items(), key=lambda item: (item[1], item[0])
    )
    assert snapshot["exercises"] == list(EXERCISES)


def test_the_snapshot_has_learners_in_join_order_and_unknown_exercises_in_order() -> None:
    room = Room("K7QM4Z", exercises=("01.1", "04.2"))
    room.apply({"type": "created", "title": "Tuesday", "agenda": None, "starts_at": None, "ts": 1})
    room.apply(joined("l-00000000000b", "Bob", 2))
    room.apply(joined("l-00000000000a", "Ada", 3))
    room.apply({**check("04.10", "not_yet", mistake="leak"), "learner": "l-00000000000a", "ts": 4})
    room.apply({**check("02.1", "correct"), "learner": "l-00000000000a", "ts": 5})
    room.apply({**check("03.1", "correct"), "learner": "l-ffffffffffff", "ts": 6})  # never joined
    snapshot = room.snapshot("o", now=7.0)
    assert snapshot["title"] == "Tuesday"
    assert [each["name"] for each in snapshot["learners"]] == ["Bob", "Ada"]
    assert snapshot["exercises"] == ["01.1", "02.1", "04.2", "04.10"]
    assert snapshot["learners"][1]["last_seen"] == 5
    assert "l-ffffffffffff" not in snapshot["cells"]
    assert snapshot["pace"] == {
        "agenda": None,
        "expected": None,
        "room": "02",
        "behind_minutes": None,
        "ahead_minutes": None,
    }
