"""The operator's commands on a model's versions: promote one, roll back to the one before.

    POST /v1/models/{name}/promote     {"version": "2"}: version 2 answers new requests
    POST /v1/models/{name}/rollback    (no body): the version live before the current one

Both need a token granting ``operate`` on ``models/<name>/control`` (``serving token --scope
operate --stream 'models/*'``; NotebookServer.promote and .rollback mint one): a session's own
tokens never carry ``operate``, so no learner's ``write`` or ``control`` token can change what
every session is served (403 FORBIDDEN). An open server (``--open``) asks for nothing. The
answer is the control record written (serving.models.live has its shape and the rules).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from serving.errors import ServingError
from serving.jsontext import parse_json
from serving.models.errors import (
    InvalidJSON,
    ModelError,
    ModelLogForbidden,
    ModelLogUnauthorized,
)
from serving.models.live import LiveVersions, control_stream, promote_state, rollback_state
from serving.models.registry import ModelRegistry
from serving.sessions.http import error_response
from serving.sessions.ws import connection_token
from serving.tokens import TokenError, TokenSigner

__all__ = ["add_promote_routes"]

MAX_BODY_BYTES = 4096


def add_promote_routes(
    app: FastAPI,
    registry: ModelRegistry,
    live: LiveVersions,
    *,
    signer: TokenSigner | None,
    open_access: bool,
) -> None:
    """Add the two endpoints above to ``app``."""

    def operator(request: Request, name: str) -> str | None:
        """Who asks (the token's subject), after checking the token grants ``operate``."""
        if open_access:
            return None
        stream = control_stream(name)
        how = "mint one with: serving token --scope operate --stream 'models/*'"
        token = connection_token(request)
        if token is None or signer is None:
            raise ModelLogUnauthorized(
                f"promoting or rolling back a model needs a bearer token granting 'operate' on "
                f"{stream!r}: {how}"
            )
        try:
            grant = signer.verify(token)
        except TokenError as error:
            raise ModelLogUnauthorized(str(error)) from None
        if not grant.allows("operate", stream):
            raise ModelLogForbidden(
                f"your token does not grant 'operate' on {stream!r} (it grants "
                f"{', '.join(sorted(grant.scopes))} on {grant.resource!r}): changing the live "
                f"version changes what every session is served, so it is an operator's act; "
                f"{how}"
            )
        return grant.subject or None

    @app.post("/v1/models/{name}/promote", response_model=None)
    async def promote(name: str, request: Request) -> JSONResponse:
        try:
            registry.versions(name)  # MODEL_NOT_FOUND first: it lists the models
            by = operator(request, name)
            version = _version_of(await request.body())
            registry.get(name, version)  # MODEL_NOT_FOUND lists the versions
            current = registry.live(name).version
            record = await live.command(
                name,
                "promote",
                lambda state: promote_state(state, version, current),
                current=current,
                by=by,
            )
        except ServingError as error:
            return error_response(error)
        return JSONResponse(record)

    @app.post("/v1/models/{name}/rollback", response_model=None)
    async def rollback(name: str, request: Request) -> JSONResponse:
        try:
            registry.versions(name)
            by = operator(request, name)
            current = registry.live(name).version
            loaded = [served.version for served in registry.versions(name)]
            record = await live.command(
                name,
                "rollback",
                lambda state: rollback_state(state, name, loaded),
                current=current,
                by=by,
            )
        except ServingError as error:
            return error_response(error)
        return JSONResponse(record)


def _version_of(body: bytes) -> str:
    example = 'send {"version": "2"}'
    if len(body) > MAX_BODY_BYTES:
        raise ModelError(f"a promote is a small JSON object: {example}")
    try:
        data: Any = parse_json(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidJSON(f"the body is not valid JSON ({error}): {example}") from None
    if not isinstance(data, dict) or set(data) != {"version"}:
        raise ModelError(f"a promote names the version to make live, and only that: {example}")
    version = data["version"]
    if isinstance(version, int) and not isinstance(version, bool):
        version = str(version)  # {"version": 2}: what a beginner types
    if not isinstance(version, str):
        raise ModelError(f"'version' must be a string: {example}")
    return version
