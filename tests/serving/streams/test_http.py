"""The streams HTTP layer, in process: access control, limits, bad input, and the protocol."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import socket
import time
from collections.abc import AsyncIterator, Callable
from urllib.parse import urlsplit

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from serving.app import create_app
from serving.background import BackgroundServer
from serving.config import ServerConfig
from serving.streams import InvalidRequest, MemoryStore, StreamError, StreamNotFound
from serving.streams.http import StreamsApp
from serving.streams.offsets import Offset
from serving.streams.protocol import Limits
from serving.streams.store import CreateRequest
from serving.tokens import TokenSigner

pytestmark = pytest.mark.anyio

SECRET = b"test-secret-0123456789abcdef"
TEXT = {"content-type": "text/plain"}
JSON = {"content-type": "application/json"}


def make_client(**overrides: object) -> httpx.AsyncClient:
    settings: dict[str, object] = {
        "store_url": "memory://",
        "open_access": True,
        "long_poll_timeout": 0.3,
        "sse_max_seconds": 0.3,
    }
    settings.update(overrides)
    app = create_app(ServerConfig(**settings), store=MemoryStore())  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with make_client() as instance:
        yield instance


@pytest.fixture
async def secured() -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(open_access=False, secret=SECRET) as instance:
        yield instance


def bearer(stream: str, scopes: str = "read,write", **kwargs: object) -> dict[str, str]:
    token = TokenSigner(SECRET).mint(stream, scopes.split(","), **kwargs)  # type: ignore[arg-type]
    return {"authorization": f"Bearer {token}"}


def error_of(response: httpx.Response) -> dict[str, str]:
    assert response.headers["content-type"] == "application/json"
    return response.json()["error"]


def sse_events(text: str) -> list[tuple[str, str]]:
    events = []
    for block in text.split("\n\n"):
        lines = block.split("\n")
        kind = next((line[6:].strip() for line in lines if line.startswith("event:")), None)
        data = "\n".join(line[5:] for line in lines if line.startswith("data:"))
        if kind:
            events.append((kind, data))
    return events


# --- access control -----------------------------------------------------------------------


async def test_missing_token_is_401_with_instructions(secured: httpx.AsyncClient) -> None:
    response = await secured.put("/v1/stream/s", headers=TEXT)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "serving token" in error_of(response)["message"]


async def test_forged_or_expired_token_is_401(secured: httpx.AsyncClient) -> None:
    forged = TokenSigner(b"another-secret-0123456789").mint("s", ["read", "write"])
    response = await secured.put(
        "/v1/stream/s", headers={**TEXT, "authorization": f"Bearer {forged}"}
    )
    assert response.status_code == 401
    assert "signature" in error_of(response)["message"]
    expired = bearer("s", ttl_seconds=-1)
    response = await secured.put("/v1/stream/s", headers={**TEXT, **expired})
    assert response.status_code == 401
    assert "expired" in error_of(response)["message"]


async def test_token_must_grant_the_scope_and_the_stream(secured: httpx.AsyncClient) -> None:
    assert (await secured.put("/v1/stream/s", headers={**TEXT, **bearer("s")})).status_code == 201
    read_only = await secured.post(
        "/v1/stream/s", content=b"x", headers={**TEXT, **bearer("s", "read")}
    )
    assert read_only.status_code == 403
    assert "'write'" in error_of(read_only)["message"]
    other = await secured.get("/v1/stream/s", headers=bearer("t"))
    assert other.status_code == 403
    assert (await secured.get("/v1/stream/s", headers=bearer("s", "read"))).status_code == 200


async def test_prefix_token_and_query_token(secured: httpx.AsyncClient) -> None:
    headers = {**TEXT, **bearer("chat/*")}
    assert (await secured.put("/v1/stream/chat/1", headers=headers)).status_code == 201
    token = headers["authorization"].removeprefix("Bearer ")
    response = await secured.get(f"/v1/stream/chat/1?offset=-1&access_token={token}")
    assert response.status_code == 200
    assert (await secured.put("/v1/stream/other", headers=headers)).status_code == 403


async def test_fork_needs_read_on_the_source(secured: httpx.AsyncClient) -> None:
    await secured.put("/v1/stream/a", headers={**TEXT, **bearer("a")})
    fork = {"stream-forked-from": "/v1/stream/a"}
    response = await secured.put("/v1/stream/b", headers={**fork, **bearer("b")})
    assert response.status_code == 403
    both = bearer("*")
    assert (await secured.put("/v1/stream/b", headers={**fork, **both})).status_code == 201


async def test_preflight_needs_no_token(secured: httpx.AsyncClient) -> None:
    response = await secured.options(
        "/v1/stream/s",
        headers={"origin": "https://example.com", "access-control-request-method": "POST"},
    )
    assert response.status_code == 204
    assert "authorization" in response.headers["access-control-allow-headers"]
    assert response.headers["access-control-allow-origin"] == "*"


async def test_cross_origin_requests_get_the_cors_headers() -> None:
    """A browser on another origin can read the protocol headers; others are spared them."""
    async with make_client(open_access=False, secret=SECRET) as secured:
        secured.headers["authorization"] = bearer("*")["authorization"]
        await _cross_origin_requests_get_the_cors_headers(secured, "*")
    async with make_client(cors_origins=("https://example.com",)) as allowed:  # --open
        await _cross_origin_requests_get_the_cors_headers(allowed, "https://example.com")


async def _cross_origin_requests_get_the_cors_headers(
    client: httpx.AsyncClient, allowed: str
) -> None:
    origin = {"origin": "https://example.com"}
    await client.put("/v1/stream/c", headers=JSON)
    browser = await client.post("/v1/stream/c", content=b"{}", headers={**JSON, **origin})
    assert browser.headers["access-control-allow-origin"] == allowed
    assert "stream-next-offset" in browser.headers["access-control-expose-headers"]
    plain = await client.post("/v1/stream/c", content=b"{}", headers=JSON)
    assert "access-control-allow-origin" not in plain.headers
    assert plain.headers["x-content-type-options"] == "nosniff"
    read = await client.get("/v1/stream/c", params={"offset": "-1"})
    assert "access-control-allow-origin" not in read.headers
    assert read.headers["vary"] == "origin", "a cached copy must not answer another origin"
    refused = await client.get("/v1/stream/missing", headers=origin)
    assert refused.status_code == 404
    assert refused.headers["access-control-allow-origin"] == allowed, "errors readable too"


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS"])
async def test_an_open_server_refuses_the_pages_of_other_sites(
    client: httpx.AsyncClient, method: str
) -> None:
    """--open used to answer any origin with ``*``: every site a user visited could read and
    delete every stream. Now another site's request is refused before anything is done (a
    text/plain POST reaches the server without a preflight), with no CORS header; the
    server's own page (same origin) and requests without Origin go on."""
    await client.put("/v1/stream/mine", headers=TEXT, content=b"kept")
    evil = {"origin": "https://evil.example", **TEXT}
    refused = await client.request(method, "/v1/stream/mine?offset=-1", headers=evil, content=b"x")
    assert refused.status_code == (204 if method == "OPTIONS" else 403)  # a preflight: no allow
    assert "access-control-allow-origin" not in refused.headers
    if method not in ("HEAD", "OPTIONS"):
        assert "--cors-origin" in refused.json()["error"]["message"]
    own = {"origin": "http://testserver", **TEXT}
    assert (await client.post("/v1/stream/mine", headers=own, content=b"!")).status_code == 204
    read = await client.get("/v1/stream/mine?offset=-1", headers=own)
    assert read.text == "kept!" and "access-control-allow-origin" not in read.headers


