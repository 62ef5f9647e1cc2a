"""The batch scoring agent: a table in, predictions streamed chunk by chunk, a CSV out.

Request: ``{"model": "penguin-classifier", "dataset": "penguins"}``, or ``"csv": "<text>"``
(small tables, inside the message), or ``"upload": "<id>"`` (a CSV posted to /v1/uploads for
this session); ``"probabilities": true`` adds the class probabilities. The table is checked
against the model card as a whole first (a missing column fails the run; a bad value marks its
row invalid, and that row never reaches the model). Then, for each chunk of rows:

- ``prediction`` events of at most 5,000 rows: ``{"rows": [start, stop], "predictions":
  [...], "errors": [[row, message], ...], "warnings": [[row, message], ...]}`` (and
  ``"probabilities"`` if asked), where ``predictions`` has one value per row, null for an
  invalid row; each followed by a ``progress`` event: rows done out of the total.

``run.completed`` points to the complete result: ``{"result_url": "/v1/results/<id>.csv",
...}``. Stop ends the run after the chunk in progress, keeping the rows scored so far in a
result file announced by one last ``prediction`` event (``"complete": false``). The events are
in the session log, so a client that drops resumes where it was.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from course import datasets
from serving.models.agents.requests import RequestError, RequestReader
from serving.models.batch import ScoredChunk, score_table
from serving.models.records import PredictionRecorder, batch_records, new_prefix
from serving.models.registry import ModelRegistry
from serving.models.results import Results, ResultWriter, csv_lines, header
from serving.models.served import ServedModel
from serving.models.tables import TableCheck, check_table
from serving.models.uploads import Uploads
from serving.sessions import Agent, Param, RunContext
from serving.sessions.events import JSONFragment, dumps

__all__ = ["batch_agent"]

EXAMPLE = '{"model": "penguin-classifier", "dataset": "penguins"}'
SOURCES = ("dataset", "csv", "upload")

EVENT_ROWS = 5_000
"""Rows per ``prediction`` event: events stay far below the session's 1 MiB limit (with the
probabilities too), and a page can show the rows as they come."""

PARAMS = {
    "chunk_size": Param(
        default=50_000,
        minimum=100,
        maximum=100_000,
        help="rows per model call: each call costs a few milliseconds besides its rows, so "
        "large chunks are fast; events carry at most 5,000 rows each",
    ),
}


def batch_agent(
    registry: ModelRegistry,
    results: Results,
    uploads: Uploads,
    recorder: PredictionRecorder | None = None,
) -> Agent:
    """The ``batch`` agent: scores tables with the models of ``registry``; every valid row's
    prediction is recorded in the model's log (serving.models.records), a chunk at a time."""

    async def batch(request: Mapping[str, Any], run: RunContext) -> dict[str, Any]:
        reader = RequestReader(
            "batch", request, {"model", "version", "probabilities", *SOURCES}, EXAMPLE
        )
        served = reader.model(registry)
        probabilities = reader.get("probabilities", bool, default=False)
        table, source = await asyncio.to_thread(_read_table, reader, uploads, run.session)
        check = await asyncio.to_thread(check_table, served.card, table)
        classes = served.card.classes if probabilities and served.gives_probabilities else None
        writer = results.create(header(classes))
        recording = _Recording(recorder, served, run) if recorder and recorder.enabled else None
        summary = {
            "model": served.name,
            "version": served.version,
            **({"record_prefix": recording.prefix} if recording else {}),
            "source": source,
            "rows": check.n_rows,
            "invalid_rows": check.n_invalid,
            "ignored_columns": list(check.ignored_columns),
        }
        await run.progress(0, check.n_rows, note=_note(check))
        try:
            done = await _score(served, check, writer, run, classes is not None, recording)
        except BaseException:
            writer.discard()
            raise
        writer.commit()
        complete = done == check.n_rows
        outcome = {**summary, "result_url": writer.url, "rows_scored": done, "complete": complete}
        if not complete:  # stopped: the run ends cancelled, so say here where the rows are
            await run.prediction(outcome)
        return outcome

    return Agent(
        "batch",
        batch,
        params=PARAMS,
        description="Scores a table (a shipped dataset, a CSV in the message, or an upload) "
        "chunk by chunk with progress; the final event points to the result CSV.",
    )


