"""``POST /v1/tickets``: a one-minute, read-only credential for a URL.

A browser's ``EventSource`` cannot set headers, so an SSE reader has to carry its credential in
the URL (``?access_token=``). A session token is long-lived (until its secret is rotated out:
docs/STREAMS.md), and a URL ends up in proxy logs, browser history and ``Referer`` headers. So
the reader trades its token, sent once in an ``Authorization`` header, for a ticket: a token
for the same resource and subject that grants ``read`` only and expires ``TICKET_SECONDS``
later (or with the token, if sooner), and puts the ticket in the URL:

    POST /v1/tickets            Authorization: Bearer <token>
    200 {"ticket": "v1....", "expires_in": 60}      (null, null on an open server)
    GET  /v1/sessions/<id>/events?access_token=<ticket>     (or /v1/stream/<name>?live=sse&...)

A ticket is checked when a request starts: an SSE response that outlives it goes on, and the
next connection (the server ends SSE responses every 60 s) needs a new ticket, which is why an
``EventSource`` client asks for one on each connect rather than letting the browser reconnect
with the old URL. Tickets are ordinary signed tokens, so every layer (streams, append lane,
sessions) and every process accepts them without a lookup; they are not single-use (that would
need a shared record of spent tickets), but a leaked one is worth one minute of reading, and
the server's own logs redact it anyway (serving.redact).
"""

from __future__ import annotations

import time

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from serving.errors import ServingError
from serving.tokens import TokenError, TokenSigner, bearer_token

__all__ = ["TICKET_SECONDS", "add_ticket_route"]

TICKET_SECONDS = 60
"""Long enough to open a connection on a slow network, short enough to be worthless in a log."""


class TicketRefused(ServingError):
    """No token, or an untrusted one, in the ``Authorization`` header (401)."""

    code = "UNAUTHORIZED"
    status = 401


class TicketForbidden(ServingError):
    """A genuine token without ``read``: a ticket never grants more than its token (403)."""

    code = "FORBIDDEN"
    status = 403


def add_ticket_route(app: FastAPI, signer: TokenSigner | None) -> None:
    """``POST /v1/tickets`` on ``app``; ``signer`` None: an open server, which needs none."""

    @app.post("/v1/tickets", response_model=None)
    async def ticket(request: Request) -> JSONResponse:
        headers = {"cache-control": "no-store"}
        if signer is None:
            return JSONResponse({"ticket": None, "expires_in": None}, headers=headers)
        token = bearer_token(request.headers.get("authorization"))
        try:
            if token is None:
                raise TicketRefused(
                    "send the token to trade in an 'Authorization: Bearer <token>' header (a "
                    "ticket exists so that the token never goes in a URL)"
                )
            try:
                grant = signer.verify(token)
            except TokenError as error:
                raise TicketRefused(f"{error}") from None
            if "read" not in grant.scopes:
                raise TicketForbidden(
                    "this token grants no 'read': a ticket reads, and grants no more than the "
                    "token it is traded for"
                )
        except ServingError as error:
            return JSONResponse(error.body(), status_code=error.status, headers=headers)
        ttl: float = TICKET_SECONDS
        if grant.expires_at is not None:
            ttl = min(ttl, grant.expires_at - time.time())
        ticket = signer.mint(grant.resource, ["read"], ttl_seconds=ttl, subject=grant.subject)
        return JSONResponse({"ticket": ticket, "expires_in": int(ttl)}, headers=headers)
