"""Fixtures for the browser tests: Debian's Chromium, and the server as ``make serve`` runs it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.serving.serving_process import page_address, serving_process

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Chromium driven by Playwright (Playwright's own browser download cannot work offline)."""
    if not CHROMIUM.exists():
        pytest.skip(
            f"no {CHROMIUM}: the browser tests need Debian's chromium (apt install chromium)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``python -m serving --train-default-model`` on a free port, as ``make serve`` runs it."""
    folder = tmp_path_factory.mktemp("served")
    arguments = ["--train-default-model", "--port", "0", "--models", str(folder / "models")]
    arguments += ["--data-dir", str(folder / "data")]
    arguments += ["--store", f"sqlite:///{folder / 'data' / 'streams.db'}"]
    with serving_process(arguments, folder / "server.log") as printed:
        yield page_address(printed)
