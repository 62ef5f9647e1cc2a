"""The web page in a real browser (Chromium via Playwright) against a real server process.

What a user depends on: several tabs and devices see the same answer; a dropped network loses
and repeats nothing; Stop works from any tab; a bad value is explained next to its field. The
page's answer is always compared with the session log on the server.
"""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Iterator
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

pytestmark = pytest.mark.timeout(120)

WAIT_MS = 20_000  # the longest a page may take to show something (loaded CI machine)


@pytest.fixture
def page_errors() -> Iterator[list[str]]:
    """Uncaught errors in the tabs of a test: there must be none."""
    errors: list[str] = []
    yield errors
    assert errors == []


def open_page(context: Any, url: str, errors: list[str]) -> Any:
    """A tab on ``url``, once its connection is live."""
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    page.wait_for_selector("#connection[data-state=live]", timeout=WAIT_MS)
    return page


def link_tokens(page: Any) -> dict[str, str]:
    """The session id and tokens in the page's "share control" link."""
    fragment = urlsplit(page.input_value("#control-link")).fragment
    return {key: values[0] for key, values in parse_qs(fragment).items()}


def session_log(server_url: str, page: Any) -> list[dict[str, Any]]:
    """Every event of the page's session so far, read on the server (as a Durable Stream)."""
    link = link_tokens(page)
    response = httpx.get(
        f"{server_url}v1/stream/sessions/{link['session']}",
        params={"offset": "-1"},
        headers={"authorization": f"Bearer {link['read']}"},
    )
    assert response.status_code == 200
    return response.json()


def logged_text(events: list[dict[str, Any]], run: str) -> list[str]:
    return [e["data"]["text"] for e in events if e["type"] == "delta" and e["run"] == run]


def shown_tokens(page: Any, run: str) -> list[tuple[str, str]]:
    """(offset, text) of every token the page shows for ``run``."""
    return page.eval_on_selector_all(
        f'[data-run="{run}"] .explanation .token',
        "spans => spans.map(span => [span.dataset.offset, span.textContent])",
    )


def ask(page: Any, length: str = "long") -> str:
    """Predict with the form as it is; the run's id once the page shows it."""
    page.check(f'input[name="steer-length"][value="{length}"]')
    page.click("#predict")
    page.wait_for_selector(".run", timeout=WAIT_MS)
    return page.get_attribute(".run", "data-run")


def shown_name(device: str) -> str:
    """How the page shows a device: "Chrome on Linux" for Chrome_on_Linux@1a2b3c (session.js)."""
    return re.sub(r"@[0-9a-f]{6}$", "", device).replace("_", " ")


def wait_for_tokens(page: Any, run: str, count: int) -> None:
    page.wait_for_function(
        "([run, count]) => document.querySelectorAll("
        "`[data-run='${run}'] .explanation .token`).length >= count",
        arg=[run, count],
        timeout=WAIT_MS,
    )


def wait_for_status(page: Any, run: str, status: str) -> None:
    page.wait_for_selector(f'[data-run="{run}"][data-status="{status}"]', timeout=WAIT_MS)


def test_tabs_and_devices_on_one_session_see_the_same_answer(browser: Any, server_url: str) -> None:
    laptop = browser.new_context()
    first = open_page(laptop, server_url, page_errors)
    second = open_page(laptop, server_url, page_errors)  # a second tab continues the same session
    assert link_tokens(second)["session"] == link_tokens(first)["session"]
    phone = browser.new_context()  # another device, with the read-only link
    watcher = open_page(phone, first.input_value("#watch-link"), page_errors)
    assert watcher.is_hidden("#prediction-form") and watcher.is_visible("#watch-only")

    run = ask(first)
    for page in (first, second, watcher):
        wait_for_status(page, run, "completed")
    logged = logged_text(session_log(server_url, first), run)
    assert len(logged) > 20
    for page in (first, second, watcher):
        assert [text for _, text in shown_tokens(page, run)] == logged
        assert page.inner_text(f'[data-run="{run}"] .answer').startswith("Prediction: ")
    laptop.close()
    phone.close()


def test_a_network_drop_mid_answer_loses_and_repeats_no_token(
    browser: Any, server_url: str, page_errors: list[str]
) -> None:
    context = browser.new_context()
    page = open_page(context, server_url, page_errors)
    run = ask(page)
    wait_for_tokens(page, run, 3)

    context.set_offline(True)
    page.wait_for_selector("#connection[data-state=offline]", timeout=WAIT_MS)
    cut_at = len(shown_tokens(page, run))
    page.wait_for_timeout(1500)  # the server writes on meanwhile
    assert len(shown_tokens(page, run)) == cut_at, "the page was not cut off"
    context.set_offline(False)

    wait_for_status(page, run, "completed")
    page.wait_for_selector("#connection[data-state=live]", timeout=WAIT_MS)
    assert int(page.get_attribute("#connection", "data-reconnects")) >= 1
    shown = shown_tokens(page, run)
    logged = logged_text(session_log(server_url, page), run)
    assert cut_at < len(logged), "the answer ended before the drop: nothing was resumed"
    assert [text for _, text in shown] == logged
    offsets = [offset for offset, _ in shown]
    assert offsets == sorted(set(offsets))  # each token once, in log order
    context.close()


