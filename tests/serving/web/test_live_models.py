"""A model exported while the server runs appears on the page, without a reload (Chromium).

The server is ``python -m serving`` as ``make serve`` runs it; the model is exported into its
folder with course.export, as a notebook does. The server rescans its folder every second
(serving.models.watch) and the page polls ``GET /v1/models`` every 3 s (models.js).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sklearn.linear_model import LinearRegression

from course import datasets
from course.export import export_model
from tests.serving.serving_process import page_address, serving_process

pytestmark = pytest.mark.timeout(180)

APPEAR_MS = 10_000  # server scan (1 s, twice: a folder must settle) + page poll (3 s) + slack


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The page's address and the models folder of a running ``python -m serving``."""
    folder = tmp_path_factory.mktemp("live")
    models = folder / "models"
    arguments = ["--train-default-model", "--port", "0", "--models", str(models)]
    arguments += ["--data-dir", str(folder / "data")]
    arguments += ["--store", f"sqlite:///{folder / 'data' / 'streams.db'}"]
    with serving_process(arguments, folder / "server.log") as printed:
        yield page_address(printed), models


def test_a_model_exported_while_the_server_runs_appears_on_the_page(browser, served):
    url, models_dir = served
    errors: list[str] = []
    page = browser.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    page.wait_for_selector("#connection[data-state=live]", timeout=20_000)
    options = "#model-select option"
    assert page.eval_on_selector_all(options, "os => os.map(o => o.value)") == [
        "penguin-classifier"
    ]
    assert page.is_hidden("#model-choice")  # one model: no choice to make
    page.evaluate("window.notReloaded = true")

    diabetes = datasets.load("diabetes")
    X, y = diabetes.drop(columns="target"), diabetes["target"]
    model = LinearRegression().fit(X, y)
    exported = time.monotonic()
    export_model(model, X, y, name="diabetes-live", models_dir=models_dir)

    page.wait_for_selector('#model-select option[value="diabetes-live"]', state="attached",
                           timeout=APPEAR_MS)
    seconds = time.monotonic() - exported
    assert page.evaluate("window.notReloaded === true")  # the same page, not a reload
    assert page.is_visible("#model-choice")
    assert page.input_value("#model-select") == "penguin-classifier"  # the choice is kept
    page.select_option("#model-select", "diabetes-live")
    page.wait_for_function(
        "document.querySelector('#model-summary').textContent.includes('diabetes-live')",
        timeout=5_000,
    )
    assert errors == []
    print(f"diabetes-live appeared on the page {seconds:.1f} s after its export")
