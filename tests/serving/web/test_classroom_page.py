"""The classroom's pages (issue 19), in Chromium against ``python -m serving`` with tokens.

Learners are simulated over HTTP, as course.classroom sends: they join, then post their check
results and hands as idempotent producers with their learner tokens. The instructor's page is
opened through a fault proxy (tests/serving/faults.py), so the test can drop its connection
the way a room's Wi-Fi does. What a person would check on the projector, the test checks in
the page: a cell goes from not started to trying (2 checks) to passed, a raised hand appears
in the hand column and the hands list, the most common mistake is counted, a message sent from
the page's form reaches the learner's inbox and the learner's own page, and after the
connection is cut and refused for a while the page says "reconnecting", comes back "live" by
itself, and shows what happened meanwhile.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from serving.tokens import SECRET_FILE, TokenSigner
from serving.web.page import STATIC_DIR
from tests.serving.faults import ThreadedFaultProxy
from tests.serving.serving_process import page_address, serving_process

pytestmark = pytest.mark.timeout(180)

WAIT_MS = 20_000


@dataclass
class Learner:
    """A simulated learner: their id and token, and their producer's next seq."""

    server: str
    code: str
    learner: str
    name: str
    token: str
    page_url: str
    seq: int = 0
    attempts: dict[str, int] = field(default_factory=dict)

    def send(self, *events: dict[str, Any]) -> None:
        headers = {
            "authorization": f"Bearer {self.token}",
            "producer-id": self.learner,
            "producer-epoch": "0",
            "producer-seq": str(self.seq),
        }
        url = f"{self.server}v1/classrooms/{self.code}/events"
        response = httpx.post(url, json=list(events), headers=headers)
        assert response.status_code == 200, response.text
        self.seq += 1

    def check(self, exercise: str, verdict: str, mistake: str | None = None) -> None:
        attempt = self.attempts[exercise] = self.attempts.get(exercise, 0) + 1
        notebook = exercise.split(".")[0]
        event = {"type": "check", "notebook": notebook, "exercise": exercise}
        event |= {"check": "some_check", "verdict": verdict, "mistake": mistake}
        self.send(event | {"attempt": attempt, "at": time.time()})

    def hand(self, raised: bool, text: str = "") -> None:
        self.send({"type": "hand", "raised": raised, "text": text, "at": time.time()})

    def inbox(self) -> list[dict[str, Any]]:
        url = f"{self.server}v1/classrooms/{self.code}/inbox"
        headers = {"authorization": f"Bearer {self.token}"}
        response = httpx.get(url, params={"wait": 0}, headers=headers)
        assert response.status_code == 200, response.text
        return list(response.json()["messages"])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """The server's address, and an operator's token that may create classrooms (minted with
    the server's secret, as ``serving token --scope operate --stream 'classrooms/*'`` does)."""
    folder = tmp_path_factory.mktemp("classroom")
    arguments = ["--port", "0", "--models", str(folder / "models")]
    arguments += ["--data-dir", str(folder / "data")]
    arguments += ["--store", f"sqlite:///{folder / 'data' / 'streams.db'}"]
    with serving_process(arguments, folder / "server.log") as printed:
        secret = (folder / "data" / SECRET_FILE).read_bytes().strip()
        yield page_address(printed), TokenSigner(secret).mint("classrooms/*", ["operate"])


