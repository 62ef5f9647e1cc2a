import asyncio

import pytest

from course import recipes


def of_type(events, kind):
    return [event for event in events if event["type"] == kind]


FAST = {"speed": 1_000_000}


def test_the_prediction_comes_first_then_the_explanation_token_by_token(session):
    run = session.send(
        "predict", {"model": "penguin-classifier", "row": recipes.PENGUIN_EXAMPLE}, **FAST
    )
    events = session.events(run)
    kinds = [event["type"] for event in events]
    assert kinds[:3] == ["message", "run.started", "prediction"]
    assert kinds[-1] == "run.completed" and set(kinds[3:-1]) == {"delta"}
    prediction = events[2]["data"]
    assert prediction["prediction"] == "Gentoo" and prediction["version"] == "1"
    assert prediction["classes"] == ["Adelie", "Chinstrap", "Gentoo"]
    assert abs(sum(prediction["probabilities"]) - 1) < 1e-9 and prediction["warnings"] == []
    text = "".join(event["data"]["text"] for event in of_type(events, "delta"))
    result = events[-1]["data"]["result"]
    assert text == result["text"]
    assert text.startswith("The model thinks the species is Gentoo")
    assert len(of_type(events, "delta")) > 30
    assert {c["feature"] for c in result["evidence"]["contributions"]} == set(
        recipes.PENGUIN_EXAMPLE
    )


def test_a_bad_row_fails_the_run_naming_each_field_and_the_session_goes_on(session):
    row = {**recipes.PENGUIN_EXAMPLE, "island": "Atlantis", "body_mass_g": "heavy"}
    run = session.send("predict", {"model": "penguin-classifier", "row": row}, **FAST)
    failed = session.events(run)[-1]
    assert failed["type"] == "run.failed" and failed["data"]["kind"] == "RowValidationError"
    message = failed["data"]["error"]
    assert "island: unknown category 'Atlantis', never seen in training" in message
    assert "  - Body mass (g) must be a number, like " in message  # a sentence stands alone
    assert "; got a string ('heavy')" in message
    again = session.send(
        "predict", {"model": "penguin-classifier", "row": recipes.PENGUIN_EXAMPLE}, **FAST
    )
    assert session.events(again)[-1]["type"] == "run.completed"


def test_an_out_of_range_value_is_a_warning_told_in_the_explanation(session):
    row = {**recipes.PENGUIN_EXAMPLE, "body_mass_g": 12000.0}
    run = session.send("predict", {"model": "penguin-classifier", "row": row}, **FAST)
    events = session.events(run)
    assert [w["field"] for w in events[2]["data"]["warnings"]] == ["body_mass_g"]
    assert "Careful with the body mass (g)" in events[-1]["data"]["result"]["text"]


def test_steering_mid_answer_changes_what_follows(session):
    run = session.send(
        "predict",
        {"row": recipes.PENGUIN_EXAMPLE, "model": "penguin-classifier"},
        speed=200,
        length="long",
    )
    first = session.events(run, until=lambda event: event["type"] == "delta")
    reply = session.command(type="steer", run=run, params={"length": "short", "audience": "expert"})
    assert reply["type"] == "ack"
    rest = session.events(run)
    text = rest[-1]["data"]["result"]["text"]
    assert text.startswith(first[-1]["data"]["text"])
    # The headline was under way in beginner words; after it, one reason in expert style.
    assert text.startswith("The model thinks the species is Gentoo")
    assert text.count("percentage points") == 1 and " = " in text
    assert "Remember" not in text


def test_stop_ends_the_answer_early(session):
    run = session.send(
        "predict", {"model": "penguin-classifier", "row": recipes.PENGUIN_EXAMPLE}, speed=50
    )
    session.events(run, until=lambda event: event["type"] == "delta")
    assert session.command(type="cancel", run=run)["type"] == "ack"
    events = session.events(run)
    assert events[-1]["type"] == "run.cancelled" and events[-1]["device"] == "laptop"
    assert len(of_type(events, "delta")) < 10


def test_mistakes_in_the_request_are_explained(session):
    run = session.send("predict", {"model": "nope", "row": recipes.PENGUIN_EXAMPLE})
    assert (
        "no model named 'nope': the models are diabetes-linear"
        in session.events(run)[-1]["data"]["error"]
    )
    run = session.send(
        "predict", {"model": "penguin-classifier", "rows": [recipes.PENGUIN_EXAMPLE]}
    )
    error = session.events(run)[-1]["data"]["error"]
    assert "the predict agent does not know the field 'rows'; it reads model, row, version" in error
    reply = session.command(
        type="send",
        agent="predict",
        data={"row": recipes.PENGUIN_EXAMPLE},
        params={"length": "tiny"},
    )
    assert reply["type"] == "error" and reply["code"] == "INVALID_STEER"
    assert "length must be one of short, medium, long" in reply["message"]


# --- through serving.client, on a real server ---------------------------------------------------


@pytest.mark.anyio
async def test_a_drop_mid_answer_loses_and_repeats_no_token(live):
    client = await live.connect("laptop")
    ack = await client.send(
        {"model": "penguin-classifier", "row": recipes.PENGUIN_EXAMPLE},
        agent="predict",
        params={"speed": 300},
    )

    def cut_twice(event, events):
        if event.type == "delta" and len(of_type_events(events, "delta")) in (5, 25):
            live.drop(client)

    events = await live.run_events(client, ack.run, cut_twice)
    assert client.reconnects >= 2
    live.assert_once_in_order(events)
    assert events[-1].type == "run.completed"
    text = "".join(event.data["text"] for event in of_type_events(events, "delta"))
    assert text == events[-1].data["result"]["text"]
    assert text.startswith("The model thinks the species is Gentoo")


@pytest.mark.anyio
async def test_a_second_device_stops_the_answer_and_both_see_it(live):
    laptop = await live.connect("laptop")
    phone = await live.connect("phone", join=laptop)
    ack = await laptop.send(
        {"model": "penguin-classifier", "row": recipes.PENGUIN_EXAMPLE},
        agent="predict",
        params={"speed": 20},
    )
    first_delta = asyncio.Event()

    async def follow_phone():
        return await live.run_events(
            phone, ack.run, lambda e, _: e.type == "delta" and first_delta.set()
        )

    watching = asyncio.create_task(follow_phone())
    await asyncio.wait_for(first_delta.wait(), 10)
    await phone.cancel(ack.run)
    answer = await laptop.wait_for_answer(ack.run)
    assert answer.status == "cancelled"
    phone_events = await watching
    assert phone_events[-1].type == "run.cancelled" and phone_events[-1].device == "phone"
    assert 0 < len(of_type_events(phone_events, "delta")) < 10


def of_type_events(events, kind):
    return [event for event in events if event.type == kind]
