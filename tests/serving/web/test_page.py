"""The page's routes (serving.web.page): the files as written, and the token to start with."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import httpx
import pytest
from starlette.testclient import TestClient

from serving.app import create_app
from serving.background import BackgroundServer
from serving.config import ServerConfig
from serving.tokens import TokenSigner
from serving.web.page import CREATE_TOKEN_SECONDS, STATIC_DIR

SECRET = b"web-page-tests-secret-0123456789"


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """A real server on 127.0.0.1: the token rule looks at the TCP peer's address."""
    with BackgroundServer(ServerConfig(store_url="memory://", secret=SECRET)) as running:
        yield running.url


def test_the_page_is_served_at_the_root_with_safe_headers(server: str) -> None:
    response = httpx.get(f"{server}/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="/web/app.js">' in response.text
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-cache"


def test_every_file_the_page_loads_is_served(server: str) -> None:
    """No build step: what index.html and the modules name must exist as written."""
    names = set(re.findall(r'"/web/([\w.-]+)"', (STATIC_DIR / "index.html").read_text()))
    for module in STATIC_DIR.glob("*.js"):
        names |= set(re.findall(r'from "\./([\w.-]+)"', module.read_text()))
    assert {"app.js", "session.js", "transcript.js", "form.js", "steering.js", "view.js"} <= names
    for name in names:
        response = httpx.get(f"{server}/web/{name}")
        assert response.status_code == 200, name
        assert response.headers["cache-control"] == "no-cache"
        if name.endswith(".js"):  # browsers refuse a module served with another type
            assert response.headers["content-type"].startswith("text/javascript")


def test_the_page_files_do_not_include_python(server: str) -> None:
    assert httpx.get(f"{server}/web/page.py").status_code == 404
    assert httpx.get(f"{server}/web/../web/page.py").status_code == 404


def test_a_browser_on_this_computer_gets_a_short_lived_create_token(server: str) -> None:
    response = httpx.post(f"{server}/web/token", headers={"origin": server})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    grant = TokenSigner(SECRET).verify(body["create"])
    assert grant.scopes == {"create"}
    assert grant.expires_at is not None
    assert grant.expires_at - time.time() <= CREATE_TOKEN_SECONDS
    created = httpx.post(
        f"{server}/v1/sessions", headers={"authorization": f"Bearer {body['create']}"}
    )
    assert created.status_code == 201
    assert set(created.json()["tokens"]) == {"read", "write", "control"}


def test_the_create_token_cannot_read_or_write_sessions(server: str) -> None:
    create = httpx.post(f"{server}/web/token").json()["create"]
    session = httpx.post(
        f"{server}/v1/sessions", headers={"authorization": f"Bearer {create}"}
    ).json()
    response = httpx.get(session["url"], headers={"authorization": f"Bearer {create}"})
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"host": "evil.example:8000"}, "addressed to 'evil.example:8000'"),
        ({"origin": "http://evil.example"}, "sent by the page of another site"),
    ],
)
def test_other_sites_get_no_token(server: str, headers: dict[str, str], reason: str) -> None:
    response = httpx.post(f"{server}/web/token", headers=headers)
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "NOT_LOCAL"
    assert reason in error["message"]
    assert "/#create=<token>" in error["message"]  # and what to do instead
    assert "create" not in response.json()


def test_another_machine_gets_no_token() -> None:
    """The in-process test client's peer is "testclient", like a machine on the network."""
    app = create_app(ServerConfig(store_url="memory://", secret=SECRET))
    with TestClient(app) as client:
        response = client.post("/web/token", headers={"host": "127.0.0.1:8000"})
    assert response.status_code == 403
    assert "it comes from testclient, not from this computer" in response.json()["error"]["message"]


def test_an_open_server_needs_no_token() -> None:
    app = create_app(ServerConfig(store_url="memory://", open_access=True))
    with TestClient(app) as client:
        response = client.post("/web/token")
    assert response.status_code == 200
    assert response.json() == {"create": None, "expires_in": None}