def create_classroom(server: str, operator: str) -> dict[str, Any]:
    body = {"title": "Workshop test", "agenda": "one-day", "starts_at": time.time() - 1800}
    headers = {"authorization": f"Bearer {operator}"}
    response = httpx.post(f"{server}v1/classrooms", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def join(server: str, code: str, name: str) -> Learner:
    response = httpx.post(f"{server}v1/classrooms/{code}/learners", json={"name": name})
    assert response.status_code == 201, response.text
    joined = response.json()
    return Learner(
        server, code, joined["learner"], joined["name"], joined["token"], joined["page_url"]
    )


def cell(page: Any, learner: Learner, exercise: str) -> str:
    return f'#grid tr[data-learner="{learner.learner}"] td[data-exercise="{exercise}"]'


def wait_cell(page: Any, learner: Learner, exercise: str, state: str, attempts: int) -> None:
    selector = f'{cell(page, learner, exercise)}[data-state="{state}"][data-attempts="{attempts}"]'
    page.wait_for_selector(selector, timeout=WAIT_MS)


def page_path(url: str) -> str:
    """The path and query of a link the server printed (the test opens it on the proxy)."""
    return "/" + url.split("/", 3)[3]


def test_the_grid_updates_live_hands_and_messages_reach_the_room_and_it_resumes(
    browser: Any, served: tuple[str, str]
) -> None:
    server, operator = served
    room = create_classroom(server, operator)
    code = room["code"]
    ada, bob = join(server, code, "Ada"), join(server, code, "Bob")
    errors: list[str] = []
    port = int(server.rstrip("/").rsplit(":", 1)[1])
    with ThreadedFaultProxy(port) as proxy:
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(proxy.url + page_path(room["page_url"]))
        page.wait_for_selector("#connection[data-state=live]", timeout=WAIT_MS)
        assert "access_token" not in page.url  # moved out of the address bar (the projector)
        assert page.text_content("#join-code") == room["display_code"]
        page.wait_for_selector(f'#grid tr[data-learner="{bob.learner}"]', timeout=WAIT_MS)
        exercise = page.get_attribute("#grid td.cell", "data-exercise")
        assert exercise is not None  # the course's exercises, in notebook order
        label = page.get_attribute(cell(page, ada, exercise), "aria-label")
        assert label == f"Ada, exercise {exercise}: not started"

        # Not started -> trying, 2 checks run -> passed, live, with the words on the cell.
        ada.check(exercise, "not_yet", "leaked-test-rows")
        wait_cell(page, ada, exercise, "trying", 1)
        ada.check(exercise, "not_yet", "leaked-test-rows")
        wait_cell(page, ada, exercise, "trying", 2)
        shown = page.text_content(cell(page, ada, exercise))
        assert shown == "↻2"
        label = page.get_attribute(cell(page, ada, exercise), "aria-label")
        assert label == (
            f"Ada, exercise {exercise}: trying, 2 checks run, latest mistake leaked-test-rows"
        )
        bob.check(exercise, "not_yet", "leaked-test-rows")
        mistake = f'#mistakes li[data-exercise="{exercise}"] li[data-mistake="leaked-test-rows"]'
        page.wait_for_selector(f'{mistake}[data-learners="2"]', timeout=WAIT_MS)
        ada.check(exercise, "correct")
        wait_cell(page, ada, exercise, "passed", 3)
        assert page.text_content(cell(page, ada, exercise)) == "✓pass"
        page.wait_for_selector(f'{mistake}[data-learners="1"]', timeout=WAIT_MS)  # right now
        assert page.get_attribute("#pace", "data-room") == exercise.split(".")[0]

        # A hand goes up: the hand column and the list of hands, oldest first.
        bob.hand(True, "stuck on the split")
        hand = f'#grid tr[data-learner="{bob.learner}"][data-hand="raised"] td.hand'
        page.wait_for_selector(hand, timeout=WAIT_MS)
        assert page.text_content(hand) == "☝stuck on the split"
        listed = page.text_content(f'#hands li[data-learner="{bob.learner}"]') or ""
        assert "Bob: stuck on the split" in listed
        assert page.text_content("#hands-count") == "1"

        # Reply to the hand from the page: to Bob only, as a hint.
        page.click(f'#hands li[data-learner="{bob.learner}"] button')
        assert page.input_value("#broadcast-to") == bob.learner
        page.check("#broadcast input[value=hint]")
        page.fill("#broadcast-text", "Split before you scale.")
        page.click("#broadcast-send")
        page.wait_for_selector("#broadcast-status[data-kind=sent]", timeout=WAIT_MS)
        assert [m["text"] for m in bob.inbox()] == ["Split before you scale."]
        assert bob.inbox()[0]["kind"] == "hint"
        assert ada.inbox() == []  # to Bob only
        page.select_option("#broadcast-to", "")
        page.check("#broadcast input[value=message]")
        page.fill("#broadcast-text", "Break: back at 11.")
        page.click("#broadcast-send")
        page.wait_for_function(
            "() => document.querySelector('#broadcast-status').textContent"
            ".includes('Message sent to everyone')",
            timeout=WAIT_MS,
        )
        assert [m["text"] for m in ada.inbox()] == ["Break: back at 11."]

        # The network drops: the page says so, comes back by itself, and shows what happened.
        proxy.refuse()
        page.wait_for_selector("#connection[data-state=reconnecting]", timeout=WAIT_MS)
        assert proxy.cuts >= 1
        bob.hand(False)
        bob.check(exercise, "correct")
        page.wait_for_timeout(1500)  # the page tries (refused) while the room moves on
        proxy.allow()
        page.wait_for_selector("#connection[data-state=live]", timeout=WAIT_MS)
        assert int(page.get_attribute("#connection", "data-reconnects") or 0) >= 1
        wait_cell(page, bob, exercise, "passed", 2)
        page.wait_for_selector(f'#grid tr[data-learner="{bob.learner}"][data-hand=""]')
        assert page.text_content("#hands-count") == "0"
        context.close()
    assert errors == []


def test_the_learner_page_shows_messages_live_and_raises_a_hand(
    browser: Any, served: tuple[str, str]
) -> None:
    server, operator = served
    room = create_classroom(server, operator)
    code, instructor = room["code"], room["instructor_token"]
    cleo = join(server, code, "Cleo")
    errors: list[str] = []
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(server.rstrip("/") + page_path(cleo.page_url))
    page.wait_for_selector("#connection[data-state=live]", timeout=WAIT_MS)
    assert "access_token" not in page.url

    headers = {"authorization": f"Bearer {instructor}"}
    url = f"{server}v1/classrooms/{code}/messages"
    sent = httpx.post(
        url, json={"text": "Hello room", "to": None, "kind": "message"}, headers=headers
    )
    assert sent.status_code == 201, sent.text
    page.wait_for_selector("#messages li", timeout=WAIT_MS)
    assert (page.text_content("#messages li .text") or "") == "Hello room"
    assert "to everyone" in (page.text_content("#messages li .meta") or "")
    hint = {"text": "Look at stratify=", "to": cleo.learner, "kind": "hint"}
    assert httpx.post(url, json=hint, headers=headers).status_code == 201
    page.wait_for_selector("#messages li[data-kind=hint]", timeout=WAIT_MS)
    texts = page.eval_on_selector_all(
        "#messages li .text", "items => items.map(i => i.textContent)"
    )
    assert texts == ["Look at stratify=", "Hello room"]  # the newest first, each once
    context.close()
    assert errors == []


def test_the_learner_page_raises_and_lowers_a_hand(browser: Any, served: tuple[str, str]) -> None:
    server, operator = served
    room = create_classroom(server, operator)
    code, instructor = room["code"], room["instructor_token"]
    headers = {"authorization": f"Bearer {instructor}"}
    dana = join(server, code, "Dana")
    dana.check("00.1", "not_yet", "wrong-column")  # the notebook's producer: seq 0
    errors: list[str] = []
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(server.rstrip("/") + page_path(dana.page_url))
    page.wait_for_selector("#connection[data-state=live]", timeout=WAIT_MS)

    # Raise a hand from the page: the room's snapshot has it, under the learner's name.
    page.fill("#hand-text", "lost in 04.2")
    page.click("#hand")
    page.wait_for_selector("#hand[data-raised=true]", timeout=WAIT_MS)
    snapshot = httpx.get(f"{server}v1/classrooms/{code}/room", headers=headers).json()
    assert [(h["name"], h["text"]) for h in snapshot["hands"]] == [("Dana", "lost in 04.2")]
    # The notebook goes on with its own sequence: the page's requests did not fence it.
    dana.check("00.1", "correct")
    # A reload keeps the page's producer (epoch and seq in localStorage): lowering counts.
    page.reload()
    page.wait_for_selector("#hand[data-raised=true]", timeout=WAIT_MS)
    page.click("#hand")
    page.wait_for_selector("#hand[data-raised=false]", timeout=WAIT_MS)
    snapshot = httpx.get(f"{server}v1/classrooms/{code}/room", headers=headers).json()
    assert snapshot["hands"] == []
    assert snapshot["cells"][dana.learner]["00.1"]["state"] == "passed"
    context.close()
    assert errors == []


SIZES = {
    "desktop": {"width": 1440, "height": 900},
    "projector": {"width": 1920, "height": 1080},
    "projector-720p": {"width": 1280, "height": 720},
    "phone": {"width": 390, "height": 844},
}
NAMES = ["Ada", "Bob", "Cleo", "Dev", "Eun", "Femi", "Gus", "Hana", "Ivo", "Jun", "Kai", "Lin"]
CONTRAST = """(selector) => {
  const rgb = (text) => text.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number);
  const lum = ([r, g, b]) => {
    const c = [r, g, b].map((v) => v / 255).map((v) =>
      v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  };
  const style = getComputedStyle(document.querySelector(selector));
  const [a, b] = [lum(rgb(style.color)), lum(rgb(style.backgroundColor))];
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}"""


def test_the_grid_reads_on_a_projector_and_on_a_phone(
    browser: Any, served: tuple[str, str]
) -> None:
    """A room of 12 learners on four screens: no sideways scroll of the page itself (the grid
    scrolls inside its box), names stay in sight on a phone, the type grows on a projector,
    and the cells' text stands out from their fill (WCAG AA: 4.5:1). With
    COURSE_SCREENSHOTS=docs/images, the pictures of docs/instructor.md."""
    server, operator = served
    room = create_classroom(server, operator)
    learners = [join(server, room["code"], name) for name in NAMES]
    snapshot = httpx.get(
        f"{server}v1/classrooms/{room['code']}/room",
        headers={"authorization": f"Bearer {room['instructor_token']}"},
    ).json()
    exercises = snapshot["exercises"][:8]
    mistakes = ["leaked-test-rows", "scaled-before-split", "wrong-column"]
    for index, learner in enumerate(learners):  # a room part-way through: some ahead, some stuck
        for number, exercise in enumerate(exercises[: 2 + index % 6]):
            for attempt in range((index + number) % 3):
                learner.check(exercise, "not_yet", mistakes[(index + attempt) % 3])
            if (index + number) % 4:
                learner.check(exercise, "correct")
    learners[3].hand(True, "stuck on the split")
    learners[7].hand(True, "")
    folder = os.environ.get("COURSE_SCREENSHOTS")
    for size, viewport in SIZES.items():
        context = browser.new_context(viewport=viewport, is_mobile=size == "phone")
        page = context.new_page()
        page.goto(server.rstrip("/") + page_path(room["page_url"]))
        last = f'#grid tr[data-learner="{learners[-1].learner}"]'
        page.wait_for_selector(f"{last} td[data-state]", timeout=WAIT_MS)
        page.wait_for_selector("#connection[data-state=live]", timeout=WAIT_MS)
        overflow = page.evaluate("() => document.documentElement.scrollWidth - innerWidth")
        assert overflow <= 0, f"{size}: the page scrolls sideways by {overflow} px"
        for state in ("passed", "trying"):
            ratio = page.evaluate(CONTRAST, f"#grid td[data-state={state}]")
            assert ratio >= 4.5, f"{size}: {state} cells' contrast {ratio:.2f}"
        font = page.evaluate(
            "() => parseFloat(getComputedStyle(document.documentElement).fontSize)"
        )
        if size == "projector":
            assert font >= 20  # read from the back of the room
        if size == "phone":
            scroller = page.query_selector(".grid-scroll")
            assert scroller is not None
            wide = page.evaluate("(s) => s.scrollWidth - s.clientWidth", scroller)
            assert wide > 0  # the grid scrolls inside its box
            page.evaluate("(s) => { s.scrollLeft = s.scrollWidth; }", scroller)
            name = page.query_selector(f"{last} th.name")
            box, frame = name.bounding_box(), scroller.bounding_box()  # type: ignore[union-attr]
            assert box is not None and frame is not None
            assert abs(box["x"] - frame["x"]) <= 2  # the names stay in sight
            assert page.evaluate("(s) => s.scrollLeft", scroller) > 0
            page.evaluate("(s) => { s.scrollLeft = 0; }", scroller)
        if size == "projector":  # one notebook's exercises, large, for the whole room
            page.select_option("#notebook-filter", "01")
            shown = page.eval_on_selector_all(
                "#grid th.exercise:not([hidden])", "cells => cells.map(c => c.textContent)"
            )
            assert shown == [e for e in snapshot["exercises"] if e.startswith("01.")]
            assert page.locator(f"{last} td.cell:not([hidden])").count() == len(shown)
        if size == "phone":
            page.eval_on_selector("#grid-panel", "panel => panel.scrollIntoView()")
        if folder and size in ("desktop", "projector", "phone"):
            page.screenshot(path=f"{folder}/classroom-{size}.png", animations="disabled")
        context.close()


def test_the_classroom_pages_are_served_with_the_page_headers(served: tuple[str, str]) -> None:
    """Both pages, for any code (the page reads it from its path), and every file they load."""
    server, _ = served
    for path, page in (
        ("classroom/K7QM4Z", "classroom.html"),
        ("classroom/k7q-m4z/me", "classroom-me.html"),
    ):
        response = httpx.get(f"{server}{path}")
        assert response.status_code == 200
        assert "default-src 'self'" in response.headers["content-security-policy"]
        assert response.text == (STATIC_DIR / page).read_text()
        names = set(re.findall(r'"/web/([\w.-]+)"', response.text))
        for module in STATIC_DIR.glob("classroom*.js"):
            names |= set(re.findall(r'from "\./([\w.-]+)"', module.read_text()))
        for name in names:
            assert httpx.get(f"{server}web/{name}").status_code == 200, name


def test_the_classroom_modules_build_nothing_from_html_text() -> None:
    """Names, hand texts and messages come from learners and the network: no innerHTML."""
    sinks = re.compile(r"\.(innerHTML|outerHTML|insertAdjacentHTML|write|writeln)\b")
    for module in STATIC_DIR.glob("classroom*.js"):
        used = sinks.findall(module.read_text())
        assert used == [], f"{module.name} uses {used}"


def test_a_wrong_link_says_what_to_do_and_does_not_retry_for_ever(
    browser: Any, served: tuple[str, str]
) -> None:
    """A learner's token on the instructor's page is refused (403): the page says so in the
    server's words and stops; a link without a token says which link to open."""
    server, operator = served
    room = create_classroom(server, operator)
    eve = join(server, room["code"], "Eve")
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{server}classroom/{room['code']}?access_token={eve.token}")
    page.wait_for_selector("#connection[data-state=closed]", timeout=WAIT_MS)
    label = page.text_content("#connection .label") or ""
    assert label.startswith("Disconnected: ") and "classroom" in label
    assert page.is_hidden("#room")

    page = context.new_page()  # a new tab: nothing stored for this classroom
    page.goto(f"{server}classroom/{room['code']}")
    page.wait_for_selector("#banner:not([hidden])", timeout=WAIT_MS)
    assert "?access_token=" in (page.text_content("#banner") or "")
    context.close()


def test_the_pace_says_ahead_behind_or_on_time_as_the_room_is(
    browser: Any, served: tuple[str, str]
) -> None:
    """At 11:20 of the one-day agenda (minute 140, notebook 03 due): a room on 05, which
    starts after lunch (minute 250), is ahead, not "on time" as the page said when the server
    sent only behind_minutes (clipped at 0); a room on 02 (ended at minute 110) is behind."""
    server, operator = served
    headers = {"authorization": f"Bearer {operator}"}
    body = {"agenda": "one-day", "starts_at": time.time() - 140 * 60}
    room = httpx.post(f"{server}v1/classrooms", json=body, headers=headers).json()
    ada = join(server, room["code"], "Ada")
    ada.check("05.1", "not_yet", "wrong-scoring")
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{server}{page_path(room['page_url'])[1:]}")
    page.wait_for_selector("#pace[data-status=ahead]", timeout=WAIT_MS)
    sentence = page.text_content("#pace") or ""
    assert re.search(r"The room is on notebook 05\. 1(09|10) minutes ahead\.$", sentence), sentence
    assert page.get_attribute("#pace", "data-expected") == "03"

    ada.check("02.1", "not_yet", "leak-missed")  # the latest check: the room is back on 02
    page.wait_for_selector("#pace[data-status=behind]", timeout=WAIT_MS)
    sentence = page.text_content("#pace") or ""
    assert re.search(r"notebook 02\. (29|30) minutes behind\.$", sentence), sentence
    context.close()