async def _score(
    served: ServedModel,
    check: TableCheck,
    writer: ResultWriter,
    run: RunContext,
    proba: bool,
    recording: _Recording | None = None,
) -> int:
    """Score, write and publish chunk by chunk; return how many input rows are done.

    A worker thread scores the next chunk and formats its CSV lines (the model and NumPy,
    much of it without the GIL) while this one is written and published; the file is only
    written here, so a stop never races a write. The rows scored go to the model's log behind
    the run, even when it stops or fails (_Recording).
    """
    chunks = score_table(served, check, chunk_size=run.params["chunk_size"], probabilities=proba)
    pending = asyncio.ensure_future(asyncio.to_thread(_next_scored, chunks))
    try:
        return await _scored(served, check, writer, run, proba, chunks, pending, recording)
    finally:
        if recording is not None:  # the rows scored so far, even when stopped
            recording.write_behind(check)


async def _scored(
    served: ServedModel,
    check: TableCheck,
    writer: ResultWriter,
    run: RunContext,
    proba: bool,
    chunks: Iterator[ScoredChunk],
    pending: asyncio.Future[tuple[ScoredChunk, bytes, list[JSONFragment]] | None],
    recording: _Recording | None,
) -> int:
    done = 0
    size = run.params["chunk_size"]
    while True:
        scored = await pending
        if scored is None:
            return done
        chunk, lines, predictions = scored
        writer.write(lines, len(chunk.rows))
        if recording is not None:
            recording.chunks.append(chunk)
        done = chunk.stop
        if run.cancelled.is_set():
            return done
        if run.params["chunk_size"] != size:  # steered: go on from here with the new size
            size = run.params["chunk_size"]
            chunks = score_table(served, check, chunk_size=size, probabilities=proba, start=done)
        pending = asyncio.ensure_future(asyncio.to_thread(_next_scored, chunks))
        starts = range(chunk.start, chunk.stop, EVENT_ROWS)
        for start, predictions_json in zip(starts, predictions, strict=True):
            stop = min(start + EVENT_ROWS, chunk.stop)
            await run.prediction(_chunk_event(chunk, start, stop, predictions_json))
            await run.progress(stop, chunk.total)


def _next_scored(
    chunks: Iterator[ScoredChunk],
) -> tuple[ScoredChunk, bytes, list[JSONFragment]] | None:
    """The next chunk, its result lines and the ``predictions`` of its events; None when every
    row is done."""
    chunk = next(chunks, None)
    if chunk is None:
        return None
    return chunk, csv_lines(chunk), _predictions_json(chunk)


class _Recording:
    """What a batch run records: one record per valid row, ids ``<prefix>.<input row>``.

    Written behind the run: the scored chunks are kept (they are small next to the table) and,
    once the run's ending is in the log, a task of the recorder builds their records in a
    worker thread and appends them a megabyte at a time; the log holds every row a moment
    later. Building them while scoring made the 100,000-row batch 1.5 to 2 times slower (2
    cores: the records' JSON competes with the scoring and the client for the CPU); measured
    behind the run in benchmarks/results/models.md.
    """

    def __init__(self, recorder: PredictionRecorder, served: ServedModel, run: RunContext):
        self.recorder = recorder
        self.served = served
        self.session = run.session
        self.run = run.run
        self.prefix = new_prefix()
        self.chunks: list[ScoredChunk] = []
        self.ended = run.ended

    def write_behind(self, check: TableCheck) -> None:
        chunks, self.chunks = self.chunks, []
        if chunks:
            self.recorder.behind(self._write(check, chunks))

    async def _write(self, check: TableCheck, chunks: list[ScoredChunk]) -> None:
        await self.ended()  # after the run's ending is written: never delay the answer
        for chunk in chunks:
            records = await asyncio.to_thread(self.records, check, chunk)
            await self.recorder.add(self.served.name, records)

    def records(self, check: TableCheck, chunk: ScoredChunk) -> list[bytes]:
        """The records of the valid rows of ``chunk`` (built in the scoring thread)."""
        first, last = np.searchsorted(check.positions, [chunk.start, chunk.stop])
        if last <= first:
            return []
        positions = check.positions[first:last]
        rows = check.frame.iloc[first:last].to_json(orient="records", lines=True)
        offsets = (positions - chunk.start).tolist()
        predictions = [chunk.predictions[at] for at in offsets]
        proba = None
        if chunk.probabilities is not None:
            proba = chunk.probabilities[offsets].tolist()
        return batch_records(
            prefix=self.prefix,
            model=self.served.name,
            version=self.served.version,
            session=self.session,
            run=self.run,
            positions=positions.tolist(),
            rows_json=rows.splitlines(),
            predictions=predictions,
            probabilities=proba,
        )


