"""The page shows what just happened (issue 22, item 5), in Chromium against ``python -m serving``.

- After Predict the new answer is in view, on a desktop (1440x900, where Predict is below the
  fold and the answer is in the other column) and on a phone (390x844, answers under the form).
- An ensemble's vote and a batch run's outcome are tables (real <table>, headers with scope,
  each bar with its number written next to it), never JSON; every value is compared with what
  the server logged.
- A finished batch's progress bar is full: its value is the count, and its drawn fill spans
  the bar (it used to be a 160-pixel bar in an 800-pixel answer, which looked one-sixth full).

The ensemble and batch runs are sent over HTTP (POST /v1/sessions/<id>/commands) into the
page's session, as notebook 11 sends them from Python; the page follows the session.
"""

from __future__ import annotations

import io
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import numpy as np
import pytest

from tests.serving.serving_process import page_address, serving_process

pytestmark = pytest.mark.timeout(180)

WAIT_MS = 20_000
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The server with notebook 11's three penguin models: enough members for a vote."""
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.tree import DecisionTreeClassifier

    from course import recipes
    from course.export import export_model

    folder = tmp_path_factory.mktemp("results")
    models = folder / "models"
    recipes.train_penguin_model(models)
    X, y, _ = recipes.penguin_split()
    others = {
        "penguin-knn": KNeighborsClassifier(),
        "penguin-tree": DecisionTreeClassifier(max_depth=2, random_state=0),
    }
    for name, classifier in others.items():
        model = recipes.penguin_pipeline(classifier).fit(X, y)
        export_model(model, X, y, name=name, models_dir=models)
    arguments = ["--port", "0", "--models", str(models), "--data-dir", str(folder / "data")]
    arguments += ["--store", "memory://"]
    with serving_process(arguments, folder / "server.log") as printed:
        yield page_address(printed)


@pytest.fixture
def page_errors() -> Iterator[list[str]]:
    errors: list[str] = []
    yield errors
    assert errors == []


def open_page(browser: Any, url: str, viewport: dict[str, int], errors: list[str]) -> Any:
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    page.wait_for_selector("#connection[data-state=live]", timeout=WAIT_MS)
    return page


class SessionOfPage:
    """The page's session, read and written over HTTP with the tokens of its control link."""

    def __init__(self, url: str, page: Any) -> None:
        fragment = parse_qs(urlsplit(page.input_value("#control-link")).fragment)
        self.url = url
        self.id = fragment["session"][0]
        self.headers = {"authorization": f"Bearer {fragment['control'][0]}"}

    def send(self, data: dict[str, Any], agent: str, params: dict[str, Any] | None = None) -> str:
        command: dict[str, Any] = {"type": "send", "id": uuid.uuid4().hex, "data": data}
        command |= {"agent": agent, "params": params or {}}
        response = httpx.post(
            f"{self.url}v1/sessions/{self.id}/commands", json=command, headers=self.headers
        )
        assert response.status_code == 200, response.text
        return str(response.json()["run"])

    def events(self, run: str) -> list[dict[str, Any]]:
        response = httpx.get(
            f"{self.url}v1/stream/sessions/{self.id}",
            params={"offset": "-1"},
            headers=self.headers,
        )
        assert response.status_code == 200
        return [event for event in response.json() if event["run"] == run]


def percent(probability: float) -> str:
    """As view.js writes a probability."""
    value = probability * 100
    return ">99.9%" if value > 99.9 else "<0.1%" if value < 0.1 else f"{value:.1f}%"


def table_rows(page: Any, selector: str) -> list[list[str]]:
    """The text of each body row's cells (th and td) of the table at ``selector``."""
    return page.eval_on_selector_all(
        f"{selector} tbody tr",
        "rows => rows.map(row => [...row.cells].map(cell => cell.textContent))",
    )


def table_headers(page: Any, selector: str) -> list[tuple[str, str | None]]:
    return [
        tuple(pair)
        for pair in page.eval_on_selector_all(
            f"{selector} thead th", "cells => cells.map(c => [c.textContent, c.scope])"
        )
    ]


def box_in_view(page: Any, selector: str) -> dict[str, float]:
    """The element's box, the window's height and the sticky bar's bottom, in the viewport."""
    return page.evaluate(
        """(selector) => {
            const box = document.querySelector(selector).getBoundingClientRect();
            const bar = document.querySelector('header.top').getBoundingClientRect();
            return {top: box.top, bottom: box.bottom, height: window.innerHeight,
                    bar: bar.bottom};
        }""",
        selector,
    )


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_after_predict_the_new_answer_is_in_view(
    browser: Any, served: str, viewport: dict[str, int], page_errors: list[str]
) -> None:
    page = open_page(browser, served, viewport, page_errors)
    page.evaluate("window.scrollTo(0, 0)")
    predict = box_in_view(page, "#predict")
    assert predict["bottom"] > predict["height"], "Predict is above the fold: nothing to test"
    page.locator("#predict").scroll_into_view_if_needed()
    page.click("#predict")
    page.wait_for_selector(".run .answer", timeout=WAIT_MS)
    run = page.get_attribute(".run", "data-run")
    answer = f'[data-run="{run}"] .answer'
    # The prediction itself, not only the top of its card, below the sticky bar and on screen
    # (a smooth scroll takes a moment).
    page.wait_for_function(
        """(selector) => {
            const box = document.querySelector(selector).getBoundingClientRect();
            const bar = document.querySelector('header.top').getBoundingClientRect();
            return box.top >= bar.bottom && box.bottom <= window.innerHeight;
        }""",
        arg=answer,
        timeout=5_000,
    )
    page.wait_for_timeout(500)  # still there once every scroll has ended
    shown = box_in_view(page, answer)
    assert shown["bar"] <= shown["top"] and shown["bottom"] <= shown["height"], shown
    if viewport is DESKTOP:
        # Two columns: the answer appears next to the form; the page did not jump away from it.
        beside = box_in_view(page, "#predict")
        assert beside["bar"] <= beside["top"] and beside["bottom"] <= beside["height"], beside
    page.context.close()


