"""Your phone in one step, in a real browser (Chromium) against ``serving --lan``.

The server runs as ``make serve LAN=1`` runs it, with its LAN address named: phone.test,
which this module's Chromium resolves to 127.0.0.1. A request addressed to phone.test is not
from the server's own computer (serving.web.local), as a phone's would not be: so a "phone"
here is a context with a phone's screen and user agent that opens phone.test addresses.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.serving.qr_decode import decode_png
from tests.serving.serving_process import page_address, serving_process
from tests.serving.web.conftest import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.timeout(180)

WAIT_MS = 20_000
LAN_NAME = "phone.test"
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "user_agent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like "
    "Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
    "is_mobile": True,
    "has_touch": True,
}

SHOWN_HERE = "(name) => document.querySelector('#present').textContent.includes(name)"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"no {CHROMIUM}: the browser tests need Debian's chromium")
    from playwright.sync_api import sync_playwright

    rules = f"--host-resolver-rules=MAP {LAN_NAME} 127.0.0.1"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, rules]
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def lan_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """``python -m serving --train-default-model --lan phone.test --port 0``: the page's
    address on this computer, its address on the "network", and the link the terminal shows."""
    folder = tmp_path_factory.mktemp("lan")
    arguments = ["--train-default-model", "--port", "0", "--lan", LAN_NAME]
    arguments += ["--models", str(folder / "models"), "--data-dir", str(folder / "data")]
    arguments += ["--store", "memory://"]

    def link_printed(printed: list[str]) -> bool:
        return any(line.startswith(f"http://{LAN_NAME}:") for line in printed)

    with serving_process(arguments, folder / "server.log", ready=link_printed) as printed:
        lan = next(line for line in printed if line.startswith("On your network: "))
        terminal_link = next(line for line in printed if line.startswith(f"http://{LAN_NAME}:"))
        yield {
            "local": page_address(printed),
            "lan": lan.split()[3],
            "terminal_link": terminal_link.strip(),
        }


@pytest.fixture
def page_errors() -> Iterator[list[str]]:
    errors: list[str] = []
    yield errors
    assert errors == []


def open_live(context: Any, url: str, errors: list[str]) -> Any:
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    page.wait_for_selector("#connection[data-state=live]", timeout=WAIT_MS)
    return page


def test_the_cards_qr_code_opens_the_session_on_a_phone_which_others_see_by_name(
    browser: Any, lan_server: dict[str, str], page_errors: list[str]
) -> None:
    laptop = browser.new_context(device_scale_factor=2)  # a laptop's screen, as a camera sees it
    computer = open_live(laptop, lan_server["local"], page_errors)
    computer.wait_for_selector("#share-qr svg", state="visible", timeout=WAIT_MS)
    link = computer.input_value("#control-link")
    assert link.startswith(f"{lan_server['lan']}#session=")  # the LAN address, not 127.0.0.1
    assert computer.is_hidden("#loopback-note")

    # Decode what the page shows, as a phone's camera would.
    assert decode_png(computer.locator("#share-qr").screenshot()) == [link]

    phone = browser.new_context(**PHONE)
    mobile = open_live(phone, link, page_errors)
    assert mobile.is_visible("#predict") and mobile.is_hidden("#join")
    # The computer sees the phone by a readable name, not "web-9191f6".
    computer.wait_for_function(SHOWN_HERE, arg="Chrome on Android", timeout=WAIT_MS)
    # A name the user chose, kept on the phone, is what the others see next.
    assert mobile.input_value("#device-name") == "Chrome on Android"
    mobile.fill("#device-name", "Ana's phone")
    with mobile.expect_navigation():
        mobile.press("#device-name", "Enter")
    mobile.wait_for_selector("#connection[data-state=live]", timeout=WAIT_MS)
    computer.wait_for_function(SHOWN_HERE, arg="Anas phone", timeout=WAIT_MS)
    assert mobile.input_value("#device-name") == "Ana's phone"
    laptop.close()
    phone.close()


def test_the_terminals_link_opens_its_session_with_control(
    browser: Any, lan_server: dict[str, str], page_errors: list[str]
) -> None:
    phone = browser.new_context(**PHONE)
    mobile = open_live(phone, lan_server["terminal_link"], page_errors)
    assert mobile.is_visible("#predict") and mobile.is_visible("#control-sharing")
    phone.close()


def test_the_plain_address_on_another_device_says_how_to_join(
    browser: Any, lan_server: dict[str, str], page_errors: list[str]
) -> None:
    phone = browser.new_context(**PHONE)
    page = phone.new_page()
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    page.goto(lan_server["lan"])
    page.wait_for_selector("#join", state="visible", timeout=WAIT_MS)
    text = page.inner_text("body")
    assert "scan" in text.lower() and "QR code" in text
    for jargon in ("#create=", "serving token", "token", "403", "NOT_LOCAL"):
        assert jargon not in text
    assert page.is_hidden("#predict") and page.is_hidden("#page")
    phone.close()


def test_predict_on_a_phone_scrolls_the_answer_into_view(
    browser: Any, lan_server: dict[str, str], page_errors: list[str]
) -> None:
    phone = browser.new_context(**PHONE)
    mobile = open_live(phone, lan_server["terminal_link"], page_errors)
    mobile.evaluate("window.scrollTo(0, 0)")
    mobile.locator("#predict").scroll_into_view_if_needed()
    mobile.locator("#predict").tap()
    mobile.wait_for_selector(".run", timeout=WAIT_MS)
    mobile.wait_for_function(
        """() => {
            const box = document.querySelector('.run').getBoundingClientRect();
            return box.top >= 0 && box.top < window.innerHeight - 40;
        }""",
        timeout=5_000,
    )
    phone.close()
