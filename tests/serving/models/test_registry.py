import hashlib
import json
import os
import shutil

import pytest
import skops.io
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from course import recipes
from serving.models import ModelNotFound, ModelRegistry, RegistryError

PENGUIN = recipes.PENGUIN_MODEL_NAME


def test_open_loads_every_model_and_version(models_dir):
    recipes.train_penguin_model(models_dir)  # version 2 of the penguin classifier
    registry = ModelRegistry.open(models_dir)
    assert registry.names() == ["diabetes-linear", PENGUIN, "penguin-knn"]
    assert [served.version for served in registry.versions(PENGUIN)] == ["1", "2"]
    assert registry.latest(PENGUIN).version == "2"
    assert registry.get(PENGUIN, "1").version == "1"
    assert registry.get(PENGUIN).version == "2"
    assert [served.name for served in registry] == registry.names()
    assert len(registry) == 3 and PENGUIN in registry and "nope" not in registry


def test_versions_are_in_numeric_order(models_dir):
    for version in ("10", "2"):
        shutil.copytree(models_dir / PENGUIN / "1", models_dir / PENGUIN / version)
        _rewrite_card(models_dir / PENGUIN / version, version=version)
    registry = ModelRegistry.open(models_dir)
    assert [served.version for served in registry.versions(PENGUIN)] == ["1", "2", "10"]
    assert registry.latest(PENGUIN).version == "10"


def test_a_missing_models_directory_is_an_empty_registry(tmp_path):
    registry = ModelRegistry.open(tmp_path / "absent")
    assert len(registry) == 0
    with pytest.raises(ModelNotFound, match="none"):
        registry.latest(PENGUIN)


def test_a_tampered_model_refuses_start_up_naming_the_artifact(models_dir):
    model_file = models_dir / PENGUIN / "1" / "model.skops"
    model_file.write_bytes(model_file.read_bytes() + b"\0")
    with pytest.raises(RegistryError) as caught:
        ModelRegistry.open(models_dir)
    message = str(caught.value)
    assert str(models_dir / PENGUIN / "1") in message
    assert "checksum" in message and "tampered" in message
    assert [path.name for path, _ in caught.value.refused] == ["1"]


def test_an_artifact_that_would_run_code_is_refused_without_running_it(models_dir, tmp_path):
    marker = tmp_path / "ran"
    # A "model" whose transform would call os.system: skops records a reference to it.
    evil = make_pipeline(FunctionTransformer(os.system, kw_args={"command": f"touch {marker}"}))
    folder = models_dir / PENGUIN / "1"
    (folder / "model.skops").write_bytes(skops.io.dumps(evil))
    _rewrite_card(folder)  # a consistent checksum: only the type check stands in the way
    with pytest.raises(RegistryError, match="not safe to load") as caught:
        ModelRegistry.open(models_dir)
    assert "system" in str(caught.value)
    assert not marker.exists()


def test_a_copied_folder_whose_card_disagrees_is_refused(models_dir):
    shutil.copytree(models_dir / PENGUIN / "1", models_dir / PENGUIN / "7")
    with pytest.raises(RegistryError, match="renamed or copied"):
        ModelRegistry.open(models_dir)


def test_reload_adds_new_versions_and_keeps_the_loaded_ones(models_dir):
    registry = ModelRegistry.open(models_dir)
    first = registry.latest(PENGUIN)
    recipes.train_penguin_model(models_dir)
    added = registry.reload()
    assert [(s.name, s.version) for s in added] == [(PENGUIN, "2")]
    assert registry.latest(PENGUIN).version == "2"
    assert registry.get(PENGUIN, "1") is first
    assert registry.reload() == []


def test_a_bad_new_version_leaves_the_registry_as_it_was(models_dir):
    registry = ModelRegistry.open(models_dir)
    path = recipes.train_penguin_model(models_dir)
    (path / "model.skops").write_bytes(b"not a model")
    with pytest.raises(RegistryError, match=f"{PENGUIN}/2"):
        registry.reload()
    assert [served.version for served in registry.versions(PENGUIN)] == ["1"]


@pytest.mark.parametrize("name", ["../penguin-classifier", "..", "a/../../etc", "x" * 500, ""])
def test_unknown_names_only_miss_and_say_what_exists(registry, name):
    with pytest.raises(ModelNotFound) as caught:
        registry.latest(name)
    message = str(caught.value)
    assert "the models are diabetes-linear, penguin-classifier, penguin-knn" in message
    assert len(message) < 200


def test_an_unknown_version_lists_the_versions(registry):
    with pytest.raises(ModelNotFound, match="its versions are 1"):
        registry.get(PENGUIN, "../1")


def _rewrite_card(folder, **changes):
    card_path = folder / "card.json"
    card = json.loads(card_path.read_text())
    card.update(changes)
    model_file = folder / card["model_file"]
    card["model_sha256"] = hashlib.sha256(model_file.read_bytes()).hexdigest()
    card_path.write_text(json.dumps(card))


def test_a_keras_artifact_is_checked_at_start_up_and_read_on_first_use(models_dir):
    folder = models_dir / PENGUIN / "1"
    (folder / "model.skops").rename(folder / "model.keras")
    _rewrite_card(folder, model_file="model.keras")
    served = ModelRegistry.open(models_dir).latest(PENGUIN)
    assert served.is_keras and served._model is None  # TensorFlow is not imported at start-up
    (folder / "model.keras").write_bytes(b"changed")
    with pytest.raises(RegistryError, match="does not match the sha256 checksum"):
        ModelRegistry.open(models_dir)
