"""Adversarial requests to the session HTTP API: never a 500, always a precise error body, and
the session is whole afterwards."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from tests.fuzz.strategies import FRAMES

PATHS = st.sampled_from(
    [
        "/v1/sessions",
        "/v1/sessions/{id}",
        "/v1/sessions/{id}/commands",
        "/v1/sessions/{id}/events",
        "/v1/sessions/{other}",
        "/v1/sessions/{other}/commands",
        "/v1/sessions/{id}/../{other}",
        "/v1/sessions/%2e%2e%2f{id}",
        "/v1/sessions/{id}%00",
        "/v1/sessions/" + "a" * 5000,
        "/v1/uploads?session={id}",
        "/v1/uploads?session=../../etc",
    ]
)
TOKENS = st.sampled_from(["control", "read", "write", "none", "garbage", "other", "expired"])
QUERIES = st.dictionaries(
    st.sampled_from(["from", "device", "access_token", "session"]),
    st.sampled_from(["start", "new", "-1", "", "my device", "x" * 65, "a:b@c", "\x00"])
    | st.text(max_size=20),
    max_size=3,
)
HEADERS = st.dictionaries(
    st.sampled_from(["content-type", "last-event-id", "accept", "content-length-hint"]),
    st.sampled_from(["application/json", "text/plain", "", "x", "-1", "start"]),
    max_size=2,
)
REQUESTS = st.tuples(
    st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]),
    PATHS,
    TOKENS,
    QUERIES,
    HEADERS,
    FRAMES,
)


def _authorization(which: str, created: dict[str, Any], other: dict[str, Any], signer) -> str:
    if which == "none":
        return ""
    if which == "garbage":
        return "Bearer v1.garbage.token"
    if which == "other":
        return "Bearer " + other["tokens"]["control"]
    if which == "expired":
        return "Bearer " + signer.mint(f"sessions/{created['id']}", ["read"], ttl_seconds=-1)
    return "Bearer " + created["tokens"][which]


@settings(settings.get_profile("fuzz"))
@given(st.lists(REQUESTS, min_size=1, max_size=8))
def test_no_request_gets_a_server_error(server: TestClient, sessions: Any, requests) -> None:
    created, other = sessions.create(), sessions.create()
    for method, path, token, query, headers, body in requests:
        url = path.format(id=created["id"], other=other["id"])
        authorization = _authorization(token, created, other, sessions.signer)
        content = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
        response = server.request(
            method,
            url,
            params=query,
            headers={**headers, **({"authorization": authorization} if authorization else {})},
            content=content,
        )
        assert response.status_code < 500, (method, url, query, response.text[:300])
        if response.status_code >= 400 and method != "HEAD":
            error = response.json()
            message = error["error"]["message"] if "error" in error else error["detail"]
            assert message, response.text
    sessions.assert_still_works(created)
    sessions.assert_still_works(other)
