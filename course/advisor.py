"""Look at a DataFrame and say what kind of ML problem it is, what to watch for, what to try.

``classify_problem(df, target)`` decides from the target's dtype and values alone (no names, no
lookup table), so it works on data it has never seen: regression, binary or multiclass
classification, or clustering when there is no target. Its report lists the facts it used,
warnings a beginner would miss (identifier columns, dates, leakage, constant columns) and a
ranked list of scikit-learn estimators, in the spirit of scikit-learn's "choosing the right
estimator" map.
"""

from __future__ import annotations

import difflib
import html
import importlib
import re
import warnings
from collections.abc import Hashable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types

__all__ = [
    "AdvisorError",
    "Candidate",
    "ColumnType",
    "DataWarning",
    "LearningTask",
    "ProblemReport",
    "WarningKind",
    "classify_problem",
]

MAX_CLASSES = 30
"""A whole-number target with more distinct values than this is a quantity, not labels."""
MAX_CLASS_RATIO = 0.05
"""...and so is one whose distinct values exceed this share of the rows,"""
MAX_LABEL_CLASS_RATIO = 0.2
"""...unless they are consecutive labels 0..k-1 or 1..k, which may be a larger share."""
SMALL_DATA_ROWS = 50
KERNEL_METHOD_MAX_ROWS = 10_000
LARGE_DATA_ROWS = 100_000
LEAKAGE_CORRELATION = 0.98
IMBALANCE_WARNING_RATIO = 5.0
TEXT_MIN_WORDS = 5
DATE_SAMPLE_SIZE = 200

_DATE_PATTERN = re.compile(
    r"\d{4}-\d{1,2}-\d{1,2}"  # 2012-01-31
    r"|\d{1,2}[/.]\d{1,2}[/.]\d{2,4}"  # 31/01/2012, 1.31.12
    r"|[A-Za-z]{3,9}\.? \d{1,2},? \d{4}"  # Jan 1 2000, January 1, 2000
    r"|\d{1,2} [A-Za-z]{3,9}\.? \d{4}"  # 1 Jan 2000
)
_ID_NAME = re.compile(r"(?i:id)|.*[_\s-](?i:id)|.*[a-z0-9](?:Id|ID)")


class AdvisorError(ValueError):
    """The frame cannot be analysed as given: the message says what to change."""


class LearningTask(StrEnum):
    """The learning task a table poses, judged from its target (no target: clustering).

    Not course.evaluate.ProblemKind, which says what a fitted model does and is written in its
    model card (classification there covers both kinds here)."""

    REGRESSION = "regression"
    BINARY_CLASSIFICATION = "binary classification"
    MULTICLASS_CLASSIFICATION = "multiclass classification"
    CLUSTERING = "clustering"

    @property
    def is_classification(self) -> bool:
        return self in (LearningTask.BINARY_CLASSIFICATION, LearningTask.MULTICLASS_CLASSIFICATION)


class ColumnType(StrEnum):
    """What a raw column looks like to the advisor. Not course.schema.FeatureKind, the kinds of
    value a model card accepts for a feature."""

    NUMERIC = "numeric"
    CATEGORICAL = "categorical"
    TEXT = "text"
    DATETIME = "datetime"
    BOOLEAN = "boolean"


class WarningKind(StrEnum):
    SMALL_DATA = "small data"
    MISSING_TARGET = "missing target"
    ID_COLUMN = "id column"
    DATE_COLUMN = "date column"
    CONSTANT_COLUMN = "constant column"
    LEAKAGE = "possible leakage"
    CLASS_IMBALANCE = "class imbalance"
    HIGH_DIMENSIONAL = "high-dimensional"


@dataclass(frozen=True)
class DataWarning:
    """Something in the data that would mislead a model or its evaluation."""

    kind: WarningKind
    column: Hashable | None
    message: str


@dataclass(frozen=True)
class Candidate:
    """An estimator worth trying, and why."""

    name: str
    estimator: str
    """Import path of the scikit-learn class, e.g. ``sklearn.linear_model.LogisticRegression``."""
    reason: str

    def build(self, **params: Any) -> Any:
        """A fresh, unfitted instance of the estimator, ready to put in a Pipeline."""
        module_name, _, class_name = self.estimator.rpartition(".")
        return getattr(importlib.import_module(module_name), class_name)(**params)


