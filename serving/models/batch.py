"""Batch scoring: a checked table scored in vectorized chunks, in input order, with progress.

``score_table`` walks the input rows in chunks of ``chunk_size``; each chunk's valid rows go to
the model in one call (a single call per row would be a hundred times slower), its invalid rows
keep their error and never reach the model. Each ``ScoredChunk`` says which input rows it covers,
so that a caller can stream it, write it, and report progress; stopping between chunks is
simply not asking for the next one. No I/O here: the batch agent publishes and writes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from serving.models.served import ServedModel
from serving.models.tables import TableCheck

__all__ = ["DEFAULT_CHUNK_SIZE", "ScoredChunk", "score_table"]

DEFAULT_CHUNK_SIZE = 10_000
"""Rows per model call: large enough that the per-call overhead (about a millisecond for the
penguin pipeline) stays small, small enough for progress a few times a second."""


@dataclass(frozen=True)
class ScoredChunk:
    """The input rows ``start`` to ``stop`` (positions in the input, stop excluded), scored.

    ``predictions`` has one value per input row, None for an invalid row; ``probabilities``
    (one row per input row, NaN for invalid rows) is set when asked for and available;
    ``errors`` and ``warnings`` are ``(input row, message)`` pairs in row order, for the rows
    that have something to say (usually none: kept sparse, so that writing and streaming a
    chunk costs nothing per silent row).
    """

    start: int
    stop: int
    total: int
    predictions: list[Any]
    probabilities: np.ndarray | None
    classes: tuple[Any, ...] | None
    errors: list[tuple[int, str]]
    warnings: list[tuple[int, str]]

    @property
    def rows(self) -> range:
        return range(self.start, self.stop)

    @property
    def n_invalid(self) -> int:
        return len(self.errors)


def score_table(
    served: ServedModel,
    check: TableCheck,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    probabilities: bool = False,
    start: int = 0,
) -> Iterator[ScoredChunk]:
    """Score ``check.frame`` chunk by chunk, covering every input row from ``start`` on."""
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
    total = check.n_rows
    positions = check.positions
    classes = served.card.classes if probabilities and served.gives_probabilities else None
    invalid = np.ones(total, dtype=bool)
    invalid[positions] = False
    errors = _Messages(check.errors, np.flatnonzero(invalid))
    warnings = _Messages(check.warnings, check.warned)
    for lo in range(start, total, chunk_size):
        hi = min(lo + chunk_size, total)
        first, last = np.searchsorted(positions, [lo, hi])
        n = hi - lo
        predictions: list[Any] = [None] * n
        proba = None if classes is None else np.full((n, len(classes)), np.nan)
        if last > first:
            answer = served.predict(check.frame.iloc[first:last], probabilities=proba is not None)
            labels = answer.labels.tolist()  # plain Python values, as JSON and CSV need them
            if last - first == n:  # every row valid: the labels are the chunk
                predictions = labels
            else:
                offsets = positions[first:last] - lo
                placed = np.full(n, None, dtype=object)
                placed[offsets] = np.array(labels, dtype=object)
                predictions = placed.tolist()
            if proba is not None and answer.probabilities is not None:
                proba[positions[first:last] - lo] = answer.probabilities
        yield ScoredChunk(
            start=lo,
            stop=hi,
            total=total,
            predictions=predictions,
            probabilities=proba,
            classes=classes,
            errors=errors.between(lo, hi),
            warnings=warnings.between(lo, hi),
        )


class _Messages:
    """The messages of the input ``rows`` that have one, out of a column of one per row."""

    def __init__(self, messages: pd.Series, rows: np.ndarray) -> None:
        self.rows = rows
        self.texts = messages.to_numpy(dtype=object)[rows].tolist()

    def between(self, start: int, stop: int) -> list[tuple[int, str]]:
        """``(row, message)`` for the rows from ``start`` to ``stop`` (excluded)."""
        first, last = np.searchsorted(self.rows, [start, stop])
        return list(zip(self.rows[first:last].tolist(), self.texts[first:last], strict=True))
