"""The append lane (serving.lane) over a real socket against a real server.

A plain ``POST /v1/stream/{name}`` skips ASGI; these tests check that a client cannot tell:
the lane's answers equal the ASGI path's (a request with ``Origin`` always takes that path),
pipelined and kept-alive connections stay in order, and a broken or failing request loses
nothing and breaks nothing else. A spy on ``StreamsApp.append`` (which only the lane calls;
the ASGI path calls ``_append``) proves which path served each request.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import httpx
import pytest

from serving.background import BackgroundServer
from serving.config import ServerConfig
from serving.streams import MemoryStore
from serving.streams.http import StreamAnswer
from serving.streams.offsets import ZERO
from serving.streams.protocol import Limits
from serving.streams.store import AppendRequest, AppendResult
from serving.tokens import TokenSigner

MAX_REQUEST_BYTES = 1024 * 1024
"""The request limit of the module's server: past uvicorn's 64 KiB read buffer, so a body
this big pauses reading, yet small enough that the 413 test sends only a megabyte."""
EXPLODING = "exploding"
"""The stream whose appends fail inside the store with an unexpected exception."""
ORIGIN = {"origin": "http://course.test"}
"""A browser's header: the lane leaves such a request to the ASGI path (the open server
allows this origin with --cors-origin: it refuses the pages of other sites)."""
TEXT = {"content-type": "text/plain"}
JSON = {"content-type": "application/json"}
SECRET = b"lane-test-secret-0123456789abcdef"
SIGNER = TokenSigner(SECRET)


class FailingStore(MemoryStore):
    """A memory store whose appends to EXPLODING raise what no StreamError covers."""

    async def append(self, path: str, request: AppendRequest) -> AppendResult:
        if path == EXPLODING:
            raise RuntimeError("the disk caught fire")
        return await super().append(path, request)


@pytest.fixture(scope="module")
def server() -> Iterator[BackgroundServer]:
    """One open server for the module: every test uses streams of its own names."""
    config = ServerConfig(
        store_url="memory://",
        open_access=True,
        limits=Limits(max_request_bytes=MAX_REQUEST_BYTES, max_message_bytes=MAX_REQUEST_BYTES),
        cors_origins=(ORIGIN["origin"],),
    )
    with BackgroundServer(config, store=FailingStore()) as running:
        yield running


@pytest.fixture(scope="module")
def token_server() -> Iterator[BackgroundServer]:
    with BackgroundServer(ServerConfig(store_url="memory://", secret=SECRET)) as running:
        yield running


@pytest.fixture
def lane_calls(server: BackgroundServer, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The stream paths of the appends the lane has made since the test began."""
    return _spy_on_lane(server, monkeypatch)