@dataclass(frozen=True)
class ProblemReport:
    """What ``classify_problem`` found: the kind of problem, the facts, warnings, candidates."""

    kind: LearningTask
    target: Hashable | None
    reason: str
    """Why the target was read as this kind of problem."""
    n_rows: int
    feature_types: dict[Hashable, ColumnType]
    missing: dict[Hashable, int]
    """Columns (target included) with missing values, and how many."""
    class_counts: dict[Any, int] | None
    """Rows per class, most frequent first (classification only)."""
    imbalance_ratio: float | None
    """Rows of the most frequent class per row of the rarest (classification only)."""
    target_range: tuple[float, float] | None
    """Smallest and largest target value (regression only)."""
    warnings: tuple[DataWarning, ...]
    candidates: tuple[Candidate, ...]

    @property
    def n_features(self) -> int:
        return len(self.feature_types)

    @property
    def feature_counts(self) -> dict[ColumnType, int]:
        """How many features of each type, every type listed."""
        counted = list(self.feature_types.values())
        return {feature_type: counted.count(feature_type) for feature_type in ColumnType}

    def features_of(self, feature_type: ColumnType) -> list[Hashable]:
        """The feature columns of one type, e.g. to build a ColumnTransformer."""
        return [name for name, kind in self.feature_types.items() if kind == feature_type]

    def _facts(self) -> list[tuple[str, str]]:
        counts = ", ".join(f"{n} {t}" for t, n in self.feature_counts.items() if n)
        facts = [("Data", f"{self.n_rows} rows, {self.n_features} features ({counts})")]
        missing = ", ".join(f"{column} {n}" for column, n in self.missing.items())
        facts.append(("Missing values", missing or "none"))
        if self.class_counts is not None:
            classes = ", ".join(f"{label}: {n}" for label, n in self.class_counts.items())
            facts.append(("Classes", f"{classes} (imbalance ratio {self.imbalance_ratio:.1f})"))
        if self.target_range is not None:
            low, high = self.target_range
            facts.append(("Target range", f"{low:g} to {high:g}"))
        return facts

    def __str__(self) -> str:
        target = f" (target: {self.target})" if self.target is not None else ""
        lines = [f"Problem: {self.kind}{target}", f"Why: {self.reason}"]
        lines += [f"{label}: {value}" for label, value in self._facts()]
        lines.append("Warnings:" if self.warnings else "Warnings: none")
        lines += [f"  - [{w.kind}] {w.message}" for w in self.warnings]
        lines.append("Candidates:")
        lines += [
            f"  {rank}. {c.name} ({c.estimator}): {c.reason}"
            for rank, c in enumerate(self.candidates, start=1)
        ]
        return "\n".join(lines)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """IPython's plain-text display: the readable summary, not the dataclass fields."""
        printer.text(str(self))

    def _repr_html_(self) -> str:
        e = html.escape
        target = (
            f" <small>target <code>{e(str(self.target))}</code></small>"
            if self.target is not None
            else ""
        )
        facts = "".join(
            f"<tr><th style='text-align:left'>{e(label)}</th><td style='text-align:left'>"
            f"{e(value)}</td></tr>"
            for label, value in self._facts()
        )
        warning_items = "".join(
            f"<li><b>{e(w.kind)}</b>: {e(w.message)}</li>" for w in self.warnings
        )
        candidate_items = "".join(
            f"<li><b>{e(c.name)}</b> <code>{e(c.estimator)}</code>: {e(c.reason)}</li>"
            for c in self.candidates
        )
        return (
            "<div style='border:1px solid #ccc;border-radius:6px;padding:8px 12px'>"
            f"<h4 style='margin:4px 0'>{e(str(self.kind)).capitalize()}{target}</h4>"
            f"<p style='margin:4px 0'>{e(self.reason)}</p>"
            f"<table>{facts}</table>"
            f"<p style='margin:4px 0'><b>Warnings</b>{'' if self.warnings else ': none'}</p>"
            f"{f'<ul>{warning_items}</ul>' if self.warnings else ''}"
            f"<p style='margin:4px 0'><b>Candidates</b></p><ol>{candidate_items}</ol></div>"
        )


