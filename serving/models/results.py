"""Batch results on disk: one CSV per batch run, addressable by an unguessable id.

A batch run writes ``<results_dir>/.<id>.csv.part`` chunk by chunk and renames it to
``<id>.csv`` when it ends, so a complete-looking file is always complete (a stopped run commits
the rows scored so far, and says so). The id has 128 random bits: knowing the URL
``/v1/results/<id>.csv`` is the permission to read it, as with the session's own ids.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from serving.models.batch import ScoredChunk

__all__ = ["RESULTS_URL_PREFIX", "ResultWriter", "Results", "header"]

RESULTS_URL_PREFIX = "/v1/results/"
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

    def __init__(self, folder: Path, result_id: str, columns: list[str]) -> None:
        self.id = result_id
        self.url = f"{RESULTS_URL_PREFIX}{result_id}.csv"
        self.path = folder / f"{result_id}.csv"
        self.rows = 0
        self._partial = folder / f".{result_id}.csv.part"
        self._file: TextIO | None = self._partial.open("w", newline="", encoding="utf-8")
        self._file.write(",".join(_fields(columns)) + "\n")

    def write(self, chunk: ScoredChunk) -> None:
        """Append one line per input row of ``chunk``, in order (RFC 4180 quoting).

        Built column by column: a batch has few distinct values per column (a few classes,
        mostly empty messages), so each is formatted once; this is several times faster than
        the csv module row by row, which matters next to a fast model.
        """
        assert self._file is not None, "the result is already committed or discarded"
        columns: list[list[str]] = [list(map(str, chunk.rows)), _fields(chunk.predictions)]
        if chunk.probabilities is not None:
            texts = np.char.mod("%.6g", chunk.probabilities)
            columns += np.where(np.isnan(chunk.probabilities), "", texts).T.tolist()
        for messages in (chunk.warnings, chunk.errors):  # usually all empty
            columns.append(_fields(messages) if any(messages) else [""] * len(messages))
        self._file.write("\n".join(map(",".join, zip(*columns, strict=True))) + "\n")
        self.rows += len(chunk.rows)

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


_NEEDS_QUOTES = re.compile(r'[",\r\n]')


def _fields(values: list[Any]) -> list[str]:
    """Each value as a CSV field: None is empty, text with a comma, quote or newline is
    quoted (quotes doubled); each distinct value is formatted once."""
    formatted: dict[Any, str] = {}
    fields = []
    for value in values:
        try:
            field = formatted[value]
        except KeyError:
            field = formatted[value] = _field(value)
        except TypeError:  # not hashable
            field = _field(value)
        fields.append(field)
    return fields


def _field(value: Any) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if _NEEDS_QUOTES.search(text):
        return '"' + text.replace('"', '""') + '"'
    return text
