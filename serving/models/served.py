"""One exported model version, loaded and ready to answer: card, model, and how to call it.

Every model the server holds goes through ``ServedModel``: the scikit-learn pipeline or Keras
network that ``course.export`` wrote, its card, and the three steps of a prediction: check a
row against the card (``validate``), build the frame the model was trained on (``frame``), and
ask the model (``predict``; ``predict_rows`` for a request's few rows, with no frame to
build). Both go through the fitted pipeline evaluated with NumPy when it can be
(serving.models.compiled): the same answers, without the milliseconds pandas and
scikit-learn's checks cost per call. Loading goes through ``course.export.load_model``,
which checks the checksum and the allowed types: loading never runs code from the artifact.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from course.card import ModelCard
from course.evaluate import ProblemKind
from course.export import (
    CARD_FILE,
    KERAS_FILE,
    TF_INSTALL,
    ArtifactError,
    KerasNotInstalled,
    load_model,
    read_card,
)
from course.schema import FieldProblem, to_frame, validate_row
from serving.models.compiled import (
    CompiledModel,
    compile_model,
    first_disagreement,
    profile_rows,
)
from serving.models.errors import TensorFlowMissing

__all__ = ["Predictions", "ServedModel", "plain", "tensorflow_note"]

logger = logging.getLogger(__name__)


def plain(value: Any) -> Any:
    """A NumPy scalar as the plain Python value JSON can carry."""
    return value.item() if isinstance(value, np.generic) else value


@dataclass(frozen=True)
class Predictions:
    """The model's answers for a frame of rows.

    ``labels`` holds one prediction per row (a class, a number or a cluster). ``probabilities``
    has one column per class of ``classes``, for classifiers that can give them, else None.
    """

    labels: np.ndarray
    probabilities: np.ndarray | None
    classes: tuple[Any, ...] | None

    def __len__(self) -> int:
        return len(self.labels)

    def row(self, index: int) -> dict[str, Any]:
        """Row ``index`` as JSON-ready values: the prediction, and the class probabilities."""
        answer: dict[str, Any] = {"prediction": plain(self.labels[index])}
        if self.probabilities is not None and self.classes is not None:
            answer["classes"] = list(self.classes)
            answer["probabilities"] = [float(p) for p in self.probabilities[index]]
        return answer


class ServedModel:
    """An artifact: ``name``/``version``, its folder, its card and the fitted model.

    ``load`` checks the artifact at once: the model file's checksum against the card for every
    artifact, and, for a scikit-learn model, the whole of ``course.export.load_model`` (type
    allow-list included), so a tampered or unsafe artifact is refused when the server starts.
    A Keras network is read on first use (in Keras' safe mode): importing TensorFlow takes
    seconds, and a server with many exported versions should not pay for each at start-up.
    """

    def __init__(self, path: Path, card: ModelCard, model: Any = None) -> None:
        self.path = path
        self.card = card
        self.name = card.name
        self.version = card.version
        self._model = model
        self._loading = threading.Lock()

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ServedModel:
        """Check and load the artifact folder ``models/<name>/<version>``; ArtifactError if it
        is incomplete, tampered with or unsafe."""
        folder = Path(path)
        card = read_card(folder)
        if card.model_file == KERAS_FILE:
            _check_checksum(folder, card)
            return cls(folder, card)
        served = cls(folder, card, load_model(folder))
        served.prove_compiled()
        return served

    @property
    def model(self) -> Any:
        """The fitted model (a Keras network is loaded here, the first time)."""
        if self._model is None:
            with self._loading:
                if self._model is None:
                    try:
                        self._model = load_model(self.path)
                    except KerasNotInstalled as error:
                        raise TensorFlowMissing(str(error)) from None
        return self._model

    @property
    def is_keras(self) -> bool:
        return self.card.model_file == KERAS_FILE

    @property
    def kind(self) -> ProblemKind:
        return self.card.problem_kind

    @property
    def gives_probabilities(self) -> bool:
        """Whether ``predict`` can give class probabilities (classifiers that have them)."""
        if self.kind is not ProblemKind.CLASSIFICATION:
            return False
        return self.is_keras or hasattr(self.model, "predict_proba")

    @cached_property
    def compiled(self) -> CompiledModel | None:
        """The model evaluated with NumPy, or None: Keras, a step or option it does not
        reproduce, or answers that differ from the pipeline's on the card's profile rows."""
        if self.is_keras:
            return None
        compiled = compile_model(self.model)
        if compiled is None:
            return None
        rows = profile_rows(self.card.features)
        disagreement = first_disagreement(compiled, self.model, rows, self.frame(rows))
        if disagreement is not None:
            logger.warning(
                "%s version %s: the compiled pipeline's %s from scikit-learn's on the card's "
                "profile rows, so scikit-learn answers every request",
                self.name, self.version, disagreement,
            )
            return None
        return compiled

    def prove_compiled(self) -> None:
        """Compile the model and compare it with the pipeline now, at load, rather than on the
        first request (which would pay for it: ~ms)."""
        _ = self.compiled

    def validate(self, row: Any) -> tuple[dict[str, Any], list[FieldProblem]]:
        """Check one request row against the card; RowValidationError lists every problem."""
        return validate_row(self.card, row)

    def frame(self, rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
        """The DataFrame the model expects, from rows that passed ``validate``."""
        return to_frame(self.card, rows)

    def predict(self, frame: pd.DataFrame, *, probabilities: bool = True) -> Predictions:
        """Ask the model about every row of ``frame`` (already validated) at once.

        ``probabilities=False`` skips the class probabilities (batch scoring of labels only).
        Through ``compiled`` when there is one (a table's categories become codes once, not a
        lookup per row), else the model's own ``predict``: a single row and a batch get the
        same answer either way.
        """
        if self.is_keras:
            return self._predict_keras(frame)
        wanted = probabilities and self.gives_probabilities
        compiled = self.compiled
        if compiled is not None:
            return self._answers(*compiled.predict_frame(frame, probabilities=wanted))
        if not wanted:
            return Predictions(np.asarray(self.model.predict(frame)), None, None)
        model, inputs = self.model, frame
        if isinstance(model, Pipeline) and len(model.steps) > 1:
            # What Pipeline.predict and .predict_proba each do, with the preprocessing done
            # once: for one row it is most of the time (ColumnTransformer on a DataFrame).
            model, inputs = model[-1], model[:-1].transform(frame)
        labels = np.asarray(model.predict(inputs))
        proba = np.asarray(model.predict_proba(inputs), dtype=float)
        return Predictions(labels, proba, self.card.classes)

    def predict_rows(self, rows: Sequence[Mapping[str, Any]]) -> Predictions:
        """Ask the model about a few rows that passed ``validate`` (a request's row, the
        variants of an explanation): through ``compiled`` when there is one, with no DataFrame to
        build, else the frame and ``predict``."""
        compiled = self.compiled
        if compiled is None:
            return self.predict(self.frame(rows))
        return self._answers(*compiled.predict(rows, probabilities=self.gives_probabilities))

    def _answers(self, labels: np.ndarray, probabilities: np.ndarray | None) -> Predictions:
        classes = None if probabilities is None else self.card.classes
        return Predictions(labels, probabilities, classes)

    def _predict_keras(self, frame: pd.DataFrame) -> Predictions:
        model = self.model  # first: without TensorFlow, that is the problem to report
        inputs = frame.to_numpy(dtype="float32", na_value=np.nan)
        output = np.asarray(model(inputs, training=False))
        if self.kind is not ProblemKind.CLASSIFICATION:
            return Predictions(output.ravel(), None, None)
        if output.shape[1] == 1:  # one sigmoid unit: the probability of class 1
            output = np.column_stack([1 - output[:, 0], output[:, 0]])
        classes = self.card.classes or tuple(range(output.shape[1]))
        labels = np.asarray(classes, dtype=object)[output.argmax(axis=1)]
        return Predictions(labels, output.astype(float), classes)


def tensorflow_note(models: Iterable[ServedModel]) -> str | None:
    """The start-up line naming the Keras models this install cannot run, or None.

    ``make serve`` installs no TensorFlow (1.4 GB with its dependencies): such a model is still
    listed and its page still shows, and a prediction fails with TensorFlowMissing, so the note
    says so once, where the person who can fix it is looking.
    """
    keras_models = sorted({served.name for served in models if served.is_keras})
    if not keras_models or importlib.util.find_spec("keras") is not None:
        return None
    return (
        f"{', '.join(keras_models)}: Keras, and TensorFlow is not installed, so "
        f"{'its' if len(keras_models) == 1 else 'their'} predictions fail until you add it "
        f"with {TF_INSTALL} and restart"
    )


def _check_checksum(folder: Path, card: ModelCard) -> None:
    """The check ``load_model`` starts with, done early for a model loaded later."""
    model_path = folder / card.model_file
    if not model_path.is_file():
        raise ArtifactError(f"{model_path} is missing: re-export the model")
    digest = hashlib.sha256()
    with model_path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != card.model_sha256:
        raise ArtifactError(
            f"{model_path} does not match the sha256 checksum in its {CARD_FILE}: the artifact "
            "was changed after export (tampered or corrupted); do not load it, re-export the model"
        )
