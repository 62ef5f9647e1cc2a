"""Was a learner's fitted model fitted on the rows the exercise names? Refit a copy and see.

Several checks must refuse a model fitted on the test rows, on every row, or on a single fold,
without ever being given those rows: a clone of the learner's estimator fitted on the training
rows must answer exactly as the learner's model does. A model that answers differently each
time it is fitted (random, unseeded) cannot be told apart that way, so it gets its own verdict.
"""

from __future__ import annotations

import enum
from typing import Any

import numpy as np


class Refit(enum.Enum):
    SAME = "fitted on these rows"
    OTHER_ROWS = "fitted on other rows"
    UNSEEDED = "random: two fits on the same rows differ"


def refit_verdict(model: Any, X: Any, y: Any) -> Refit:
    """Compare ``model`` with a clone fitted on ``X, y`` (and, if they differ, with a second)."""
    from sklearn.base import clone

    refitted = clone(model).fit(X, y)
    if same_answers(model, refitted, X):
        return Refit.SAME
    if not same_answers(clone(model).fit(X, y), refitted, X):
        return Refit.UNSEEDED
    return Refit.OTHER_ROWS


def same_answers(model: Any, other: Any, X: Any) -> bool:
    """Same predictions (numbers within 1e-6), and the same probabilities or scores where the
    models give them."""
    mine, theirs = np.asarray(model.predict(X)), np.asarray(other.predict(X))
    if mine.dtype.kind == "f" and theirs.dtype.kind == "f":
        if not np.allclose(mine, theirs, rtol=1e-6, atol=1e-6):
            return False
    elif not np.array_equal(mine, theirs):
        return False
    for method in ("predict_proba", "decision_function"):
        if hasattr(model, method):
            try:
                mine, theirs = getattr(model, method)(X), getattr(other, method)(X)
            except (AttributeError, NotImplementedError):
                continue
            return bool(np.allclose(mine, theirs, atol=1e-6))
    return True
