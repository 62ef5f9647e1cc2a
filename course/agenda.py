"""The workshop agendas of docs/instructor.md ("3. Agendas"), as data: when each notebook is due.

The classroom server (serving.classroom) compares the notebook most learners are on with the
one the agenda says the room should be on now, and says how many minutes the room is behind
or ahead; the instructor's page shows it. The data is held equal to the guide's tables by a test
(tests/serving/classroom/test_agenda.py), so an edit of the guide that is not made here fails.

Each agenda is a tuple of ``Slot``: a start minute counted from the workshop's start
(``starts_at`` of the classroom: 09:00 of the first day in the guide), how long it lasts, and
the notebooks it covers (none for a welcome, a break, lunch). The one-day table gives the times;
the two-day table gives only the order and lengths, so its minutes follow from them with the
day starting at 09:00, an unlisted break of 15 minutes, an hour of lunch between the morning
and the afternoon, and the second day starting 24 hours after the first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["AGENDAS", "Slot", "expected_notebook", "pace"]


@dataclass(frozen=True)
class Slot:
    start: int
    """Minutes after the workshop's start."""
    minutes: int
    notebooks: tuple[str, ...]
    """The notebooks of the slot, in order (several share a slot at the projector)."""
    what: str

    @property
    def end(self) -> int:
        return self.start + self.minutes


def _slots(rows: list[tuple[int, int, tuple[str, ...], str]]) -> tuple[Slot, ...]:
    return tuple(Slot(start, minutes, notebooks, what) for start, minutes, notebooks, what in rows)


ONE_DAY = _slots(
    [
        (0, 15, (), "welcome, course doctor"),
        (15, 30, ("00",), "the landscape"),
        (45, 25, ("01",), "objective and data"),
        (70, 40, ("02",), "prepare"),
        (110, 15, (), "break"),
        (125, 20, ("03",), "explore"),
        (145, 45, ("04",), "split and build"),
        (190, 60, (), "lunch"),
        (250, 45, ("05",), "tune, then evaluate once"),
        (295, 40, ("06",), "predict, interpret, export"),
        (335, 15, (), "break"),
        (350, 25, ("11",), "ship it"),
        (375, 30, ("07",), "regression"),
        (405, 35, ("08", "09", "10"), "at the projector"),
        (440, 30, ("12",), "the capstone's steps 1-4"),
        (470, 10, ("13",), "wrap-up, operate it at the projector"),
    ]
)

DAY = 24 * 60
TWO_DAYS = _slots(
    [
        (0, 30, (), "setup and course doctor"),
        (30, 40, ("00",), "the landscape"),
        (70, 30, ("01",), "objective and data"),
        (100, 15, (), "break"),
        (115, 40, ("02",), "prepare"),
        (155, 30, ("03",), "explore"),
        (185, 60, (), "lunch"),
        (245, 45, ("04",), "split and build"),
        (290, 45, ("05",), "tune, then evaluate once"),
        (335, 15, (), "break"),
        (350, 45, ("06",), "predict, interpret, export"),
        (395, 35, ("07",), "regression"),
        (430, 15, (), "questions"),
        (DAY + 0, 30, ("08",), "unsupervised"),
        (DAY + 30, 50, ("09",), "deep learning"),
        (DAY + 80, 15, (), "break"),
        (DAY + 95, 25, ("10",), "reinforcement learning"),
        (DAY + 120, 40, ("11",), "ship it, and going further"),
        (DAY + 160, 60, (), "lunch"),
        (DAY + 220, 25, ("13",), "operate it"),
        (DAY + 245, 150, ("12",), "capstone"),
        (DAY + 395, 15, (), "wrap-up"),
    ]
)

AGENDAS: dict[str, tuple[Slot, ...]] = {"one-day": ONE_DAY, "two-days": TWO_DAYS}


def _pieces(agenda: tuple[Slot, ...]) -> list[tuple[float, float, str]]:
    """(start, end, notebook) per notebook: a shared slot is split evenly among its notebooks."""
    pieces = []
    for slot in agenda:
        share = slot.minutes / len(slot.notebooks) if slot.notebooks else 0.0
        for index, notebook in enumerate(slot.notebooks):
            pieces.append((slot.start + index * share, slot.start + (index + 1) * share, notebook))
    return pieces


def expected_notebook(agenda: str, minute: float) -> str | None:
    """The notebook the room should be on ``minute`` minutes after the start: the one in
    progress, or during a break the last one before it; None before the first."""
    found = None
    for start, _, notebook in _pieces(AGENDAS[agenda]):
        if start <= minute:
            found = notebook
    return found


def pace(
    agenda: str | None, starts_at: float | None, room: str | None, now: float
) -> dict[str, Any]:
    """The snapshot's ``pace``: the agenda, the notebook it expects now, the room's notebook,
    and whether the clock is past the room's notebook or not yet at it: ``behind_minutes``,
    the minutes past the end of the room's notebook on the agenda, and ``ahead_minutes``, the
    minutes before its start (both 0 while the clock is within the notebook's time, which is
    "on time"; at most one of them is above 0; both None without an agenda, a start time, or
    when the room's notebook is not on the agenda).

    Two numbers rather than one clipped at 0: "0 behind" said "on time" to an instructor whose
    room was a whole notebook ahead (at 11:20 of the one-day agenda, the room on 05, which
    starts at 13:10, is 110 minutes ahead)."""
    answer: dict[str, Any] = {
        "agenda": agenda,
        "expected": None,
        "room": room,
        "behind_minutes": None,
        "ahead_minutes": None,
    }
    if agenda not in AGENDAS or starts_at is None:
        return answer
    minute = (now - starts_at) / 60
    if minute < 0:
        return answer
    answer["expected"] = expected_notebook(agenda, minute)
    if room is None:
        return answer
    times = [(start, end) for start, end, notebook in _pieces(AGENDAS[agenda]) if notebook == room]
    if times:
        answer["behind_minutes"] = max(0, int(minute - max(end for _, end in times)))
        answer["ahead_minutes"] = max(0, int(min(start for start, _ in times) - minute))
    return answer
