"""Why the model answered what it did: per-feature evidence from the model itself.

The method is a local perturbation, the same for every kind of model: the row is scored again
with one feature at a time replaced by a typical value (the training mean for a number, each
category in turn for a category, true and false for a boolean), all in one batch call to the
model. A feature's *effect* is how much the score of the row drops (or rises) when its value is
replaced: the score is the probability of the predicted class for a classifier, the predicted
value for a regressor, and "does the answer stay the same" for models without probabilities.

For a linear model behind a scaler and a one-hot encoder (the course's penguin pipeline), the
effect in log-odds would be exactly coefficient x (standardized value - standardized typical
value); working on the raw features instead of the ColumnTransformer's outputs gives one
method that also explains forests, neighbours and Keras networks, and speaks in probability
points that a beginner can read. The typical values come from the model card and are computed
once per model (``Explainer``); explaining a row costs one call to the model.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from course.evaluate import ProblemKind
from course.labels import readable
from course.schema import FeatureKind
from serving.models.served import ServedModel, plain

__all__ = ["Contribution", "Evidence", "Explainer", "ScoreKind"]


class ScoreKind(enum.StrEnum):
    """What an effect is measured in."""

    PROBABILITY = "probability"
    """Change in the probability of the predicted class (0.1 = 10 percentage points)."""
    VALUE = "value"
    """Change in the predicted value, in the target's own units."""
    AGREEMENT = "agreement"
    """Share of typical values that would change the answer (0 = none, 1 = all)."""


@dataclass(frozen=True)
class Contribution:
    """How much one feature's value moved the score, compared with typical values.

    A positive ``effect`` pushed toward the prediction (a higher probability of the predicted
    class, a higher predicted value); a negative one pushed against it. ``typical`` is the
    training mean for a numeric feature, None for categories and booleans (whose effect is
    measured against each of their values in turn).
    """

    feature: str
    value: Any
    typical: float | None
    effect: float
    # What a person calls the feature and its unit, from the card ("bill length", "mm"); empty:
    # made readable from the column name.
    label: str = ""
    unit: str = ""


@dataclass(frozen=True)
class Evidence:
    """The prediction for one row and the contribution of each of its features, strongest
    first."""

    kind: ProblemKind
    target_name: str | None
    prediction: Any
    probability: float | None
    score_kind: ScoreKind
    contributions: tuple[Contribution, ...]
    # The target as a person calls it, and its unit, from the card ("body mass", "g").
    target_label: str | None = None
    target_unit: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values, for an event that carries the evidence itself."""
        return {
            "prediction": self.prediction,
            "probability": self.probability,
            "score_kind": self.score_kind.value,
            "contributions": [
                {
                    "feature": c.feature,
                    "value": c.value,
                    "typical": c.typical,
                    "effect": c.effect,
                }
                for c in self.contributions
            ],
        }


class Explainer:
    """Explains rows of one served model; the typical values are read once from its card."""

    def __init__(self, served: ServedModel) -> None:
        self.served = served
        self.references = {feature.name: _references(feature) for feature in served.card.features}

    def explain(self, row: Mapping[str, Any]) -> Evidence:
        """The evidence for ``row``, a row already cleaned by ``ServedModel.validate``."""
        variants: list[dict[str, Any]] = [dict(row)]
        owners: list[str] = []
        for name, references in self.references.items():
            for reference in references:
                variants.append({**row, name: reference})
                owners.append(name)
        predictions = self.served.predict_rows(variants)
        labels = predictions.labels
        prediction = plain(labels[0])
        probability = None
        if predictions.probabilities is not None and predictions.classes is not None:
            column = list(predictions.classes).index(prediction)
            scores = predictions.probabilities[:, column]
            probability = float(scores[0])
            score_kind = ScoreKind.PROBABILITY
        elif self.served.kind is ProblemKind.REGRESSION:
            scores = labels.astype(float)
            score_kind = ScoreKind.VALUE
        else:
            scores = (labels == labels[0]).astype(float)
            score_kind = ScoreKind.AGREEMENT
        owner_of = np.asarray(owners)
        contributions = []
        card = self.served.card
        for feature in card.features:
            label, unit = readable(feature.name)
            replaced = scores[1:][owner_of == feature.name]
            contributions.append(
                Contribution(
                    feature=feature.name,
                    value=row[feature.name],
                    typical=feature.mean if feature.is_numeric else None,
                    effect=float(scores[0] - replaced.mean()) if len(replaced) else 0.0,
                    label=feature.label or label,
                    unit=unit if feature.unit is None else feature.unit,
                )
            )
        # Strongest first; equal effects keep the card's order (sorted is stable).
        contributions.sort(key=lambda c: -abs(c.effect))
        return Evidence(
            kind=self.served.kind,
            target_name=self.served.card.target_name,
            prediction=prediction,
            probability=probability,
            score_kind=score_kind,
            contributions=tuple(contributions),
            target_label=card.target_label
            or (None if card.target_name is None else readable(card.target_name)[0]),
            target_unit=card.target_unit
            if card.target_unit is not None or card.target_name is None
            else readable(card.target_name)[1],
        )


def _references(feature: Any) -> tuple[Any, ...]:
    """The typical values a feature is replaced with, in the types ``to_frame`` expects."""
    if feature.kind is FeatureKind.CATEGORY:
        return tuple(feature.categories or ())
    if feature.kind is FeatureKind.BOOLEAN:
        return (False, True)
    if feature.kind is FeatureKind.INTEGER:
        return (round(feature.mean),)
    return (feature.mean,)
