"""The models' HTTP endpoints: cards, versions, row validation, batch results, uploads.

    GET  /v1/models                       every model: live card, live and latest versions (ETag)
    (these four need, on a secured server, a token with ``read`` on ``models/<name>`` or on a
    session: see ``catalog_reader``)
    GET  /v1/models/{name}                every version's card, oldest first
    GET  /v1/models/{name}/{version}      one version's card
    POST /v1/models/{name}/validate       check a row (JSON object) against the live card
    GET  /v1/results/{id}.csv             a batch run's result
    POST /v1/uploads?session={id}         a CSV for a batch run (the session's write token)

Predictions themselves run as session runs (the model agents); these endpoints let a page build
its form from the card and show a field's error before anything is sent. Every refusal is a
serving.models.errors class (its code and status), answered as JSON ``{"error": {"code",
"message"}}`` as in the sessions layer; a row's problems are listed per field under
``error.problems``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from course.schema import FieldProblem, RowValidationError
from serving.jsontext import parse_json
from serving.models.errors import (
    EmptyUpload,
    InvalidJSON,
    InvalidRow,
    ModelError,
    ModelLogForbidden,
    ModelLogUnauthorized,
    ResultNotFound,
    RowTooLarge,
    UploadTooLarge,
)
from serving.models.registry import ModelRegistry
from serving.models.results import Results
from serving.models.served import ServedModel
from serving.models.uploads import MAX_UPLOAD_BYTES, Uploads
from serving.sessions import Scope, SessionError, SessionService
from serving.sessions.http import address_of, error_response
from serving.sessions.ws import connection_token
from serving.tokens import TokenError, TokenSigner

__all__ = ["MAX_ROW_BYTES", "add_model_routes", "add_upload_route", "problem_to_dict"]

MAX_ROW_BYTES = 64 * 1024
"""A row to validate is a few hundred bytes; anything much larger is a mistake."""


def problem_to_dict(problem: FieldProblem) -> dict[str, str]:
    return {"field": problem.field, "problem": problem.problem, "expected": problem.expected}


def _summary(registry: ModelRegistry, name: str) -> dict[str, Any]:
    """A model's versions, the newest and the live one (which answers requests naming no
    version: its card is the form to fill; serving.models.live)."""
    versions = registry.versions(name)
    live = registry.live(name)
    return {
        "name": live.name,
        "latest": versions[-1].version,
        "live": live.version,
        "versions": [served.version for served in versions],
        "card": live.card.to_dict(),
    }


def catalog_reader(
    signer: TokenSigner | None, open_access: bool
) -> Callable[[Request, str | None], None]:
    """The check of the model catalog (the four ``/v1/models`` endpoints above) on a secured
    server: a genuine token with ``read`` on ``models/<name>`` (``models/*`` for the list), or
    with ``read`` on a session (``sessions/...``: every session token). A session's user builds
    the predict form from the cards, so the page (and a phone that joined by a share link) reads
    the catalog with the session token it already holds; a token for other streams, or a
    ``create`` token, is 403. ``--open``: nothing asked, as before."""

    def check(request: Request, name: str | None) -> None:
        if open_access:
            return
        token = connection_token(request)
        wanted = f"models/{name}" if name is not None else "models/*"
        if token is None or signer is None:
            raise ModelLogUnauthorized(
                f"the model catalog needs a token with 'read' on {wanted!r} or on a session: "
                "send a session's token (creating a session returns them) as "
                "'Authorization: Bearer <token>', or mint one with: "
                "serving token --scope read --stream 'models/*'"
            )
        try:
            grant = signer.verify(token)
        except TokenError as error:
            raise ModelLogUnauthorized(str(error)) from None
        on_models = grant.allows("read", wanted) or (
            name is None and grant.allows("read", "models/")
        )
        if not (on_models or ("read" in grant.scopes and grant.resource.startswith("sessions/"))):
            raise ModelLogForbidden(
                f"your token does not grant 'read' on {wanted!r} or on a session (it grants "
                f"{', '.join(sorted(grant.scopes))} on {grant.resource!r}): use a session's "
                "token, or mint one with: serving token --scope read --stream 'models/*'"
            )

    return check


def add_model_routes(
    app: FastAPI,
    registry: ModelRegistry,
    results: Results,
    *,
    signer: TokenSigner | None = None,
    open_access: bool = True,
) -> None:
    """Add the endpoints above to ``app``, serving ``registry`` and ``results``; the catalog
    asks for a token unless ``open_access`` (``catalog_reader``)."""
    reader = catalog_reader(signer, open_access)

    @app.get("/v1/models", response_model=None)
    async def list_models(request: Request) -> dict[str, Any] | Response:
        # The page polls this to show models exported while the server runs: an unchanged
        # list costs a 304 with no body (the browser's cache revalidates with If-None-Match).
        try:
            reader(request, None)
        except ModelError as error:
            return error_response(error)
        etag = registry.etag
        headers = {"ETag": etag, "Cache-Control": "no-cache"}
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)
        models = [_summary(registry, name) for name in registry.names()]
        return JSONResponse({"models": models}, headers=headers)

    @app.get("/v1/models/{name}", response_model=None)
    async def model_versions(name: str, request: Request) -> dict[str, Any] | JSONResponse:
        try:
            reader(request, name)
            versions = registry.versions(name)
            summary = _summary(registry, name)
        except ModelError as error:
            return error_response(error)
        return {**summary, "cards": [served.card.to_dict() for served in versions]}

    @app.get("/v1/models/{name}/{version}", response_model=None)
    async def model_card(
        name: str, version: str, request: Request
    ) -> dict[str, Any] | JSONResponse:
        try:
            reader(request, name)
            return registry.get(name, version).card.to_dict()
        except ModelError as error:
            return error_response(error)

    @app.post("/v1/models/{name}/validate", response_model=None)
    async def validate(name: str, request: Request) -> dict[str, Any] | JSONResponse:
        try:
            reader(request, name)
            return _validate(registry.live(name), await request.body())
        except ModelError as error:
            return error_response(error)

    @app.get("/v1/results/{filename}", response_model=None)
    async def result_file(filename: str) -> FileResponse | JSONResponse:
        result_id = filename.removesuffix(".csv")
        path = results.path_of(result_id) if filename.endswith(".csv") else None
        if path is None:
            return error_response(
                ResultNotFound(
                    "no batch result at this address: it is /v1/results/<id>.csv, with the id "
                    "from the batch run's final event (an unfinished run has no result yet, "
                    "and a result nobody downloaded for the server's --session-ttl is removed: "
                    "run the batch again)"
                )
            )
        with contextlib.suppress(OSError):  # a download renews it (serving.retention)
            os.utime(path)
        return FileResponse(path, media_type="text/csv", filename=f"predictions-{filename}")


def _validate(served: ServedModel, body: bytes) -> dict[str, Any]:
    """The answer to ``validate``: the clean row and its warnings, or a ModelError."""
    if len(body) > MAX_ROW_BYTES:
        raise RowTooLarge(f"a row must be under {MAX_ROW_BYTES} bytes of JSON")
    try:
        row = parse_json(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidJSON(
            f"the body is not valid JSON ({error}): send one object of feature values, "
            'for example {"island": "Dream", ...}'
        ) from None
    try:
        clean, warnings = served.validate(row)
    except RowValidationError as error:
        problems = [problem_to_dict(problem) for problem in error.problems]
        raise InvalidRow(str(error), problems) from None
    return {
        "model": served.name,
        "version": served.version,
        "row": clean,
        "warnings": [problem_to_dict(warning) for warning in warnings],
    }


def add_upload_route(app: FastAPI, uploads: Uploads, sessions: SessionService) -> None:
    """Add ``POST /v1/uploads?session=<id>``: store a CSV for a batch run of that session.

    The token must grant ``write`` on the session (as a ``send`` does); the answer is
    ``201 {"upload": "<id>", "bytes": n}``; the batch agent reads ``{"upload": "<id>"}``.
    """

    @app.post("/v1/uploads", response_model=None)
    async def upload(request: Request, session: str = "") -> JSONResponse:
        try:
            grant = sessions.authorize(connection_token(request), Scope.WRITE, session)
            await sessions.open(session)
            sessions.limit("uploads", sessions.client_of(grant, address_of(request)))
            upload_id, size = await _receive_upload(request, uploads, session)
        except (SessionError, ModelError) as error:
            return error_response(error)
        return JSONResponse({"upload": upload_id, "bytes": size, "session": session}, 201)


UPLOAD_PIECE_BYTES = 1024 * 1024
"""The body goes to disk in pieces of about this size (one thread hop each): the memory an
upload holds, whatever its size."""


async def _receive_upload(request: Request, uploads: Uploads, session: str) -> tuple[str, int]:
    """Write the CSV of an upload to disk as it arrives; its id and size. UploadTooLarge past
    MAX_UPLOAD_BYTES (declared or sent), EmptyUpload if none: nothing is kept then."""
    too_large = f"an upload must be at most {MAX_UPLOAD_BYTES} bytes"
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_UPLOAD_BYTES:
        raise UploadTooLarge(too_large)
    upload = await asyncio.to_thread(uploads.begin, session)
    try:
        piece = bytearray()
        async for chunk in request.stream():
            if upload.size + len(piece) + len(chunk) > MAX_UPLOAD_BYTES:
                raise UploadTooLarge(too_large)
            piece += chunk
            if len(piece) >= UPLOAD_PIECE_BYTES:
                await asyncio.to_thread(upload.write, piece)
                piece = bytearray()
        if piece:
            await asyncio.to_thread(upload.write, piece)
        if not upload.size:
            raise EmptyUpload("the upload is empty: send the CSV as the body")
        return await asyncio.to_thread(upload.commit), upload.size
    except BaseException:
        await asyncio.to_thread(upload.discard)
        raise
