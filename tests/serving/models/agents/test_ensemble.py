import pytest

from course import recipes

MEMBERS = ["penguin-classifier", "penguin-knn"]


def test_members_publish_their_own_predictions_and_the_orchestrator_only_votes(session):
    run = session.send("ensemble", {"row": recipes.PENGUIN_EXAMPLE, "models": MEMBERS})
    events = session.events(run)
    written_by = {}
    for event in events:
        written_by.setdefault(event["agent"], []).append(event["type"])
    assert written_by["model:penguin-classifier"] == ["prediction"]
    assert written_by["model:penguin-knn"] == ["prediction"]
    assert written_by["ensemble"] == ["run.started", "run.completed"]  # it relays nothing
    members = {e["agent"]: e["data"] for e in events if e["type"] == "prediction"}
    assert members["model:penguin-knn"]["model"] == "penguin-knn"
    vote = events[-1]["data"]["result"]
    assert vote["prediction"] == "Gentoo" and vote["method"] == "majority"
    assert vote["votes"] == {"Adelie": 0, "Chinstrap": 0, "Gentoo": 2} and vote["agreement"] == 1.0
    assert vote["members"] == [
        {"model": "penguin-classifier", "version": "1"},
        {"model": "penguin-knn", "version": "1"},
    ]


def test_without_a_list_every_model_with_the_rows_features_votes(session):
    run = session.send("ensemble", {"row": recipes.PENGUIN_EXAMPLE}, method="mean_probability")
    result = session.events(run)[-1]["data"]["result"]
    assert [m["model"] for m in result["members"]] == MEMBERS
    assert result["method"] == "mean_probability" and len(result["probabilities"]) == 3


def test_a_bad_row_fails_before_any_member_runs_naming_model_and_field(session):
    run = session.send(
        "ensemble", {"row": {**recipes.PENGUIN_EXAMPLE, "island": "Atlantis"}, "models": MEMBERS}
    )
    events = session.events(run)
    assert [event["type"] for event in events] == ["message", "run.started", "run.failed"]
    error = events[-1]["data"]["error"]
    assert "penguin-classifier: island: unknown category 'Atlantis'" in error
    assert "penguin-knn: island: unknown category 'Atlantis'" in error


def test_models_of_different_targets_do_not_vote_together(session):
    run = session.send(
        "ensemble", {"row": recipes.PENGUIN_EXAMPLE, "models": ["penguin-knn", "diabetes-linear"]}
    )
    error = session.events(run)[-1]["data"]["error"]
    assert "an ensemble needs models that predict the same target the same way" in error
    assert "diabetes-linear (regression of target)" in error


@pytest.mark.anyio
async def test_through_the_client_a_late_device_sees_each_member_and_the_vote(live):
    laptop = await live.connect("laptop")
    ack = await laptop.send({"row": recipes.PENGUIN_EXAMPLE, "models": MEMBERS}, agent="ensemble")
    answer = await laptop.wait_for_answer(ack.run)
    assert answer.status == "completed" and answer.result["prediction"] == "Gentoo"
    late = await live.connect("phone", join=laptop)  # joins after the end: replays the history
    events = await live.run_events(late, ack.run)
    assert {e.agent for e in events if e.type == "prediction"} == {
        "model:penguin-classifier",
        "model:penguin-knn",
    }
    assert events[-1].agent == "ensemble" and events[-1].data["result"] == answer.result
