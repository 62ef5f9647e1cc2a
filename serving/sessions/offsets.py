"""Event offsets: where each event sits in the session log, and how a client resumes after it.

A session is one JSON stream of serving.streams. To write fast, the session writes several
events per append (one *record*), separated by ``,\\n`` (a comma and a line break: valid inside
the stream's JSON array, and never inside compact JSON, whose strings escape line breaks). The
streams layer gives offsets to records; this module gives one to every event:

- the last event of a record gets the record's end offset ``E`` (a streams offset, e.g.
  ``0000000000000003_0000000000000412``);
- the k-th event of n (k < n) of the record that starts at ``S`` gets ``S.k`` with k written
  as 6 digits (``0000000000000002_0000000000000200.000001``).

So offsets sort as strings in log order (``S < S.000001 < ... < E``), and an offset always
means "after this event": resuming after ``E`` reads on from E; resuming after ``S.k`` reads the
record at S and skips its first k events. The start of a session is ``START`` (the zero
offset). Pure functions, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from serving.sessions.errors import InvalidSessionOffset
from serving.streams.offsets import TAIL, ZERO, Offset, Position

SEPARATOR: Final = b",\n"
SUB_DIGITS: Final = 6
MAX_EVENTS_PER_RECORD: Final = 10**SUB_DIGITS - 1
_OFFSET = re.compile(r"([0-9]{16}_[0-9]{16})(?:\.([0-9]{6}))?")
_BOUNDARY: Final = SEPARATOR + b"{"


@dataclass(frozen=True, slots=True)
class EventPosition:
    """A place between two events: the record that starts at ``record``, after ``skip`` events."""

    record: Offset
    skip: int = 0

    def __str__(self) -> str:
        if self.skip:
            return f"{self.record}.{self.skip:0{SUB_DIGITS}d}"
        return str(self.record)


START: Final = EventPosition(ZERO)
"""Before the first event of every session."""


def parse_offset(text: str) -> EventPosition:
    """An event offset as sent back by a client -> the position after that event."""
    match = _OFFSET.fullmatch(text)
    if match is None:
        raise InvalidSessionOffset(
            f"malformed offset {text!r}: use 'start', 'new', or the offset of the last event "
            "you received"
        )
    record = Offset.parse(match.group(1))
    skip = int(match.group(2)) if match.group(2) else 0
    if match.group(2) is not None and skip == 0:
        raise InvalidSessionOffset(f"malformed offset {text!r}: a sub-offset starts at 000001")
    return EventPosition(record, skip)


def parse_start(text: str) -> EventPosition | Position:
    """Where a subscription starts: ``start``, ``new`` (TAIL: only events written from now on),
    or an event offset."""
    if text == "start":
        return START
    if text == "new":
        return TAIL
    return parse_offset(text)


def join_record(events: Sequence[bytes]) -> bytes:
    """Events (as encoded by serving.sessions.events) -> one record."""
    return SEPARATOR.join(events)


def record_start(end: Offset, record_size: int) -> Offset:
    """Where a record of ``record_size`` bytes that ends at ``end`` starts."""
    return Offset(end.seq - 1, end.position - record_size)


def record_offsets(end: Offset, record_size: int, count: int) -> list[str]:
    """Offsets of the ``count`` events of a record of ``record_size`` bytes ending at ``end``."""
    start = str(record_start(end, record_size))
    offsets = [f"{start}.{index:0{SUB_DIGITS}d}" for index in range(1, count)]
    offsets.append(str(end))
    return offsets


def label_records(
    records: Sequence[bytes], after: EventPosition, next_offset: Offset
) -> tuple[list[bytes], EventPosition]:
    """Records read after ``after.record`` -> the events after ``after``, each with its offset.

    ``next_offset`` is what the store returned for the read: the records must end exactly there,
    or ``after`` was not a place between events (InvalidSessionOffset). Read from ``START``, the
    records begin at the oldest the store keeps (retention may have dropped older ones).
    """
    labelled: list[bytes] = []
    start = after.record
    if after == START and records:
        size = sum(map(len, records))
        start = Offset(next_offset.seq - len(records), next_offset.position - size)
    skip = after.skip
    if skip and not records:
        raise InvalidSessionOffset(f"offset {after} is past the last event of this session")
    for record in records:
        end = start.after(len(record))
        bodies = record[1:].split(_BOUNDARY)  # every event without its opening brace
        last = len(bodies) - 1
        if skip > last:
            raise InvalidSessionOffset(f"offset {after} does not name an event of this session")
        head = b'{"offset":"%s.' % str(start).encode()
        labelled += [
            b'%s%0*d",%s' % (head, SUB_DIGITS, index + 1, bodies[index])
            for index in range(skip, last)
        ]
        labelled.append(b'{"offset":"%s",%s' % (str(end).encode(), bodies[last]))
        start = end
        skip = 0
    if start != next_offset:
        raise InvalidSessionOffset(f"offset {after} does not name an event of this session")
    return labelled, EventPosition(start)
