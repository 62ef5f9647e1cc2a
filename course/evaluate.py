"""Evaluate a fitted model with the metrics that fit its kind of problem.

``report(model, X_test, y_test)`` works out whether the model classifies, regresses or
clusters, and returns an ``EvaluationReport``: a readable table in a notebook, and plain
floats (``as_dict()``) for the model card.

A test set is a sample: 86 penguins more or less lucky move accuracy by several points. So the
report gives a 95% interval next to the scores it can bound cheaply: the Wilson interval for
proportions (accuracy, and a binary problem's precision and recall), a seeded bootstrap for
MAE and RMSE (2,000 resamples of the errors, a few milliseconds).
"""

from __future__ import annotations

import enum
import html
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn import metrics as skm
from sklearn.base import is_classifier, is_clusterer, is_regressor
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

__all__ = [
    "MISSING_GROUP",
    "EvaluationReport",
    "ProblemKind",
    "check_fitted",
    "group_metrics",
    "is_keras_model",
    "problem_kind",
    "report",
    "search_curve",
    "simplest_within_one_std",
    "threshold_table",
    "wilson_interval",
]

CONFIDENCE = 0.95
BOOTSTRAP_RESAMPLES = 2000

# Silhouette costs O(n²); above this many rows it is estimated on a fixed random sample.
SILHOUETTE_MAX_ROWS = 5000

_METRIC_LABELS = {
    "accuracy": "accuracy",
    "precision": "precision",
    "recall": "recall",
    "f1": "F1",
    "precision_macro": "precision (macro)",
    "recall_macro": "recall (macro)",
    "f1_macro": "F1 (macro)",
    "roc_auc": "ROC AUC",
    "roc_auc_ovr": "ROC AUC (one-vs-rest, macro)",
    "mae": "MAE",
    "rmse": "RMSE",
    "r2": "R²",
    "silhouette": "silhouette",
    "inertia": "inertia (on training data)",
}


class ProblemKind(enum.StrEnum):
    """The three kinds of problem the course teaches, each with its own metrics."""

    CLASSIFICATION = "classification"
    REGRESSION = "regression"
    CLUSTERING = "clustering"


def is_keras_model(model: Any) -> bool:
    """True for a Keras model, found without importing TensorFlow."""
    return any(cls.__module__.split(".")[0] in ("keras", "tf_keras") for cls in type(model).__mro__)


def check_fitted(model: Any) -> None:
    """Raise NotFittedError, saying to call fit first, unless the model has been trained."""
    if is_keras_model(model):
        # A Keras model is usable as soon as it is built; only its optimizer knows if it learned.
        optimizer = getattr(model, "optimizer", None)
        if optimizer is None or int(optimizer.iterations) == 0:
            raise NotFittedError(
                f"this Keras {type(model).__name__} has not been trained yet: "
                "call model.compile(...) then model.fit(X, y) first"
            )
        return
    if not hasattr(model, "fit"):
        raise TypeError(
            f"expected a scikit-learn estimator or a Keras model, got {type(model).__name__}"
        )
    try:
        check_is_fitted(model)
    except NotFittedError:
        raise NotFittedError(
            f"this {_model_name(model)} is not fitted yet: call fit(X, y) first"
        ) from None


def problem_kind(model: Any) -> ProblemKind:
    """Which kind of problem a fitted model solves, read from the model itself.

    scikit-learn estimators say it through their tags. A Keras model classifies when its
    last layer ends in softmax or sigmoid, and regresses when it ends in one linear unit.
    """
    if is_keras_model(model):
        return _keras_problem_kind(model)
    if is_classifier(model):
        return ProblemKind.CLASSIFICATION
    if is_regressor(model):
        return ProblemKind.REGRESSION
    if is_clusterer(model):
        return ProblemKind.CLUSTERING
    raise TypeError(
        f"cannot tell what {_model_name(model)} predicts: expected a classifier, a regressor "
        "or a clusterer (a transformer alone makes no predictions; end the Pipeline in a model)"
    )


