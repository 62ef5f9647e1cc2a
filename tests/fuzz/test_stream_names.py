"""Adversarial stream names and sizes over the Durable Streams HTTP API (header fuzzing is in
tests/serving/streams/test_http.py): never a 500, a precise error, and a stream nobody named
keeps exactly its content."""

from __future__ import annotations

from urllib.parse import quote

from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from serving.app import create_app
from serving.config import ServerConfig
from serving.streams import MemoryStore

NAMES = st.sampled_from(
    [
        "..",
        "../keep",
        "a/../keep",
        "%2e%2e/keep",
        "a%2f..%2fkeep",
        "a//b",
        "a/./b",
        "%00",
        "a%00b",
        "x" * 5000,
        "é/ü/中",
        "sessions/0123456789abcdef0123456789abcdef",
        "keep/",
        " ",
    ]
) | st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=40)
BODIES = st.binary(max_size=64) | st.sampled_from(
    [b"x" * (1024 * 1024 + 1), b'["' + b"y" * (1024 * 1024) + b'"]', b"[1]" * 1000]
)
REQUESTS = st.tuples(
    st.sampled_from(["PUT", "POST", "GET", "HEAD", "DELETE"]),
    NAMES,
    st.sampled_from(["text/plain", "application/json", "application/octet-stream", ""]),
    BODIES,
)


@settings(settings.get_profile("fuzz"))
@given(st.lists(REQUESTS, min_size=1, max_size=6))
def test_odd_names_and_sizes_never_break_the_server(requests: list[tuple]) -> None:
    config = ServerConfig(store_url="memory://", open_access=True, long_poll_timeout=0.05)
    with TestClient(create_app(config, MemoryStore())) as client:
        assert client.put("/v1/stream/keep", headers={"content-type": "text/plain"}).is_success
        text = {"content-type": "text/plain"}
        assert client.post("/v1/stream/keep", headers=text, content=b"kept").is_success
        for method, name, content_type, body in requests:
            headers = {"content-type": content_type} if content_type else {}
            # dots encoded, or the HTTP client itself would resolve "a/../keep" to "keep"
            url = "/v1/stream/" + quote(name, safe="/%").replace(".", "%2E")
            response = client.request(method, url, headers=headers, content=body)
            assert response.status_code < 500, (method, name[:80], response.text[:200])
            if response.status_code >= 400 and method != "HEAD":
                error = response.json()  # dot segments may leave /v1/stream/: FastAPI's 404
                assert error.get("error", {}).get("message") or error.get("detail"), error
        kept = client.get("/v1/stream/keep?offset=-1")
        assert (kept.status_code, kept.content) == (200, b"kept")