def test_an_ensemble_vote_is_a_table_of_its_members_and_their_votes(
    browser: Any, served: str, page_errors: list[str]
) -> None:
    from course import recipes

    page = open_page(browser, served, DESKTOP, page_errors)
    session = SessionOfPage(served, page)
    run = session.send({"row": recipes.PENGUIN_EXAMPLE}, "ensemble")
    item = f'[data-run="{run}"]'
    page.wait_for_selector(f"{item}[data-status=completed] table.votes", timeout=WAIT_MS)
    events = session.events(run)
    vote = next(e for e in events if e["type"] == "run.completed")["data"]["result"]
    members = sorted(
        (e["data"] for e in events if e["type"] == "prediction"), key=lambda p: p["model"]
    )
    assert len(members) == 3

    assert page.inner_text(f"{item} .answer") == (
        f"The vote: species: {vote['prediction']} (3 of 3 models agree; majority)"
    )
    classes = vote["classes"]
    assert table_headers(page, f"{item} table.members") == [
        ("Member", "col"),
        ("Prediction", "col"),
        *[(name, "col") for name in classes],
    ]
    assert table_rows(page, f"{item} table.members") == [
        [
            f"{member['model']} v{member['version']}",
            member["prediction"],
            *[percent(p) for p in member["probabilities"]],
        ]
        for member in members
    ]
    assert table_headers(page, f"{item} table.votes") == [
        ("Class", "col"),
        ("Votes", "col"),
        ("Mean probability", "col"),
    ]
    assert table_rows(page, f"{item} table.votes") == [
        [name, f"{vote['votes'][name]} of 3", percent(mean)]
        for name, mean in zip(classes, vote["probabilities"], strict=True)
    ]
    # Each bar says what it measures, and its number is written next to it.
    labels = page.eval_on_selector_all(
        f"{item} table.votes meter", "ms => ms.map(m => [m.getAttribute('aria-label'), m.value])"
    )
    assert labels == [
        [f"mean probability of {name}", pytest.approx(mean)]
        for name, mean in zip(classes, vote["probabilities"], strict=True)
    ]
    assert "{" not in page.inner_text(item)  # no JSON left on the page
    page.context.close()


def test_a_batch_run_shows_its_counts_its_first_rows_and_a_full_progress_bar(
    browser: Any, served: str, page_errors: list[str]
) -> None:
    from PIL import Image

    page = open_page(browser, served, DESKTOP, page_errors)
    session = SessionOfPage(served, page)
    request = {"model": "penguin-classifier", "dataset": "penguins"}
    run = session.send(request, "batch", {"chunk_size": 100})
    item = f'[data-run="{run}"]'
    page.wait_for_selector(f"{item}[data-status=completed] table.batch-rows", timeout=WAIT_MS)
    events = session.events(run)
    result = next(e for e in events if e["type"] == "run.completed")["data"]["result"]
    predictions = [
        label
        for event in events
        if event["type"] == "prediction"
        for label in event["data"]["predictions"]
    ]
    total = result["rows"]
    assert total == len(predictions) == 344

    # The bar: its value is the count, and what Chromium draws is full, across the answer.
    bar = page.eval_on_selector(
        f"{item} progress",
        """bar => ({value: bar.value, max: bar.max, position: bar.position,
                   width: bar.getBoundingClientRect().width,
                   answer: bar.closest('.run').clientWidth,
                   label: bar.labels[0].textContent})""",
    )
    assert (bar["value"], bar["max"], bar["position"]) == (total, total, 1)
    assert bar["width"] >= 0.85 * bar["answer"], bar
    assert bar["label"].startswith(f"{total} of {total} rows · {total} rows, 0 invalid")
    shot = Image.open(io.BytesIO(page.locator(f"{item} progress").screenshot())).convert("RGB")
    middle = np.asarray(shot)[shot.height // 2].astype(int)
    filled = (middle[:, 2] - middle[:, 0] > 80).mean()  # the accent blue: much more blue than red
    assert filled > 0.95, f"the finished bar is drawn {filled:.0%} full"

    counts = Counter(predictions)
    assert table_rows(page, f"{item} table.counts") == [
        [label, f"{count} ({percent(count / total)})"] for label, count in counts.most_common()
    ]
    assert table_headers(page, f"{item} table.batch-rows") == [
        ("Row (from 0)", "col"),
        ("Species", "col"),
    ]
    assert table_rows(page, f"{item} table.batch-rows") == [
        [str(row), label] for row, label in enumerate(predictions[:10])
    ]
    # The link downloads every row, and its first rows are the table's.
    href = page.get_attribute(f"{item} a.download", "href")
    assert href == result["result_url"]
    csv = httpx.get(f"{served}{href.lstrip('/')}").text.splitlines()
    assert len(csv) == total + 1
    assert [line.split(",")[1] for line in csv[1:11]] == predictions[:10]
    assert "{" not in page.inner_text(item)
    page.context.close()
