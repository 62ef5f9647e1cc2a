"""Versions side by side: one is live, a request can pin another; promote and roll back are the
operator's commands, written into the model's control log (serving.models.live).

In one process here (TestClient over a memory store); tests/serving/models/test_promote_redis.py
runs the same commands across two server processes on a real redis-server.
"""

from __future__ import annotations

import json
import time

import pytest

from course import recipes
from serving.models import ModelRegistry
from serving.models.live import (
    HISTORY,
    LiveState,
    NothingToRollBack,
    live_of,
    promote_state,
    rollback_state,
)
from serving.tokens import TokenSigner
from tests.serving.models.agents.conftest import SECRET

PENGUIN = "penguin-classifier"
SIGNER = TokenSigner(SECRET)
OPERATOR = {"authorization": f"Bearer {SIGNER.mint('models/*', ['operate'])}"}
READER = {"authorization": f"Bearer {SIGNER.mint('models/*', ['read'])}"}
ROW = dict(recipes.PENGUIN_EXAMPLE)


# --- the pure core -----------------------------------------------------------------------------


def test_promote_remembers_what_was_live_and_rollback_walks_back():
    state = promote_state(LiveState(), "1", current="2")  # never promoted: 2, the newest, was live
    assert state.history == ("2", "1") and state.pinned == "1"
    state = promote_state(state, "3", current="1")
    assert state.history == ("2", "1", "3")
    state = promote_state(state, "2", current="3")  # promoting again moves it to the top
    assert state.history == ("1", "3", "2")
    assert rollback_state(state, PENGUIN).history == ("1", "3")
    assert rollback_state(rollback_state(state, PENGUIN), PENGUIN).history == ("1",)
    with pytest.raises(NothingToRollBack, match=r"version 1 is the first.*promote a version by"):
        rollback_state(LiveState(("1",)), PENGUIN, ["1", "2"])
    # never promoted: each version went live when it was exported, so back to the one before
    assert rollback_state(LiveState(), PENGUIN, ["1", "2", "3"]).history == ("1", "2")
    with pytest.raises(NothingToRollBack, match="version 1 is the first"):
        rollback_state(LiveState(), PENGUIN, ["1"])
    for version in range(HISTORY + 5):
        state = promote_state(state, str(version), current="x")
    assert len(state.history) == HISTORY and state.pinned == str(HISTORY + 4)


def test_the_live_version_is_the_last_promoted_one_this_process_has_loaded():
    assert live_of(("1", "3"), ["1", "2", "3"]) == "3"
    assert live_of(("1", "3"), ["1", "2"]) == "1"  # 3 not loaded here yet (or deleted)
    assert live_of((), ["1", "2"]) is None  # never promoted: the newest
    assert live_of(("9",), ["1", "2"]) is None


# --- the endpoints and the agents --------------------------------------------------------------


@pytest.fixture
def two_versions(models_dir):
    """The penguin classifier in versions 1 and 2, in a registry of its own."""
    recipes.train_penguin_model(models_dir)
    registry = ModelRegistry.open(models_dir)
    assert [served.version for served in registry.versions(PENGUIN)] == ["1", "2"]
    return registry


@pytest.fixture
def session(make_server, open_session, two_versions):
    return open_session(make_server(two_versions))


def summary(client) -> dict:
    response = client.get(f"/v1/models/{PENGUIN}", headers=READER)
    assert response.status_code == 200, response.text
    return response.json()


def predicted_version(session, **request) -> str:
    run = session.send("predict", {"model": PENGUIN, "row": ROW, **request}, speed=1000)
    events = session.events(run)
    assert events[-1]["type"] == "run.completed", events[-1]
    (prediction,) = [event for event in events if event["type"] == "prediction"]
    assert prediction["data"]["version"] == events[-1]["data"]["result"]["version"]
    return str(prediction["data"]["version"])


def test_promote_and_rollback_change_the_version_a_request_naming_none_gets(session):
    client = session.client
    assert (summary(client)["live"], summary(client)["latest"]) == ("2", "2")
    assert predicted_version(session) == "2"

    promoted = client.post(f"/v1/models/{PENGUIN}/promote", json={"version": "1"}, headers=OPERATOR)
    assert promoted.status_code == 200, promoted.text
    record = promoted.json()
    assert (record["kind"], record["version"], record["previous"]) == ("promote", "1", "2")
    assert record["history"] == ["2", "1"]
    now = summary(client)
    assert (now["live"], now["latest"], now["card"]["version"]) == ("1", "2", "1")
    listed = client.get("/v1/models", headers=READER).json()["models"]
    assert [m["live"] for m in listed if m["name"] == PENGUIN] == ["1"]
    assert predicted_version(session) == "1"
    assert predicted_version(session, version="2") == "2"  # a pinned request
    checked = client.post(f"/v1/models/{PENGUIN}/validate", json=ROW, headers=READER)
    assert checked.json()["version"] == "1"

    rolled = client.post(f"/v1/models/{PENGUIN}/rollback", headers=OPERATOR)
    assert rolled.status_code == 200, rolled.text
    assert (rolled.json()["kind"], rolled.json()["version"]) == ("rollback", "2")
    assert summary(client)["live"] == "2"
    assert predicted_version(session) == "2"
    again = client.post(f"/v1/models/{PENGUIN}/rollback", headers=OPERATOR)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "NOTHING_TO_ROLL_BACK"

    # the control log is a stream like any other: every command, in order
    log = client.get(f"/v1/stream/models/{PENGUIN}/control?offset=-1", headers=READER)
    assert log.status_code == 200, log.text
    assert [(r["kind"], r["version"]) for r in log.json()] == [("promote", "1"), ("rollback", "2")]
    written = client.post(f"/v1/stream/models/{PENGUIN}/control", content=b"{}", headers=OPERATOR)
    assert written.status_code == 403  # only the server writes it


