"""The page's "How the model is doing" view (issue 18), in Chromium against ``python -m
serving`` with tokens (the page on the server's own computer gets a models read token).

Predictions go into the page's session over HTTP (batch runs, as notebook 13 sends them); the
page follows the model's log (the Durable Stream models/<name>/predictions) and redraws the
drift charts: ordinary birds leave body mass at "no change", heavier birds (3 kg more) move
its recent share into the top bin and its verdict to "large shift", and the sentence a screen reader
reads says so. Then late labels move the live metrics.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from serving.tokens import SECRET_FILE, TokenSigner
from tests.serving.serving_process import page_address, serving_process

pytestmark = pytest.mark.timeout(180)

WAIT_MS = 30_000
PENGUIN = "penguin-classifier"
MASS = "#health figure[data-feature=body_mass_g]"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """The server's page address, and an operator's token for the models' logs (minted with
    the server's secret, as ``serving token --scope read,write --stream 'models/*'`` does)."""
    folder = tmp_path_factory.mktemp("monitor")
    arguments = ["--train-default-model", "--port", "0", "--models", str(folder / "models")]
    arguments += ["--data-dir", str(folder / "data"), "--store", "memory://"]
    with serving_process(arguments, folder / "server.log") as printed:
        secret = (folder / "data" / SECRET_FILE).read_bytes().strip()
        yield page_address(printed), TokenSigner(secret).mint("models/*", ["read", "write"])


def birds(heavier: float = 0.0) -> str:
    from course import datasets, recipes

    table = datasets.load("penguins").dropna()[list(recipes.PENGUIN_EXAMPLE)]
    table = table.assign(body_mass_g=table["body_mass_g"] + heavier)
    return str(table.to_csv(index=False))


def send_batch(url: str, page: Any, csv: str) -> dict[str, Any]:
    """Score ``csv`` in the page's session (its control link's token); the run's result."""
    fragment = parse_qs(urlsplit(page.input_value("#control-link")).fragment)
    session, token = fragment["session"][0], fragment["control"][0]
    headers = {"authorization": f"Bearer {token}"}
    command = {"type": "send", "id": uuid.uuid4().hex, "agent": "batch"}
    command["data"] = {"model": PENGUIN, "csv": csv}
    response = httpx.post(f"{url}v1/sessions/{session}/commands", json=command, headers=headers)
    assert response.status_code == 200, response.text
    run = response.json()["run"]
    for _ in range(200):  # bounded: a long-poll each, until the run ends
        log = httpx.get(
            f"{url}v1/stream/sessions/{session}", params={"offset": "-1"}, headers=headers
        ).json()
        ended = [e for e in log if e["run"] == run and e["type"] == "run.completed"]
        if ended:
            return dict(ended[0]["data"]["result"])
        page.wait_for_timeout(100)
    raise AssertionError("the batch run did not end")


def top_bin_share(page: Any) -> float:
    shares = page.eval_on_selector_all(
        f"{MASS} rect.recent", "bars => bars.map(bar => Number(bar.dataset.share))"
    )
    return float(shares[-1])


def test_the_drift_view_follows_heavier_birds_and_the_metrics_follow_labels(
    browser: Any, served: tuple[str, str]
) -> None:
    served, operator = served
    errors: list[str] = []
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(served)
    page.wait_for_selector("#connection[data-state=live]", timeout=WAIT_MS)
    status = page.text_content("#health .monitor-status") or ""
    assert "no prediction recorded yet" in status or "Waiting" in status

    ordinary = send_batch(served, page, birds())
    page.wait_for_selector(f"#health[data-records='{ordinary['rows']}']", timeout=WAIT_MS)
    page.wait_for_selector(f"{MASS}[data-verdict='no change']", timeout=WAIT_MS)
    before = top_bin_share(page)
    assert before < 0.2

    heavy = send_batch(served, page, birds(heavier=3000))
    total = ordinary["rows"] + heavy["rows"]  # every row: the view follows the log to its end
    page.wait_for_selector(f"#health[data-records='{total}']", timeout=WAIT_MS)
    page.wait_for_selector(f"{MASS}[data-verdict='large shift']", timeout=WAIT_MS)
    after = top_bin_share(page)
    assert after > before + 0.3  # the body-mass bar of the top bin grew
    sentence = page.text_content(f"{MASS} .sr-only") or ""
    assert sentence.startswith("body mass (g): large shift, PSI ")
    assert "outside the training range" in sentence
    label = page.get_attribute(f"{MASS} svg", "aria-label")
    assert label == sentence
    island = page.get_attribute("#health figure[data-feature=island]", "data-verdict")
    assert island == "no change"

    # Late labels: the truth for the first ten ordinary birds, then the live metric shows.
    assert "No true outcome yet" in (page.text_content("#health .monitor-metrics") or "")
    from course import datasets

    species = datasets.load("penguins").dropna()["species"].tolist()
    page_token = page.evaluate(
        "fetch('/web/token?models=1', {method: 'POST'}).then(r => r.json()).then(a => a.models)"
    )
    url = f"{served}v1/models/{PENGUIN}/labels"
    first = {"record": f"{ordinary['record_prefix']}.0", "label": species[0]}
    refused = httpx.post(url, json=first, headers={"authorization": f"Bearer {page_token}"})
    assert refused.status_code == 403  # the page's token reads; labels are the operator's
    for row in range(10):
        label = {"record": f"{ordinary['record_prefix']}.{row}", "label": species[row]}
        sent = httpx.post(url, json=label, headers={"authorization": f"Bearer {operator}"})
        assert sent.status_code == 201, sent.text
    page.wait_for_function(  # a function, not a string: the page's CSP forbids eval
        "() => document.querySelector('#health .monitor-metrics').textContent"
        ".startsWith('On its last 10 labelled predictions: accuracy ')",
        timeout=WAIT_MS,
    )
    assert errors == []
