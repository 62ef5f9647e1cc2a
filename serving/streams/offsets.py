"""Offsets: opaque, strictly increasing positions in a stream that sort lexicographically.

On the wire an offset is ``SSSSSSSSSSSSSSSS_PPPPPPPPPPPPPPPP``: the number of appends (records)
before the position and the number of stored bytes before it, each as 16 zero-padded decimal
digits. Both parts grow with every append, so string order is stream order. This is the same
shape the Durable Streams reference server uses, so the conformance suite's literal offsets
(``0000000000000000_0000000000000000`` = the start) mean the same thing here.

Two sentinels are accepted from clients but never produced: ``-1`` (the start, same as omitting
the offset) and ``now`` (the current tail).
"""

from __future__ import annotations

import re
from typing import Final, NamedTuple

from serving.streams.errors import InvalidStreamOffset

_WIRE = re.compile(r"[0-9]{16}_[0-9]{16}")


class Offset(NamedTuple):
    """A position between two records: ``seq`` records and ``position`` bytes precede it.

    A named tuple, so offsets compare in stream order and cost little on the hot path.
    """

    seq: int
    position: int

    def __str__(self) -> str:
        return "%016d_%016d" % self  # noqa: UP031 - one C call: half an f-string's cost

    def after(self, size: int) -> Offset:
        """The offset that follows a record of ``size`` bytes stored at this offset."""
        return Offset(self.seq + 1, self.position + size)

    @classmethod
    def parse(cls, text: str) -> Offset:
        """Parse the wire form; raise InvalidStreamOffset (a 400) on anything else."""
        if not _WIRE.fullmatch(text):
            raise InvalidStreamOffset(
                f"malformed offset {text!r}: use -1, now, or a Stream-Next-Offset value "
                "returned by this server"
            )
        seq, position = text.split("_")
        return cls(int(seq), int(position))


ZERO: Final = Offset(0, 0)
"""The start of every stream (what ``-1`` means)."""


class _Tail:
    """Type of the TAIL sentinel: 'wherever the stream ends when the request is served'."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "TAIL"


TAIL: Final = _Tail()

Position = Offset | _Tail
"""What a read starts after: a concrete offset, or TAIL (``offset=now``)."""


def parse_position(text: str | None) -> Position:
    """Parse a client's ``offset`` query value: missing or ``-1`` = ZERO, ``now`` = TAIL."""
    if text is None or text == "-1":
        return ZERO
    if text == "now":
        return TAIL
    return Offset.parse(text)
