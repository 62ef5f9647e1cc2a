import asyncio

import pytest

from serving.models import ModelRegistry
from serving.tokens import TokenSigner
from tests.serving.models.agents.conftest import SECRET

PENGUIN = "penguin-classifier"
SIGNER = TokenSigner(SECRET)


@pytest.fixture
def own_registry(models_dir):
    """A registry of its own: retraining adds versions to it."""
    return ModelRegistry.open(models_dir)


@pytest.fixture
def retraining(make_server, open_session, own_registry):
    """A session driven with an operator's token: a session's own tokens cannot retrain
    (tests/serving/models/test_operate.py)."""
    return open_session(make_server(own_registry), operate=True)


def of_type(events, kind):
    return [event for event in events if event["type"] == kind]


def test_progress_per_fold_then_a_new_version_with_its_card(retraining, own_registry):
    run = retraining.send("retrain", {"model": PENGUIN, "dataset": "penguins", "folds": 3})
    events = retraining.events(run)
    notes = [event["data"]["note"] for event in of_type(events, "progress")]
    assert notes[0].startswith("retraining penguin-classifier version 1 on penguins: 3 folds")
    assert notes[1].startswith("fold 1 of 3: accuracy 0.9") and "best so far" in notes[1]
    assert notes[-1].startswith("final fit on all training rows: test accuracy")
    assert [e["data"]["done"] for e in of_type(events, "progress")] == [0, 1, 2, 3, 4]
    result = events[-1]["data"]["result"]
    assert result["registered"] == "2" and result["complete"] and result["previous_version"] == "1"
    assert own_registry.latest(PENGUIN).version == "2"
    read = {"authorization": f"Bearer {retraining.created['tokens']['read']}"}
    card = retraining.client.get(f"/v1/models/{PENGUIN}/2", headers=read).json()
    assert card["metrics"]["accuracy"] == result["metrics"]["accuracy"] > 0.9
    assert "Retrained on the dataset 'penguins' from version 1" in card["description"]


def test_finish_now_from_another_device_keeps_the_best_model_so_far(
    retraining, own_registry, open_session
):
    run = retraining.send("retrain", {"model": PENGUIN, "dataset": "penguins", "folds": 10})
    retraining.events(run, until=lambda e: e["type"] == "progress" and e["data"]["done"] == 1)
    phone = open_session(retraining.client, device="phone", join=retraining)
    assert phone.command(type="steer", run=run, params={"finish": "now"})["type"] == "ack"
    events = retraining.events(run)
    result = events[-1]["data"]["result"]
    assert events[-1]["type"] == "run.completed"
    assert result["complete"] is False and 1 <= result["steps_done"] < 10
    assert own_registry.latest(PENGUIN).version == result["registered"] == "2"
    assert "stopped early" in own_registry.latest(PENGUIN).card.description


def test_cancel_abandons_the_retraining(retraining, own_registry):
    run = retraining.send("retrain", {"model": PENGUIN, "dataset": "penguins", "folds": 10})
    retraining.events(run, until=lambda e: e["type"] == "progress" and e["data"]["done"] == 1)
    assert retraining.command(type="cancel", run=run)["type"] == "ack"
    assert retraining.events(run)[-1]["type"] == "run.cancelled"
    assert own_registry.latest(PENGUIN).version == "1"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"model": PENGUIN}, "the retrain agent needs 'dataset'"),
        ({"model": PENGUIN, "dataset": "diabetes"}, "dataset 'diabetes' has no column"),
        ({"model": PENGUIN, "dataset": "penguins", "folds": 1}, "'folds' must be between 2"),
        ({"model": PENGUIN, "dataset": "penguins", "folds": "3"}, "'folds' must be a whole"),
    ],
)
def test_mistakes_are_explained(retraining, data, message):
    run = retraining.send("retrain", data)
    assert message in retraining.events(run)[-1]["data"]["error"]


@pytest.fixture
def own_live(make_live, own_registry):
    return make_live(own_registry)


@pytest.mark.anyio
async def test_through_the_client_progress_survives_a_drop_and_finish_now_comes_from_another_device(
    own_live, own_registry
):
    phone = await own_live.connect("phone")
    assert phone.created is not None
    operator = SIGNER.mint(f"sessions/{phone.created['id']}", ["read", "write", "operate"])
    laptop = await own_live.connect("laptop", join=phone, token=operator)
    ack = await laptop.send({"model": PENGUIN, "dataset": "penguins", "folds": 10}, agent="retrain")
    steered = asyncio.Event()

    def on_progress(event, events):
        if event.type == "progress" and event.data["done"] == 1:
            own_live.drop(laptop)
            steered.set()

    following = asyncio.create_task(own_live.run_events(laptop, ack.run, on_progress))
    await asyncio.wait_for(steered.wait(), 60)
    await phone.steer(ack.run, finish="now")
    events = await following
    own_live.assert_once_in_order(events)
    result = events[-1].data["result"]
    assert result["complete"] is False and result["registered"] == "2"
    assert own_registry.latest(PENGUIN).version == "2"


def test_a_folder_refused_elsewhere_does_not_fail_the_retraining(
    retraining, own_registry, models_dir
):
    # A half-copied folder of another model, appeared while the server runs: refused, logged,
    # and none of this run's business.
    broken = models_dir / "penguin-knn" / "2"
    broken.mkdir()
    (broken / "card.json").write_text((models_dir / "penguin-knn" / "1" / "card.json").read_text())
    run = retraining.send("retrain", {"model": PENGUIN, "dataset": "penguins", "folds": 2})
    events = retraining.events(run)
    assert events[-1]["type"] == "run.completed", events[-1]
    assert own_registry.latest(PENGUIN).version == events[-1]["data"]["result"]["registered"]
    assert [served.version for served in own_registry.versions("penguin-knn")] == ["1"]