def classify_problem(
    df: pd.DataFrame, target: Hashable | None = None, *, prefer_interpretable: bool = False
) -> ProblemReport:
    """Read ``df`` as an ML problem: its kind, facts, warnings and estimators to try.

    With ``target=None`` the problem is clustering. ``prefer_interpretable`` ranks models a
    person can read (linear models, single trees) first.
    """
    _check_input(df, target)
    features = df.drop(columns=[target]) if target is not None else df
    feature_types = {name: _feature_type(features[name]) for name in features.columns}
    missing = {column: int(n) for column, n in df.isna().sum().items() if n}
    found: list[DataWarning] = []
    if len(df) < SMALL_DATA_ROWS:
        found.append(
            DataWarning(
                WarningKind.SMALL_DATA,
                None,
                f"only {len(df)} rows: scikit-learn's map says to get more data "
                f"({SMALL_DATA_ROWS} rows at the very least); with so few rows, evaluate "
                "with cross-validation rather than a single train/test split.",
            )
        )

    class_counts = imbalance_ratio = target_range = None
    if target is None:
        kind = LearningTask.CLUSTERING
        reason = "no target column was given, so the task is to find groups in the rows."
        y = None
    else:
        y = df[target]
        kind, reason = _target_kind(y)
        if y.isna().any():
            found.append(_missing_target_warning(target, int(y.isna().sum())))
        known = y.dropna()
        if kind.is_classification:
            counts = _class_counts(known)
            class_counts = {_scalar(label): int(n) for label, n in counts.items()}
            imbalance_ratio = float(counts.iloc[0] / counts.iloc[-1])
        else:
            numbers = pd.to_numeric(known)
            target_range = (float(numbers.min()), float(numbers.max()))

    for name in features.columns:
        found += _column_warnings(features[name], feature_types[name], y, kind)
    if class_counts is not None:
        found += _imbalance_warnings(class_counts, imbalance_ratio)
    if len(feature_types) >= len(df):
        found.append(
            DataWarning(
                WarningKind.HIGH_DIMENSIONAL,
                None,
                f"{len(feature_types)} features for {len(df)} rows: models can memorise the "
                "rows; prefer regularised linear models and consider reducing dimensions "
                "(PCA) or selecting features.",
            )
        )

    rows_for_training = len(df) if y is None else int(y.notna().sum())
    candidates = _candidates(
        kind,
        n_rows=rows_for_training,
        feature_types=feature_types,
        has_missing=bool(features.isna().any().any()),
        prefer_interpretable=prefer_interpretable,
    )
    return ProblemReport(
        kind=kind,
        target=target,
        reason=reason,
        n_rows=len(df),
        feature_types=feature_types,
        missing=missing,
        class_counts=class_counts,
        imbalance_ratio=imbalance_ratio,
        target_range=target_range,
        warnings=tuple(found),
        candidates=candidates,
    )