def _keras_problem_kind(model: Any) -> ProblemKind:
    last = model.layers[-1]
    activation = getattr(getattr(last, "activation", None), "__name__", None)
    if type(last).__name__ == "Softmax" or activation in ("softmax", "sigmoid"):
        return ProblemKind.CLASSIFICATION
    if model.outputs[0].shape[-1] == 1:
        return ProblemKind.REGRESSION
    raise ValueError(
        f"cannot tell what this Keras model predicts: its last layer has "
        f"{model.outputs[0].shape[-1]} units and activation {activation!r}. End a classifier "
        "with activation='softmax' (or 'sigmoid' for two classes), a regressor with one unit"
    )


@dataclass(frozen=True, eq=False)
class EvaluationReport:
    """The metrics of one model on one dataset.

    ``metrics`` holds the headline numbers by key (``accuracy``, ``f1_macro``, ``rmse``,
    ``silhouette``...). Classification adds ``per_class`` (precision, recall, F1, support)
    and ``confusion`` (rows: true class, columns: predicted class); clustering adds
    ``cluster_sizes``. ``intervals`` holds a 95% interval ``(low, high)`` for the metrics that
    have one. ``notes`` explains any metric that could not be computed.
    """

    kind: ProblemKind
    model_name: str
    n_samples: int
    metrics: dict[str, float]
    positive_class: Any = None
    per_class: pd.DataFrame | None = None
    confusion: pd.DataFrame | None = None
    cluster_sizes: pd.DataFrame | None = None
    intervals: dict[str, tuple[float, float]] = field(default_factory=dict)
    notes: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict[str, float]:
        """The headline metrics as plain floats, ready for a model card."""
        return {name: float(value) for name, value in self.metrics.items()}

    def _title(self) -> str:
        title = f"{self.kind.value.capitalize()} report: {self.model_name} on {self.n_samples} rows"
        if self.positive_class is not None:
            title += f" (positive class: {self.positive_class})"
        return title

    def _tables(self) -> list[tuple[str, pd.DataFrame]]:
        tables = [
            ("Per class:", self.per_class),
            ("Confusion matrix (rows: true class, columns: predicted class):", self.confusion),
            ("Cluster sizes:", self.cluster_sizes),
        ]
        return [(caption, table) for caption, table in tables if table is not None]

    def __str__(self) -> str:
        lines = [self._title()]
        width = max((len(_METRIC_LABELS[name]) for name in self.metrics), default=0)
        lines += [
            f"  {_METRIC_LABELS[name]:<{width}}  {_fmt(value)}{self._interval_text(name)}"
            for name, value in self.metrics.items()
        ]
        for caption, table in self._tables():
            lines += [caption, table.to_string(float_format=_fmt)]
        if self.notes:
            lines += ["Notes:"] + [f"  - {note}" for note in self.notes]
        # pandas pads index-name rows with spaces; trailing blanks only upset text diffs.
        return "\n".join(line.rstrip() for text in lines for line in text.splitlines())

    def _interval_text(self, name: str) -> str:
        if name not in self.intervals:
            return ""
        low, high = self.intervals[name]
        return f"  (95% interval {_fmt(low)} to {_fmt(high)})"

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(_METRIC_LABELS[name])}</td>"
            f"<td>{_fmt(value)}{html.escape(self._interval_text(name))}</td></tr>"
            for name, value in self.metrics.items()
        )
        parts = [
            f"<h4>{html.escape(self._title())}</h4>",
            f"<table><tr><th>metric</th><th>value</th></tr>{rows}</table>",
        ]
        for caption, table in self._tables():
            parts += [f"<p>{html.escape(caption)}</p>", table.to_html(float_format=_fmt)]
        if self.notes:
            items = "".join(f"<li>{html.escape(note)}</li>" for note in self.notes)
            parts.append(f"<ul>{items}</ul>")
        return "".join(parts)


def _fmt(value: float) -> str:
    text = f"{value:.3f}"
    return "0.000" if text == "-0.000" else text


def report(model: Any, X: Any, y: Any = None) -> EvaluationReport:
    """Evaluate a fitted model on X (and the true targets y, unless it clusters)."""
    check_fitted(model)
    kind = problem_kind(model)
    n_rows = _count_rows(X)
    if kind is ProblemKind.CLUSTERING:
        if y is not None:
            raise ValueError(
                f"{_model_name(model)} is a clusterer: it finds groups without a target, so "
                "there is no y to compare with: call report(model, X) without y"
            )
        return _clustering_report(model, X, n_rows)
    if y is None:
        raise ValueError(
            f"report() needs the true targets to score a {kind.value} model: "
            "call report(model, X_test, y_test)"
        )
    y_true = _as_target(y, n_rows)
    if kind is ProblemKind.CLASSIFICATION:
        return _classification_report(model, X, y_true)
    return _regression_report(model, X, y_true)


