import asyncio
import io
import json

import httpx
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from course import datasets
from serving.models.agents.scoring import _predictions_json
from serving.models.batch import ScoredChunk
from serving.sessions.events import dumps


def of_type(events, kind):
    return [event for event in events if event["type"] == kind]


def test_a_dataset_is_scored_chunk_by_chunk_and_the_end_points_to_the_csv(session, penguin):
    run = session.send(
        "batch", {"model": "penguin-classifier", "dataset": "penguins"}, chunk_size=100
    )
    events = session.events(run)
    chunks = of_type(events, "prediction")
    assert [chunk["data"]["rows"] for chunk in chunks] == [
        [0, 100],
        [100, 200],
        [200, 300],
        [300, 344],
    ]
    progress = of_type(events, "progress")
    assert (
        progress[0]["data"]["done"] == 0
        and "ignoring the columns species, year" in progress[0]["data"]["note"]
    )
    assert [p["data"]["done"] for p in progress[1:]] == [100, 200, 300, 344]
    streamed = [p for chunk in chunks for p in chunk["data"]["predictions"]]
    expected = penguin.model.predict(datasets.load("penguins")).tolist()
    assert streamed == expected
    result = events[-1]["data"]["result"]
    assert events[-1]["type"] == "run.completed"
    assert result["complete"] and result["rows"] == result["rows_scored"] == 344
    response = session.client.get(result["result_url"])
    assert response.status_code == 200
    table = pd.read_csv(io.StringIO(response.text))
    assert table["prediction"].tolist() == expected and table["row"].tolist() == list(range(344))


def test_bad_rows_are_named_and_skipped_and_probabilities_come_on_request(session):
    csv = (
        "island,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g,sex\n"
        "Biscoe,47.5,14.2,218,5200,male\n"
        "Atlantis,47.5,14.2,218,5200,male\n"
        "Dream,49.0,18.5,195,9999,female\n"
    )
    run = session.send("batch", {"model": "penguin-classifier", "csv": csv, "probabilities": True})
    events = session.events(run)
    chunk = of_type(events, "prediction")[0]["data"]
    assert chunk["predictions"][0] == "Gentoo" and chunk["predictions"][1] is None
    assert chunk["errors"] == [
        [
            1,
            "island: unknown category 'Atlantis', never seen in training; "
            "expected one of 'Biscoe', 'Dream', 'Torgersen'",
        ]
    ]
    assert chunk["warnings"][0][0] == 2 and "far outside" in chunk["warnings"][0][1]
    assert chunk["classes"] == ["Adelie", "Chinstrap", "Gentoo"]
    assert chunk["probabilities"][1] is None and abs(sum(chunk["probabilities"][0]) - 1) < 1e-5
    result = events[-1]["data"]["result"]
    assert result["invalid_rows"] == 1 and result["source"] == "csv"


def test_a_table_without_the_models_columns_fails_clearly(session):
    run = session.send("batch", {"model": "penguin-classifier", "csv": "island,sex\nDream,male\n"})
    failed = session.events(run)[-1]
    assert failed["type"] == "run.failed" and failed["data"]["kind"] == "TableError"
    assert "the table has no column 'bill_length_mm'" in failed["data"]["error"]


def test_exactly_one_source(session):
    run = session.send("batch", {"model": "penguin-classifier", "dataset": "penguins", "csv": "a"})
    error = session.events(run)[-1]["data"]["error"]
    assert "give exactly one of dataset, csv, upload (got dataset, csv)" in error


def test_an_upload_is_scored_and_stop_keeps_the_rows_done_so_far(session, open_session):
    big = pd.concat([datasets.load("penguins")] * 30, ignore_index=True)  # 10,320 rows
    response = session.client.post(
        f"/v1/uploads?session={session.id}",
        content=big.to_csv(index=False).encode(),
        headers={"authorization": f"Bearer {session.token('write')}"},
    )
    assert response.status_code == 201, response.text
    upload = response.json()["upload"]
    run = session.send("batch", {"model": "penguin-classifier", "upload": upload}, chunk_size=100)
    session.events(run, until=lambda event: event["type"] == "prediction")
    phone = open_session(session.client, device="phone", join=session)
    assert phone.command(type="cancel", run=run)["type"] == "ack"
    events = session.events(run)
    assert events[-1]["type"] == "run.cancelled" and events[-1]["device"] == "phone"
    partial = of_type(events, "prediction")[-1]["data"]
    assert partial["complete"] is False and 0 < partial["rows_scored"] < len(big)
    table = pd.read_csv(io.StringIO(session.client.get(partial["result_url"]).text))
    assert len(table) == partial["rows_scored"]