async def test_listed_origins_only_when_cors_origins_are_given() -> None:
    async with make_client(
        open_access=False, secret=SECRET, cors_origins=("http://localhost:5173",)
    ) as secured:
        listed = {"origin": "http://localhost:5173", **bearer("*")}
        other = {"origin": "https://example.com", **bearer("*")}
        await secured.put("/v1/stream/l", headers={**TEXT, **bearer("*")})
        answer = await secured.get("/v1/stream/l?offset=-1", headers=listed)
        assert answer.headers["access-control-allow-origin"] == "http://localhost:5173"
        assert answer.headers["vary"] == "origin"
        unlisted = await secured.get("/v1/stream/l?offset=-1", headers=other)
        assert unlisted.status_code == 200  # a token server: the browser blocks the reading
        assert "access-control-allow-origin" not in unlisted.headers


async def test_open_mode_needs_no_token(client: httpx.AsyncClient) -> None:
    assert (await client.put("/v1/stream/s", headers=TEXT)).status_code == 201


# --- limits -------------------------------------------------------------------------------


async def test_oversized_request_is_413_and_stores_nothing() -> None:
    async with make_client(limits=Limits(max_request_bytes=100, max_message_bytes=50)) as client:
        await client.put("/v1/stream/s", headers=TEXT)
        response = await client.post("/v1/stream/s", content=b"x" * 101, headers=TEXT)
        assert response.status_code == 413
        assert "100" in error_of(response)["message"]
        response = await client.post("/v1/stream/s", content=b"x" * 60, headers=TEXT)
        assert response.status_code == 413
        assert "message" in error_of(response)["message"]
        await client.put("/v1/stream/j", headers=JSON)
        batch = json.dumps([{"n": 1}, {"big": "y" * 60}])
        response = await client.post("/v1/stream/j", content=batch, headers=JSON)
        assert response.status_code == 413
        assert (await client.get("/v1/stream/s")).content == b""
        assert (await client.get("/v1/stream/j")).json() == []