class FreezingProxy:
    """A TCP relay to the server whose open connections can be frozen: bytes stop flowing
    both ways and nothing is closed, as when a network vanishes (a Wi-Fi switch, a router
    asleep). New connections pass as usual."""

    def __init__(self, server_url: str) -> None:
        host, port = urlsplit(server_url).netloc.rsplit(":", 1)
        self.target = (host, int(port))
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/"
        self.sockets: list[socket.socket] = []
        self.frozen: list[threading.Event] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            upstream = socket.create_connection(self.target)
            frozen = threading.Event()
            self.sockets += [client, upstream]
            self.frozen.append(frozen)
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(
                    target=self._pump, args=(source, sink, frozen), daemon=True
                ).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket, frozen: threading.Event) -> None:
        try:
            while data := source.recv(65536):
                if not frozen.is_set():  # frozen: swallowed, like a dead link
                    sink.sendall(data)
            if not frozen.is_set():
                sink.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def freeze(self) -> None:
        for frozen in self.frozen:
            frozen.set()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.listener.close()
        for open_socket in self.sockets:
            open_socket.close()


def test_a_connection_gone_silent_is_replaced_and_resumed(
    browser: Any, server_url: str, page_errors: list[str]
) -> None:
    """No close, no offline event: the page notices from an unanswered heartbeat."""
    with FreezingProxy(server_url) as proxy:
        context = browser.new_context()
        page = context.new_page()
        page.clock.install()  # the page's timers, fast-forwarded below
        page.on("pageerror", lambda error: page_errors.append(str(error)))
        page.goto(proxy.url)
        page.wait_for_selector("#connection[data-state=live]", timeout=WAIT_MS)
        run = ask(page)
        wait_for_tokens(page, run, 2)

        proxy.freeze()
        page.wait_for_timeout(500)
        frozen_at = len(shown_tokens(page, run))
        page.clock.fast_forward("11")  # quiet for 10 s: the page sends a heartbeat...
        assert page.get_attribute("#connection", "data-state") == "live"
        page.clock.fast_forward("11")  # ...unanswered for 10 s: it connects again
        wait_for_status(page, run, "completed")

        shown = shown_tokens(page, run)
        logged = logged_text(session_log(server_url, page), run)
        assert frozen_at < len(logged), "the answer ended before the freeze"
        assert [text for _, text in shown] == logged
        assert int(page.get_attribute("#connection", "data-reconnects")) >= 1
        context.close()


def test_stop_in_one_tab_stops_the_answer_in_another(
    browser: Any, server_url: str, page_errors: list[str]
) -> None:
    laptop = browser.new_context()
    asker = open_page(laptop, server_url, page_errors)
    tablet = browser.new_context()  # another device, given control with the share link
    stopper = open_page(tablet, asker.input_value("#control-link"), page_errors)
    stopper_device = stopper.evaluate("sessionStorage.getItem('device')")

    run = ask(asker)
    wait_for_tokens(asker, run, 2)
    stopper.wait_for_selector("#stop:enabled", timeout=WAIT_MS)
    stopper.click("#stop")

    wait_for_status(asker, run, "cancelled")
    ending = asker.inner_text(f'[data-run="{run}"] .ending')
    assert ending == f"Stopped by {shown_name(stopper_device)}."
    assert asker.is_disabled("#stop")
    events = session_log(server_url, asker)
    (cancelled,) = [e for e in events if e["type"] == "run.cancelled" and e["run"] == run]
    assert cancelled["device"] == stopper_device
    logged = logged_text(events, run)
    assert len(logged) < 30, "the answer was not stopped early"
    assert [text for _, text in shown_tokens(asker, run)] == logged
    laptop.close()
    tablet.close()


def test_steer_from_another_tab_applies_to_the_answer_being_written(
    browser: Any, server_url: str, page_errors: list[str]
) -> None:
    context = browser.new_context()
    asker = open_page(context, server_url, page_errors)
    steerer = open_page(context, server_url, page_errors)  # a second tab: the same session
    steerer_device = steerer.evaluate("sessionStorage.getItem('device')")

    run = ask(asker)
    wait_for_tokens(asker, run, 2)
    steerer.wait_for_selector("#stop:enabled", timeout=WAIT_MS)
    steerer.check('input[name="steer-audience"][value="expert"]')

    # The asking tab follows the log: its control shows the new value while the run goes on.
    asker.wait_for_selector('input[name="steer-audience"][value="expert"]:checked', timeout=WAIT_MS)
    steered = f"{shown_name(steerer_device)} steered: audience expert"
    asker.wait_for_selector(f'[data-run="{run}"] .controls-log li:has-text("{steered}")')
    wait_for_status(asker, run, "completed")
    events = session_log(server_url, asker)
    (control,) = [e for e in events if e["type"] == "control" and e["run"] == run]
    assert control["device"] == steerer_device
    assert control["data"] == {"action": "steer", "params": {"audience": "expert"}}
    context.close()


