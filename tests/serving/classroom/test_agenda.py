"""course/agenda.py holds docs/instructor.md's agendas ("3. Agendas") as data: this test reads
the guide's two tables and holds them equal, so an edit of one without the other fails here;
and the pace the room snapshot shows follows from the data."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from course.agenda import AGENDAS, DAY, Slot, expected_notebook, pace
from course.exercises import exercise_ids

GUIDE = Path(__file__).resolve().parents[3] / "docs" / "instructor.md"
BREAK_MINUTES = 15
"""The two-day table lists a break with no length: course/agenda.py says 15 minutes."""
LUNCH_MINUTES = 60
"""Between the two-day table's morning and afternoon: course/agenda.py says an hour."""


def _section(title: str) -> list[str]:
    text = GUIDE.read_text(encoding="utf-8")
    start = text.index(f"### {title}\n")
    end = text.find("\n#", start + 5)
    return [line for line in text[start:end].splitlines() if line.startswith("| ")]


def _item(text: str) -> tuple[tuple[str, ...], int]:
    """``04 split and build (45 min)`` -> (("04",), 45): the notebooks named before the
    parenthesis (the capstone by name), and the minutes in it (``2½ h`` = 150, ``and 15 for``
    added)."""
    head, _, rest = text.partition("(")
    notebooks = tuple(re.findall(r"\b(\d\d)\b", head))
    if not notebooks and "capstone" in head:
        notebooks = ("12",)
    if "2½ h" in rest:
        minutes = 150
    else:
        found = re.search(r"(\d+) min", rest)
        minutes = int(found.group(1)) if found else (BREAK_MINUTES if "break" in head else 0)
        more = re.search(r"and (\d+) for", rest)
        if more:
            minutes += int(more.group(1))
    return notebooks, minutes


def _items(cell: str) -> list[str]:
    """The items of a table cell: split at ``;`` outside parentheses."""
    items, depth, current = [], 0, ""
    for char in cell:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == ";" and depth == 0:
            items.append(current.strip())
            current = ""
        else:
            current += char
    return [*items, current.strip()] if current.strip() else items


def test_the_one_day_agenda_is_the_guides_table() -> None:
    rows = _section("One day")[1:]  # after the header
    slots: list[Slot] = []
    for row in rows:
        _, time, what, _ = row.split("|")
        hours, minutes = time.strip().split(":")
        start = (int(hours) - 9) * 60 + int(minutes)
        for item in _items(what):
            notebooks, length = _item(item)
            slots.append(Slot(start, length, notebooks, ""))
            start += length
    assert [(s.start, s.minutes, s.notebooks) for s in AGENDAS["one-day"]] == [
        (s.start, s.minutes, s.notebooks) for s in slots
    ]


def test_the_two_day_agenda_is_the_guides_table() -> None:
    rows = _section("Two days")[1:]
    slots: list[tuple[int, int, tuple[str, ...]]] = []
    for day, row in enumerate(rows):
        _, _, morning, afternoon, _ = row.split("|")
        start = day * DAY
        for half in (morning, afternoon):
            for item in _items(half):
                notebooks, length = _item(item)
                slots.append((start, length, notebooks))
                start += length
            if half is morning:
                slots.append((start, LUNCH_MINUTES, ()))
                start += LUNCH_MINUTES
    assert [(s.start, s.minutes, s.notebooks) for s in AGENDAS["two-days"]] == slots


@pytest.mark.parametrize("agenda", sorted(AGENDAS))
def test_every_notebook_is_on_each_agenda_once_and_slots_follow_each_other(agenda: str) -> None:
    notebooks = [n for slot in AGENDAS[agenda] for n in slot.notebooks]
    assert sorted(notebooks) == sorted({exercise[:2] for exercise in exercise_ids()})
    assert len(notebooks) == len(set(notebooks))
    slots = AGENDAS[agenda]
    for before, after in itertools.pairwise(slots):
        assert before.end == after.start or after.start % DAY == 0


def test_the_pace_of_the_room() -> None:
    start = 1_000_000.0
    at = lambda minute: start + minute * 60  # noqa: E731
    assert expected_notebook("one-day", 0) is None  # the welcome
    assert expected_notebook("one-day", 80) == "02"
    assert expected_notebook("one-day", 115) == "02"  # the break after it
    assert [expected_notebook("one-day", m) for m in (406, 418, 430)] == ["08", "09", "10"]
    on_time = pace("one-day", start, "02", at(100))
    assert on_time == {
        "agenda": "one-day",
        "expected": "02",
        "room": "02",
        "behind_minutes": 0,
        "ahead_minutes": 0,
    }
    # 02 ends at 10:50 (minute 110); at 11:20 the room is still on it: 30 minutes behind
    assert pace("one-day", start, "02", at(140))["behind_minutes"] == 30
    assert pace("one-day", start, "02", at(140))["ahead_minutes"] == 0
    # 05 starts at 13:10 (minute 250, after lunch); at 11:20 the room is on it: 110 ahead,
    # not "on time" (the page said so when only behind_minutes was there, clipped at 0)
    ahead = pace("one-day", start, "05", at(140))
    assert (ahead["behind_minutes"], ahead["ahead_minutes"]) == (0, 110)
    # ahead within one slot of three (08, 09, 10 share 405-440: 10 starts at minute 428.3)
    assert pace("one-day", start, "10", at(410))["ahead_minutes"] == 18
    assert pace("one-day", start, None, at(140))["behind_minutes"] is None
    assert pace("one-day", start, None, at(140))["ahead_minutes"] is None
    assert pace("one-day", None, "02", at(140)) == {
        "agenda": "one-day",
        "expected": None,
        "room": "02",
        "behind_minutes": None,
        "ahead_minutes": None,
    }
    assert pace(None, start, "02", at(140))["expected"] is None
    assert pace("one-day", start, "02", at(-5))["expected"] is None  # not started
    assert pace("two-days", start, "08", at(DAY + 10))["expected"] == "08"


def test_the_exercise_ids_are_the_notebooks_in_order() -> None:
    ids = exercise_ids()
    assert ids[:3] == ("00.1", "01.1", "01.2")
    assert list(ids) == sorted(ids, key=lambda each: (each[:2], int(each[3:])))
    assert all(re.fullmatch(r"\d\d\.\d+", each) for each in ids)
