"""Adversarial model input: rows with odd values, missing or extra features, wrong types.
Validation answers 200 or a 4xx naming the problem; the predict agent ends every run with a
prediction or a failure that says what was wrong with the request, never a crash."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from serving.tokens import TokenSigner
from tests.fuzz.strategies import JSON

MODEL = "penguin-classifier"
REQUEST_ERRORS = {"RowValidationError", "RequestError", "ModelNotFound"}


@pytest.fixture(scope="module")
def catalog(signer: TokenSigner) -> dict[str, str]:
    """A token that reads the model catalog (a secured server asks for one)."""
    return {"authorization": f"Bearer {signer.mint('models/*', ['read'])}"}


@pytest.fixture(scope="module")
def features(server: TestClient, catalog: dict[str, str]) -> list[str]:
    card = server.get(f"/v1/models/{MODEL}", headers=catalog).json()["cards"][-1]
    return [feature["name"] for feature in card["features"]]


VALUES = (
    st.sampled_from(
        [None, "", "Dream", "dream", "Biscoe ", 0, -1, 1e308, -1e308, 10**400, "NaN", "inf", True]
    )
    | JSON
)


@st.composite
def rows(draw: st.DrawFn, features: list[str]) -> Any:
    if draw(st.integers(0, 9)) == 0:
        return draw(JSON)  # not an object at all
    chosen = draw(st.lists(st.sampled_from([*features, "extra", ""]), unique=True))
    return {name: draw(VALUES) for name in chosen}


def test_rows_are_validated_or_refused_clearly(
    server: TestClient, features: list[str], catalog: dict[str, str]
) -> None:
    @settings(settings.get_profile("fuzz"))
    @given(rows(features))
    def check(row: Any) -> None:
        body = json.dumps(row).replace("1e+400", "1" + "0" * 400)
        response = server.post(f"/v1/models/{MODEL}/validate", content=body, headers=catalog)
        assert response.status_code in (200, 400, 413, 422), response.text
        if response.status_code != 200:
            assert response.json()["error"]["message"]

    check()


def test_predict_runs_end_with_an_answer_or_a_clear_failure(
    server: TestClient, sessions: Any, features: list[str]
) -> None:
    created = sessions.create()

    @settings(settings.get_profile("fuzz"))
    @given(rows(features), st.sampled_from([MODEL, "nobody", None]))
    def check(row: Any, model: str | None) -> None:
        data = {"row": row} if model is None else {"model": model, "row": row}
        ack = sessions.command(
            created, type="send", agent="predict", data=data, params={"speed": 1_000_000}
        )
        assert ack.status_code == 200, ack.text
        run = ack.json()["run"]
        deadline = time.monotonic() + 10
        while any(active["run"] == run for active in sessions.info(created)["runs"]):
            assert time.monotonic() < deadline, "the run never ended"
            time.sleep(0.01)
        ending = [e for e in sessions.log(created) if e["run"] == run][-1]
        if ending["type"] == "run.failed":
            assert ending["data"]["kind"] in REQUEST_ERRORS, ending["data"]
            assert ending["data"]["error"]
        else:
            assert ending["type"] == "run.completed", ending

    check()
    sessions.assert_still_works(created)
