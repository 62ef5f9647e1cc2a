"""Batch results on disk: one CSV per batch run, addressable by an unguessable id.

A batch run writes ``<results_dir>/.<id>.csv.part`` chunk by chunk and renames it to
``<id>.csv`` when it ends, so a complete-looking file is always complete (a stopped run commits
the rows scored so far, and says so). The id has 128 random bits: knowing the URL
``/v1/results/<id>.csv`` is the permission to read it, as with the session's own ids.
"""

from __future__ import annotations

import math
import os
import re
import secrets
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from serving.models.batch import ScoredChunk
from serving.models.csvlines import CodedColumn, coded, csv_field, format_lines
from serving.models.errors import ResultTooLarge

__all__ = [
    "MAX_RESULT_BYTES",
    "RESULTS_URL_PREFIX",
    "ResultWriter",
    "Results",
    "csv_lines",
    "header",
]

RESULTS_URL_PREFIX = "/v1/results/"
MAX_RESULT_BYTES = 256 * 1024 * 1024
"""A result grows with its table, and can outgrow it: a row with a problem carries its message
(measured: 2.3 times the upload's size for penguin rows that are all invalid, more for
narrower tables, so a 64 MiB upload could write several hundred MiB). A result that would
pass this fails its run (ResultTooLarge) and leaves no file. It is four times the biggest
upload: a result bigger than that is a mistake to fix upstream, not a file to keep."""
_ID = re.compile(r"[A-Za-z0-9_-]{22}")  # secrets.token_urlsafe(16): 128 bits


class Results:
    """The folder of batch results."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)

    def create(self, columns: list[str]) -> ResultWriter:
        """A new result file with a header of ``columns`` (see ``ResultWriter``)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        return ResultWriter(self.folder, secrets.token_urlsafe(16), columns)

    def path_of(self, result_id: str) -> Path | None:
        """The committed CSV of ``result_id``, or None (also for anything that is not an id:
        the id never reaches the file system unless it has the exact shape of one)."""
        if not isinstance(result_id, str) or not _ID.fullmatch(result_id):
            return None
        path = self.folder / f"{result_id}.csv"
        return path if path.is_file() else None


def header(classes: tuple[Any, ...] | None) -> list[str]:
    """The CSV columns of a batch result: the input row, the prediction, one probability
    column per class when asked for, and the row's warning and error."""
    columns = ["row", "prediction"]
    columns += [f"probability_{label}" for label in classes or ()]
    return [*columns, "warning", "error"]


class ResultWriter:
    """Appends scored chunks to one result file; ``commit`` makes it visible at its URL."""

    def __init__(
        self,
        folder: Path,
        result_id: str,
        columns: list[str],
        max_bytes: int = MAX_RESULT_BYTES,
    ) -> None:
        self.id = result_id
        self.max_bytes = max_bytes
        self.url = f"{RESULTS_URL_PREFIX}{result_id}.csv"
        self.path = folder / f"{result_id}.csv"
        self.rows = 0
        self._partial = folder / f".{result_id}.csv.part"
        self._file: BinaryIO | None = self._partial.open("wb")
        first_line = (",".join(map(csv_field, columns)) + "\n").encode()
        self._file.write(first_line)
        self.size = len(first_line)

    def write(self, lines: bytes, rows: int) -> None:
        """Append ``rows`` lines, ``csv_lines`` of the next chunk (made where convenient: the
        batch agent makes them in its worker thread, next to the model)."""
        assert self._file is not None, "the result is already committed or discarded"
        if self.size + len(lines) > self.max_bytes:
            raise ResultTooLarge(
                f"the result would be over {self.max_bytes / 2**20:g} MiB after {self.rows:,} "
                "rows, the most a result may hold; score the table in parts (fewer rows per "
                "upload), or without probabilities"
            )
        self._file.write(lines)
        self.size += len(lines)
        self.rows += rows

    def commit(self) -> Path:
        """Close the file and publish it under its final name."""
        self._close()
        self._partial.rename(self.path)
        return self.path

    def discard(self) -> None:
        """Close and delete an unfinished file (the run failed)."""
        self._close()
        self._partial.unlink(missing_ok=True)

    def _close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def csv_lines(chunk: ScoredChunk) -> bytes:
    """The result lines of ``chunk`` (RFC 4180 quoting), built column by column with NumPy
    (serving.models.csvlines): a batch has few distinct predictions and usually no messages,
    so a row costs next to nothing besides the model's own work."""
    rows = len(chunk.rows)
    columns = [coded(chunk.predictions)]
    if chunk.probabilities is not None:
        for column in chunk.probabilities.T.tolist():
            texts = ["" if math.isnan(p) else f"{p:.6g}" for p in column]
            columns.append(CodedColumn(np.arange(rows), texts))
    for messages in (chunk.warnings, chunk.errors):
        codes = np.zeros(rows, dtype=np.intp)
        codes[[row - chunk.start for row, _ in messages]] = np.arange(1, len(messages) + 1)
        columns.append(CodedColumn(codes, ["", *(csv_field(text) for _, text in messages)]))
    return format_lines(chunk.start, columns)
