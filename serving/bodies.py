"""A request body read whole, but never more than a limit: what the JSON endpoints take.

Refused as soon as its Content-Length says it is too big, or once more than the limit has
arrived (a body sent without a length, chunked), so a client cannot make the server hold more.
Each layer raises its own error (its code and message): ``too_large`` makes it.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request


async def read_body(
    request: Request, limit: int, too_large: Callable[[int | None], Exception]
) -> bytes:
    """The body; ``too_large(declared length)`` past ``limit`` bytes declared, or
    ``too_large(None)`` past ``limit`` bytes sent."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large(int(declared))
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_large(None)
    return bytes(body)