# --- bad input: precise 4xx, never a 500 ----------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "headers", "body", "status", "words"),
    [
        ("POST", "/v1/stream/j", JSON, b"{ invalid", 400, "JSON"),
        ("POST", "/v1/stream/j", JSON, b"[]", 400, "empty JSON array"),
        ("POST", "/v1/stream/j", JSON, b"NaN", 400, "JSON"),
        ("POST", "/v1/stream/j", JSON, b"[1e400]", 400, "finite"),
        ("POST", "/v1/stream/j", JSON, b"\xff\xfe", 400, "UTF-8"),
        ("POST", "/v1/stream/j", TEXT, b"hi", 409, "Content-Type"),
        ("POST", "/v1/stream/j", {}, b"hi", 400, "Content-Type"),
        ("POST", "/v1/stream/j", JSON, b"", 400, "empty body"),
        ("POST", "/v1/stream/nope", JSON, b"{}", 404, "no stream"),
        ("GET", "/v1/stream/nope", {}, b"", 404, "no stream"),
        ("GET", "/v1/stream/j?offset=abc", {}, b"", 400, "malformed offset"),
        ("GET", "/v1/stream/j?offset=", {}, b"", 400, "offset is empty"),
        ("GET", "/v1/stream/j?offset=1&offset=2", {}, b"", 400, "one offset"),
        ("GET", "/v1/stream/j?live=long-poll", {}, b"", 400, "needs an offset"),
        ("GET", "/v1/stream/j?offset=-1&live=forever", {}, b"", 400, "live must be"),
        ("GET", "/v1/stream/j?offset=0000000000000009_0000000000000009", {}, b"", 400, "beyond"),
        ("PUT", "/v1/stream/a//b", TEXT, b"", 400, "segment"),
        ("PUT", "/v1/stream/t", {"stream-ttl": "01"}, b"", 400, "Stream-TTL"),
        ("PUT", "/v1/stream/t", {"stream-expires-at": "tomorrow"}, b"", 400, "RFC 3339"),
        (
            "PUT",
            "/v1/stream/t",
            {"stream-ttl": "5", "stream-expires-at": "2030-01-01T00:00:00Z"},
            b"",
            400,
            "not both",
        ),
        ("PUT", "/v1/stream/j", TEXT, b"", 409, "different configuration"),
        (
            "PUT",
            "/v1/stream/f",
            {"stream-forked-from": "elsewhere"},
            b"",
            400,
            "Stream-Forked-From",
        ),
        (
            "PUT",
            "/v1/stream/f",
            {"stream-fork-offset": "0000000000000000_0000000000000000"},
            b"",
            400,
            "Stream-Forked-From",
        ),
        ("PATCH", "/v1/stream/j", {}, b"", 405, "not part of the protocol"),
    ],
)
async def test_bad_input_gets_a_precise_4xx(
    client: httpx.AsyncClient,
    method: str,
    path: str,
    headers: dict[str, str],
    body: bytes,
    status: int,
    words: str,
) -> None:
    await client.put("/v1/stream/j", headers=JSON)
    response = await client.request(method, path, headers=headers, content=body)
    assert response.status_code == status
    assert words in error_of(response)["message"]
    assert re.fullmatch("[A-Z]+(_[A-Z]+)*", error_of(response)["code"])
    assert (await client.get("/v1/stream/j")).json() == []


def test_every_refusal_has_a_code_of_its_own() -> None:
    """Clients branch on ``code``: each kind of refusal has its own, in the npm client's style."""
    kinds = [StreamError, *_subclasses(StreamError)]
    codes = [kind.code for kind in kinds]
    assert all(re.fullmatch("[A-Z]+(_[A-Z]+)*", code) for code in codes), codes
    assert len(set(codes)) == len(codes) - 1  # StreamError and InvalidRequest: BAD_REQUEST
    assert (StreamNotFound.code, InvalidRequest.code) == ("NOT_FOUND", "BAD_REQUEST")


