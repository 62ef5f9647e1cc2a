"""On a server started with ``--open``, the pages of other web sites get nothing.

With tokens, a request needs a token that another site's page cannot have. With ``--open``
nothing is asked, so a page of any site the user visits could create sessions, send commands
and open a session's WebSocket on ``http://127.0.0.1:8000`` from the user's own browser: a
browser sends a text/plain POST without asking first (no CORS preflight), and WebSockets are
not covered by CORS at all. A browser says which page makes a request in ``Origin``; so on an
``--open`` server, a request whose ``Origin`` is neither the server itself nor one of the
``--cors-origin`` ones is refused (403 ``FORBIDDEN``, or the WebSocket handshake refused with
403) before anything runs. Clients that are not browsers send no ``Origin`` and are not
affected. ``/v1/stream/`` applies the same rule in its own layer (serving.streams.http).
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from starlette.types import Receive, Scope, Send

__all__ = ["OtherSitesGuard", "normalise_origin", "same_origin"]


def normalise_origin(origin: str) -> str:
    return origin.rstrip("/").lower()


def same_origin(origin: str, host: str) -> bool:
    """True when ``origin`` (``http://host:port``) names the host the request was sent to."""
    scheme, _, netloc = normalise_origin(origin).partition("://")
    return scheme in ("http", "https") and bool(host) and netloc == host.lower()


class OtherSitesGuard:
    """Refuses the requests of other sites' pages; ``allowed``: the ``--cors-origin`` ones."""

    def __init__(self, allowed: Iterable[str] = ()) -> None:
        self.allowed = frozenset(normalise_origin(origin) for origin in allowed)

    def foreign_origin(self, scope: Scope) -> str | None:
        """The ``Origin`` of a request made by another site's page, or None."""
        headers = {key.decode("latin-1"): value for key, value in scope.get("headers", [])}
        origin = headers.get("origin")
        if origin is None:
            return None
        text: str = origin.decode("latin-1")
        host = headers.get("host", b"").decode("latin-1")
        if normalise_origin(text) in self.allowed or same_origin(text, host):
            return None
        return text

    async def refused(self, scope: Scope, receive: Receive, send: Send) -> bool:
        """Answer a foreign page's request with a refusal; False when the request may go on."""
        if scope["type"] not in ("http", "websocket"):
            return False
        origin = self.foreign_origin(scope)
        if origin is None:
            return False
        if scope["type"] == "websocket":
            await receive()  # websocket.connect; closing before accepting refuses with 403
            await send({"type": "websocket.close", "code": 4403})
            return True
        message = (
            f"this server was started with --open (no tokens), so it refuses requests from the "
            f"pages of other web sites ({origin}); to allow one, start it with --cors-origin "
            "ORIGIN, or run it with tokens"
        )
        body = json.dumps({"error": {"code": "FORBIDDEN", "message": message}}).encode()
        await send({
            "type": "http.response.start",
            "status": 403,
            "headers": [(b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode())],
        })
        await send({"type": "http.response.body", "body": body})
        return True
