"""One exported model version, loaded and ready to answer: card, model, and how to call it.

Every model the server holds goes through ``ServedModel``: the scikit-learn pipeline or Keras
network that ``course.export`` wrote, its card, and the three steps of a prediction: check a
row against the card (``validate``), build the frame the model was trained on (``frame``), and
ask the model (``predict``). Loading goes through ``course.export.load_model``, which checks
the checksum and the allowed types: loading never runs code from the artifact.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from course.card import ModelCard
from course.evaluate import ProblemKind, is_keras_model
from course.export import load_model, read_card
from course.schema import FieldProblem, to_frame, validate_row

__all__ = ["Predictions", "ServedModel", "plain"]


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


@dataclass(frozen=True, eq=False)
class ServedModel:
    """A loaded artifact: ``name``/``version``, its folder, its card and the fitted model."""

    name: str
    version: str
    path: Path
    card: ModelCard
    model: Any

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ServedModel:
        """Load the artifact folder ``models/<name>/<version>``; ArtifactError if unsafe."""
        folder = Path(path)
        card = read_card(folder)
        model = load_model(folder)
        return cls(card.name, card.version, folder, card, model)

    @property
    def kind(self) -> ProblemKind:
        return self.card.problem_kind

    @property
    def gives_probabilities(self) -> bool:
        """Whether ``predict`` can give class probabilities (classifiers that have them)."""
        if self.kind is not ProblemKind.CLASSIFICATION:
            return False
        return is_keras_model(self.model) or hasattr(self.model, "predict_proba")

    def validate(self, row: Any) -> tuple[dict[str, Any], list[FieldProblem]]:
        """Check one request row against the card; RowValidationError lists every problem."""
        return validate_row(self.card, row)

    def frame(self, rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
        """The DataFrame the model expects, from rows that passed ``validate``."""
        return to_frame(self.card, rows)

    def predict(self, frame: pd.DataFrame, *, probabilities: bool = True) -> Predictions:
        """Ask the model about every row of ``frame`` (already validated) at once.

        ``probabilities=False`` skips the class probabilities (batch scoring of labels only).
        Labels always come from the model's own ``predict``, so that a single row and a batch
        get the same answer.
        """
        if is_keras_model(self.model):
            return self._predict_keras(frame)
        labels = np.asarray(self.model.predict(frame))
        proba = None
        if probabilities and self.gives_probabilities:
            proba = np.asarray(self.model.predict_proba(frame), dtype=float)
        return Predictions(labels, proba, self.card.classes if proba is not None else None)

    def _predict_keras(self, frame: pd.DataFrame) -> Predictions:
        inputs = frame.to_numpy(dtype="float32", na_value=np.nan)
        output = np.asarray(self.model(inputs, training=False))
        if self.kind is not ProblemKind.CLASSIFICATION:
            return Predictions(output.ravel(), None, None)
        if output.shape[1] == 1:  # one sigmoid unit: the probability of class 1
            output = np.column_stack([1 - output[:, 0], output[:, 0]])
        classes = self.card.classes or tuple(range(output.shape[1]))
        labels = np.asarray(classes, dtype=object)[output.argmax(axis=1)]
        return Predictions(labels, output.astype(float), classes)
