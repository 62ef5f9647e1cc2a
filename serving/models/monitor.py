"""The endpoints of the flight recorder: late labels, drift and live metrics of a model.

    POST /v1/models/{name}/labels     the true outcome of an earlier prediction, by record id
    GET  /v1/models/{name}/drift      drift of the recent inputs against the model card
    GET  /v1/models/{name}/metrics    accuracy / macro F1, or MAE / RMSE, over labelled records

The records themselves are the stream ``models/<name>/predictions`` (serving.models.records),
read with the Durable Streams API. The access rule is the stream's: reading drift and metrics
needs a token granting ``read`` on ``models/<name>/predictions`` (``serving token --scope read
--stream 'models/*'``), sending a label ``write`` on it; session tokens grant neither, so on a
secured server only an operator (or a page on the server's own computer, ``POST /web/token``)
reads a model's log. An open server (``--open``) asks for nothing. The computation is
course.drift's, the same code a notebook runs on the records it reads.
"""

from __future__ import annotations

import math
import secrets
import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from course.drift import drift_report, live_metrics
from course.evaluate import ProblemKind
from serving.errors import ServingError
from serving.jsontext import parse_json
from serving.models.errors import (
    InvalidJSON,
    InvalidLabel,
    ModelError,
    ModelLogForbidden,
    ModelLogUnauthorized,
    RecordingOff,
    RecordNotFound,
    RowTooLarge,
)
from serving.models.records import WINDOW, PredictionRecorder, stream_of
from serving.models.registry import ModelRegistry
from serving.models.served import ServedModel
from serving.sessions.events import dumps
from serving.sessions.http import error_response
from serving.sessions.ws import connection_token
from serving.streams.protocol import STREAM_PREFIX
from serving.tokens import TokenError, TokenSigner

__all__ = ["DEFAULT_WINDOW", "add_monitor_routes"]

DEFAULT_WINDOW = 1_000
MAX_LABEL_BYTES = 16 * 1024


def add_monitor_routes(
    app: FastAPI,
    registry: ModelRegistry,
    recorder: PredictionRecorder,
    *,
    signer: TokenSigner | None,
    open_access: bool,
) -> None:
    """Add the three endpoints above to ``app``."""

    def authorize(request: Request, scope: str, name: str) -> None:
        if open_access:
            return
        stream = stream_of(name)
        token = connection_token(request)
        if token is None or signer is None:
            raise ModelLogUnauthorized(
                f"a model's log needs a bearer token granting {scope!r} on {stream!r}: "
                f"mint one with: serving token --scope {scope} --stream 'models/*'"
            )
        try:
            grant = signer.verify(token)
        except TokenError as error:
            raise ModelLogUnauthorized(str(error)) from None
        if not grant.allows(scope, stream):
            raise ModelLogForbidden(
                f"your token does not grant {scope!r} on {stream!r} (it grants "
                f"{', '.join(sorted(grant.scopes))} on {grant.resource!r}): mint one with "
                f"serving token --scope {scope} --stream 'models/*'"
            )

    def check(name: str, request: Request, scope: str) -> list[ServedModel]:
        versions = registry.versions(name)  # ModelNotFound (404) first: it says what exists
        authorize(request, scope, name)
        if not recorder.enabled:
            raise RecordingOff(
                "this server does not record predictions (SERVING_RECORD_PREDICTIONS=0): "
                "restart it without that setting"
            )
        return versions

    @app.post("/v1/models/{name}/labels", response_model=None)
    async def label(name: str, request: Request) -> JSONResponse:
        try:
            versions = check(name, request, "write")
            record_id, value = _label_request(await request.body())
            found = await recorder.prediction(name, record_id)
            if found is None:
                raise RecordNotFound(
                    f"model {name} has no prediction record {record_id!r}: send the 'record' "
                    f"id of a prediction event of this model (its log: {STREAM_PREFIX}"
                    f"{stream_of(name)})"
                )
            version, _ = found
            served = next((s for s in versions if s.version == version), versions[-1])
            value = _check_label(served, value)
            answer = {
                "kind": "label",
                "id": f"label-{secrets.token_hex(6)}",
                "record": record_id,
                "model": name,
                "version": version,
                "time": round(_now(), 3),
                "label": value,
            }
            await recorder.append_now(name, dumps(answer))
        except ServingError as error:
            return error_response(error)
        return JSONResponse(answer, status_code=201)

    @app.get("/v1/models/{name}/drift", response_model=None)
    async def drift(name: str, request: Request) -> JSONResponse:
        try:
            versions = check(name, request, "read")
            window = _window(request)
            records = await recorder.recent(name)
            version = request.query_params.get("version") or _last_version(records)
            served = next((s for s in versions if s.version == version), versions[-1])
            mine = [r for r in records if r.get("version") == served.version]
            report = drift_report(served.card, mine, window=window)
        except ServingError as error:
            return error_response(error)
        return JSONResponse(report.to_dict())

    @app.get("/v1/models/{name}/metrics", response_model=None)
    async def metrics(name: str, request: Request) -> JSONResponse:
        try:
            versions = check(name, request, "read")
            window = _window(request)
            records = await recorder.recent(name)
            version = request.query_params.get("version")
            if version:
                records = [r for r in records if r.get("version") == version]
            regression = versions[-1].kind is ProblemKind.REGRESSION
            result = live_metrics(records, model=name, regression=regression, window=window)
        except ServingError as error:
            return error_response(error)
        return JSONResponse(result.to_dict())


def _now() -> float:
    return time.time()


def _last_version(records: list[dict[str, Any]]) -> str | None:
    for record in reversed(records):
        if record.get("kind") == "prediction":
            return str(record.get("version"))
    return None


def _window(request: Request) -> int:
    text = request.query_params.get("window", str(DEFAULT_WINDOW))
    if not text.isdigit() or not 1 <= int(text) <= WINDOW:
        raise ModelError(f"window must be a whole number from 1 to {WINDOW}, got {text!r}")
    return int(text)


def _label_request(body: bytes) -> tuple[str, Any]:
    example = 'send {"record": "<the record id of the prediction>", "label": <the true outcome>}'
    if len(body) > MAX_LABEL_BYTES:
        raise RowTooLarge(f"a label must be under {MAX_LABEL_BYTES} bytes of JSON")
    try:
        data = parse_json(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidJSON(f"the body is not valid JSON ({error}): {example}") from None
    if not isinstance(data, dict) or set(data) != {"record", "label"}:
        raise ModelError(f"a label is an object with exactly 'record' and 'label': {example}")
    if not isinstance(data["record"], str):
        raise ModelError(f"'record' must be a string: {example}")
    return data["record"], data["label"]


def _check_label(served: ServedModel, value: Any) -> Any:
    """The label as stored, or InvalidLabel: a known class, or a finite number."""
    kind = served.kind
    if kind is ProblemKind.REGRESSION:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise InvalidLabel(
                f"{served.name} predicts a number: the label must be a number, got {value!r}"
            )
        return value
    if kind is ProblemKind.CLUSTERING:
        raise InvalidLabel(f"{served.name} finds clusters: there is no true outcome to send")
    classes = list(served.card.classes or ())
    bools = any(isinstance(known, bool) for known in classes)
    if (isinstance(value, bool) and not bools) or value not in classes:
        raise InvalidLabel(
            f"{served.name} predicts one of {', '.join(map(repr, classes))}: the label must "
            f"be one of them, got {value!r}"
        )
    return value
