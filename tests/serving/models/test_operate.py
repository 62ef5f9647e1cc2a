"""Retraining a shared model is an operator's act: a session's own tokens cannot do it, and the
new version reaches every process that serves the same models folder.

Two real ``python -m serving`` processes share one models folder and one secret (as a course
server with several workers does); a retrain on one is served by the other through its models
watcher (serving.models.watch rescans every second), with no reload signal needed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from course import recipes
from serving.tokens import TokenSigner
from tests.serving.serving_process import page_address, serving_process

pytestmark = pytest.mark.timeout(240)

PENGUIN = "penguin-classifier"
SECRET = "operate-tests-secret-0123456789abcdef"
RETRAIN = {
    "type": "send",
    "agent": "retrain",
    "data": {"model": PENGUIN, "dataset": "penguins", "folds": 2},
}
APPEAR_SECONDS = 30  # the other process's scan (1 s, twice: a folder must settle) + slack


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, Path]]:
    """Two servers (their own memory stores) on one models folder and one secret."""
    folder = tmp_path_factory.mktemp("operate")
    models = folder / "models"
    recipes.train_penguin_model(models)
    os.environ["SERVING_SECRET"] = SECRET  # the children inherit it
    try:
        urls = []
        with (
            serving_process(_arguments(folder, models, "a"), folder / "a.log") as a,
            serving_process(_arguments(folder, models, "b"), folder / "b.log") as b,
        ):
            urls = [page_address(a).rstrip("/"), page_address(b).rstrip("/")]
            yield urls[0], urls[1], folder
    finally:
        os.environ.pop("SERVING_SECRET", None)


def _arguments(folder: Path, models: Path, name: str) -> list[str]:
    return [
        "--port", "0", "--store", "memory://", "--models", str(models),
        "--data-dir", str(folder / f"data-{name}"),
    ]  # fmt: skip


def _mint(folder: Path, scopes: str, resource: str) -> str:
    minted = subprocess.run(
        [sys.executable, "-m", "serving", "token", "--scope", scopes, "--stream", resource],
        capture_output=True,
        text=True,
        check=True,
        cwd=folder,
        env={**os.environ, "SERVING_SECRET": SECRET},
    )
    return minted.stdout.strip()


def _bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def _new_session(url: str, folder: Path) -> dict[str, Any]:
    create = _mint(folder, "create", "sessions/*")
    response = httpx.post(f"{url}/v1/sessions", headers=_bearer(create))
    assert response.status_code == 201, response.text
    return response.json()


def _latest(url: str) -> str:
    reader = TokenSigner(SECRET.encode()).mint("models/*", ["read"])  # the catalog needs read
    response = httpx.get(f"{url}/v1/models/{PENGUIN}", headers=_bearer(reader))
    assert response.status_code == 200, response.text
    return str(response.json()["latest"])


def _wait_until_idle(url: str, session: dict[str, Any]) -> list[dict[str, Any]]:
    read = _bearer(session["tokens"]["read"])
    deadline = time.monotonic() + 120
    while httpx.get(f"{url}/v1/sessions/{session['id']}", headers=read).json()["runs"]:
        assert time.monotonic() < deadline, "the retraining never ended"
        time.sleep(0.2)
    log = httpx.get(f"{url}/v1/stream/sessions/{session['id']}?offset=-1", headers=read)
    events: list[dict[str, Any]] = log.json()
    return events


def test_a_session_token_cannot_retrain_and_an_operator_token_reaches_every_process(
    two_processes: tuple[str, str, Path],
) -> None:
    a, b, folder = two_processes
    assert _latest(a) == _latest(b) == "1"
    session = _new_session(a, folder)
    commands = f"{a}/v1/sessions/{session['id']}/commands"
    for kind in ("write", "control"):  # the strongest tokens a session hands out
        refused = httpx.post(commands, headers=_bearer(session["tokens"][kind]), json=RETRAIN)
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"]["code"] == "FORBIDDEN"
        assert "'operate'" in refused.json()["error"]["message"]
    # The same session token still sends to the agents that answer in the session.
    chat = {"type": "send", "data": {"text": "hello"}, "params": {"speed": 1000}}
    assert httpx.post(commands, headers=_bearer(session["tokens"]["write"]), json=chat).is_success

    operator = _mint(folder, "operate", "sessions/*")
    accepted = httpx.post(commands, headers=_bearer(operator), json=RETRAIN)
    assert accepted.status_code == 200, accepted.text
    events = _wait_until_idle(a, session)
    endings = [
        e for e in events if e["type"] == "run.completed" and e["run"] == accepted.json()["run"]
    ]
    assert endings and endings[0]["data"]["result"]["registered"] == "2"
    assert _latest(a) == "2"
    deadline = time.monotonic() + APPEAR_SECONDS
    while _latest(b) != "2":  # the other process picks the version up from the shared folder
        assert time.monotonic() < deadline, "process b never served the retrained version"
        time.sleep(0.2)
    refused_log = [e for e in events if e["type"] == "message" and e["data"].get("model")]
    assert len(refused_log) == 1, "a refused retrain wrote nothing"


def test_the_page_on_this_computer_gets_an_operate_token_only_when_it_asks(
    two_processes: tuple[str, str, Path],
) -> None:
    a, _, _ = two_processes
    plain = httpx.post(f"{a}/web/token").json()
    assert set(plain) == {"create", "expires_in"}
    asked = httpx.post(f"{a}/web/token?operate=1").json()
    session = httpx.post(f"{a}/v1/sessions", headers=_bearer(asked["create"])).json()
    signer = TokenSigner(SECRET.encode())
    for token in session["tokens"].values():  # the session's own tokens never carry it
        assert "operate" not in signer.verify(token).scopes
    assert signer.verify(asked["operate"]).scopes == {"read", "write", "operate"}
    unknown_data = {**RETRAIN, "data": {**RETRAIN["data"], "dataset": "no-such-dataset"}}
    response = httpx.post(
        f"{a}/v1/sessions/{session['id']}/commands",
        headers=_bearer(asked["operate"]),
        json=unknown_data,
    )
    assert response.status_code == 200, response.text  # allowed; the run itself then fails
    events = _wait_until_idle(a, session)
    assert [e["type"] for e in events if e["run"] == response.json()["run"]][-1] == "run.failed"
