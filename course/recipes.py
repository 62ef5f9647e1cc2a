"""The course's running example as code: the penguin species classifier, from data to artifact.

Notebooks 02 to 06 build this model step by step; ``make serve`` calls ``train_penguin_model``
to train the server's default model when ``models/`` holds none. Both go through these
functions, so the model a learner exports and the one the server starts with are the same.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from course import datasets
from course.evaluate import group_metrics, report
from course.export import export_model
from course.holdout import SealedTestSet, split_and_seal

__all__ = [
    "PENGUIN_CATEGORICAL",
    "PENGUIN_EXAMPLE",
    "PENGUIN_FEATURES",
    "PENGUIN_GROUPS",
    "PENGUIN_INTENDED_USE",
    "PENGUIN_MODEL_NAME",
    "PENGUIN_NUMERIC",
    "PENGUIN_TARGET",
    "penguin_limitations",
    "penguin_pipeline",
    "penguin_preprocessor",
    "penguin_split",
    "train_penguin_model",
]

PENGUIN_NUMERIC = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
PENGUIN_CATEGORICAL = ["island", "sex"]
PENGUIN_FEATURES = PENGUIN_NUMERIC + PENGUIN_CATEGORICAL
PENGUIN_TARGET = "species"
PENGUIN_MODEL_NAME = "penguin-classifier"
PENGUIN_EXAMPLE = {
    "bill_length_mm": 47.5,
    "bill_depth_mm": 14.2,
    "flipper_length_mm": 218.0,
    "body_mass_g": 5200.0,
    "island": "Biscoe",
    "sex": "male",
}
"""One penguin as a request row (a Gentoo, by its measurements): a first thing to ask the model."""

TEST_SIZE = 0.25
SEED = 0

PENGUIN_INTENDED_USE = (
    "Telling the three species (Adelie, Chinstrap, Gentoo) apart from measurements taken in "
    "the field, for birds like those of the Palmer study (adults of the Palmer Archipelago, "
    "Antarctica). A teaching model: an aid for a field assistant, not a replacement for an "
    "expert's identification."
)
PENGUIN_GROUPS = ["island", "sex"]


def penguin_limitations(accuracy: float, interval: tuple[float, float], test_rows: int) -> str:
    """The penguin model's limits, in plain words, with its test accuracy and interval."""
    low, high = interval
    return (
        "Learned from birds of the Palmer study only: 3 islands (Biscoe, Dream, Torgersen), "
        "measured in 2007-2009; other places, years or species are outside what it has seen. "
        "Sex is known only for birds that were sexed (by DNA in the study); a missing sex or "
        "measurement is filled in with a typical value, and a bird with no measurements at all "
        f"is guessed from its island alone. Tested once on {test_rows} birds: accuracy "
        f"{accuracy:.3f}, 95% interval {low:.3f} to {high:.3f}; a small test set, and groups "
        "(one island, one sex) are smaller still, so their intervals are wider."
    )


def penguin_preprocessor() -> ColumnTransformer:
    """Fill in and scale the measurements, fill in and one-hot encode island and sex.

    Every statistic (medians, means, most frequent values, categories) is learned in ``fit``,
    from the training rows only: inside a Pipeline, the test rows cannot leak into it.
    """
    numeric = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
    categorical = make_pipeline(
        SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")
    )
    return ColumnTransformer(
        [("numeric", numeric, PENGUIN_NUMERIC), ("categorical", categorical, PENGUIN_CATEGORICAL)]
    )


def penguin_pipeline(classifier: Any = None) -> Pipeline:
    """The preprocessor followed by ``classifier`` (a logistic regression when None).

    Passing another classifier compares models on exactly the same prepared data, e.g.
    ``penguin_pipeline(KNeighborsClassifier())``.
    """
    if classifier is None:
        classifier = LogisticRegression(max_iter=1000)
    return Pipeline([("preprocess", penguin_preprocessor()), ("classify", classifier)])


def penguin_split() -> tuple[pd.DataFrame, pd.Series, SealedTestSet]:
    """The course's split of the penguins: ``X_train, y_train, test_set``.

    A quarter of the birds are sealed away for testing (``test_set.open()`` at the evaluation
    step), stratified by species so that each species has the same share in both parts, with a
    fixed seed so every notebook gets the same rows.
    """
    penguins = datasets.load("penguins")
    X = penguins[PENGUIN_FEATURES]
    y = penguins[PENGUIN_TARGET]
    return split_and_seal(X, y, test_size=TEST_SIZE, stratify=y, random_state=SEED)


def train_penguin_model(models_dir: str | os.PathLike[str] = "models") -> Path:
    """Train the default penguin classifier, score it on the test rows, and export it.

    Returns the artifact folder ``models_dir/penguin-classifier/<next version>``; its card
    holds the test metrics, the intended use, the limitations and the accuracy per island and
    per sex on the test rows. This is what notebook 06 does and what ``make serve`` runs when
    no model has been exported yet.
    """
    X_train, y_train, test_set = penguin_split()
    model = penguin_pipeline().fit(X_train, y_train)
    X_test, y_test = test_set.open()
    scores = report(model, X_test, y_test)
    return export_model(
        model,
        X_train,
        y_train,
        name=PENGUIN_MODEL_NAME,
        models_dir=models_dir,
        metrics=scores.as_dict(),
        intended_use=PENGUIN_INTENDED_USE,
        limitations=penguin_limitations(
            scores.metrics["accuracy"], scores.intervals["accuracy"], scores.n_samples
        ),
        group_metrics=group_metrics(model, X_test, y_test, by=PENGUIN_GROUPS),
        description=(
            "Penguin species (Adelie, Chinstrap, Gentoo) from bill, flipper, body mass, island "
            "and sex: the course's logistic regression, as built in notebooks 02 to 06."
        ),
    )
