"""A Keras model on a server installed without TensorFlow (what ``make serve`` installs).

The model is listed, its prediction fails with a message saying how to add TensorFlow, and the
server says so once at start. Keras is hidden with ``sys.modules["keras"] = None`` (then
``import keras`` raises ImportError and ``find_spec`` finds nothing), the artifact is the
penguin classifier's file under Keras' name, with its card saying so.
"""

from __future__ import annotations

import hashlib
import json
import sys

import pytest

from course import recipes
from course.export import ArtifactError, KerasNotInstalled, load_model
from serving.cli import _load_models
from serving.models import ModelRegistry
from serving.models.errors import TensorFlowMissing

PENGUIN = recipes.PENGUIN_MODEL_NAME
HOW = "pip install -e '.[tf]' (or make serve EXTRAS=tf)"


@pytest.fixture
def keras_models(models_dir):
    """The models folder, with the penguin classifier's version 1 as a 'Keras' artifact."""
    folder = models_dir / PENGUIN / "1"
    (folder / "model.skops").rename(folder / "model.keras")
    card = json.loads((folder / "card.json").read_text())
    card["model_file"] = "model.keras"
    card["model_sha256"] = hashlib.sha256((folder / "model.keras").read_bytes()).hexdigest()
    (folder / "card.json").write_text(json.dumps(card))
    return models_dir


@pytest.fixture
def no_keras(monkeypatch):
    monkeypatch.setitem(sys.modules, "keras", None)


def test_loading_says_how_to_add_tensorflow_not_to_re_export(keras_models, no_keras):
    with pytest.raises(KerasNotInstalled) as caught:
        load_model(keras_models / PENGUIN / "1")
    assert not isinstance(caught.value, ArtifactError)  # the artifact is fine
    assert "is a Keras network: reading it needs TensorFlow" in str(caught.value)
    assert HOW in str(caught.value) and "re-export" not in str(caught.value)


def test_the_model_is_listed_and_refused_with_a_503_that_says_how(keras_models, no_keras):
    served = ModelRegistry.open(keras_models).get(PENGUIN, "1")
    with pytest.raises(TensorFlowMissing) as caught:
        _ = served.model
    assert caught.value.status == 503
    body = caught.value.body()["error"]
    assert body["code"] == "TENSORFLOW_MISSING" and HOW in body["message"]


def test_start_up_names_the_models_that_need_tensorflow_in_one_line(
    keras_models, no_keras, capsys
):
    _load_models(keras_models)
    notes = [line for line in capsys.readouterr().err.splitlines() if "TensorFlow" in line]
    assert notes == [
        f"Note: {PENGUIN}: Keras, and TensorFlow is not installed, so its predictions fail "
        f"until you add it with {HOW} and restart."
    ]


def test_no_note_when_keras_is_installed(keras_models, capsys):
    pytest.importorskip("keras")
    _load_models(keras_models)
    assert "TensorFlow" not in capsys.readouterr().err


def test_no_note_without_a_keras_model(models_dir, no_keras, capsys):
    _load_models(models_dir)
    assert "TensorFlow" not in capsys.readouterr().err


def test_a_prediction_run_fails_with_the_message(
    keras_models, no_keras, make_server, open_session
):
    session = open_session(make_server(ModelRegistry.open(keras_models)))
    row = {"model": PENGUIN, "row": recipes.PENGUIN_EXAMPLE}
    failed = session.events(session.send("predict", row, speed=1_000_000))[-1]
    assert failed["type"] == "run.failed" and failed["data"]["kind"] == "TensorFlowMissing"
    assert HOW in failed["data"]["error"]