def test_the_prediction_records_carry_the_version_that_answered(session):
    client = session.client
    first = predicted_version(session)
    client.post(f"/v1/models/{PENGUIN}/promote", json={"version": "1"}, headers=OPERATOR)
    second = predicted_version(session)
    pinned = predicted_version(session, version="2")
    assert (first, second, pinned) == ("2", "1", "2")
    log = client.get(f"/v1/stream/models/{PENGUIN}/predictions?offset=-1", headers=READER)
    assert log.status_code == 200, log.text
    records = [r for r in log.json() if r["kind"] == "prediction"]
    assert [r["version"] for r in records] == ["2", "1", "2"]


@pytest.mark.parametrize("kind", ["write", "control"])
def test_a_session_token_cannot_promote_or_roll_back(session, kind):
    client = session.client
    headers = {"authorization": f"Bearer {session.token(kind)}"}
    for path, body in (("promote", {"version": "1"}), ("rollback", None)):
        refused = client.post(f"/v1/models/{PENGUIN}/{path}", json=body, headers=headers)
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"]["code"] == "FORBIDDEN"
        assert "--scope operate --stream 'models/*'" in refused.json()["error"]["message"]
    assert summary(client)["live"] == "2"


def test_other_tokens_and_mistakes_are_refused_with_what_to_do(session):
    client = session.client
    url = f"/v1/models/{PENGUIN}/promote"
    anonymous = client.post(url, json={"version": "1"})
    assert (anonymous.status_code, anonymous.json()["error"]["code"]) == (401, "UNAUTHORIZED")
    tokens = (("models/*", ["read", "write", "control"]), ("sessions/*", ["operate"]))
    for resource, scopes in tokens:
        headers = {"authorization": f"Bearer {SIGNER.mint(resource, scopes)}"}
        assert client.post(url, json={"version": "1"}, headers=headers).status_code == 403
    unknown = client.post(url, json={"version": "7"}, headers=OPERATOR)
    assert unknown.status_code == 404
    assert "its versions are 1, 2" in unknown.json()["error"]["message"]
    other = client.post("/v1/models/no-such-model/promote", json={"version": "1"}, headers=OPERATOR)
    assert other.json()["error"]["code"] == "MODEL_NOT_FOUND"
    for body in (b"", b'{"version": "1", "why": "x"}', b'{"version": null}'):
        bad = client.post(url, content=body, headers=OPERATOR)
        assert bad.status_code == 400 and '{"version": "2"}' in bad.json()["error"]["message"]
    number = client.post(url, json={"version": 1}, headers=OPERATOR)  # what a beginner types
    assert number.status_code == 200 and number.json()["version"] == "1"
    assert summary(client)["live"] == "1"


def test_a_run_in_flight_finishes_on_the_version_it_started_with(session):
    client = session.client
    slow = session.send("predict", {"model": PENGUIN, "row": ROW}, speed=0.5)
    started = session.events(slow, until=lambda event: event["type"] == "prediction")
    assert started[-1]["data"]["version"] == "2"
    promoted = client.post(f"/v1/models/{PENGUIN}/promote", json={"version": "1"}, headers=OPERATOR)
    assert promoted.status_code == 200
    assert predicted_version(session) == "1"  # new requests: the promoted version
    assert session.command(type="steer", run=slow, params={"speed": 1000})["type"] == "ack"
    ended = session.events(slow)
    assert ended[-1]["type"] == "run.completed"
    assert ended[-1]["data"]["result"]["version"] == "2"  # the run in flight: its own


