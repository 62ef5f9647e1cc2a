"""uvicorn's HTTP protocol with an append lane: stream appends answered without ASGI.

An append is the server's most frequent request and a small one. uvicorn's ASGI path for it
(a scope, a request-response cycle, the proxy-headers middleware, message dicts, a check of
every response header) cost more CPU than the append itself. So a plain
``POST /v1/stream/{name}`` whose small body has a declared length goes straight to
``StreamsApp.append``, and its answer reaches the socket in one write. Any other request, and
any append the lane is not sure of, takes uvicorn's ordinary path unchanged.

The lane stands in for uvicorn's request-response cycle: it has the attributes uvicorn's
httptools protocol reads (body, events, completion, keep-alive). So keep-alive timeouts,
pipelined requests, flow control and graceful shutdown still work as uvicorn wrote them. It
relies on that protocol's internals, so it is not imported directly: serving.lane_switch checks
at start that uvicorn still has each internal read here (and turns the lane off if one
differs, or when told to), then calls ``lane_protocol``. tests/serving/test_lane.py checks each
of these behaviours over a real socket, on the tested uvicorn and on the newest.
"""

from __future__ import annotations

import asyncio
import functools
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import httptools
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from serving.slowclients import SlowClientLimits
from serving.streams import protocol
from serving.streams.errors import StreamError
from serving.streams.http import StreamAnswer, StreamsApp, answer_headers, error_answer, parse_query

if TYPE_CHECKING:
    from serving.app import StreamsFirstApp

_PREFIX = protocol.STREAM_PREFIX.encode()
_CLOSE = b"connection: close\r\n"
_INTERNAL_ERROR = (
    STATUS_LINE[500]
    + b"content-type: text/plain; charset=utf-8\r\ncontent-length: 21\r\n"
    + _CLOSE
    + b"\r\nInternal Server Error"
)


def lane_protocol(app: StreamsFirstApp) -> Any:
    """The ``http`` protocol to give ``uvicorn.Config`` for serving ``app``."""
    return functools.partial(AppendLaneProtocol, app=app)


class AppendLaneProtocol(SlowClientLimits, HttpToolsProtocol):
    """uvicorn's httptools protocol, sending plain appends down the lane (and closing the
    connections of slow clients: serving.slowclients)."""

    def __init__(self, *args: Any, app: StreamsFirstApp, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.streams = app.bare_streams()

    def on_headers_complete(self) -> None:
        self.headers_arrived()  # the header deadline is met; the body's starts
        lane = self._lane_for_request()
        if lane is None:
            super().on_headers_complete()
            return
        # The ignores: a _LaneCycle stands in for uvicorn's RequestResponseCycle (duck-typed:
        # it has what the protocol reads), and self.streams, never None when there is a lane,
        # for its ASGI app.
        previous, self.cycle = self.cycle, lane  # type: ignore[assignment]
        if previous is None or previous.response_complete:
            self._start_asgi_task(lane, self.streams)  # type: ignore[arg-type]
        else:  # a pipelined request waits for the one before it, as in uvicorn
            self.flow.pause_reading()
            self.pipeline.appendleft((lane, self.streams))  # type: ignore[arg-type]

    def _lane_for_request(self) -> _LaneCycle | None:
        """A lane for this request if it is a plain append, else None (uvicorn's path)."""
        streams = self.streams
        parser = self.parser
        if (
            streams is None
            or not self.url.startswith(_PREFIX)
            or parser.get_method() != b"POST"
            or parser.get_http_version() != "1.1"
            or not parser.should_keep_alive()
            or parser.should_upgrade()
            or self.expect_100_continue
            or self.limit_concurrency is not None
            or self.root_path  # behind a path prefix, uvicorn's path maps the URL
        ):
            return None
        headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in self.headers}
        length = headers.get("content-length", "")
        if (
            not length.isdigit()
            or int(length) > streams.limits.max_request_bytes
            or "transfer-encoding" in headers
            or "origin" in headers  # a browser's request: its CORS headers come from StreamsApp
        ):
            return None
        url = httptools.parse_url(self.url)
        path = url.path.decode("ascii")
        return _LaneCycle(
            self,
            self.url,
            unquote(path) if "%" in path else path,
            headers,
            parse_query(url.query or b""),
        )


class _LaneCycle:
    """One append on the lane, shaped like uvicorn's RequestResponseCycle for its protocol."""

    def __init__(
        self,
        owner: AppendLaneProtocol,
        target: bytes,
        url_path: str,
        headers: dict[str, str],
        query: dict[str, list[str]],
    ) -> None:
        self.owner = owner
        self.target = target
        self.url_path = url_path
        self.headers = headers
        self.query = query
        # What uvicorn's protocol reads and writes:
        self.body = bytearray()
        self.more_body = True
        self.message_event = asyncio.Event()
        self.disconnected = False
        self.keep_alive = True
        self.response_complete = False

    async def run_asgi(self, streams: StreamsApp) -> None:
        """Read the body, append, answer (the name is the one uvicorn calls)."""
        owner = self.owner
        while self.more_body and not self.disconnected:
            owner.flow.resume_reading()
            await self.message_event.wait()
            self.message_event.clear()
        if self.disconnected:
            return
        try:
            path = protocol.stream_path(self.url_path)
            answer = await streams.append(path, self.headers, self.query, bytes(self.body))
        except StreamError as error:
            answer = error_answer(error, "POST")
        except Exception as error:
            owner.logger.error("Exception in the append lane", exc_info=error)
            self._fail()
            return
        if owner.flow.write_paused and not self.disconnected:
            await owner.flow.drain()
        if not self.disconnected:
            self._answer(answer)

    def _answer(self, answer: StreamAnswer) -> None:
        """Write the whole response at once, then let uvicorn go on with the connection.

        The headers are the server's own (offsets, numbers, fixed names), so unlike uvicorn's
        ASGI path there is no application input to check for line breaks.
        """
        owner = self.owner
        parts = [STATUS_LINE[answer.status]]
        for name, value in owner.server_state.default_headers + answer_headers(answer):
            parts += (name, b": ", value, b"\r\n")
        if not self.keep_alive:  # the server is shutting down
            parts.append(_CLOSE)
        parts += (b"\r\n", answer.body)
        owner.transport.write(b"".join(parts))
        if owner.access_log:  # the line uvicorn's path would log, in its shape
            owner.access_logger.info(
                '%s - "%s %s HTTP/%s" %d',
                "{}:{}".format(*owner.client) if owner.client else "",
                "POST",
                self.target.decode("latin-1"),
                "1.1",
                answer.status,
            )
        self.response_complete = True
        self.message_event.set()
        if not self.keep_alive:
            owner.transport.close()
        owner.on_response_complete()

    def _fail(self) -> None:
        owner = self.owner
        owner.transport.write(_INTERNAL_ERROR)
        self.response_complete = True
        owner.transport.close()
