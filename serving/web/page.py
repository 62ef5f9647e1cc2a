"""Serving the web page: ``/`` and its files, and the token that lets it start a session.

    GET  /             the page (serving/web/static/index.html)
    GET  /web/<file>   its modules and style sheet, as written: no build step
    GET  /classroom/<code>     the instructor's page of a classroom (classroom.html; the token
                               comes in ?access_token= and the page moves it out of the address)
    GET  /classroom/<code>/me  a learner's tiny page (classroom-me.html): messages, raise a hand
    GET  /classroom/<code>/join  how to join from a notebook (classroom-join.html): the lines to
                               copy; the join link and QR code of ``course classroom start``
    POST /web/token    a short-lived ``create`` token, for a browser on this computer only
                       (``?operate=1``: also an ``operate`` token, to retrain shared models;
                       ``?models=1``: a ``read`` token on ``models/*``, the prediction logs)
    GET  /web/lan      with ``--lan``: the address other devices reach this server at
    POST /web/qr       an SVG QR code of the link in the request body (the share link's tokens
                       never go in a URL)

How the page gets its session (secure by default, no friction on your own computer): the page
asks ``POST /web/token`` for a token that may only create sessions and expires in a minute,
then creates its session with the ordinary ``POST /v1/sessions`` and keeps the three tokens it
gets back. The server hands that token only to a request from this computer's own page (see
serving.web.local), so a server started with ``--host 0.0.0.0`` does not let the whole network
in: another device joins with a link shared from the page (its token travels in the link's
``#fragment``, which browsers never send to a server), or with a ``create`` token minted by
``serving token --scope create --stream 'sessions/*'`` and put in the address as
``/#create=<token>``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.staticfiles import StaticFiles

from serving.errors import ServingError
from serving.sessions import Scope, SessionService
from serving.sessions.session import PREFIX
from serving.web.local import why_not_local

__all__ = ["CREATE_TOKEN_SECONDS", "STATIC_DIR", "add_web_page"]

STATIC_DIR = Path(__file__).parent / "static"
CREATE_TOKEN_SECONDS = 60
"""The page uses its create token at once; a minute covers a slow start and nothing more."""
PAGE_HEADERS = {
    # Learners edit these files: always check for a newer version (ETags keep it cheap).
    "cache-control": "no-cache",
    # The page runs only its own scripts and talks only to this server.
    "content-security-policy": "default-src 'self'; connect-src 'self'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'",
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
}


class _PageFiles(StaticFiles):
    """The page's files, with the page's headers."""

    def file_response(self, *args: Any, **kwargs: Any) -> Any:
        response = super().file_response(*args, **kwargs)
        response.headers.update(PAGE_HEADERS)
        return response


def add_web_page(app: FastAPI, sessions: SessionService) -> None:
    """Serve the page at ``/`` and its files under ``/web/`` for the sessions of ``sessions``."""

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", headers=PAGE_HEADERS)

    # The classroom pages (docs/PROTOCOL.md "Classroom"): the same files for every code; the
    # page reads its code from the path and asks /v1/classrooms/<code>/... with its token.
    @app.get("/classroom/{code}", include_in_schema=False)
    async def classroom_page(code: str) -> FileResponse:
        return FileResponse(STATIC_DIR / "classroom.html", headers=PAGE_HEADERS)

    @app.get("/classroom/{code}/me", include_in_schema=False)
    async def classroom_learner_page(code: str) -> FileResponse:
        return FileResponse(STATIC_DIR / "classroom-me.html", headers=PAGE_HEADERS)

    @app.get("/classroom/{code}/join", include_in_schema=False)
    async def classroom_join_page(code: str) -> FileResponse:
        # Where the QR code of `course classroom start` leads: how to join from a notebook.
        return FileResponse(STATIC_DIR / "classroom-join.html", headers=PAGE_HEADERS)

    @app.post("/web/token", include_in_schema=False)
    async def create_token(request: Request) -> JSONResponse:
        headers = {"cache-control": "no-store"}
        if sessions.open_access:
            return JSONResponse({"create": None, "expires_in": None}, headers=headers)
        client = request.client.host if request.client else None
        reason = why_not_local(
            client, request.headers.get("host", ""), request.headers.get("origin")
        )
        if reason is not None:
            refused = NotLocal(_not_local_message(reason))
            return JSONResponse(refused.body(), status_code=refused.status, headers=headers)
        assert sessions.signer is not None  # a server that is not open has one
        token = sessions.signer.mint(
            PREFIX + "*", [Scope.CREATE], ttl_seconds=CREATE_TOKEN_SECONDS, subject="web"
        )
        answer: dict[str, Any] = {"create": token, "expires_in": CREATE_TOKEN_SECONDS}
        if request.query_params.get("operate") in ("1", "true"):
            # Asked for explicitly: retraining a shared model is the operator's act, and the
            # person at this computer is the operator. Read and write come with it, so that
            # the token alone can follow the retraining it starts (any session of this server).
            answer["operate"] = sessions.signer.mint(
                PREFIX + "*",
                [Scope.READ, Scope.WRITE, Scope.OPERATE],
                ttl_seconds=sessions.settings.token_ttl_seconds,
                subject="web-operator",
            )
        if request.query_params.get("models") in ("1", "true"):
            # The page's "How the model is doing" view reads the models' prediction logs
            # (docs/MODELS.md): read only, and only for a page on this computer.
            answer["models"] = sessions.signer.mint(
                "models/*",
                ["read"],
                ttl_seconds=sessions.settings.token_ttl_seconds,
                subject="web-models",
            )
        return JSONResponse(answer, headers=headers)

    @app.get("/web/lan", include_in_schema=False)
    async def lan(request: Request) -> JSONResponse:
        # With --lan, the address other devices reach this server at: the page puts it in its
        # share links and QR code when it was opened on 127.0.0.1 (None without --lan).
        address = getattr(request.app.state, "lan_address", None)
        port = request.url.port or (443 if request.url.scheme == "https" else 80)
        if address is not None:
            address = f"http://{f'[{address}]' if ':' in address else address}:{port}"
        return JSONResponse({"origin": address}, headers={"cache-control": "no-store"})

    @app.post("/web/qr", include_in_schema=False)
    async def qr(request: Request) -> Response:
        # The link travels in the body, never in a URL: its tokens must not reach any log.
        from serving.lan import qr_svg

        link = await request.body()
        if not link.strip() or len(link) > MAX_QR_BYTES:
            kind = NoLink if not link.strip() else LinkTooLong
            refused = kind(f"send the link to draw as the request body, 1 to {MAX_QR_BYTES} bytes")
            return JSONResponse(refused.body(), status_code=refused.status)
        svg = qr_svg(link.decode("utf-8", "replace"))
        return Response(svg, media_type="image/svg+xml", headers={"cache-control": "no-store"})

    app.mount("/web", _PageFiles(directory=STATIC_DIR), name="web")


MAX_QR_BYTES = 2048
"""Longer than any share link (about 330 bytes), shorter than a QR code's capacity (2,953)."""


class NoLink(ServingError):
    """``POST /web/qr`` with an empty body (400)."""

    code = "BAD_REQUEST"
    status = 400


class LinkTooLong(ServingError):
    """``POST /web/qr`` with more than a QR code of a link should hold (413)."""

    code = "PAYLOAD_TOO_LARGE"
    status = 413


class NotLocal(ServingError):
    """A request for a create token from anywhere but a browser on the server's computer (403)."""

    code = "NOT_LOCAL"
    status = 403


def _not_local_message(reason: str) -> str:
    return (
        f"the page starts sessions by itself only in a browser on the server's own computer, "
        f"and this request is not from there: {reason}. From another device, open a link "
        "shared from the page ('Watch on another device' or 'Share control'), or add a create "
        "token to the address: /#create=<token>, with the token from "
        "serving token --scope create --stream 'sessions/*'"
    )
