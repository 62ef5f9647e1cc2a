"""The page through a Redis outage, in a real browser (Chromium) against ``python -m serving`` on a
real redis-server (``appendonly yes``, ``appendfsync always``, as docs/SCALING.md recommends).

While Redis is away the server refuses a send with ``STORE_UNAVAILABLE`` (docs/PROTOCOL.md); the
page (serving/web/static/session.js) sends it again after ``retry_after`` and its connection stays
open, so a message typed during the outage is answered once Redis is back, with no error shown
and no event lost or repeated.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from benchmarks.redis_server import RedisServer, redis_server_path
from tests.serving.serving_process import page_address, serving_process

pytestmark = [
    pytest.mark.timeout(180),
    pytest.mark.skipif(redis_server_path() is None, reason="redis-server is not installed"),
]
WAIT_MS = 60_000
OUTAGE_SECONDS = 15
"""Longer than the store's 5 s wait for a lost commit: the page itself must send again."""


@pytest.fixture(scope="module")
def redis() -> Iterator[RedisServer]:
    with RedisServer(appendonly=True, appendfsync="always") as server:
        yield server


@pytest.fixture(scope="module")
def redis_page(redis: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The page of a server without models (the demo agent answers) on that Redis."""
    folder = tmp_path_factory.mktemp("served-on-redis")
    arguments = ["--port", "0", "--models", str(folder / "models"), "--store", redis.url]
    arguments += ["--data-dir", str(folder / "data"), "--instance", "web1"]
    with serving_process(arguments, folder / "server.log") as printed:
        yield page_address(printed)


def runs(page: Any) -> list[tuple[str, str]]:
    """(run id, status) of every run the page shows."""
    return page.eval_on_selector_all(
        ".run", "runs => runs.map(run => [run.dataset.run, run.dataset.status])"
    )


def say(page: Any, text: str) -> str:
    """Send ``text`` with the page's form; the id of its run once the page shows it."""
    shown = {run for run, _ in runs(page)}
    page.fill("#message", text)
    page.click("#predict")
    page.wait_for_function(
        "count => document.querySelectorAll('.run').length > count",
        arg=len(shown),
        timeout=WAIT_MS,
    )
    (new,) = {run for run, _ in runs(page)} - shown
    return new


def test_a_message_sent_while_redis_is_down_is_answered_when_it_is_back(
    browser: Any, redis: RedisServer, redis_page: str
) -> None:
    errors: list[str] = []
    context = browser.new_context()
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(redis_page)
    page.wait_for_selector("#connection[data-state=live]", timeout=WAIT_MS)
    first = say(page, "before the outage")
    page.wait_for_selector(f'[data-run="{first}"][data-status="completed"]', timeout=WAIT_MS)

    redis.kill()
    back = threading.Timer(OUTAGE_SECONDS, redis.start)
    back.start()
    try:
        second = say(page, "during the outage")  # shows once Redis took it
    finally:
        back.join()
    page.wait_for_selector(f'[data-run="{second}"][data-status="completed"]', timeout=WAIT_MS)
    assert not page.text_content("#form-message"), "the page showed an error"
    assert [status for _, status in runs(page)] == ["completed", "completed"]
    assert errors == []
    context.close()