def test_a_bad_value_shows_the_servers_error_next_to_its_field(
    browser: Any, server_url: str, page_errors: list[str]
) -> None:
    context = browser.new_context()
    page = open_page(context, server_url, page_errors)
    page.fill('[name="body_mass_g"]', "heavy")
    page.click("#predict")

    message = '[data-field="body_mass_g"] .message'
    page.wait_for_selector(f"{message}.error", timeout=WAIT_MS)
    # In plain words, naming the field by its label: no "expected a number (or null)".
    assert re.fullmatch(
        r"Body mass \(g\) must be a number, like \d{4}; got a string \('heavy'\)\.",
        page.inner_text(message),
    )
    assert page.get_attribute('[name="body_mass_g"]', "aria-invalid") == "true"
    assert page.evaluate("document.activeElement.name") == "body_mass_g"
    assert page.inner_text('[data-field="bill_length_mm"] .message') == ""
    assert page.locator(".run").count() == 0
    assert [e["type"] for e in session_log(server_url, page) if e["type"] == "message"] == []

    # A value far outside the training range is a warning: the prediction still runs.
    page.fill('[name="body_mass_g"]', "20000")
    page.click("#predict")
    page.wait_for_selector(f"{message}.warning", timeout=WAIT_MS)
    assert page.get_attribute('[name="body_mass_g"]', "aria-invalid") is None
    run = page.get_attribute(".run", "data-run")
    (sent,) = [e for e in session_log(server_url, page) if e["type"] == "message"]
    assert sent["run"] == run and sent["data"]["row"]["body_mass_g"] == 20000
    assert json.dumps(sent["data"]["row"]).count("null") == 0
    context.close()


def test_the_model_card_says_what_the_model_is_for_and_how_each_group_fared(
    browser: Any, server_url: str, page_errors: list[str]
) -> None:
    reader = httpx.post(f"{server_url}web/token?models=1").json()["models"]  # the catalog's
    catalog = httpx.get(f"{server_url}v1/models", headers={"authorization": f"Bearer {reader}"})
    card = next(
        model["card"] for model in catalog.json()["models"] if model["name"] == "penguin-classifier"
    )
    context = browser.new_context()
    page = open_page(context, server_url, page_errors)
    page.wait_for_selector("#model-card:not([hidden])", timeout=WAIT_MS)
    page.click("#model-card summary")

    text = page.inner_text("#model-card")
    assert "Intended use" in text and card["intended_use"] in text
    assert "Limitations" in text and card["limitations"] in text
    rows = page.eval_on_selector_all(
        "#model-card tbody tr", "rows => rows.map(row => row.innerText.split('\\t'))"
    )
    assert [row[:3] for row in rows] == [
        [group["column"], group["group"], str(group["rows"])] for group in card["group_metrics"]
    ]
    biscoe = next(g for g in card["group_metrics"] if g["group"] == "Biscoe")["metrics"]
    assert f"{biscoe['accuracy'] * 100:.1f}% (95% interval {biscoe['low'] * 100:.1f}%" in text
    context.close()


def test_a_share_link_asks_before_moving_the_page_into_its_session(
    browser: Any, server_url: str, page_errors: list[str]
) -> None:
    """A share-control link used to move a page into the link's session silently, and make it
    the session the page comes back to. Now the page asks; staying changes nothing."""
    mine = browser.new_context()
    theirs = browser.new_context()
    try:
        page = open_page(mine, server_url, page_errors)
        own = link_tokens(page)["session"]
        other = open_page(theirs, server_url, page_errors)
        link = other.input_value("#control-link")
        linked = link_tokens(other)["session"]
        assert linked != own

        page.goto(link)  # pasted into the address bar of the page's tab
        page.wait_for_selector("#switch", state="visible", timeout=WAIT_MS)
        assert linked[:8] in page.text_content("#switch-text")
        assert "full control" in page.text_content("#switch-text")
        assert page.is_hidden("#page"), "the page waits for the answer"
        page.click("#switch-stay")
        page.wait_for_selector("#connection[data-state=live]", timeout=WAIT_MS)
        assert link_tokens(page)["session"] == own
        assert page.evaluate("localStorage.getItem('last-session')") == own
        assert "control=" not in page.url, "the link's tokens left the address bar"

        page.goto(link)
        page.wait_for_selector("#switch", state="visible", timeout=WAIT_MS)
        page.click("#switch-open")
        page.wait_for_selector("#connection[data-state=live]", timeout=WAIT_MS)
        assert link_tokens(page)["session"] == linked
        assert page.evaluate("localStorage.getItem('last-session')") == linked

        fresh = mine.new_page()  # a link to the session the browser is in: no question
        fresh.goto(link)
        fresh.wait_for_selector("#connection[data-state=live]", timeout=WAIT_MS)
        assert fresh.is_hidden("#switch")
    finally:
        mine.close()
        theirs.close()
