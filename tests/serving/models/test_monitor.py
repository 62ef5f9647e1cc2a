"""From Python: course.monitor reads a running server's prediction log (a real NotebookServer:
real sockets, real SQLite), sends late labels and computes drift and live metrics.
"""

from __future__ import annotations

import json
import shutil

import pytest
from sklearn.metrics import accuracy_score, f1_score

from course import datasets, monitor, recipes
from course.drift import DriftReport
from serving.model_log import ModelLog, ModelLogError
from serving.notebook import NotebookServer, follow

PENGUIN = "penguin-classifier"
FAST = {"speed": 1_000_000}

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def server(models_dir):
    with NotebookServer(models_dir) as running:  # entering starts it
        yield running


def predict(client, row) -> dict:
    ack = client.send({"model": PENGUIN, "row": row}, agent="predict", params=FAST)
    for event in follow(client, ack.run):
        if event.type == "prediction":
            return event.data
    raise AssertionError("no prediction event")


def birds(step: int = 20) -> list[tuple[dict, str]]:
    table = datasets.load("penguins").dropna().iloc[::step]
    return [
        ({name: source[name] for name in recipes.PENGUIN_EXAMPLE}, source["species"])
        for _, source in table.iterrows()
    ]


def test_labels_metrics_and_drift_from_python(server):
    client = server.new_session()
    sent = birds()
    answers = [predict(client, row) for row, _ in sent]
    truth = [species for _, species in sent]
    truth[1] = next(c for c in ("Adelie", "Chinstrap") if c != answers[1]["prediction"])
    for answer, species in zip(answers, truth, strict=True):
        stored = monitor.label(server, PENGUIN, answer["record"], species)
        assert stored["record"] == answer["record"] and stored["label"] == species
    result = monitor.metrics(server, PENGUIN)
    predicted = [answer["prediction"] for answer in answers]
    assert result.labelled == len(sent)
    assert result.metrics["accuracy"] == pytest.approx(accuracy_score(truth, predicted))
    assert result.metrics["macro_f1"] == pytest.approx(f1_score(truth, predicted, average="macro"))
    report = monitor.drift(server, PENGUIN)
    assert isinstance(report, DriftReport) and report.records == len(sent)
    assert report.names() == list(recipes.PENGUIN_EXAMPLE) and "<table>" in report._repr_html_()
    records = monitor.records(server, PENGUIN)
    assert [r["kind"] for r in records] == ["prediction"] * len(sent) + ["label"] * len(sent)
    with ModelLog(server.url, token=server.models_token()) as log:  # the server's view agrees
        assert log.drift(PENGUIN)["features"] == report.to_dict()["features"]
        assert log.metrics(PENGUIN)["metrics"] == pytest.approx(result.metrics)


def test_a_wrong_label_is_refused_with_its_code(server):
    client = server.new_session()
    record = predict(client, recipes.PENGUIN_EXAMPLE)["record"]
    with pytest.raises(ModelLogError) as unknown:
        monitor.label(server, PENGUIN, "000000000000.0", "Adelie")
    assert (unknown.value.status, unknown.value.code) == (404, "RECORD_NOT_FOUND")
    with pytest.raises(ModelLogError) as wrong:
        monitor.label(server, PENGUIN, record, "Emperor")
    assert (wrong.value.status, wrong.value.code) == (422, "INVALID_LABEL")
    with pytest.raises(ModelLogError) as anonymous:
        ModelLog(server.url).records(PENGUIN)
    assert anonymous.value.status == 401


def test_a_card_exported_before_profiles_still_serves_and_says_why_drift_cannot_run(models_dir):
    card_path = next((models_dir / PENGUIN).glob("*/card.json"))
    card = json.loads(card_path.read_text())
    del card["profile"]
    card_path.write_text(json.dumps(card))
    shutil.rmtree(models_dir / "penguin-knn")
    with NotebookServer(models_dir) as server:
        predict(server.new_session(), recipes.PENGUIN_EXAMPLE)
        report = monitor.drift(server, PENGUIN)
    assert report.features == [] and "no training profile" in (report.reason or "")
    assert "export the model again" in str(report)