def _predictions_json(chunk: ScoredChunk, event_rows: int = EVENT_ROWS) -> list[JSONFragment]:
    """The ``predictions`` array of each event of ``chunk`` (``event_rows`` rows each), as
    JSON: the bytes json.dumps gives.

    json.dumps costs about 0.1 µs per value, a tenth of what the model spends on a row, all of
    it holding the GIL. Class labels are few and usually plain text (no quote, backslash,
    control or non-ASCII character), whose JSON is the text in quotes: then the rows are
    joined as strings, several times faster. Anything else (an invalid row's null, numbers,
    other text) goes to json.dumps.
    """
    plain = all(_is_plain_text(label) for label in set(chunk.predictions))
    parts = (
        chunk.predictions[at : at + event_rows] for at in range(0, len(chunk.rows), event_rows)
    )
    if plain:
        return [JSONFragment(b'["%s"]' % '","'.join(part).encode("ascii")) for part in parts]
    return [JSONFragment(dumps(part)) for part in parts]


def _is_plain_text(label: object) -> bool:
    """Whether ``label`` is a string that JSON writes as it is, in quotes."""
    return (
        isinstance(label, str)
        and label.isascii()
        and dumps(label) == b'"%s"' % label.encode("ascii")
    )


def _read_table(reader: RequestReader, uploads: Uploads, session: str) -> tuple[pd.DataFrame, str]:
    given = [source for source in SOURCES if source in reader.data]
    if len(given) != 1:
        raise RequestError(
            f"the batch agent reads one table: give exactly one of {', '.join(SOURCES)} "
            f"(got {', '.join(given) or 'none'}); for example {EXAMPLE}"
        )
    source = given[0]
    value = reader.get(source, str)
    if source == "dataset":
        try:
            return datasets.load(value), f"dataset {value}"
        except datasets.DatasetError as error:
            raise RequestError(str(error)) from None
    if source == "upload":
        path = uploads.path_of(session, value)
        if path is None:
            raise RequestError(
                f"no upload {value!r} in this session: post the CSV to /v1/uploads?session="
                f"{session} first, and send the upload id it returns"
            )
        return _parse_csv(path, "the upload"), f"upload {value}"
    return _parse_csv(io.StringIO(value), "the csv"), "csv"


def _parse_csv(source: Path | io.StringIO, what: str) -> pd.DataFrame:
    try:
        return pd.read_csv(source, encoding="utf-8-sig")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise RequestError(
            f"{what} could not be read as CSV ({error}): send comma-separated text with a "
            "header line naming the columns"
        ) from None


def _note(check: TableCheck) -> str:
    note = f"{check.n_rows} rows, {check.n_invalid} invalid"
    if check.ignored_columns:
        note += f"; ignoring the columns {', '.join(check.ignored_columns)}"
    return note


def _chunk_event(
    chunk: ScoredChunk, start: int, stop: int, predictions: JSONFragment
) -> dict[str, Any]:
    """The ``prediction`` event for the input rows ``start`` to ``stop`` of ``chunk``."""
    part = slice(start - chunk.start, stop - chunk.start)
    event: dict[str, Any] = {
        "rows": [start, stop],
        "predictions": predictions,
        "errors": _between(chunk.errors, start, stop),
        "warnings": _between(chunk.warnings, start, stop),
    }
    if chunk.probabilities is not None:
        rounded = np.round(chunk.probabilities[part], 6)
        event["classes"] = list(chunk.classes or ())
        event["probabilities"] = [None if np.isnan(row[0]) else row for row in rounded.tolist()]
    return event


def _between(messages: list[tuple[int, str]], start: int, stop: int) -> list[list[Any]]:
    """The ``[row, message]`` pairs of the rows from ``start`` to ``stop`` (excluded)."""
    return [[row, text] for row, text in messages if start <= row < stop]