def _check_input(df: object, target: Hashable | None) -> None:
    if not isinstance(df, pd.DataFrame):
        raise TypeError(
            f"classify_problem expects a pandas DataFrame, got {type(df).__name__}; "
            "wrap arrays first: pd.DataFrame(X, columns=[...])."
        )
    if df.empty:
        raise AdvisorError(
            f"the DataFrame is empty ({df.shape[0]} rows, {df.shape[1]} columns): load some "
            "data first."
        )
    duplicated = df.columns[df.columns.duplicated()].unique().tolist()
    if duplicated:
        raise AdvisorError(f"column names must be unique; repeated: {duplicated}. Rename them.")
    if target is None:
        return
    if target not in df.columns:
        columns = [str(c) for c in df.columns]
        close = difflib.get_close_matches(str(target), columns, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise AdvisorError(
            f"target {target!r} is not a column of the DataFrame.{hint} "
            f"Columns: {', '.join(columns)}."
        )
    if df[target].isna().all():
        raise AdvisorError(
            f"target {target!r} is missing in every row: there is nothing to learn from. "
            "Choose a target column that has values, or use target=None for clustering."
        )
    if df.shape[1] == 1:
        raise AdvisorError(
            f"the DataFrame has no column besides the target {target!r}: add the features "
            "the model should learn from."
        )


def _target_kind(y: pd.Series) -> tuple[LearningTask, str]:
    """Regression or classification, decided from the target's dtype and values only."""
    name = y.name
    values = _numbers_from_objects(y.dropna())
    distinct = values.nunique()
    if distinct < 2:
        raise AdvisorError(
            f"target {name!r} has a single value ({_scalar(values.iloc[0])!r}): there is "
            "nothing to predict. Choose another target, or use target=None for clustering."
        )
    if types.is_datetime64_any_dtype(values.dtype) or types.is_timedelta64_dtype(values.dtype):
        raise AdvisorError(
            f"target {name!r} holds dates or durations ({values.dtype}). Predict a number "
            "derived from it instead, such as days until an event."
        )
    binary = LearningTask.BINARY_CLASSIFICATION
    multiclass = LearningTask.MULTICLASS_CLASSIFICATION
    if types.is_bool_dtype(values.dtype):
        return binary, f"{name!r} is boolean: two classes, True and False."
    if not types.is_numeric_dtype(values.dtype):
        kind = binary if distinct == 2 else multiclass
        return kind, f"{name!r} holds categories ({values.dtype}): {distinct} classes."
    if distinct == 2:
        low, high = sorted(values.unique())
        return binary, f"{name!r} is numeric with only two values ({low:g} and {high:g}): classes."
    numbers = values.astype("float64")
    if not (numbers == np.floor(numbers)).all():
        return LearningTask.REGRESSION, (
            f"{name!r} holds fractional numbers with {distinct} distinct values: a quantity."
        )
    share = distinct / len(values)
    labels = set(numbers.astype("int64"))
    consecutive = labels in (set(range(distinct)), set(range(1, distinct + 1)))
    if distinct <= MAX_CLASSES and (
        share <= MAX_CLASS_RATIO or (consecutive and share <= MAX_LABEL_CLASS_RATIO)
    ):
        return multiclass, (
            f"{name!r} holds whole numbers with only {distinct} distinct values in "
            f"{len(values)} rows: read as class labels. If they are amounts (counts, scores), "
            "treat the problem as regression instead."
        )
    return LearningTask.REGRESSION, (
        f"{name!r} holds whole numbers with {distinct} distinct values in {len(values)} rows: "
        "a quantity such as a count or a score."
    )


def _feature_type(column: pd.Series) -> ColumnType:
    dtype = column.dtype
    if types.is_bool_dtype(dtype):
        return ColumnType.BOOLEAN
    if types.is_datetime64_any_dtype(dtype):
        return ColumnType.DATETIME
    numeric = types.is_numeric_dtype(_numbers_from_objects(column.dropna()).dtype)
    if numeric or types.is_timedelta64_dtype(dtype):
        return ColumnType.NUMERIC
    if isinstance(dtype, pd.CategoricalDtype):
        return ColumnType.CATEGORICAL
    strings = column.dropna()
    if not len(strings) or not strings.map(lambda value: isinstance(value, str)).all():
        return ColumnType.CATEGORICAL
    if _looks_like_dates(strings):
        return ColumnType.DATETIME
    words = strings.str.split().str.len().mean()
    if words >= TEXT_MIN_WORDS and strings.nunique() > len(strings) / 2:
        return ColumnType.TEXT
    return ColumnType.CATEGORICAL


def _looks_like_dates(strings: pd.Series) -> bool:
    """True when (nearly) every sampled string is a date such as 2012-01-31 or Jan 1 2000."""
    sample = strings.iloc[:: max(1, len(strings) // DATE_SAMPLE_SIZE)].str.strip()
    if not sample.str.match(_DATE_PATTERN).mean() >= 0.95:
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed = pd.to_datetime(sample, errors="coerce", format="mixed")
    return bool(parsed.notna().mean() >= 0.95)  # a NumPy bool otherwise


def _column_warnings(
    column: pd.Series, feature_type: ColumnType, y: pd.Series | None, kind: LearningTask
) -> list[DataWarning]:
    name = str(column.name)
    if column.nunique(dropna=False) <= 1:
        content = "is missing in every row" if column.isna().all() else "has one value in every row"
        return [
            DataWarning(
                WarningKind.CONSTANT_COLUMN,
                column.name,
                f"{name!r} {content}: it carries no information; drop it.",
            )
        ]
    found = []
    id_warning = _id_warning(column, feature_type)
    if id_warning:
        found.append(id_warning)
    if feature_type == ColumnType.DATETIME:
        stored = "" if types.is_datetime64_any_dtype(column.dtype) else " stored as text"
        found.append(
            DataWarning(
                WarningKind.DATE_COLUMN,
                column.name,
                f"{name!r} holds dates{stored}: if the rows follow time, split by date (train "
                "on the past, test on the future; TimeSeriesSplit) rather than at random, and "
                "turn dates into numbers (year, month, weekday) before fitting.",
            )
        )
    if y is not None and id_warning is None:
        leak = _leakage_warning(column, y, kind)
        if leak:
            found.append(leak)
    return found


def _id_warning(column: pd.Series, feature_type: ColumnType) -> DataWarning | None:
    name = str(column.name)
    unique_per_row = column.notna().all() and column.nunique() == len(column) > 1
    named_like_id = _ID_NAME.fullmatch(name) is not None
    counts_up = (
        types.is_integer_dtype(column.dtype)
        and not types.is_bool_dtype(column.dtype)
        and (column.is_monotonic_increasing or column.is_monotonic_decreasing)
    )
    if unique_per_row and (named_like_id or counts_up):
        how = "counts up like a row number" if counts_up else "is named like an identifier"
        message = f"{name!r} has a different value in every row and {how}"
    elif unique_per_row and feature_type == ColumnType.CATEGORICAL:
        message = f"{name!r} holds a different string in every row (a name or a code)"
    elif named_like_id:
        return DataWarning(
            WarningKind.ID_COLUMN,
            column.name,
            f"{name!r} looks like an identifier that repeats: if rows sharing an id are "
            "related, keep them on the same side of the split (GroupKFold), and do not use "
            "the id as a number.",
        )
    else:
        return None
    return DataWarning(
        WarningKind.ID_COLUMN,
        column.name,
        f"{message}: an identifier tells a model nothing about new rows; drop it before training.",
    )


def _leakage_warning(column: pd.Series, y: pd.Series, kind: LearningTask) -> DataWarning | None:
    name = str(column.name)
    both = pd.DataFrame({"x": column, "y": y}).dropna()
    if len(both) < 3:
        return None
    numeric_target = kind in (LearningTask.REGRESSION, LearningTask.BINARY_CLASSIFICATION)
    if numeric_target and types.is_numeric_dtype(column.dtype):
        target_numbers = (
            pd.to_numeric(both["y"])
            if kind == LearningTask.REGRESSION
            else pd.Series(pd.factorize(both["y"], sort=True)[0], index=both.index)
        )
        feature_numbers = both["x"].astype("float64")
        if feature_numbers.nunique() > 1:
            correlation = feature_numbers.corr(target_numbers.astype("float64"))
            if abs(correlation) > LEAKAGE_CORRELATION:
                return DataWarning(
                    WarningKind.LEAKAGE,
                    column.name,
                    f"{name!r} is almost identical to the target (correlation "
                    f"{correlation:.3f}): if it is only known once the target is, it leaks "
                    "the answer; drop it.",
                )
    values = both["x"].nunique()
    if 2 <= values <= len(both) / 2:
        classes_per_value = both.groupby("x", observed=True)["y"].nunique()
        if (classes_per_value == 1).all():
            return DataWarning(
                WarningKind.LEAKAGE,
                column.name,
                f"each value of {name!r} goes with a single target value: it predicts the "
                "target perfectly. Check it is not derived from the target; if it is, drop it.",
            )
    return None


def _missing_target_warning(target: Hashable, count: int) -> DataWarning:
    return DataWarning(
        WarningKind.MISSING_TARGET,
        target,
        f"{count} rows have no target value: drop them before training "
        f"(df.dropna(subset=[{target!r}])).",
    )


def _imbalance_warnings(class_counts: dict[Any, int], ratio: float | None) -> list[DataWarning]:
    rarest, rarest_count = list(class_counts.items())[-1]
    if rarest_count < 2:
        return [
            DataWarning(
                WarningKind.CLASS_IMBALANCE,
                None,
                f"class {rarest!r} has a single row: a model cannot learn it and a stratified "
                "split needs at least 2 rows per class; collect more or drop that class.",
            )
        ]
    if ratio is not None and ratio >= IMBALANCE_WARNING_RATIO:
        return [
            DataWarning(
                WarningKind.CLASS_IMBALANCE,
                None,
                f"classes are imbalanced ({ratio:.1f} rows of the most frequent class per "
                f"row of class {rarest!r}): split with stratify=y, and judge models by "
                "balanced accuracy or F1 rather than accuracy.",
            )
        ]
    return []


@dataclass(frozen=True)
class _Option:
    """An estimator the map may suggest, and when."""

    name: str
    estimator: str
    reason: str
    interpretable: bool = False
    applies: bool = True
    leads: bool = False
    """Moves to the front of the ranking (e.g. linear models on small or wide data)."""


def _candidates(
    kind: LearningTask,
    *,
    n_rows: int,
    feature_types: dict[Hashable, ColumnType],
    has_missing: bool,
    prefer_interpretable: bool,
) -> tuple[Candidate, ...]:
    """Estimators to try, best first, following scikit-learn's estimator map."""
    text = ColumnType.TEXT in feature_types.values()
    wide = len(feature_types) >= n_rows
    small = n_rows < SMALL_DATA_ROWS
    large = n_rows >= LARGE_DATA_ROWS
    kernels_fit = n_rows <= KERNEL_METHOD_MAX_ROWS
    scale = " Scale the features first (StandardScaler)."
    impute = " Put a SimpleImputer before it: it rejects missing values." if has_missing else ""
    on_text = " For the text columns, fit it on TfidfVectorizer output." if text else ""
    native_missing = " Accepts missing values." if has_missing else ""
    if kind.is_classification:
        options = [
            _Option("Naive Bayes on word counts", "sklearn.naive_bayes.MultinomialNB",
                    "the map's choice for text: fit it on TfidfVectorizer output.",
                    applies=text, leads=True),
            _Option("Linear SVM", "sklearn.svm.LinearSVC",
                    "the map's first step for labelled data; strong with many features or text."
                    + scale + impute + on_text, applies=text or wide, leads=True),
            _Option("SGD classifier", "sklearn.linear_model.SGDClassifier",
                    "the map's choice beyond 100k rows: a linear model trained in passes."
                    + scale + impute, applies=large, leads=True),
            _Option("Histogram gradient boosting",
                    "sklearn.ensemble.HistGradientBoostingClassifier",
                    "usually the most accurate on tables of mixed features; handles missing "
                    "values and pandas categories natively.", applies=not wide),
            _Option("Random forest", "sklearn.ensemble.RandomForestClassifier",
                    "the map's ensemble step: robust with little tuning, no scaling needed."
                    + native_missing, applies=not large),
            _Option("Logistic regression", "sklearn.linear_model.LogisticRegression",
                    "a linear baseline: fast, and its coefficients show how each feature pushes "
                    "the prediction." + scale + impute + on_text,
                    interpretable=True, leads=small or wide),
            _Option("Support vector classifier", "sklearn.svm.SVC",
                    "the map's kernel step: strong on small and medium data, slow past ~10k "
                    "rows." + scale + impute, applies=kernels_fit),
            _Option("k-nearest neighbours", "sklearn.neighbors.KNeighborsClassifier",
                    "the map's step when a linear model is not enough: predicts from the most "
                    "similar rows." + scale + impute, applies=kernels_fit),
            _Option("Decision tree", "sklearn.tree.DecisionTreeClassifier",
                    "a few if-then rules a person can read and draw; limit max_depth to avoid "
                    "overfitting." + native_missing, interpretable=True),
        ]  # fmt: skip
    elif kind == LearningTask.REGRESSION:
        options = [
            _Option("SGD regressor", "sklearn.linear_model.SGDRegressor",
                    "the map's choice beyond 100k rows: a linear model trained in passes."
                    + scale + impute, applies=large, leads=True),
            _Option("Histogram gradient boosting",
                    "sklearn.ensemble.HistGradientBoostingRegressor",
                    "usually the most accurate on tables of mixed features; handles missing "
                    "values and pandas categories natively.", applies=not wide),
            _Option("Random forest", "sklearn.ensemble.RandomForestRegressor",
                    "the map's ensemble step: robust with little tuning, no scaling needed."
                    + native_missing, applies=not large),
            _Option("Ridge regression", "sklearn.linear_model.Ridge",
                    "the map's linear step: a regularised baseline whose coefficients show each "
                    "feature's effect." + scale + impute + on_text,
                    interpretable=True, leads=small or wide or text),
            _Option("Lasso", "sklearn.linear_model.Lasso",
                    "the map's choice when only a few features should matter: it sets the "
                    "others' coefficients to zero." + scale + impute,
                    interpretable=True, applies=len(feature_types) >= 10),
            _Option("Support vector regression", "sklearn.svm.SVR",
                    "the map's kernel step: captures curves on small and medium data, slow past "
                    "~10k rows." + scale + impute, applies=kernels_fit),
            _Option("Decision tree", "sklearn.tree.DecisionTreeRegressor",
                    "a few if-then rules a person can read and draw; limit max_depth to avoid "
                    "overfitting." + native_missing, interpretable=True),
        ]  # fmt: skip
    else:
        options = [
            _Option("k-means", "sklearn.cluster.KMeans",
                    "the map's first choice when you can guess the number of clusters; each "
                    "cluster is summarised by its centre." + scale + impute + on_text,
                    interpretable=True, applies=kernels_fit),
            _Option("Mini-batch k-means", "sklearn.cluster.MiniBatchKMeans",
                    "the map's choice beyond 10k rows: k-means trained on small batches."
                    + scale + impute + on_text, interpretable=True, applies=not kernels_fit),
            _Option("Gaussian mixture", "sklearn.mixture.GaussianMixture",
                    "the map's next step: soft, elliptical clusters with a probability per row."
                    + scale + impute, applies=kernels_fit and not text),
            _Option("Agglomerative clustering", "sklearn.cluster.AgglomerativeClustering",
                    "builds a hierarchy of clusters you can draw as a dendrogram."
                    + scale + impute, interpretable=True, applies=kernels_fit),
            _Option("DBSCAN", "sklearn.cluster.DBSCAN",
                    "when the number of clusters is unknown: finds clusters of any shape and "
                    "marks outliers as noise." + scale + impute),
            _Option("Mean shift", "sklearn.cluster.MeanShift",
                    "the map's choice when the number of clusters is unknown, below 10k rows."
                    + scale + impute, applies=kernels_fit and not text),
        ]  # fmt: skip
    ranked = sorted(
        (option for option in options if option.applies),
        key=lambda option: (prefer_interpretable and not option.interpretable, not option.leads),
    )
    return tuple(Candidate(option.name, option.estimator, option.reason) for option in ranked)


def _numbers_from_objects(values: pd.Series) -> pd.Series:
    """Numbers stored as Python objects (e.g. a column built from a list) as a numeric Series."""
    if types.is_object_dtype(values.dtype) and types.infer_dtype(values) in {
        "integer",
        "floating",
        "mixed-integer-float",
        "decimal",
    }:
        return pd.to_numeric(values)
    return values


def _class_counts(labels: pd.Series) -> pd.Series:
    """Rows per class, most frequent first; ties in label order so output is deterministic."""
    counts = labels.value_counts(sort=False)
    counts = counts[counts > 0]  # a categorical dtype also counts its unused categories
    try:
        counts = counts.sort_index()
    except TypeError:  # labels of mixed types, e.g. 1 and "a"
        counts = counts.sort_index(key=lambda index: index.astype(str))
    return counts.sort_values(ascending=False, kind="stable")


def _scalar(value: Any) -> Any:
    """A plain Python value for a numpy scalar, so reports print 3 rather than np.int64(3)."""
    return value.item() if isinstance(value, np.generic) else value
