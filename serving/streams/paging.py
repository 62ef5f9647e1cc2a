"""A page of a read: whole records, up to a byte budget, but never empty.

The persistent stores (SQLite, Redis) fill one while scanning records; the protocol then
serves the page by concatenating the records' stored bytes.
"""

from __future__ import annotations

from serving.streams.offsets import Offset


class Page:
    """Whole records collected for one read: up to ``max_bytes``, but at least one."""

    __slots__ = ("full", "last", "max_bytes", "records", "size")

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.records: list[bytes] = []
        self.size = 0
        self.full = False
        """True when a record was left out for lack of room: the read stops at ``last``."""
        self.last: Offset | None = None
        """End offset of the last record taken."""

    def end(self, tail: Offset) -> Offset:
        """Where the read stops: after the last record taken if the page is full, else at
        the stream's ``tail``."""
        if not self.full:
            return tail
        assert self.last is not None, "a page is full only once a record is taken"
        return self.last

    def take(self, data: bytes) -> bool:
        """Add a record, or mark the page full and return False if it does not fit."""
        if self.records and self.size + len(data) > self.max_bytes:
            self.full = True
            return False
        self.records.append(data)
        self.size += len(data)
        return True