def wilson_interval(successes: int, trials: int) -> tuple[float, float]:
    """The 95% Wilson interval of a proportion: where the true rate plausibly lies.

    Unlike "p ± 2 standard errors" it stays inside [0, 1] and is sensible at 0 or all
    successes, which small test sets often give (86 of 86 right is not "exactly 100%").
    """
    if trials <= 0:
        raise ValueError("a proportion needs at least one trial")
    from scipy.stats import norm

    z = float(norm.ppf(0.5 + CONFIDENCE / 2))
    share = successes / trials
    centre = (share + z**2 / (2 * trials)) / (1 + z**2 / trials)
    half = z * np.sqrt(share * (1 - share) / trials + z**2 / (4 * trials**2)) / (1 + z**2 / trials)
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def _bootstrap_interval(values: np.ndarray, statistic: Any) -> tuple[float, float]:
    """Percentile bootstrap of ``statistic(resampled values, axis=1)``, seeded: same every run."""
    rng = np.random.default_rng(0)
    picks = rng.integers(0, len(values), size=(BOOTSTRAP_RESAMPLES, len(values)))
    estimates = statistic(values[picks], axis=1)
    tail = (1 - CONFIDENCE) / 2 * 100
    low, high = np.percentile(estimates, [tail, 100 - tail])
    return float(low), float(high)


def _count_rows(X: Any) -> int:
    shape = getattr(X, "shape", None)
    if shape is None:
        raise TypeError(f"X must be a DataFrame or a 2-D array, got {type(X).__name__}")
    if len(shape) != 2:
        raise ValueError(
            f"X must be 2-D (rows x features), got shape {shape}: "
            "for a single feature use X[['column']] or x.reshape(-1, 1)"
        )
    if shape[0] == 0:
        raise ValueError("X has no rows: there is nothing to evaluate")
    return int(shape[0])


def _as_target(y: Any, n_rows: int) -> np.ndarray:
    values = np.asarray(y)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values.ravel()
    if values.ndim != 1:
        raise ValueError(
            f"y must be one column of targets, got shape {values.shape}: "
            "pass the label column, not one-hot or several targets"
        )
    if len(values) != n_rows:
        raise ValueError(
            f"X has {n_rows} rows but y has {len(values)}: "
            "pass the features and targets of the same rows"
        )
    missing = int(pd.isna(values).sum())
    if missing:
        raise ValueError(f"y has {missing} missing values: drop those rows before evaluating")
    return values


def _model_name(model: Any) -> str:
    if isinstance(model, Pipeline):
        return f"Pipeline({', '.join(type(step).__name__ for _, step in model.steps)})"
    return type(model).__name__


def _keras_output(model: Any, X: Any) -> np.ndarray:
    try:
        inputs = np.asarray(X, dtype="float32")
    except (TypeError, ValueError):
        raise ValueError(
            "a Keras model takes numbers only, and X holds non-numeric values: "
            "encode categories first (for example with a ColumnTransformer)"
        ) from None
    return np.asarray(model.predict(inputs, verbose=0))


