import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from course import datasets
from serving.models import Results, add_model_routes, check_table, score_table
from serving.models.http import MAX_ROW_BYTES
from serving.models.results import csv_lines, header


@pytest.fixture
def results(tmp_path):
    return Results(tmp_path / "results")


@pytest.fixture
def client(registry, results):
    app = FastAPI()
    add_model_routes(app, registry, results)
    with TestClient(app) as client:
        yield client


def test_the_models_are_listed_with_their_latest_card(client):
    response = client.get("/v1/models")
    assert response.status_code == 200
    models = {model["name"]: model for model in response.json()["models"]}
    assert sorted(models) == ["diabetes-linear", "penguin-classifier", "penguin-knn"]
    penguin = models["penguin-classifier"]
    assert penguin["latest"] == "1" and penguin["versions"] == ["1"]
    card = penguin["card"]
    assert [f["name"] for f in card["features"]][:2] == ["bill_length_mm", "bill_depth_mm"]
    assert card["target"] == {
        "name": "species",
        "classes": ["Adelie", "Chinstrap", "Gentoo"],
        "label": "species",
        "unit": "",
    }
    assert card["features"][0]["label"] == "bill length" and card["features"][0]["unit"] == "mm"
    assert "accuracy" in card["metrics"]


def test_the_listed_card_says_what_the_model_is_for_and_how_each_group_fared(client):
    models = {model["name"]: model for model in client.get("/v1/models").json()["models"]}
    card = models["penguin-classifier"]["card"]
    assert "measurements taken in the field" in card["intended_use"]
    assert "2007-2009" in card["limitations"] and "95% interval" in card["limitations"]
    groups = {(g["column"], g["group"]): g for g in card["group_metrics"]}
    assert ("island", "Torgersen") in groups and ("sex", "(missing)") in groups
    biscoe = groups[("island", "Biscoe")]
    assert biscoe["rows"] > 0 and set(biscoe["metrics"]) == {"accuracy", "low", "high"}
    assert sum(g["rows"] for (column, _), g in groups.items() if column == "island") == 86
    # A model exported without them (the KNN of the fixtures) has empty ones, not missing keys.
    knn = models["penguin-knn"]["card"]
    assert (knn["intended_use"], knn["limitations"], knn["group_metrics"]) == ("", "", None)


def test_one_model_lists_every_versions_card(client):
    response = client.get("/v1/models/penguin-knn")
    assert response.status_code == 200
    assert [card["version"] for card in response.json()["cards"]] == ["1"]
    assert client.get("/v1/models/penguin-knn/1").json()["name"] == "penguin-knn"


@pytest.mark.parametrize(
    "path", ["/v1/models/nope", "/v1/models/%2E%2E", "/v1/models/penguin-knn/9"]
)
def test_an_unknown_model_or_version_is_a_404_that_lists_what_exists(client, path):
    response = client.get(path)
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "MODEL_NOT_FOUND"
    assert "penguin-classifier" in error["message"] or "its versions are 1" in error["message"]


def test_a_valid_row_comes_back_clean_with_its_warnings(client, penguin_rows):
    row = {**penguin_rows[0], "body_mass_g": 12000}
    response = client.post("/v1/models/penguin-classifier/validate", json=row)
    assert response.status_code == 200
    body = response.json()
    assert body["row"]["body_mass_g"] == 12000.0 and body["version"] == "1"
    assert [w["field"] for w in body["warnings"]] == ["body_mass_g"]
    assert "far outside the range seen in training" in body["warnings"][0]["problem"]


def test_a_bad_row_is_a_422_naming_each_field(client, penguin_rows):
    row = {**penguin_rows[0], "island": "Atlantis", "bill_length_mm": "long", "color": "blue"}
    response = client.post("/v1/models/penguin-classifier/validate", json=row)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "INVALID_ROW"
    problems = {p["field"]: p for p in error["problems"]}
    assert set(problems) == {"island", "bill_length_mm", "color"}
    assert problems["island"] == {
        "field": "island",
        "problem": "unknown category 'Atlantis', never seen in training",
        "expected": "one of 'Biscoe', 'Dream', 'Torgersen'",
    }
    assert problems["bill_length_mm"]["expected"] == "a number (or null)"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"{not json", 400, "INVALID_JSON"),
        (b"[1, 2]", 422, "INVALID_ROW"),
        (b" " * (MAX_ROW_BYTES + 1), 413, "PAYLOAD_TOO_LARGE"),
    ],
)
def test_malformed_bodies_get_clear_errors(client, body, status, code):
    response = client.post("/v1/models/penguin-classifier/validate", content=body)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code


def test_a_committed_result_is_served_as_csv(client, results, penguin):
    check = check_table(penguin.card, datasets.load("penguins").head(5))
    writer = results.create(header(None))
    for chunk in score_table(penguin, check):
        writer.write(csv_lines(chunk), len(chunk.rows))
    assert client.get(writer.url).status_code == 404  # not finished yet
    writer.commit()
    response = client.get(writer.url)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.text.splitlines()[0] == "row,prediction,warning,error"
    assert len(response.text.splitlines()) == 6


@pytest.mark.parametrize("name", ["nothing.csv", "%2E%2E", "a" * 22, "%2E%2E.csv"])
def test_anything_else_under_results_is_a_404(client, name):
    response = client.get(f"/v1/results/{name}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "RESULT_NOT_FOUND"


@pytest.mark.parametrize("path", ["/v1/results/..%2F..%2Fpyproject.toml", "/v1/models/..%2Fx/1"])
def test_encoded_slashes_never_reach_a_file(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "build-system" not in response.text
