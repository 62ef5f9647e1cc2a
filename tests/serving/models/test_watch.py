"""Models appear live: ModelRegistry.rescan, the watcher in a running server, GET /v1/models.

Real artifacts (exported by course.export into a private copy of the shipped models), real
folders changed the way a notebook, a copy by hand or an attacker changes them, and a real
server on a socket for the HTTP test.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
import time

import httpx
import pytest
from sklearn.linear_model import LinearRegression

from course import datasets, recipes
from course.export import export_model
from serving.background import BackgroundServer
from serving.config import ServerConfig
from serving.models import ModelNotFound, ModelRegistry
from serving.models.registry import folder_name_problem

PENGUIN = recipes.PENGUIN_MODEL_NAME
LOGGER = "serving.models.registry"


def export_diabetes(models_dir, name="diabetes-new"):
    diabetes = datasets.load("diabetes")
    X, y = diabetes.drop(columns="target"), diabetes["target"]
    return export_model(LinearRegression().fit(X, y), X, y, name=name, models_dir=models_dir)


def copy_version(models_dir, version, name=PENGUIN):
    """Version ``version`` of the penguin classifier, as a copy of version 1 with its card
    saying so (what a retrain or a second export writes)."""
    folder = models_dir / name / version
    shutil.copytree(models_dir / PENGUIN / "1", folder)
    card = json.loads((folder / "card.json").read_text())
    card.update(name=name, version=version)
    (folder / "card.json").write_text(json.dumps(card))
    return folder


def warnings(caplog):
    return [r.getMessage() for r in caplog.records if r.name == LOGGER and r.levelno >= 30]


def test_a_new_model_is_served_once_its_folder_is_settled(models_dir):
    registry = ModelRegistry.open(models_dir)
    export_diabetes(models_dir)
    first = registry.rescan()  # first sighting: it may still be being written
    assert "diabetes-new" not in registry and not first.added
    second = registry.rescan()
    assert [(s.name, s.version) for s in second.added] == [("diabetes-new", "1")]
    assert "diabetes-new" in registry
    assert not registry.rescan()  # nothing changed: nothing to do


def test_a_new_version_becomes_the_latest(models_dir):
    registry = ModelRegistry.open(models_dir)
    first = registry.latest(PENGUIN)
    copy_version(models_dir, "10")
    (ten,) = registry.rescan(settle=False).added
    copy_version(models_dir, "2")  # exported later, still older: latest is the highest
    assert [s.version for s in registry.rescan(settle=False).added] == ["2"]
    assert [s.version for s in registry.versions(PENGUIN)] == ["1", "2", "10"]
    assert registry.latest(PENGUIN) is ten and registry.get(PENGUIN) is ten
    assert registry.get(PENGUIN, "1") is first  # loaded versions are kept as they are


def test_a_folder_still_being_written_is_left_alone_until_it_settles(models_dir, caplog):
    registry = ModelRegistry.open(models_dir)
    source = models_dir / PENGUIN / "1"
    folder = models_dir / PENGUIN / "2"  # a copy by hand, in progress: the card first
    folder.mkdir()
    card = json.loads((source / "card.json").read_text())
    (folder / "card.json").write_text(json.dumps({**card, "version": "2"}))
    data = (source / "model.skops").read_bytes()
    registry.rescan()
    (folder / "model.skops").write_bytes(data[: len(data) // 2])
    assert not registry.rescan()  # changed since the last scan: not tried, not refused
    (folder / "model.skops").write_bytes(data)
    assert not registry.rescan()
    assert [s.version for s in registry.rescan().added] == ["2"]
    assert warnings(caplog) == []


def test_a_half_written_artifact_is_refused_once_and_retried_when_it_changes(models_dir, caplog):
    registry = ModelRegistry.open(models_dir)
    folder = copy_version(models_dir, "2")
    model = (folder / "model.skops").read_bytes()
    (folder / "model.skops").unlink()  # the card is there, the model file is not
    registry.rescan()
    refused = registry.rescan().refused
    assert [path for path, _ in refused] == [folder]
    for _ in range(3):
        assert not registry.rescan()  # the same folder, the same state: not tried again
    (message,) = warnings(caplog)
    assert str(folder) in message and "model.skops is missing" in message
    assert "tried again when its files change" in message
    assert registry.latest(PENGUIN).version == "1"
    with pytest.raises(ModelNotFound):
        registry.get(PENGUIN, "2")
    (folder / "model.skops").write_bytes(model)
    registry.rescan()
    assert [s.version for s in registry.rescan().added] == ["2"]


def test_a_tampered_artifact_is_never_served(models_dir, caplog):
    registry = ModelRegistry.open(models_dir)
    folder = copy_version(models_dir, "2")
    with (folder / "model.skops").open("ab") as model_file:
        model_file.write(b"\0")
    registry.rescan()
    refused = registry.rescan().refused
    assert len(refused) == 1 and "does not match the sha256 checksum" in refused[0][1]
    registry.rescan()
    (message,) = warnings(caplog)
    assert message.startswith(f"refused the model folder {folder}: ") and "tampered" in message
    assert [s.version for s in registry.versions(PENGUIN)] == ["1"]
    # A card rewritten to match a changed model file is a new state: tried, and checked again.
    (folder / "model.skops").write_bytes(b"not a model")
    card = json.loads((folder / "card.json").read_text())
    card["model_sha256"] = hashlib.sha256((folder / "model.skops").read_bytes()).hexdigest()
    (folder / "card.json").write_text(json.dumps(card))
    registry.rescan()
    assert "could not be read" in registry.rescan().refused[0][1]
    assert [s.version for s in registry.versions(PENGUIN)] == ["1"]


def test_a_removed_version_is_no_longer_served_but_a_run_holding_it_goes_on(
    models_dir, penguin_rows
):
    copy_version(models_dir, "2")
    registry = ModelRegistry.open(models_dir)
    held = registry.latest(PENGUIN)  # what a run in progress holds
    shutil.rmtree(models_dir / PENGUIN / "2")
    assert registry.rescan().removed == [(PENGUIN, "2")]
    assert registry.latest(PENGUIN).version == "1"
    with pytest.raises(ModelNotFound, match="its versions are 1"):
        registry.get(PENGUIN, "2")
    clean, _ = held.validate(penguin_rows[0])
    assert len(held.predict_rows([clean])) == 1
    shutil.rmtree(models_dir / "penguin-knn")
    registry.rescan()
    assert "penguin-knn" not in registry


def test_invalid_folder_names_are_named_once_with_what_a_valid_name_is(models_dir, caplog):
    shutil.copytree(models_dir / PENGUIN, models_dir / "My Penguins")
    shutil.copytree(models_dir / PENGUIN / "1", models_dir / PENGUIN / "v 2")
    (models_dir / PENGUIN / ".3.0123abcd.tmp").mkdir()  # an export being written: silent
    (models_dir / "README.md").write_text("notes")  # a file: not a model folder
    registry = ModelRegistry.open(models_dir)
    registry.rescan()
    registry.rescan()
    messages = warnings(caplog)
    assert len(messages) == 2, messages
    name, version = sorted(messages)
    assert name.startswith(f"skipped the folder {models_dir / 'My Penguins'}: ")
    assert "'My Penguins' is not a valid model folder name" in name
    assert "for example 'my-penguins'" in name and "lowercase letters, digits" in name
    assert "'v 2' is not a valid version folder name" in version
    assert registry.names() == ["diabetes-linear", PENGUIN, "penguin-knn"]


@pytest.mark.parametrize(
    ("name", "problem"),
    [("penguins", None), ("p-2_b", None), ("Penguins", "'penguins'"), ("_x", "'x'"),
     ("x" * 65, "'" + "x" * 64 + "'"), ("été!", "'t'")],
)
def test_folder_name_problem_suggests_a_valid_name(name, problem):
    found = folder_name_problem(name, "model")
    assert found is None if problem is None else f"for example {problem}" in found


def test_a_scan_is_cheap(models_dir):
    registry = ModelRegistry.open(models_dir)
    started = time.perf_counter()
    for _ in range(100):
        registry.rescan()
    assert (time.perf_counter() - started) / 100 < 0.01  # measured: 0.05 ms for 3 models


def test_a_model_exported_after_start_is_listed_by_a_running_server(models_dir, tmp_path):
    registry = ModelRegistry.open(models_dir, rescan_seconds=0.1)
    config = ServerConfig(store_url="memory://", open_access=True, data_dir=tmp_path / "data")
    with BackgroundServer(config, models=registry) as server, httpx.Client() as client:
        before = client.get(f"{server.url}/v1/models")
        assert "diabetes-new" not in [model["name"] for model in before.json()["models"]]
        etag = {"if-none-match": before.headers["etag"]}
        unchanged = client.get(f"{server.url}/v1/models", headers=etag)
        assert unchanged.status_code == 304 and unchanged.content == b""  # what a poll costs
        exported = time.monotonic()
        export_diabetes(models_dir)
        while True:
            response = client.get(f"{server.url}/v1/models", headers=etag)
            if response.status_code == 200:
                listed = [model["name"] for model in response.json()["models"]]
                assert "diabetes-new" in listed
                assert response.headers["etag"] != before.headers["etag"]
                break
            assert response.status_code == 304
            assert time.monotonic() - exported < 5, "the new model was not listed within 5 s"
            time.sleep(0.05)
        card = client.get(f"{server.url}/v1/models/diabetes-new/1").json()
        assert card["name"] == "diabetes-new"


def test_requests_keep_flowing_while_a_new_model_loads(models_dir, tmp_path, monkeypatch):
    from serving.models import registry as registry_module

    load = registry_module.ServedModel.load
    loading = threading.Event()

    def slow_load(path):
        loading.set()
        time.sleep(0.6)  # a big model: the checksum and loading take a while
        return load(path)

    monkeypatch.setattr(registry_module.ServedModel, "load", slow_load)
    registry = ModelRegistry(models_dir, rescan_seconds=0.1)  # nothing loaded yet
    config = ServerConfig(store_url="memory://", open_access=True, data_dir=tmp_path / "data")
    with BackgroundServer(config, models=registry) as server, httpx.Client() as client:
        assert loading.wait(10)
        slowest = 0.0
        while not registry.names():
            started = time.monotonic()
            assert client.get(f"{server.url}/v1/models").status_code == 200
            slowest = max(slowest, time.monotonic() - started)
            time.sleep(0.02)
        assert slowest < 0.45, f"a request waited {slowest:.2f} s for a model to load"