def _subclasses(kind: type) -> list[type]:
    return [sub for direct in kind.__subclasses__() for sub in (direct, *_subclasses(direct))]


async def test_producer_fencing_and_gaps_carry_recovery_headers(client: httpx.AsyncClient) -> None:
    await client.put("/v1/stream/s", headers=TEXT)

    def producer(epoch: int, seq: int) -> dict[str, str]:
        return {**TEXT, "producer-id": "p", "producer-epoch": str(epoch), "producer-seq": str(seq)}

    assert (
        await client.post("/v1/stream/s", content=b"a", headers=producer(1, 0))
    ).status_code == 200
    stale = await client.post("/v1/stream/s", content=b"z", headers=producer(0, 0))
    assert stale.status_code == 403
    assert stale.headers["producer-epoch"] == "1"
    assert error_of(stale)["code"] == "PRODUCER_STALE_EPOCH"
    gap = await client.post("/v1/stream/s", content=b"c", headers=producer(1, 3))
    assert gap.status_code == 409
    assert (gap.headers["producer-expected-seq"], gap.headers["producer-received-seq"]) == (
        "1",
        "3",
    )
    partial = await client.post("/v1/stream/s", content=b"c", headers={**TEXT, "producer-id": "p"})
    assert partial.status_code == 400
    assert "together" in error_of(partial)["message"]
    assert (await client.get("/v1/stream/s")).content == b"a"


async def test_a_retried_append_is_stored_once(client: httpx.AsyncClient) -> None:
    await client.put("/v1/stream/s", headers=JSON)
    headers = {**JSON, "producer-id": "p", "producer-epoch": "0", "producer-seq": "0"}
    first = await client.post("/v1/stream/s", content=b'[{"n":1},{"n":2}]', headers=headers)
    retry = await client.post("/v1/stream/s", content=b'[{"n":1},{"n":2}]', headers=headers)
    assert (first.status_code, retry.status_code) == (200, 204)
    assert retry.headers["producer-seq"] == "0"
    assert first.headers["stream-next-offset"] == retry.headers["stream-next-offset"]
    assert (await client.get("/v1/stream/s")).json() == [{"n": 1}, {"n": 2}]


# --- the protocol -------------------------------------------------------------------------


async def test_create_append_read_round_trip(client: httpx.AsyncClient) -> None:
    created = await client.put("/v1/stream/s", headers=JSON, content=b'{"a": 1}')
    assert created.status_code == 201
    assert created.headers["location"] == "http://testserver/v1/stream/s"
    assert created.headers["x-content-type-options"] == "nosniff"
    assert (await client.put("/v1/stream/s", headers=JSON)).status_code == 200
    appended = await client.post("/v1/stream/s", headers=JSON, content=b'[[1, 2], {"b": 2}]')
    assert appended.status_code == 204
    read = await client.get("/v1/stream/s?offset=-1")
    assert read.json() == [{"a": 1}, [1, 2], {"b": 2}]
    assert read.headers["stream-up-to-date"] == "true"
    assert read.headers["stream-next-offset"] == appended.headers["stream-next-offset"]
    after_first = await client.get(f"/v1/stream/s?offset={created.headers['stream-next-offset']}")
    assert after_first.json() == [[1, 2], {"b": 2}]