def test_uploads_need_the_sessions_write_token_and_stay_in_their_session(session, open_session):
    url = f"/v1/uploads?session={session.id}"
    assert session.client.post(url, content=b"a,b\n1,2\n").status_code == 401
    read_only = {"authorization": f"Bearer {session.token('read')}"}
    response = session.client.post(url, content=b"a,b\n1,2\n", headers=read_only)
    assert response.status_code == 403 and response.json()["error"]["code"] == "FORBIDDEN"
    write = {"authorization": f"Bearer {session.token('write')}"}
    assert session.client.post(url, content=b"", headers=write).status_code == 400
    upload = session.client.post(url, content=b"a,b\n1,2\n", headers=write).json()["upload"]
    elsewhere = open_session(session.client, device="phone")
    run = elsewhere.send("batch", {"model": "penguin-classifier", "upload": upload})
    assert f"no upload '{upload}' in this session" in elsewhere.events(run)[-1]["data"]["error"]


# --- through serving.client, on a real server ---------------------------------------------------


@pytest.mark.anyio
async def test_through_the_client_chunks_arrive_once_across_drops_and_a_second_device_stops_it(
    live,
):
    laptop = await live.connect("laptop")
    phone = await live.connect("phone", join=laptop)
    ack = await laptop.send(
        {"model": "penguin-classifier", "dataset": "penguins"},
        agent="batch",
        params={"chunk_size": 100},
    )

    def cut_after_the_first_chunk(event, events):
        if event.type == "prediction" and event.data["rows"] == [0, 100]:
            live.drop(laptop)

    events = await live.run_events(laptop, ack.run, cut_after_the_first_chunk)
    live.assert_once_in_order(events)
    chunks = [event.data["rows"] for event in events if event.type == "prediction"]
    assert chunks == [[0, 100], [100, 200], [200, 300], [300, 344]]
    assert events[-1].data["result"]["result_url"].endswith(".csv")

    big = pd.concat([datasets.load("penguins")] * 30, ignore_index=True).to_csv(index=False)
    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"{live.server.url}/v1/uploads?session={laptop.session}",
            content=big.encode(),
            headers={"authorization": f"Bearer {laptop.token}"},
        )
    ack = await laptop.send(
        {"model": "penguin-classifier", "upload": response.json()["upload"]},
        agent="batch",
        params={"chunk_size": 100},
    )
    stopped = asyncio.Event()

    def stop_on_the_first_chunk(event, events):
        if event.type == "prediction":
            stopped.set()

    following = asyncio.create_task(live.run_events(phone, ack.run, stop_on_the_first_chunk))
    await asyncio.wait_for(stopped.wait(), 30)
    await phone.cancel(ack.run)
    answer = await laptop.wait_for_answer(ack.run)
    assert answer.status == "cancelled"
    events = await following
    partial = [e.data for e in events if e.type == "prediction" and "complete" in e.data]
    assert partial and partial[0]["complete"] is False


def test_a_large_chunk_is_streamed_in_events_of_at_most_5000_rows(session):
    big = pd.concat([datasets.load("penguins")] * 30, ignore_index=True)  # 10,320 rows
    response = session.client.post(
        f"/v1/uploads?session={session.id}",
        content=big.to_csv(index=False).encode(),
        headers={"authorization": f"Bearer {session.token('write')}"},
    )
    run = session.send(
        "batch", {"model": "penguin-classifier", "upload": response.json()["upload"]}
    )
    events = session.events(run)
    assert [e["data"]["rows"] for e in of_type(events, "prediction")] == [
        [0, 5000],
        [5000, 10000],
        [10000, 10320],
    ]
    assert [e["data"]["done"] for e in of_type(events, "progress")] == [0, 5000, 10000, 10320]
    assert events[-1]["data"]["result"]["rows_scored"] == 10320


LABEL = st.one_of(
    st.sampled_from(
        ["Adelie", "Gentoo", 'say "hi"', "back\\slash", "é", "\ud800", "tab\there", ""]
    ),
    st.text(max_size=5),
    st.none(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
)


@given(labels=st.lists(LABEL, min_size=1, max_size=12))
def test_each_events_predictions_are_the_json_dumps_bytes_of_its_rows(labels) -> None:
    chunk = ScoredChunk(7, 7 + len(labels), 50, labels, None, None, [], [])
    fragments = _predictions_json(chunk, event_rows=5)
    expected = [labels[at : at + 5] for at in range(0, len(labels), 5)]
    assert [fragment.json for fragment in fragments] == [dumps(part) for part in expected]


def test_plain_labels_of_a_whole_chunk_are_joined_in_one_go() -> None:
    labels = ["Adelie", "Gentoo", "Chinstrap"] * 4
    chunk = ScoredChunk(0, 12, 12, labels, None, None, [], [])
    fragments = _predictions_json(chunk, event_rows=5)
    assert [json.loads(fragment.json) for fragment in fragments] == [
        labels[:5],
        labels[5:10],
        labels[10:],
    ]
