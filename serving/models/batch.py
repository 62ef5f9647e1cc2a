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
    ``errors`` and ``warnings`` hold one string per input row, empty when there is nothing to
    say.
    """

    start: int
    stop: int
    total: int
    predictions: list[Any]
    probabilities: np.ndarray | None
    classes: tuple[Any, ...] | None
    errors: list[str]
    warnings: list[str]

    @property
    def rows(self) -> range:
        return range(self.start, self.stop)

    @property
    def n_invalid(self) -> int:
        return sum(1 for error in self.errors if error)


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
    for lo in range(start, total, chunk_size):
        hi = min(lo + chunk_size, total)
        first, last = np.searchsorted(positions, [lo, hi])
        n = hi - lo
        predictions: list[Any] = [None] * n
        proba = None if classes is None else np.full((n, len(classes)), np.nan)
        if last > first:
            answer = served.predict(check.frame.iloc[first:last], probabilities=proba is not None)
            offsets = positions[first:last] - lo
            for offset, label in zip(offsets.tolist(), answer.labels.tolist(), strict=True):
                predictions[offset] = label
            if proba is not None and answer.probabilities is not None:
                proba[offsets] = answer.probabilities
        yield ScoredChunk(
            start=lo,
            stop=hi,
            total=total,
            predictions=predictions,
            probabilities=proba,
            classes=classes,
            errors=check.errors.iloc[lo:hi].tolist(),
            warnings=check.warnings.iloc[lo:hi].tolist(),
        )
