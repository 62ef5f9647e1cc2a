"""The flight recorder: every prediction path writes its record to the model's log, read back
through the Durable Streams HTTP API; late labels join them; drift and live metrics follow.

Real parts: the in-process server with the model agents (TestClient, memory store), the real
session protocol over its WebSocket, the streams endpoint any Durable Streams client reads.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from sklearn.metrics import accuracy_score, f1_score

from course import datasets, recipes
from serving.models.records import stream_of
from serving.tokens import TokenSigner
from tests.serving.models.agents.conftest import SECRET

PENGUIN = "penguin-classifier"
FAST = {"speed": 1_000_000}
READER = TokenSigner(SECRET).mint("models/*", ["read"])
LABELLER = TokenSigner(SECRET).mint("models/*", ["read", "write"])


def auth(token: str = READER) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def read_log(client, model: str, want: int, token: str = READER) -> list[dict[str, Any]]:
    """Every record of ``model``'s log, read with the Durable Streams API (offset=-1, then
    long-polls) until there are at least ``want``; bounded by a count of reads, not a time."""
    records: list[dict[str, Any]] = []
    offset = "-1"
    for _ in range(200):
        live = "" if offset == "-1" else "&live=long-poll"
        response = client.get(
            f"/v1/stream/{stream_of(model)}?offset={offset}{live}", headers=auth(token)
        )
        if response.status_code == 404:  # nothing recorded yet: the stream is made on the first
            time.sleep(0.01)
            continue
        assert response.status_code in (200, 204), response.text
        if response.status_code == 200:
            records += response.json()
        offset = response.headers["stream-next-offset"]
        if len(records) >= want:
            return records
    raise AssertionError(f"only {len(records)} of {want} records arrived")


def test_a_single_prediction_is_recorded_with_its_row_session_and_run(server, session):
    run = session.send("predict", {"model": PENGUIN, "row": recipes.PENGUIN_EXAMPLE}, **FAST)
    events = session.events(run)
    prediction = next(e for e in events if e["type"] == "prediction")["data"]
    [record] = read_log(server, PENGUIN, 1)
    assert record["id"] == prediction["record"] and record["kind"] == "prediction"
    assert (record["model"], record["version"], record["via"]) == (PENGUIN, "1", "predict")
    assert (record["session"], record["run"]) == (session.id, run)
    assert record["prediction"] == prediction["prediction"] == "Gentoo"
    assert record["probabilities"] == pytest.approx(prediction["probabilities"], abs=1e-6)
    assert record["row"] == {**recipes.PENGUIN_EXAMPLE}
    assert abs(record["time"] - time.time()) < 3600
    text = json.dumps(record)
    assert all(token not in text for token in session.created["tokens"].values())


def test_a_batch_records_one_record_per_valid_row_in_a_few_appends(server, session):
    appends_before = server.app.state.recorder.appends
    run = session.send("batch", {"model": PENGUIN, "dataset": "penguins"}, chunk_size=100)
    done = session.events(run)[-1]
    assert done["type"] == "run.completed", done
    result = done["data"]["result"]
    valid = result["rows"] - result["invalid_rows"]
    records = read_log(server, PENGUIN, valid)
    assert len(records) == valid and valid > 300
    prefix = result["record_prefix"]
    table = datasets.load("penguins")
    for record in records[:5] + records[-5:]:
        assert record["via"] == "batch" and record["run"] == run and record["session"] == session.id
        stem, row = record["id"].rsplit(".", 1)
        assert stem == prefix
        source = table.iloc[int(row)]
        assert record["row"]["island"] == source["island"]
        mass = source["body_mass_g"]
        assert record["row"]["body_mass_g"] == (None if mass != mass else pytest.approx(mass))
    assert len({record["id"] for record in records}) == valid
    appends = server.app.state.recorder.appends - appends_before
    assert 1 <= appends <= 10  # chunks of 100 rows, group-committed: never one per row


def test_each_ensemble_member_records_in_its_own_models_log(server, session):
    run = session.send(
        "ensemble", {"row": recipes.PENGUIN_EXAMPLE, "models": [PENGUIN, "penguin-knn"]}
    )
    events = session.events(run)
    assert events[-1]["type"] == "run.completed"
    members = {e["data"]["model"]: e["data"] for e in events if e["type"] == "prediction"}
    for model in (PENGUIN, "penguin-knn"):
        [record] = read_log(server, model, 1)
        assert record["id"] == members[model]["record"] and record["via"] == "ensemble"
        assert record["model"] == model and record["session"] == session.id


def test_the_log_is_read_only_and_closed_to_session_tokens(server, session):
    session.send("predict", {"model": PENGUIN, "row": recipes.PENGUIN_EXAMPLE}, **FAST)
    read_log(server, PENGUIN, 1)
    url = f"/v1/stream/{stream_of(PENGUIN)}?offset=-1"
    assert server.get(url).status_code == 401
    assert server.get(url, headers=auth(session.token("control"))).status_code == 403
    refused = server.post(url.split("?")[0], json={"kind": "prediction"}, headers=auth(LABELLER))
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "MODEL_LOG_READ_ONLY"
    drift = f"/v1/models/{PENGUIN}/drift"
    assert server.get(drift, headers=auth(session.token("control"))).status_code == 403
    assert server.get(drift).json()["error"]["code"] == "UNAUTHORIZED"


def test_late_labels_join_their_predictions_and_make_the_live_metrics(server, session):
    rows = datasets.load("penguins").dropna().iloc[::40]
    truth, ids, predicted = [], [], []
    for _, source in rows.iterrows():
        row = {name: source[name] for name in recipes.PENGUIN_EXAMPLE}
        run = session.send("predict", {"model": PENGUIN, "row": row}, **FAST)
        event = next(e for e in session.events(run) if e["type"] == "prediction")["data"]
        ids.append(event["record"])
        predicted.append(event["prediction"])
        truth.append(source["species"])
    truth[0] = next(c for c in ("Adelie", "Gentoo") if c != predicted[0])  # one wrong answer
    for record, label in zip(ids, truth, strict=True):
        answer = server.post(
            f"/v1/models/{PENGUIN}/labels",
            json={"record": record, "label": label},
            headers=auth(LABELLER),
        )
        assert answer.status_code == 201, answer.text
        assert answer.json()["record"] == record and answer.json()["version"] == "1"
    metrics = server.get(f"/v1/models/{PENGUIN}/metrics", headers=auth()).json()
    assert metrics["labelled"] == len(ids) and metrics["kind"] == "classification"
    assert metrics["metrics"]["accuracy"] == pytest.approx(accuracy_score(truth, predicted))
    assert metrics["metrics"]["macro_f1"] == pytest.approx(
        f1_score(truth, predicted, average="macro")
    )
    labels = [r for r in read_log(server, PENGUIN, 2 * len(ids)) if r["kind"] == "label"]
    assert [label["record"] for label in labels] == ids


def test_a_label_for_an_unknown_record_or_of_the_wrong_kind_is_refused(server, session):
    run = session.send("predict", {"model": PENGUIN, "row": recipes.PENGUIN_EXAMPLE}, **FAST)
    record = next(e for e in session.events(run) if e["type"] == "prediction")["data"]["record"]
    url = f"/v1/models/{PENGUIN}/labels"
    unknown = server.post(
        url, json={"record": "feedfacecafe.0", "label": "Adelie"}, headers=auth(LABELLER)
    )
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "RECORD_NOT_FOUND"
    for wrong in ("Emperor", 3.5, True):
        refused = server.post(url, json={"record": record, "label": wrong}, headers=auth(LABELLER))
        assert refused.status_code == 422 and refused.json()["error"]["code"] == "INVALID_LABEL"
        assert "Adelie" in refused.json()["error"]["message"]
    read_only = server.post(url, json={"record": record, "label": "Adelie"}, headers=auth(READER))
    assert read_only.status_code == 403
    assert (
        server.post(
            url, json={"record": record, "label": "Adelie"}, headers=auth(LABELLER)
        ).status_code
        == 201
    )


def test_heavier_birds_show_as_a_large_shift_in_body_mass_only(server, session):
    table = datasets.load("penguins").dropna().iloc[::8]
    for _, source in table.iterrows():
        row = {name: source[name] for name in recipes.PENGUIN_EXAMPLE}
        session.events(session.send("predict", {"model": PENGUIN, "row": row}, **FAST))
    before = server.get(f"/v1/models/{PENGUIN}/drift", headers=auth()).json()
    mass = next(f for f in before["features"] if f["name"] == "body_mass_g")
    assert before["records"] == len(table) and mass["verdict"] == "no change", mass
    for _, source in table.iterrows():
        row = {name: source[name] for name in recipes.PENGUIN_EXAMPLE}
        row["body_mass_g"] = float(source["body_mass_g"]) + 1500
        session.events(session.send("predict", {"model": PENGUIN, "row": row}, **FAST))
    after = server.get(f"/v1/models/{PENGUIN}/drift?window={len(table)}", headers=auth()).json()
    verdicts = {f["name"]: f["verdict"] for f in after["features"]}
    assert verdicts["body_mass_g"] == "large shift"
    assert {verdicts[name] for name in ("island", "sex")} == {"no change"}
    mass = next(f for f in after["features"] if f["name"] == "body_mass_g")
    assert mass["out_of_range"] > 0 and mass["recent"][-1] > 0.5