def _classification_report(model: Any, X: Any, y_true: np.ndarray) -> EvaluationReport:
    notes: list[str] = []
    scores: np.ndarray | None
    if is_keras_model(model):
        output = _keras_output(model, X)
        if output.shape[1] == 1:  # one sigmoid unit: the probability of class 1
            scores = np.column_stack([1 - output[:, 0], output[:, 0]])
        else:
            scores = output
        classes = list(range(scores.shape[1]))
        y_pred = np.asarray(classes)[scores.argmax(axis=1)]
    else:
        y_pred = np.asarray(model.predict(X))
        classes = [_plain(c) for c in model.classes_]
        scores = _class_scores(model, X)
    seen = {_plain(label) for label in y_true}
    if not seen & set(classes):
        raise ValueError(
            f"y holds the labels {sorted(seen, key=str)[:5]} but the model predicts "
            f"{classes[:5]}: pass the same kind of target the model was trained on"
        )
    # A label the model never saw in training still belongs in the confusion matrix.
    labels = classes + sorted(seen - set(classes), key=str)
    binary = len(labels) == 2
    metrics = {"accuracy": skm.accuracy_score(y_true, y_pred)}
    if binary:
        positive = labels[1]
        for name, score in (
            ("precision", skm.precision_score),
            ("recall", skm.recall_score),
            ("f1", skm.f1_score),
        ):
            metrics[name] = score(y_true, y_pred, pos_label=positive, zero_division=0)
    else:
        positive = None
        for name, score in (
            ("precision_macro", skm.precision_score),
            ("recall_macro", skm.recall_score),
            ("f1_macro", skm.f1_score),
        ):
            metrics[name] = score(y_true, y_pred, labels=labels, average="macro", zero_division=0)
    _add_roc_auc(metrics, notes, y_true, scores, classes, labels, seen)

    precision, recall, f1, support = skm.precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0
    )
    index = pd.Index(labels, name="class")
    per_class = pd.DataFrame(
        {"precision": precision, "recall": recall, "f1": f1, "support": support}, index=index
    )
    confusion = pd.DataFrame(
        skm.confusion_matrix(y_true, y_pred, labels=labels),
        index=pd.Index(labels, name="true"),
        columns=pd.Index(labels, name="predicted"),
    )
    right = int(np.sum(y_true == y_pred))
    intervals = {"accuracy": wilson_interval(right, len(y_true))}
    if binary:
        true_positives = int(np.sum((y_true == positive) & (y_pred == positive)))
        for name, trials in (
            ("precision", int(np.sum(y_pred == positive))),
            ("recall", int(np.sum(y_true == positive))),
        ):
            if trials:
                intervals[name] = wilson_interval(true_positives, trials)
    return EvaluationReport(
        kind=ProblemKind.CLASSIFICATION,
        model_name=_model_name(model),
        n_samples=len(y_true),
        metrics={name: float(value) for name, value in metrics.items()},
        intervals=intervals,
        positive_class=positive,
        per_class=per_class,
        confusion=confusion,
        notes=tuple(notes),
    )


def _class_scores(model: Any, X: Any) -> np.ndarray | None:
    """One score column per class (probabilities when the model has them), or None."""
    if hasattr(model, "predict_proba"):
        return np.asarray(model.predict_proba(X))
    if len(model.classes_) == 2 and hasattr(model, "decision_function"):
        decision = np.asarray(model.decision_function(X))
        return np.column_stack([-decision, decision])
    return None


def _add_roc_auc(
    metrics: dict[str, float],
    notes: list[str],
    y_true: np.ndarray,
    scores: np.ndarray | None,
    classes: list[Any],
    labels: list[Any],
    seen: set[Any],
) -> None:
    if scores is None:
        notes.append("ROC AUC skipped: the model gives no probabilities or scores")
    elif labels != classes:
        notes.append("ROC AUC skipped: y holds labels the model never saw in training")
    elif seen != set(classes):
        missing = ", ".join(str(c) for c in classes if c not in seen)
        notes.append(f"ROC AUC skipped: y has no rows of class {missing}")
    elif len(classes) == 2:
        metrics["roc_auc"] = skm.roc_auc_score(y_true == classes[1], scores[:, 1])
    else:
        metrics["roc_auc_ovr"] = skm.roc_auc_score(
            y_true, scores, multi_class="ovr", average="macro", labels=classes
        )


def _regression_report(model: Any, X: Any, y_true: np.ndarray) -> EvaluationReport:
    if is_keras_model(model):
        y_pred = _keras_output(model, X).ravel()
    else:
        y_pred = np.asarray(model.predict(X)).ravel()
    try:
        y_true = y_true.astype("float64")
    except ValueError:
        raise ValueError(
            "y holds non-numeric values, but a regressor predicts numbers: "
            "pass the numeric target column"
        ) from None
    metrics = {
        "mae": skm.mean_absolute_error(y_true, y_pred),
        "rmse": skm.root_mean_squared_error(y_true, y_pred),
    }
    notes = []
    if len(y_true) >= 2:
        metrics["r2"] = skm.r2_score(y_true, y_pred)
    else:
        notes.append("R² skipped: it needs at least 2 rows")
    errors = y_true - y_pred
    intervals = {}
    if len(y_true) >= 2:
        intervals["mae"] = _bootstrap_interval(np.abs(errors), np.mean)
        low, high = _bootstrap_interval(errors**2, np.mean)
        intervals["rmse"] = (float(np.sqrt(low)), float(np.sqrt(high)))
    return EvaluationReport(
        kind=ProblemKind.REGRESSION,
        model_name=_model_name(model),
        n_samples=len(y_true),
        metrics={name: float(value) for name, value in metrics.items()},
        intervals=intervals,
        notes=tuple(notes),
    )