async def test_etag_gives_304_until_the_stream_changes(client: httpx.AsyncClient) -> None:
    await client.put("/v1/stream/s", headers=TEXT, content=b"one")
    first = await client.get("/v1/stream/s")
    again = await client.get("/v1/stream/s", headers={"if-none-match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""
    await client.post("/v1/stream/s", headers=TEXT, content=b"two")
    changed = await client.get("/v1/stream/s", headers={"if-none-match": first.headers["etag"]})
    assert changed.status_code == 200
    assert changed.content == b"onetwo"


async def test_head_reports_metadata_without_a_body(client: httpx.AsyncClient) -> None:
    await client.put("/v1/stream/s", headers={**TEXT, "stream-ttl": "60"}, content=b"abc")
    response = await client.head("/v1/stream/s")
    assert response.status_code == 200
    assert response.headers["stream-ttl"] == "60"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["stream-next-offset"] == "0000000000000001_0000000000000003"
    assert response.content == b""


async def test_offset_now_returns_the_tail_and_no_data(client: httpx.AsyncClient) -> None:
    await client.put("/v1/stream/s", headers=JSON, content=b'{"old": true}')
    response = await client.get("/v1/stream/s?offset=now")
    assert response.content == b"[]"
    assert response.headers["cache-control"] == "no-store"
    assert "etag" not in response.headers


async def test_long_poll_wakes_on_append(client: httpx.AsyncClient) -> None:
    created = await client.put("/v1/stream/s", headers=TEXT, content=b"old")
    tail = created.headers["stream-next-offset"]
    poll = asyncio.create_task(client.get(f"/v1/stream/s?offset={tail}&live=long-poll"))
    await asyncio.sleep(0.05)
    await client.post("/v1/stream/s", headers=TEXT, content=b"new")
    response = await poll
    assert response.status_code == 200
    assert response.content == b"new"
    assert response.headers["stream-cursor"].isdigit()


async def test_long_poll_times_out_with_204_and_a_cursor(client: httpx.AsyncClient) -> None:
    await client.put("/v1/stream/s", headers=TEXT)
    response = await client.get("/v1/stream/s?offset=now&live=long-poll")
    assert response.status_code == 204
    assert response.headers["stream-up-to-date"] == "true"
    assert response.headers["stream-next-offset"] == "0000000000000000_0000000000000000"
    assert response.headers["stream-cursor"].isdigit()


class CountingStore(MemoryStore):
    """A memory store that counts the live reads waiting in it right now."""

    waiting = 0

    async def wait(self, path: str, after: Offset, timeout: float) -> bool:
        self.waiting += 1
        try:
            return await super().wait(path, after, timeout)
        finally:
            self.waiting -= 1


def eventually(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


@pytest.mark.parametrize("live", ["long-poll", "sse"])
def test_a_live_read_the_client_abandons_stops_waiting_at_once(live: str) -> None:
    """On a real server: closing the connection frees the reader's task and waiter, long
    before the long-poll timeout or the SSE connection's time is up."""
    store = CountingStore()
    config = ServerConfig(open_access=True, long_poll_timeout=60, sse_max_seconds=60)
    with BackgroundServer(config, store=store) as server:
        assert httpx.put(server.url + "/v1/stream/s", headers=TEXT).status_code == 201
        address = urlsplit(server.url)
        with socket.create_connection((address.hostname, address.port)) as connection:
            connection.sendall(
                f"GET /v1/stream/s?offset=now&live={live} HTTP/1.1\r\n"
                f"Host: {address.netloc}\r\n\r\n".encode()
            )
            assert eventually(lambda: store.waiting == 1)
        assert eventually(lambda: store.waiting == 0), f"the abandoned {live} read still waits"


async def test_sse_pairs_data_and_control_events(client: httpx.AsyncClient) -> None:
    await client.put("/v1/stream/s", headers=TEXT, content=b"line1\nline2")
    response = await client.get("/v1/stream/s?offset=-1&live=sse")
    assert response.headers["content-type"] == "text/event-stream"
    assert "stream-sse-data-encoding" not in response.headers
    events = sse_events(response.text)
    assert events[0] == ("data", "line1\nline2")
    control = json.loads(events[1][1])
    assert events[1][0] == "control"
    assert control["upToDate"] is True
    assert control["streamNextOffset"] == "0000000000000001_0000000000000011"


async def test_sse_sends_binary_as_base64_and_ends_on_close(client: httpx.AsyncClient) -> None:
    await client.put(
        "/v1/stream/b",
        headers={"content-type": "application/octet-stream", "stream-closed": "true"},
        content=b"\x00\n\xff",
    )
    response = await client.get("/v1/stream/b?offset=-1&live=sse")
    assert response.headers["stream-sse-data-encoding"] == "base64"
    events = sse_events(response.text)
    assert base64.b64decode(events[0][1]) == b"\x00\n\xff"
    control = json.loads(events[1][1])
    assert control["streamClosed"] is True
    assert "streamCursor" not in control


async def test_closed_stream_refuses_appends_with_its_final_offset(
    client: httpx.AsyncClient,
) -> None:
    await client.put("/v1/stream/s", headers=TEXT, content=b"a")
    closed = await client.post("/v1/stream/s", headers={"stream-closed": "true"})
    assert closed.status_code == 204
    assert closed.headers["stream-closed"] == "true"
    refused = await client.post("/v1/stream/s", headers=TEXT, content=b"b")
    assert refused.status_code == 409
    assert refused.headers["stream-next-offset"] == closed.headers["stream-next-offset"]
    assert error_of(refused)["code"] == "STREAM_CLOSED"


async def test_fork_over_http_and_tombstoned_source(client: httpx.AsyncClient) -> None:
    await client.put("/v1/stream/src", headers=TEXT, content=b"shared")
    fork = await client.put("/v1/stream/fork", headers={"stream-forked-from": "/v1/stream/src"})
    assert fork.status_code == 201
    assert fork.headers["content-type"] == "text/plain"
    await client.post("/v1/stream/fork", headers=TEXT, content=b"+own")
    assert (await client.delete("/v1/stream/src")).status_code == 204
    assert (await client.get("/v1/stream/src")).status_code == 410
    assert (await client.get("/v1/stream/fork")).content == b"shared+own"


async def test_other_paths_still_reach_fastapi(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/streamless")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


# --- fuzzing: whatever a client sends, the answer is never a 500 ----------------------------

_PROTOCOL_HEADERS = [
    "content-type",
    "stream-ttl",
    "stream-expires-at",
    "stream-closed",
    "stream-seq",
    "stream-forked-from",
    "stream-fork-offset",
    "stream-fork-sub-offset",
    "producer-id",
    "producer-epoch",
    "producer-seq",
    "if-none-match",
]
_VALUES = st.sampled_from(
    [
        "0",
        "1",
        "-1",
        "07",
        "true",
        "false",
        "now",
        "application/json",
        "text/plain",
        "application/octet-stream",
        "/v1/stream/s",
        "/v1/stream/f",
        "0000000000000000_0000000000000000",
        "0000000000000001_0000000000000002",
        "9999999999999999_9999999999999999",
        "2030-01-01T00:00:00Z",
        "",
    ]
) | st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=20)
_BODIES = st.sampled_from(
    [b"", b"[]", b"{}", b'[{"a":1},2]', b"[[1]]", b"x", b"\xff", b"NaN"]
) | st.binary(max_size=20)
_QUERIES = st.dictionaries(
    st.sampled_from(["offset", "live", "cursor"]),
    st.sampled_from(
        ["-1", "now", "", "sse", "long-poll", "x", "0000000000000000_0000000000000000"]
    ),
    max_size=3,
)
_REQUESTS = st.tuples(
    st.sampled_from(["PUT", "POST", "GET", "HEAD", "DELETE"]),
    st.sampled_from(["/v1/stream/s", "/v1/stream/f", "/v1/stream/s/x"]),
    st.dictionaries(st.sampled_from(_PROTOCOL_HEADERS), _VALUES, max_size=5),
    _QUERIES,
    _BODIES,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_REQUESTS, min_size=1, max_size=12))
def test_no_request_sequence_gets_a_server_error(requests: list[tuple]) -> None:
    async def scenario() -> None:
        async with make_client(long_poll_timeout=0.01, sse_max_seconds=0.01) as client:
            for method, path, headers, query, body in requests:
                response = await client.request(
                    method, path, headers=headers, params=query, content=body
                )
                assert response.status_code < 500, (method, path, headers, query, body)
                if response.status_code >= 400 and method != "HEAD":
                    assert error_of(response)["message"]

    asyncio.run(scenario())


async def test_refused_prefixes_can_be_read_but_not_written() -> None:
    """refuse_writes: a layer that owns some streams keeps every other writer out of them."""
    store = MemoryStore()
    streams = StreamsApp(store, signer=None, open_access=True)
    streams.refuse_writes("owned/", "OWNED_ELSEWHERE", "write owned/ streams through the owner")
    await store.create("owned/log", CreateRequest(content_type="text/plain", initial=b"hi"))
    transport = httpx.ASGITransport(app=streams)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        refusals = [
            await client.post("/v1/stream/owned/log", content=b"x", headers=TEXT),
            await client.put("/v1/stream/owned/new", headers=TEXT),
            await client.delete("/v1/stream/owned/log"),
        ]
        for response in refusals:
            assert response.status_code == 403
            assert error_of(response) == {
                "code": "OWNED_ELSEWHERE",
                "message": "write owned/ streams through the owner",
            }
        read = await client.get("/v1/stream/owned/log", params={"offset": "-1"})
        assert (read.status_code, read.content) == (200, b"hi")
        assert (await client.put("/v1/stream/mine", headers=TEXT)).status_code == 201