def test_a_batch_records_its_rows_with_the_version_it_started_with(session):
    """A batch's records are written behind the run: after a promote made meanwhile, they
    still name the version that scored them."""
    client = session.client
    run = session.send("batch", {"model": PENGUIN, "dataset": "penguins"})
    events = session.events(run)
    assert events[-1]["type"] == "run.completed"
    client.post(f"/v1/models/{PENGUIN}/promote", json={"version": "1"}, headers=OPERATOR)
    result = events[-1]["data"]["result"]
    expected = result["rows"] - result["invalid_rows"]
    records: list = []
    for _ in range(400):  # written behind the run: a bounded wait for every row's record
        log = client.get(f"/v1/stream/models/{PENGUIN}/predictions?offset=-1", headers=READER)
        records = [r for r in log.json() if r["id"].startswith(result["record_prefix"])]
        if len(records) == expected:
            break
        time.sleep(0.05)
    assert len(records) == expected
    assert records and {r["version"] for r in records} == {"2"}


@pytest.fixture
def operator(make_server, open_session, models_dir):
    """A server over the penguin model in version 1 only, and a session with an operate token."""
    return open_session(make_server(ModelRegistry.open(models_dir)), operate=True)


def retrain(operator, **request) -> dict:
    data = {"model": PENGUIN, "dataset": "penguins", "folds": 2, **request}
    events = operator.events(operator.send("retrain", data))
    assert events[-1]["type"] == "run.completed", events[-1]
    return dict(events[-1]["data"]["result"])


def test_a_retrained_version_waits_for_a_promote(operator):
    client = operator.client
    result = retrain(operator)
    assert (result["registered"], result["live"]) == ("2", "1")
    now = summary(client)
    assert (now["latest"], now["live"]) == ("2", "1")
    assert predicted_version(operator) == "1"
    assert predicted_version(operator, version="2") == "2"  # to try it before promoting
    log = client.get(f"/v1/stream/models/{PENGUIN}/control?offset=-1", headers=READER).json()
    assert [(r["kind"], r["version"], r["by"]) for r in log] == [("promote", "1", "retrain")]
    client.post(f"/v1/models/{PENGUIN}/promote", json={"version": "2"}, headers=OPERATOR)
    assert predicted_version(operator) == "2"


def test_a_retrain_asked_to_promote_makes_its_version_live(operator):
    result = retrain(operator, promote=True)
    assert (result["registered"], result["live"]) == ("2", "2")
    assert summary(operator.client)["live"] == "2"
    assert predicted_version(operator) == "2"
    rolled = operator.client.post(f"/v1/models/{PENGUIN}/rollback", headers=OPERATOR)
    assert rolled.json()["version"] == "1" and predicted_version(operator) == "1"


def test_a_new_export_is_live_at_once_until_a_version_is_promoted(make_server, models_dir):
    registry = ModelRegistry.open(models_dir)
    client = make_server(registry)
    recipes.train_penguin_model(models_dir)
    registry.rescan(settle=False)
    assert summary(client)["live"] == "2"  # never promoted: the newest, as before versions
    client.post(f"/v1/models/{PENGUIN}/promote", json={"version": "2"}, headers=OPERATOR)
    recipes.train_penguin_model(models_dir)
    registry.rescan(settle=False)
    assert (summary(client)["latest"], summary(client)["live"]) == ("3", "2")
    assert json.loads(json.dumps(summary(client)["versions"])) == ["1", "2", "3"]


def test_an_ensemble_member_answers_with_its_live_or_pinned_version(session):
    client = session.client
    client.post(f"/v1/models/{PENGUIN}/promote", json={"version": "1"}, headers=OPERATOR)

    def members(models: list) -> list:
        run = session.send("ensemble", {"row": ROW, "models": models})
        events = session.events(run)
        assert events[-1]["type"] == "run.completed", events[-1]
        return [(m["model"], m["version"]) for m in events[-1]["data"]["result"]["members"]]

    assert members([PENGUIN, "penguin-knn"]) == [(PENGUIN, "1"), ("penguin-knn", "1")]
    pinned = [{"model": PENGUIN, "version": "2"}, "penguin-knn"]
    assert members(pinned) == [(PENGUIN, "2"), ("penguin-knn", "1")]
    run = session.send("ensemble", {"row": ROW, "models": [{"model": PENGUIN, "v": "2"}]})
    failed = session.events(run)[-1]
    assert failed["type"] == "run.failed" and '"version": "1"} to pin' in failed["data"]["error"]


def test_a_rollback_of_a_model_never_promoted_goes_to_the_version_before_the_newest(session):
    """Each version went live when it was exported: back to the one before, as expected."""
    client = session.client
    rolled = client.post(f"/v1/models/{PENGUIN}/rollback", headers=OPERATOR)
    assert rolled.status_code == 200, rolled.text
    assert (rolled.json()["version"], rolled.json()["previous"]) == ("1", "2")
    assert summary(client)["live"] == "1" and predicted_version(session) == "1"
    again = client.post(f"/v1/models/{PENGUIN}/rollback", headers=OPERATOR)
    assert again.json()["error"]["code"] == "NOTHING_TO_ROLL_BACK"
