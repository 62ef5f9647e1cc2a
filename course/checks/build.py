"""Checks for notebook 04: split and build."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from course.checks._feedback import Feedback, correct, require_answer, wrong


def stratified_split(y_train: Any, y_test: Any, y: Any, *, test_size: float) -> Feedback:
    """Check a stratified train/test split of ``y`` with ``test_size`` of the rows for testing."""
    require_answer("y_train", y_train)
    require_answer("y_test", y_test)
    import pandas as pd

    y_train, y_test, y = pd.Series(y_train), pd.Series(y_test), pd.Series(y)
    expected_test = math.ceil(test_size * len(y))
    if len(y_train) + len(y_test) != len(y):
        return wrong(
            f"train and test hold {len(y_train) + len(y_test)} rows together, but y has {len(y)}.",
            hint="split the whole X and y: train_test_split(X, y, ...).",
        )
    if set(y_train.index) & set(y_test.index):
        return wrong(
            "some rows are in both the training and the test set.",
            hint="split once with train_test_split; never pick test rows by hand.",
        )
    if len(y_test) != expected_test:
        swapped = len(y_train) == expected_test
        return wrong(
            f"the test set has {len(y_test)} rows; with test_size={test_size} it should have "
            f"{expected_test}.",
            hint="train_test_split returns X_train, X_test, y_train, y_test in that order."
            if swapped
            else f"pass test_size={test_size}.",
        )
    train_share = y_train.value_counts(normalize=True)
    test_share = y_test.value_counts(normalize=True)
    gaps = (train_share - test_share).fillna(1).abs()
    if gaps.max() > 0.02:
        label = gaps.idxmax()
        return wrong(
            f"the split is not stratified: {label!r} is {train_share.get(label, 0):.1%} of the "
            f"training rows but {test_share.get(label, 0):.1%} of the test rows.",
            hint="pass stratify=y so every class keeps its share in both parts.",
        )
    return correct(
        f"{len(y_train)} training and {len(y_test)} test rows, every class with the same share "
        "in both."
    )


def beats_baseline(model: Any, X_train: Any, y_train: Any, X_test: Any, y_test: Any) -> Feedback:
    """Check a fitted model against the dummy baseline on the test set.

    A label target compares accuracy with "always the most frequent class"; a quantity
    compares the mean absolute error with "always the training mean".
    """
    require_answer("model", model)
    from sklearn.base import is_classifier, is_regressor
    from sklearn.dummy import DummyClassifier, DummyRegressor
    from sklearn.exceptions import NotFittedError
    from sklearn.metrics import mean_absolute_error

    if not hasattr(model, "predict"):
        return wrong(
            f"`model` should be a scikit-learn model, got {type(model).__name__}.",
            hint="build it, e.g. make_pipeline(...), then call model.fit(X_train, y_train).",
        )
    final = model.steps[-1][1] if hasattr(model, "steps") else model
    if type(final).__name__.startswith("Dummy"):
        return wrong(
            "this is a baseline itself: it cannot beat the baseline.",
            hint="use a model that learns from the features, e.g. a random forest.",
        )
    labels = _is_label_target(y_train)
    if labels and is_regressor(model):
        return wrong(
            "the target is a label, but the model is a regressor.",
            hint="use a classifier (LogisticRegression, or a name ending in Classifier).",
        )
    if not labels and is_classifier(model):
        return wrong(
            "the target is a quantity, but the model is a classifier.",
            hint="use a regressor (LinearRegression, Ridge, or a name ending in Regressor).",
        )
    try:
        predictions = np.asarray(model.predict(X_test))
    except NotFittedError:
        return wrong("the model is not fitted yet.", hint="call model.fit(X_train, y_train).")
    except Exception as error:  # the learner's model may raise anything; report it kindly
        return wrong(
            f"the model cannot predict X_test: {type(error).__name__}: {error}",
            hint="fit it on X_train, and put the preprocessing in the same pipeline so the "
            "test rows get it too.",
        )
    if labels:
        score = float(np.mean(predictions == np.asarray(y_test)))
        base = DummyClassifier(strategy="most_frequent").fit(X_train, y_train).score(X_test, y_test)
        better = score > base + 0.05
        reached = f"test accuracy {score:.3f} against {base:.3f} for the baseline"
    else:
        score = mean_absolute_error(y_test, predictions)
        base_predictions = DummyRegressor(strategy="mean").fit(X_train, y_train).predict(X_test)
        base = mean_absolute_error(y_test, base_predictions)
        better = score < 0.9 * base
        reached = f"test mean absolute error {score:.1f} against {base:.1f} for the baseline"
    if better:
        return correct(f"{reached}.")
    return wrong(
        f"{reached}: not clearly better.",
        hint="check the model was fitted on X_train and y_train; try other features, another "
        "model or other settings.",
    )


def _is_label_target(y: Any) -> bool:
    """True for a target of labels; False for a quantity (as course.advisor reads it)."""
    from sklearn.utils.multiclass import type_of_target

    from course.advisor import MAX_CLASSES

    kind = type_of_target(np.asarray(y))
    if kind == "continuous":
        return False
    numeric = np.issubdtype(np.asarray(y).dtype, np.number)
    return not (numeric and kind == "multiclass" and len(np.unique(y)) > MAX_CLASSES)