def _clustering_report(model: Any, X: Any, n_rows: int) -> EvaluationReport:
    final = model[-1] if isinstance(model, Pipeline) else model
    if hasattr(model, "predict"):
        labels = np.asarray(model.predict(X))
    elif len(getattr(final, "labels_", ())) == n_rows:
        labels = np.asarray(final.labels_)  # no predict: only its own training rows
    else:
        raise ValueError(
            f"{type(final).__name__} cannot assign new rows to clusters (it has no predict): "
            "evaluate it on the same X it was fitted on"
        )
    # Distances are measured where the clusterer measured them: after the preprocessing.
    preprocessing = isinstance(model, Pipeline) and len(model.steps) > 1
    space = model[:-1].transform(X) if preprocessing else X
    notes = []
    metrics: dict[str, float] = {}
    n_clusters = len(np.unique(labels))
    if 2 <= n_clusters <= n_rows - 1:
        sample = min(n_rows, SILHOUETTE_MAX_ROWS)
        metrics["silhouette"] = float(
            skm.silhouette_score(space, labels, sample_size=sample, random_state=0)
        )
        if sample < n_rows:
            notes.append(f"silhouette estimated on a fixed random sample of {sample} rows")
    else:
        notes.append(f"silhouette skipped: it needs between 2 and {n_rows - 1} clusters")
    if hasattr(final, "inertia_"):
        metrics["inertia"] = float(final.inertia_)
    ids, counts = np.unique(labels, return_counts=True)
    sizes = pd.DataFrame({"size": counts}, index=pd.Index(ids.tolist(), name="cluster"))
    return EvaluationReport(
        kind=ProblemKind.CLUSTERING,
        model_name=_model_name(model),
        n_samples=n_rows,
        metrics=metrics,
        cluster_sizes=sizes,
        notes=tuple(notes),
    )


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


MISSING_GROUP = "(missing)"
"""The group name of the rows whose grouping value is missing (a bird whose sex is unknown)."""


def group_metrics(model: Any, X: pd.DataFrame, y: Any, by: str | list[str]) -> pd.DataFrame:
    """How a fitted model does on each group of rows: one line per value of each column in ``by``.

    A model can be right on average and wrong for one group (one island, one sex): the average
    hides it. Each line gives the grouping ``column``, the ``group`` (its value, as text;
    ``"(missing)"`` for rows where it is missing), the number of ``rows``, and the headline
    metric with its 95% interval: ``accuracy`` (Wilson) for a classifier, ``mae`` (seeded
    bootstrap) for a regressor. Small groups get wide intervals: read them before comparing.
    """
    check_fitted(model)
    kind = problem_kind(model)
    if kind is ProblemKind.CLUSTERING:
        raise ValueError("group_metrics compares predictions with true targets: not for clusters")
    if not isinstance(X, pd.DataFrame):
        raise TypeError(f"X must be a DataFrame with the grouping columns, got {type(X).__name__}")
    columns = [by] if isinstance(by, str) else list(by)
    unknown = [column for column in columns if column not in X.columns]
    if unknown:
        raise ValueError(f"X has no column {unknown[0]!r}: group by one of {list(X.columns)}")
    y_true = _as_target(y, _count_rows(X))
    if is_keras_model(model):
        output = _keras_output(model, X)
        y_pred = output.ravel() if kind is ProblemKind.REGRESSION else output.argmax(axis=1)
    else:
        y_pred = np.asarray(model.predict(X)).ravel()
    metric = "accuracy" if kind is ProblemKind.CLASSIFICATION else "mae"
    lines = []
    for column in columns:
        values = X[column]
        names = values.astype(object).where(values.notna(), MISSING_GROUP).astype(str).to_numpy()
        order = [str(v) for v in pd.unique(values.dropna())]
        order = sorted(order) + ([MISSING_GROUP] if values.isna().any() else [])
        for group in order:
            mask = names == group
            truth, guess = y_true[mask], y_pred[mask]
            if metric == "accuracy":
                right = int(np.sum(truth == guess))
                value = right / len(truth)
                low, high = wilson_interval(right, len(truth))
            else:
                errors = np.abs(truth.astype("float64") - guess.astype("float64"))
                value = float(errors.mean())
                low, high = (
                    _bootstrap_interval(errors, np.mean) if len(errors) > 1 else (value,) * 2
                )
            lines.append(
                {
                    "column": column,
                    "group": group,
                    "rows": int(mask.sum()),
                    metric: value,
                    "low": low,
                    "high": high,
                }
            )
    return pd.DataFrame(lines, columns=["column", "group", "rows", metric, "low", "high"])


