"""Retraining a served model on a dataset, one cross-validation fold at a time.

``Retrainer.steps(X, y)`` is a generator: it holds out a test part (a quarter of the rows,
stratified for a classifier, as the notebooks do), then fits a fresh copy of the model on each
cross-validation fold and yields a ``RetrainStep`` with the fold's validation score, and finally
fits on all the training rows. Stopping early is simply not asking for the next step: ``result``
then returns the best model so far (the fold model with the best validation score), else the
final model, with metrics measured on the held-out test rows by ``course.evaluate.report``.

``retrain_data`` reads the rows from a shipped dataset; the retrain agent exports the result
with ``course.export.export_model`` as the model's next version. Compute only, no I/O here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sklearn.base import clone, is_classifier
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split

from course import datasets
from course.card import ModelCard
from course.evaluate import ProblemKind, is_keras_model, report

__all__ = ["RetrainError", "RetrainResult", "RetrainStep", "Retrainer", "retrain_data"]


class RetrainError(ValueError):
    """This model cannot be retrained on this data; the message says why and what to do."""


@dataclass(frozen=True)
class RetrainStep:
    """One finished step: a fold (``fold`` is 1..folds) or the final fit (``fold`` is None)."""

    step: int
    total: int
    fold: int | None
    metric: str
    score: float
    """The fold's validation score; for the final fit, its score on the held-out test rows."""
    best: float
    """The best fold validation score so far."""

    def describe(self) -> str:
        if self.fold is None:
            return f"final fit on all training rows: test {self.metric} {self.score:.3f}"
        return (
            f"fold {self.fold} of {self.total - 1}: {self.metric} {self.score:.3f} "
            f"(best so far {self.best:.3f})"
        )


@dataclass(frozen=True)
class RetrainResult:
    """The model to register, the rows it was fitted on, and its test metrics."""

    model: Any
    X_fit: pd.DataFrame
    y_fit: pd.Series
    metrics: dict[str, float]
    complete: bool
    """True when every step ran (the final model); False when stopped early (best fold)."""
    steps_done: int


class Retrainer:
    """Cross-validated retraining of ``estimator`` (a fitted or unfitted scikit-learn model).

    Only the estimator's parameters are used: every fit starts from ``sklearn.base.clone``.
    """

    def __init__(
        self, estimator: Any, *, folds: int = 5, test_size: float = 0.25, random_state: int = 0
    ) -> None:
        self.estimator = estimator
        self.folds = folds
        self.test_size = test_size
        self.random_state = random_state

    def steps(self, X: pd.DataFrame, y: pd.Series) -> Iterator[RetrainStep]:
        """Fit fold by fold, then on all training rows, yielding after each fit."""
        if is_keras_model(self.estimator):
            raise RetrainError(
                "retraining here supports scikit-learn models; retrain a Keras network in its "
                "notebook and export it again"
            )
        if self.folds < 2:
            raise RetrainError(f"folds must be at least 2, got {self.folds}")
        classifier = is_classifier(self.estimator)
        stratify = y if classifier else None
        X_train, self.X_test_, y_train, self.y_test_ = train_test_split(
            X, y, test_size=self.test_size, stratify=stratify, random_state=self.random_state
        )
        splitter_type = StratifiedKFold if classifier else KFold
        splitter = splitter_type(n_splits=self.folds, shuffle=True, random_state=self.random_state)
        self.metric_ = "accuracy" if classifier else "r2"
        self.scores_: list[float] = []
        self.best_: tuple[float, Any, pd.DataFrame, pd.Series] | None = None
        self.final_: Any = None
        self.X_train_, self.y_train_ = X_train, y_train
        total = self.folds + 1
        for fold, (fit_rows, val_rows) in enumerate(splitter.split(X_train, y_train), start=1):
            X_fit, y_fit = X_train.iloc[fit_rows], y_train.iloc[fit_rows]
            model = clone(self.estimator).fit(X_fit, y_fit)
            score = float(model.score(X_train.iloc[val_rows], y_train.iloc[val_rows]))
            self.scores_.append(score)
            if self.best_ is None or score > self.best_[0]:
                self.best_ = (score, model, X_fit, y_fit)
            yield RetrainStep(fold, total, fold, self.metric_, score, self.best_[0])
        assert self.best_ is not None
        self.final_ = clone(self.estimator).fit(X_train, y_train)
        test_score = float(self.final_.score(self.X_test_, self.y_test_))
        yield RetrainStep(total, total, None, self.metric_, test_score, self.best_[0])

    def result(self) -> RetrainResult:
        """The final model if every step ran, else the best fold model so far."""
        if getattr(self, "best_", None) is None:
            raise RetrainError("no step has finished yet: there is no model to keep")
        assert self.best_ is not None
        if self.final_ is not None:
            model, X_fit, y_fit, complete = self.final_, self.X_train_, self.y_train_, True
        else:
            _, model, X_fit, y_fit = self.best_
            complete = False
        metrics = report(model, self.X_test_, self.y_test_).as_dict()
        steps = len(self.scores_) + (1 if complete else 0)
        return RetrainResult(model, X_fit, y_fit, metrics, complete, steps)


def retrain_data(card: ModelCard, dataset: str) -> tuple[pd.DataFrame, pd.Series]:
    """The features and target of shipped ``dataset`` for the model of ``card``.

    Rows without a target are dropped. RetrainError if the dataset lacks a column.
    """
    if card.problem_kind is ProblemKind.CLUSTERING or card.target_name is None:
        raise RetrainError(
            f"model {card.name!r} has no target to learn ({card.problem_kind.value}): only "
            "classifiers and regressors can be retrained here"
        )
    try:
        data = datasets.load(dataset)
    except datasets.DatasetError as error:
        raise RetrainError(str(error)) from None
    needed = [*card.feature_names, card.target_name]
    missing = [column for column in needed if column not in data.columns]
    if missing:
        raise RetrainError(
            f"dataset {dataset!r} has no column {', '.join(map(repr, missing))}, which model "
            f"{card.name!r} needs: pick a dataset with the columns {', '.join(needed)}"
        )
    data = data[data[card.target_name].notna()]
    return data[card.feature_names], data[card.target_name]
