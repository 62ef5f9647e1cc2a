"""The page shows the live version and which version answered; a promote shows without a reload
(Chromium, ``python -m serving`` as ``make serve`` runs it).

The penguin classifier is served in versions 1 and 2; version 2, the newest, is live until an
operator promotes version 1 (POST /v1/models/<name>/promote, serving.models.live). The page
polls GET /v1/models every 3 s (models.js), so it names the new live version within a poll.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from course import recipes
from serving.tokens import TokenSigner
from tests.serving.serving_process import page_address, serving_process

pytestmark = pytest.mark.timeout(180)

SECRET = "versions-page-tests-secret-0123456789"
WAIT_MS = 20_000  # a poll of the page (3 s) and a loaded machine's slack
PENGUIN = "penguin-classifier"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("versions")
    models = folder / "models"
    recipes.train_penguin_model(models)
    recipes.train_penguin_model(models)  # version 2
    arguments = ["--port", "0", "--models", str(models), "--data-dir", str(folder / "data")]
    arguments += ["--store", f"sqlite:///{folder / 'data' / 'streams.db'}"]  # not the project's
    os.environ["SERVING_SECRET"] = SECRET
    try:
        with serving_process(arguments, folder / "server.log") as printed:
            yield page_address(printed).rstrip("/")
    finally:
        os.environ.pop("SERVING_SECRET", None)


def wait_until(check: Callable[[], bool], page: Any) -> None:
    """A bounded wait in Python: the page's CSP forbids the eval a string predicate needs."""
    deadline = time.monotonic() + WAIT_MS / 1000
    while not check():
        assert time.monotonic() < deadline, page.inner_text("body")[:2000]
        page.wait_for_timeout(100)


def test_the_page_shows_the_live_version_and_follows_a_promote(browser: Any, served: str) -> None:
    errors: list[str] = []
    page = browser.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(served)
    page.wait_for_selector("#connection[data-state=live]", timeout=WAIT_MS)
    summary = page.inner_text("#model-summary")
    assert summary.startswith(f"{PENGUIN} v2:") and "waits for a promote" not in summary
    page.wait_for_selector("#fields [name=island]", timeout=WAIT_MS)
    page.click("#predict")
    page.wait_for_selector(".run .answer", timeout=WAIT_MS)
    assert f"({PENGUIN} v2)" in page.inner_text(".run .answer")  # the version that answered
    page.evaluate("window.notReloaded = true")

    operator = TokenSigner(SECRET.encode()).mint("models/*", ["operate"])
    promoted = httpx.post(
        f"{served}/v1/models/{PENGUIN}/promote",
        json={"version": "1"},
        headers={"authorization": f"Bearer {operator}"},
    )
    assert promoted.status_code == 200, promoted.text
    wait_until(lambda: page.inner_text("#model-summary").startswith(f"{PENGUIN} v1:"), page)
    assert page.evaluate("window.notReloaded === true")
    assert "Version 1 is live; version 2 is newer and waits for a promote." in page.inner_text(
        "#model-summary"
    )
    page.wait_for_selector("#fields [name=island]", timeout=WAIT_MS)
    page.click("#predict")
    wait_until(lambda: f"({PENGUIN} v1)" in page.inner_text("#runs"), page)
    assert errors == []