def simplest_within_one_std(search: Any, param: str, *, simplest: str = "lowest") -> Any:
    """The one-standard-deviation rule: the simplest value of ``param`` that ties with the best.

    A fitted ``GridSearchCV`` over one parameter announces the value with the highest mean
    score, but when other values score within one standard deviation (across the folds) of
    it, the difference may be luck of the folds: they tie. Among the values that tie, take the
    simplest model: the ``"lowest"`` value (a tree's ``max_depth``, an SVM's ``C``) or the
    ``"highest"`` (KNN's ``n_neighbors``: more neighbours, smoother answers).
    """
    if simplest not in ("lowest", "highest"):
        raise ValueError(f"simplest must be 'lowest' or 'highest', got {simplest!r}")
    values, means, spreads = search_curve(search, param)
    best = int(np.argmax(means))
    ties = np.flatnonzero(means >= means[best] - spreads[best])
    pick = np.argmin if simplest == "lowest" else np.argmax
    chosen = ties[pick(values[ties])]
    return _plain(search.cv_results_[f"param_{param}"][chosen])


def search_curve(search: Any, param: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A fitted ``GridSearchCV`` over one parameter as three arrays: the values of ``param``,
    the mean score of each over the folds, and its standard deviation."""
    results = getattr(search, "cv_results_", None)
    if results is None:
        raise ValueError("the search has not run yet: call search.fit(X_train, y_train) first")
    key = f"param_{param}"
    if key not in results:
        searched = sorted(k.removeprefix("param_") for k in results if k.startswith("param_"))
        raise ValueError(f"the search did not try {param!r}; it searched {searched}.")
    values = np.asarray(results[key], dtype=float)
    return values, np.asarray(results["mean_test_score"]), np.asarray(results["std_test_score"])


def threshold_table(y_true: Any, scores: Any, thresholds: Any, *, positive: Any) -> pd.DataFrame:
    """What each decision threshold costs: one line per threshold, mistakes counted by kind.

    ``scores`` are the model's scores for the ``positive`` class (``predict_proba``'s column
    or ``decision_function``); a row is flagged positive when its score is above the
    threshold. Each line gives how many positives were ``found`` and ``missed`` (false
    negatives), how many ``false alarms`` (false positives), and the ``recall`` and
    ``precision`` of the positive class. Lower thresholds miss fewer positives and raise more
    false alarms: choose the line whose mistakes cost least, on the training rows.
    """
    truth = np.asarray(y_true) == positive
    values = np.asarray(scores, dtype=float).ravel()
    if len(values) != len(truth):
        raise ValueError(f"y_true has {len(truth)} rows but scores has {len(values)}")
    if not truth.any():
        raise ValueError(f"y_true holds no row of the positive class {positive!r}")
    lines = []
    for threshold in thresholds:
        flagged = values > threshold
        found = int(np.sum(truth & flagged))
        alarms = int(np.sum(~truth & flagged))
        lines.append(
            {
                "threshold": threshold,
                "found": found,
                "missed": int(np.sum(truth & ~flagged)),
                "false alarms": alarms,
                "recall": found / int(truth.sum()),
                "precision": found / (found + alarms) if found + alarms else float("nan"),
            }
        )
    return pd.DataFrame(lines).set_index("threshold")
