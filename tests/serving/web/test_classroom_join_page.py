"""The join page (``/classroom/<code>/join``), where the QR code of ``course classroom start``
leads, in Chromium against ``python -m serving``: it shows the display code and the two lines
to copy for the name typed, which course.classroom reads back to this very room; it needs no
token; an unknown code says to check the projector instead of a blank page. And
``GET /v1/classrooms/<code>``, the question it asks."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from course.classroom import parse_classroom
from serving.tokens import SECRET_FILE, TokenSigner
from serving.web.page import STATIC_DIR
from tests.serving.serving_process import page_address, serving_process
from tests.serving.web.test_classroom_page import WAIT_MS, create_classroom, join

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """The server's address and an operator's token (as in test_classroom_page)."""
    folder = tmp_path_factory.mktemp("classroom-join")
    arguments = ["--port", "0", "--models", str(folder / "models")]
    arguments += ["--data-dir", str(folder / "data")]
    arguments += ["--store", f"sqlite:///{folder / 'data' / 'streams.db'}"]
    with serving_process(arguments, folder / "server.log") as printed:
        secret = (folder / "data" / SECRET_FILE).read_bytes().strip()
        yield page_address(printed), TokenSigner(secret).mint("classrooms/*", ["operate"])


def test_a_room_says_its_code_and_title_to_anyone_with_the_code(served: tuple[str, str]) -> None:
    server, operator = served
    room = create_classroom(server, operator)
    lower = room["display_code"].lower()
    for code in (room["code"], lower):
        answer = httpx.get(f"{server}v1/classrooms/{code}")  # no token
        assert answer.status_code == 200, answer.text
        assert answer.json() == {
            "code": room["code"],
            "display_code": room["display_code"],
            "title": "Workshop test",
        }
        assert answer.headers["cache-control"] == "no-store"
    for unknown in ("AAAAAA", "not-a-code"):
        answer = httpx.get(f"{server}v1/classrooms/{unknown}")
        assert answer.status_code == 404
        assert answer.json()["error"]["code"] == "CLASSROOM_NOT_FOUND"
        assert "check the code on the projector" in answer.json()["error"]["message"]


def test_the_join_link_is_served_with_the_page_headers(served: tuple[str, str]) -> None:
    server, operator = served
    room = create_classroom(server, operator)
    assert room["join_url"] == f"{server}classroom/{room['code']}/join"
    response = httpx.get(room["join_url"])
    assert response.status_code == 200
    assert response.text == (STATIC_DIR / "classroom-join.html").read_text()
    assert "default-src 'self'" in response.headers["content-security-policy"]
    for name in re.findall(r'"/web/([\w.-]+)"', response.text):
        assert httpx.get(f"{server}web/{name}").status_code == 200, name


def test_the_join_page_gives_the_lines_to_copy_for_the_name_typed(
    browser: Any, served: tuple[str, str]
) -> None:
    server, operator = served
    room = create_classroom(server, operator)
    origin = server.rstrip("/")
    context = browser.new_context()
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=origin)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(room["join_url"])
    page.wait_for_selector("body[data-ready=true]", timeout=WAIT_MS)
    assert page.text_content("#join-code") == room["display_code"]
    assert page.text_content("#room-title") == "Workshop test"
    page.fill("#name", "Grace Hopper")
    environment = page.input_value("#environment")
    assert environment == (
        f"export COURSE_CLASSROOM={origin}/classroom/{room['code']} COURSE_NAME='Grace Hopper'"
    )
    python = page.input_value("#python")
    assert python == (
        f'from course import classroom; classroom.join("{origin}", "{room["display_code"]}", '
        'name="Grace Hopper")'
    )
    # the lines name this very room, as course.classroom reads them
    value = environment.split("=", 1)[1].split()[0]
    assert parse_classroom(value) == (origin, room["code"])
    page.click("button[data-copy=environment]")
    page.wait_for_selector("#copy-status[data-copied=environment]", timeout=WAIT_MS)
    assert page.evaluate("navigator.clipboard.readText()") == environment
    page.click("button[data-copy=python]")
    page.wait_for_selector("#copy-status[data-copied=python]", timeout=WAIT_MS)
    assert page.evaluate("navigator.clipboard.readText()") == python
    # the line joins: the same room, under the name typed
    learner = join(server, room["code"], "Grace Hopper")
    assert learner.name == "Grace Hopper"
    context.close()
    assert errors == []


def test_an_unknown_code_says_what_to_do(browser: Any, served: tuple[str, str]) -> None:
    server, _ = served
    page = browser.new_page()
    page.goto(f"{server}classroom/AAA-AAA/join")
    page.wait_for_selector("#banner:not([hidden])", timeout=WAIT_MS)
    assert "check the code on the projector" in (page.text_content("#banner") or "")
    assert page.is_hidden("#join")
    page.close()
