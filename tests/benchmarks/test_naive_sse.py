"""The naive SSE baseline answers like the predict agent: a prediction, the explanation, done."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from benchmarks.naive_sse import naive_app
from course import recipes
from serving.models import ModelRegistry


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory):
    models_dir: Path = tmp_path_factory.mktemp("models")
    recipes.train_penguin_model(models_dir)
    return naive_app(ModelRegistry.open(models_dir), recipes.PENGUIN_MODEL_NAME)


def post(app, body: object) -> httpx.Response:
    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://naive") as client:
            return await client.post("/predict", json=body)

    return asyncio.run(call())


def test_a_row_streams_a_prediction_then_the_explanation(app) -> None:
    response = post(app, recipes.PENGUIN_EXAMPLE)
    assert response.headers["content-type"].startswith("text/event-stream")
    lines = [line for line in response.text.splitlines() if line]
    assert lines[0] == "event: prediction"
    assert '"prediction"' in lines[1]
    assert lines[-2:] == ["event: done", "data: {}"]
    assert sum(line.startswith('data: {"text"') for line in lines) > 10


def test_a_bad_row_is_refused_with_the_reason(app) -> None:
    response = post(app, {**recipes.PENGUIN_EXAMPLE, "island": "Atlantis"})
    assert response.status_code == 422
    assert "island" in response.json()["error"]