def _spy_on_lane(server: BackgroundServer, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    streams = server.app.streams
    calls: list[str] = []
    append: Callable[..., Awaitable[StreamAnswer]] = streams.append

    async def counting_append(path: str, *args: object) -> StreamAnswer:
        calls.append(path)
        return await append(path, *args)

    monkeypatch.setattr(streams, "append", counting_append)
    return calls


# --- raw HTTP/1.1 ---------------------------------------------------------------------------


@dataclass
class RawResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = [value for key, value in self.headers if key == name]
        assert len(values) <= 1, f"{name} sent {len(values)} times"
        return values[0] if values else None

    def json(self) -> object:
        return json.loads(self.body)


class RawConnection:
    """One TCP connection: write bytes as they are, read responses one at a time."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        assert parts.hostname is not None and parts.port is not None
        self.host = f"{parts.hostname}:{parts.port}"
        self.socket = socket.create_connection((parts.hostname, parts.port), timeout=10)
        self.buffer = b""

    def __enter__(self) -> RawConnection:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.socket.close()

    def request(
        self, method: str, stream: str, headers: dict[str, str] | None = None, body: bytes = b""
    ) -> bytes:
        """The bytes of one request on this connection (HTTP/1.1, keep-alive)."""
        lines = [f"{method} /v1/stream/{stream} HTTP/1.1", f"host: {self.host}"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        if method in ("POST", "PUT"):
            lines.append(f"content-length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body

    def send(self, data: bytes) -> None:
        self.socket.sendall(data)

    def exchange(
        self, method: str, stream: str, headers: dict[str, str] | None = None, body: bytes = b""
    ) -> RawResponse:
        self.send(self.request(method, stream, headers, body))
        return self.response()

    def response(self) -> RawResponse:
        """The next whole response: status line, headers, then Content-Length bytes."""
        head = self._read_until(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        version, status, _ = status_line.split(" ", 2)
        assert version == "HTTP/1.1", status_line
        headers = []
        for line in header_lines:
            name, _, value = line.partition(":")
            headers.append((name.strip().lower(), value.strip()))
        response = RawResponse(int(status), headers, b"")
        length = response.header("content-length")
        if length is None:
            assert response.status in (100, 204, 304), f"{status_line} has no content-length"
        else:
            response.body = self._read_exactly(int(length))
        return response

    def closed_by_server(self) -> bool:
        """True once the server has closed its side and sent nothing more."""
        return not self.buffer and self.socket.recv(1) == b""

    def _read_until(self, marker: bytes) -> bytes:
        while marker not in self.buffer:
            self._receive()
        head, self.buffer = self.buffer.split(marker, 1)
        return head

    def _read_exactly(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self._receive()
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def _receive(self) -> None:
        chunk = self.socket.recv(65536)
        if not chunk:
            raise ConnectionError(f"the server closed the connection; unread: {self.buffer!r}")
        self.buffer += chunk


def protocol_headers(response: RawResponse) -> list[tuple[str, str]]:
    """The headers the protocol decides: without date, server and CORS (browser-only)."""
    return sorted(
        (name, value)
        for name, value in response.headers
        if name not in ("date", "server") and not name.startswith("access-control-")
    )


def assert_same_answer(lane: RawResponse, asgi: RawResponse, status: int) -> None:
    """The lane answered exactly as the ASGI path: status, protocol headers and body."""
    assert lane.status == asgi.status == status
    assert protocol_headers(lane) == protocol_headers(asgi)
    assert lane.body == asgi.body


def fresh(name: str) -> str:
    return f"lane-{name}-{uuid.uuid4().hex[:8]}"


def create(server: BackgroundServer, content_type: dict[str, str], name: str) -> str:
    stream = fresh(name)
    with RawConnection(server.url) as connection:
        assert connection.exchange("PUT", stream, content_type).status == 201
    return stream


def read(server: BackgroundServer, stream: str, headers: dict[str, str] | None = None) -> bytes:
    with RawConnection(server.url) as connection:
        response = connection.exchange("GET", f"{stream}?offset=-1", headers)
    assert response.status == 200, response
    return response.body


# --- the lane answers as the ASGI path does -------------------------------------------------


def test_a_plain_append_takes_the_lane_and_answers_as_the_asgi_path(
    server: BackgroundServer, lane_calls: list[str]
) -> None:
    on_lane, on_asgi = create(server, TEXT, "lane"), create(server, TEXT, "asgi")
    with RawConnection(server.url) as connection:
        lane = connection.exchange("POST", on_lane, TEXT, b"hello")
        assert lane_calls == [on_lane]
        asgi = connection.exchange("POST", on_asgi, TEXT | ORIGIN, b"hello")
        assert lane_calls == [on_lane]

    assert_same_answer(lane, asgi, 204)
    assert lane.header("stream-next-offset") is not None
    assert lane.body == b""
    assert asgi.header("access-control-allow-origin") == ORIGIN["origin"]
    assert lane.header("access-control-allow-origin") is None
    assert read(server, on_lane) == read(server, on_asgi) == b"hello"


def test_appends_on_both_paths_are_read_in_order_exactly_once(
    server: BackgroundServer, lane_calls: list[str]
) -> None:
    stream = create(server, JSON, "both")
    with RawConnection(server.url) as connection:
        offsets = []
        for number in range(6):
            headers = JSON | ORIGIN if number % 2 else JSON
            response = connection.exchange("POST", stream, headers, str(number).encode())
            assert response.status == 204
            offsets.append(response.header("stream-next-offset"))
    assert len(lane_calls) == 3
    assert offsets == sorted(offsets) and len(set(offsets)) == 6
    assert json.loads(read(server, stream)) == [0, 1, 2, 3, 4, 5]


def test_a_percent_encoded_name_is_the_same_stream_on_both_paths(
    server: BackgroundServer, lane_calls: list[str]
) -> None:
    stream = f"{fresh('encoded')}/with space"
    with RawConnection(server.url) as connection:
        url = quote(stream)
        assert connection.exchange("PUT", url, TEXT).status == 201
        assert connection.exchange("POST", url, TEXT, b"lane ").status == 204
        assert connection.exchange("POST", url, TEXT | ORIGIN, b"asgi").status == 204
    assert lane_calls == [stream]
    assert read(server, quote(stream)) == b"lane asgi"


def test_a_producer_append_answers_200_with_its_producer_headers_on_both_paths(
    server: BackgroundServer, lane_calls: list[str]
) -> None:
    on_lane, on_asgi = create(server, TEXT, "producer"), create(server, TEXT, "producer-asgi")
    producer = {"producer-id": "notebook", "producer-epoch": "0", "producer-seq": "0"}
    with RawConnection(server.url) as connection:
        lane = connection.exchange("POST", on_lane, TEXT | producer, b"once")
        asgi = connection.exchange("POST", on_asgi, TEXT | producer | ORIGIN, b"once")
        replay = connection.exchange("POST", on_lane, TEXT | producer, b"once")
    assert lane_calls == [on_lane, on_lane]
    assert_same_answer(lane, asgi, 200)
    assert (lane.header("producer-epoch"), lane.header("producer-seq")) == ("0", "0")
    assert replay.status == 204  # a duplicate is acknowledged, not appended again
    assert read(server, on_lane) == b"once"


# --- pipelining -----------------------------------------------------------------------------


def test_pipelined_appends_and_a_read_are_answered_in_order(
    server: BackgroundServer, lane_calls: list[str]
) -> None:
    stream = create(server, JSON, "pipelined")
    with RawConnection(server.url) as connection:
        connection.send(
            connection.request("POST", stream, JSON, b'{"n": 1}')
            + connection.request("POST", stream, JSON, b'{"n": 2}')
            + connection.request("GET", f"{stream}?offset=-1")
        )
        first, second, catch_up = (connection.response() for _ in range(3))
    assert lane_calls == [stream, stream]
    assert (first.status, second.status, catch_up.status) == (204, 204, 200)
    assert first.header("stream-next-offset") < second.header("stream-next-offset")  # type: ignore[operator]
    assert catch_up.header("stream-next-offset") == second.header("stream-next-offset")
    assert catch_up.json() == [{"n": 1}, {"n": 2}]


def test_pipelined_requests_mixing_the_lane_and_asgi_are_answered_in_order(
    server: BackgroundServer, lane_calls: list[str]
) -> None:
    stream = fresh("mixed")
    with RawConnection(server.url) as connection:
        connection.send(
            connection.request("PUT", stream, TEXT)  # ASGI, then the lane
            + connection.request("POST", stream, TEXT, b"a")
            + connection.request("POST", stream, TEXT | ORIGIN, b"b")  # lane, then ASGI
            + connection.request("POST", stream, TEXT, b"c")
            + connection.request("GET", f"{stream}?offset=-1", ORIGIN)
        )
        created, *appended, catch_up = (connection.response() for _ in range(5))
    assert lane_calls == [stream, stream]
    assert created.status == 201
    assert [response.status for response in appended] == [204, 204, 204]
    assert [response.header("access-control-allow-origin") for response in appended] == [
        None,
        ORIGIN["origin"],
        None,
    ]
    offsets = [response.header("stream-next-offset") for response in appended]
    assert offsets == sorted(offsets) and len(set(offsets)) == 3  # type: ignore[type-var]
    assert (catch_up.status, catch_up.body) == (200, b"abc")
    assert catch_up.header("stream-next-offset") == offsets[-1]


# --- requests the lane leaves to uvicorn ---------------------------------------------------


def test_an_append_that_expects_100_continue_gets_it_from_uvicorn(
    server: BackgroundServer, lane_calls: list[str]
) -> None:
    stream = create(server, TEXT, "expect")
    with RawConnection(server.url) as connection:
        request = connection.request("POST", stream, TEXT | {"expect": "100-continue"}, b"late")
        connection.send(request.removesuffix(b"late"))
        assert connection.response().status == 100
        connection.send(b"late")
        assert connection.response().status == 204
    assert lane_calls == []
    assert read(server, stream) == b"late"


@pytest.mark.parametrize(
    ("framing", "closes"),
    [
        ("HTTP/1.0\r\ncontent-length: 5", True),
        ("HTTP/1.1\r\nconnection: close\r\ncontent-length: 5", True),
        ("HTTP/1.1\r\ntransfer-encoding: chunked", False),
    ],
)
def test_appends_framed_otherwise_take_uvicorns_path_and_land(
    server: BackgroundServer, lane_calls: list[str], framing: str, closes: bool
) -> None:
    stream = create(server, TEXT, "framing")
    body = b"5\r\nhello\r\n0\r\n\r\n" if "chunked" in framing else b"hello"
    with RawConnection(server.url) as connection:
        head = f"POST /v1/stream/{stream} {framing}\r\ncontent-type: text/plain\r\n\r\n"
        connection.send(head.encode() + body)
        response = connection.response()
        assert response.status == 204
        assert (response.header("connection") == "close") is closes
        if closes:
            assert connection.closed_by_server()
        else:  # the connection goes on
            assert connection.exchange("GET", f"{stream}?offset=-1").body == b"hello"
    assert lane_calls == []
    assert read(server, stream) == b"hello"


# --- refusals: precise 4xx JSON, as on the ASGI path ----------------------------------------


def _refusals_on_both_paths(
    server: BackgroundServer, stream: str, headers: dict[str, str], body: bytes
) -> tuple[RawResponse, RawResponse]:
    with RawConnection(server.url) as connection:
        lane = connection.exchange("POST", stream, headers, body)
        asgi = connection.exchange("POST", stream, headers | ORIGIN, body)
        # The connection survives a refusal: it still serves the next request.
        assert connection.exchange("GET", "no-such-stream-at-all?offset=-1").status == 404
    return lane, asgi


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("unknown stream", 404, None),
        ("malformed JSON", 400, None),
        ("wrong content type", 409, "CONTENT_TYPE_MISMATCH"),
        ("session log", 403, "SESSION_LOG_READ_ONLY"),
        ("no body", 400, None),
        ("dot segment", 400, None),
        ("producer gap", 409, "PRODUCER_SEQ_GAP"),
    ],
)
def test_a_refused_lane_append_is_the_precise_error_of_the_asgi_path(
    server: BackgroundServer, lane_calls: list[str], case: str, status: int, code: str | None
) -> None:
    json_stream = create(server, JSON, "refusals")
    stream, headers, body = {
        "unknown stream": (fresh("missing"), TEXT, b"x"),
        "malformed JSON": (json_stream, JSON, b'{"n": '),
        "wrong content type": (json_stream, TEXT, b"x"),
        "session log": (f"sessions/{uuid.uuid4().hex}", JSON, b"{}"),
        "no body": (json_stream, JSON, b""),
        "dot segment": ("a/../b", TEXT, b"x"),
        "producer gap": (
            json_stream,
            JSON | {"producer-id": "p", "producer-epoch": "0", "producer-seq": "3"},
            b"{}",
        ),
    }[case]
    lane, asgi = _refusals_on_both_paths(server, stream, headers, body)

    # The first request took the lane (which refuses a bad name before calling append).
    assert len(lane_calls) == (0 if case == "dot segment" else 1)
    assert_same_answer(lane, asgi, status)
    assert lane.header("content-type") == "application/json"
    error = lane.json()["error"]  # type: ignore[index]
    assert error["message"]
    if code is not None:
        assert error["code"] == code
    assert json.loads(read(server, json_stream)) == []


def test_an_append_to_a_closed_stream_gets_the_tail_in_the_same_409_on_both_paths(
    server: BackgroundServer, lane_calls: list[str]
) -> None:
    stream = create(server, TEXT, "closed")
    with RawConnection(server.url) as connection:
        last = connection.exchange("POST", stream, TEXT | {"stream-closed": "true"}, b"end")
        lane = connection.exchange("POST", stream, TEXT, b"late")
        asgi = connection.exchange("POST", stream, TEXT | ORIGIN, b"late")
    assert lane_calls == [stream, stream]
    assert (last.status, last.header("stream-closed")) == (204, "true")
    assert_same_answer(lane, asgi, 409)
    assert lane.header("stream-next-offset") == last.header("stream-next-offset")
    assert lane.json()["error"]["code"] == "STREAM_CLOSED"  # type: ignore[index]
    assert read(server, stream) == b"end"


def test_a_body_over_the_limit_is_refused_with_413_and_the_connection_goes_on(
    server: BackgroundServer, lane_calls: list[str]
) -> None:
    stream = create(server, TEXT, "too-big")
    with RawConnection(server.url) as connection:
        too_big = connection.exchange("POST", stream, TEXT, b"x" * (MAX_REQUEST_BYTES + 1))
        fits = connection.exchange("POST", stream, TEXT, b"y" * MAX_REQUEST_BYTES)
    assert lane_calls == [stream]  # only the one that fits took the lane
    assert too_big.status == 413
    assert str(MAX_REQUEST_BYTES) in too_big.json()["error"]["message"]  # type: ignore[index]
    assert fits.status == 204
    assert read(server, stream) == b"y" * MAX_REQUEST_BYTES


# --- tokens ---------------------------------------------------------------------------------


def test_with_tokens_the_lane_needs_a_write_token_for_the_stream(
    token_server: BackgroundServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    lane_calls = _spy_on_lane(token_server, monkeypatch)
    stream = fresh("tokens")
    token = {"authorization": f"Bearer {SIGNER.mint(stream, ['read', 'write'])}"}
    other = {"authorization": f"Bearer {SIGNER.mint('another', ['read', 'write'])}"}
    reader = {"authorization": f"Bearer {SIGNER.mint(stream, ['read'])}"}
    with RawConnection(token_server.url) as connection:
        assert connection.exchange("PUT", stream, TEXT | token).status == 201
        anonymous = connection.exchange("POST", stream, TEXT, b"no")
        anonymous_asgi = connection.exchange("POST", stream, TEXT | ORIGIN, b"no")
        elsewhere = connection.exchange("POST", stream, TEXT | other, b"no")
        read_only = connection.exchange("POST", stream, TEXT | reader, b"no")
        written = connection.exchange("POST", stream, TEXT | token, b"yes")
        in_query = connection.exchange(
            "POST", f"{stream}?access_token={SIGNER.mint(stream, ['write'])}", TEXT, b"!"
        )
    assert len(lane_calls) == 5

    assert anonymous.status == anonymous_asgi.status == 401
    assert anonymous.header("www-authenticate") == 'Bearer realm="streams"'
    assert protocol_headers(anonymous) == protocol_headers(anonymous_asgi)
    assert anonymous.body == anonymous_asgi.body
    assert (elsewhere.status, read_only.status) == (403, 403)
    assert "does not grant 'write'" in read_only.json()["error"]["message"]  # type: ignore[index]
    assert written.status == in_query.status == 204
    assert read(token_server, stream, token) == b"yes!"


# --- bodies that arrive late, partly, or break the store ------------------------------------


def test_a_client_that_leaves_mid_body_appends_nothing_and_the_server_goes_on(
    server: BackgroundServer, lane_calls: list[str]
) -> None:
    stream = create(server, TEXT, "half")
    with RawConnection(server.url) as connection:
        request = connection.request("POST", stream, TEXT, b"0123456789")
        connection.send(request[:-5])  # the headers and half the declared body
        time.sleep(0.05)
    time.sleep(0.05)  # the server sees the close
    with RawConnection(server.url) as connection:
        assert connection.exchange("POST", stream, TEXT, b"next").status == 204
    assert lane_calls == [stream]  # the abandoned request never reached append
    assert read(server, stream) == b"next"


def test_a_body_past_uvicorns_read_buffer_is_appended_whole(
    server: BackgroundServer, lane_calls: list[str]
) -> None:
    stream = create(server, TEXT, "big")
    body = bytes(range(256)) * (MAX_REQUEST_BYTES // 256)
    with RawConnection(server.url) as connection:
        assert (
            connection.exchange("POST", stream, {"content-type": "text/plain"}, body).status == 204
        )
    assert lane_calls == [stream]
    assert read(server, stream) == body


def test_a_body_sent_in_several_writes_is_appended_whole(
    server: BackgroundServer, lane_calls: list[str]
) -> None:
    stream = create(server, JSON, "pieces")
    body = json.dumps({"text": "a message sent in three pieces"}).encode()
    with RawConnection(server.url) as connection:
        request = connection.request("POST", stream, JSON, body)
        head = len(request) - len(body)
        connection.send(request[:head])
        for start in range(0, len(body), len(body) // 3 + 1):
            time.sleep(0.02)
            connection.send(body[start : start + len(body) // 3 + 1])
        assert connection.response().status == 204
    assert lane_calls == [stream]
    assert json.loads(read(server, stream)) == [json.loads(body)]


def test_an_unexpected_store_failure_is_a_500_that_closes_only_its_connection(
    server: BackgroundServer, lane_calls: list[str]
) -> None:
    with RawConnection(server.url) as connection:
        assert connection.exchange("PUT", EXPLODING, TEXT).status in (200, 201)
    answers = []
    for headers in (TEXT, TEXT | ORIGIN):  # the lane, then the ASGI path
        with RawConnection(server.url) as connection:
            answers.append(connection.exchange("POST", EXPLODING, headers, b"boom"))
            assert connection.closed_by_server()
    lane, asgi = answers
    assert lane_calls == [EXPLODING]
    assert_same_answer(lane, asgi, 500)
    assert lane.header("connection") == "close"
    assert lane.body == b"Internal Server Error"

    stream = create(server, TEXT, "after-500")
    with RawConnection(server.url) as connection:
        assert connection.exchange("POST", stream, TEXT, b"still here").status == 204
    assert read(server, stream) == b"still here"


# --- keep-alive -----------------------------------------------------------------------------


def test_many_appends_over_one_kept_alive_connection_all_land_in_order(
    server: BackgroundServer, lane_calls: list[str]
) -> None:
    stream = create(server, JSON, "keep-alive")
    client_ports = set()
    with httpx.Client(base_url=f"{server.url}/v1/stream/") as client:
        for number in range(200):
            response = client.post(stream, content=str(number).encode(), headers=JSON)
            assert response.status_code == 204, response.text
            network = response.extensions["network_stream"]
            client_ports.add(network.get_extra_info("client_addr"))
    assert len(client_ports) == 1
    assert len(lane_calls) == 200
    assert json.loads(read(server, stream)) == list(range(200))


def test_appends_from_many_connections_at_once_each_land_exactly_once(
    server: BackgroundServer, lane_calls: list[str]
) -> None:
    stream = create(server, JSON, "concurrent")

    def writer(name: int) -> None:
        with RawConnection(server.url) as connection:
            for number in range(25):
                message = json.dumps([name, number]).encode()
                # a JSON array body appends its items: wrap the pair in one more array
                assert (
                    connection.exchange("POST", stream, JSON, b"[" + message + b"]").status == 204
                )

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(writer, range(8)))
    assert len(lane_calls) == 200
    messages = json.loads(read(server, stream))
    assert sorted(map(tuple, messages)) == [(name, n) for name in range(8) for n in range(25)]
    for name in range(8):  # each connection's appends keep their order
        assert [n for writer_name, n in messages if writer_name == name] == list(range(25))


def test_an_append_in_flight_at_shutdown_lands_and_its_answer_closes_the_connection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = MemoryStore()
    server = BackgroundServer(ServerConfig(store_url="memory://", open_access=True), store=store)
    lane_calls = _spy_on_lane(server, monkeypatch)
    server.start()
    stopping = threading.Thread(target=server.stop)
    try:
        stream = fresh("shutdown")
        with RawConnection(server.url) as connection:
            assert connection.exchange("PUT", stream, TEXT).status == 201
            request = connection.request("POST", stream, TEXT, b"last words")
            connection.send(request[:-5])
            stopping.start()
            _wait_until_refused(server.url)  # uvicorn has asked each connection to shut down
            connection.send(request[-5:])
            response = connection.response()
            assert (response.status, response.header("connection")) == (204, "close")
            assert connection.closed_by_server()
    finally:
        if stopping.ident is None:  # the test failed before the shutdown began
            stopping.start()
        stopping.join(20)
    assert lane_calls == [stream]
    result = asyncio.run(store.read(stream, ZERO, 1 << 20))
    assert result.records == [b"last words"]


def _wait_until_refused(url: str, timeout: float = 10.0) -> None:
    parts = urlsplit(url)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection((parts.hostname, parts.port), timeout=1).close()
        except ConnectionRefusedError:
            return
        time.sleep(0.01)
    raise TimeoutError(f"{url} still accepts connections after {timeout} s")


def test_a_lane_append_logs_the_access_line_uvicorn_would(
    server: BackgroundServer, lane_calls: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    stream = create(server, TEXT, "access-log")
    access = logging.getLogger("uvicorn.access")
    access.addHandler(caplog.handler)  # caplog reaches it only since pytest 9.2
    try:
        with (
            caplog.at_level(logging.INFO, logger="uvicorn.access"),
            RawConnection(server.url) as connection,
        ):
            assert connection.exchange("POST", f"{stream}?from=lane", TEXT, b"a").status == 204
            assert (
                connection.exchange("POST", f"{stream}?from=lane", TEXT | ORIGIN, b"b").status
                == 204
            )
    finally:
        access.removeHandler(caplog.handler)
    assert lane_calls == [stream]
    lines = [record for record in caplog.records if record.name == "uvicorn.access"]
    assert len(lines) == 2
    assert lines[0].getMessage() == lines[1].getMessage()
    assert lines[0].args == lines[1].args  # the shape uvicorn's access formatter unpacks
    assert f'"POST /v1/stream/{stream}?from=lane HTTP/1.1" 204' in lines[0].getMessage()


def test_a_duplicated_or_non_ascii_token_is_refused_alike_on_both_paths(
    token_server: BackgroundServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One rule on the lane and the ASGI path: a second access_token is 400 whatever the
    values (the lane used to read the first, Starlette's layers the last); a token with a
    non-ASCII character is 401, not the 500 hmac.compare_digest's TypeError gave."""
    lane_calls = _spy_on_lane(token_server, monkeypatch)
    stream = fresh("duplicates")
    write = SIGNER.mint(stream, ["read", "write"])
    token = {"authorization": f"Bearer {write}"}
    twice = f"{stream}?access_token={write}&access_token={write}"
    bent = f"{stream}?access_token={quote(write[:-1] + 'é')}"
    with RawConnection(token_server.url) as connection:
        assert connection.exchange("PUT", stream, TEXT | token).status == 201
        answers = {
            (target, path): connection.exchange("POST", target, TEXT | extra, b"no")
            for target in (twice, bent)
            for path, extra in (("lane", {}), ("asgi", ORIGIN))
        }
        raw_header = connection.request("POST", stream, TEXT, b"no").replace(
            b"\r\n\r\n", b"\r\nauthorization: Bearer " + write[:-1].encode() + b"\xe9\r\n\r\n", 1
        )
        connection.send(raw_header)
        header_answer = connection.response()
    assert lane_calls == [stream, stream, stream]
    assert_same_answer(answers[twice, "lane"], answers[twice, "asgi"], 400)
    message = answers[twice, "lane"].json()["error"]["message"]  # type: ignore[index]
    assert "more than one 'access_token'" in message
    assert_same_answer(answers[bent, "lane"], answers[bent, "asgi"], 401)
    assert header_answer.status == 401
    assert read(token_server, stream, token) == b""
