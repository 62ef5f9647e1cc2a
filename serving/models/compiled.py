"""A fitted scikit-learn pipeline, evaluated with NumPy: a request's row or a whole table.

Asking a scikit-learn pipeline about one row costs milliseconds that have nothing to do with
the model: building a pandas DataFrame, then, in every step, checking the input again
(``check_array``, feature names, parameter validation) and dispatching the ColumnTransformer's
columns. The arithmetic itself takes microseconds. The server checks every row against the
model card before it reaches the model, so for the steps the course exports this module
evaluates the fitted pipeline directly from its learned attributes:

- ``Pipeline``, ``ColumnTransformer`` (with ``"drop"`` and ``"passthrough"``), ``SimpleImputer``,
  ``StandardScaler``, ``OneHotEncoder``, the identity ``FunctionTransformer``;
- a final ``LogisticRegression`` or ``LinearRegression`` as NumPy arithmetic; any other final
  estimator is called on the transformed NumPy rows, as the Pipeline itself calls it.

Each step is checked twice. Its type must be one of the above, and its options
(``get_params()``) must be ones this module reproduces: an option on ``_OPTIONS``' allow-list
may take any value (it changes how the step learns or the type of its output, not its answer),
every other option must keep its default (``ColumnTransformer(transformer_weights=...)`` does
not, and would scale columns this module would not). ``compile_model`` returns None for
anything else and logs the option that declined it: the caller then uses the pipeline. Then,
when the server loads a model, ``first_disagreement`` compares the compiled answers with the
pipeline's own on rows drawn from the card's training profile (``profile_rows``), and the
compiled form is dropped on any difference beyond 1e-9. The tests draw random pipelines from
the supported space (hypothesis) and compare them with scikit-learn.

Data moves between the steps as columns, one 1-D array each, so a table's numbers stay float
arrays and its categories (pandas Categoricals) are looked up once per category, not per row:
50,000 rows cost several times less than the pipeline's own ``predict``.

Importing this module loads scikit-learn, pandas and NumPy but no server module (the package
``__init__``s import lazily): 1,638 modules instead of 2,241, 1.1 s of CPU instead of 1.9 s
(median of 7 fresh interpreters each), nearly all of it scikit-learn's own import.
"""

from __future__ import annotations

import inspect
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
import sklearn
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

__all__ = ["TOLERANCE", "CompiledModel", "compile_model", "first_disagreement", "profile_rows"]

logger = logging.getLogger(__name__)

TOLERANCE = 1e-9
"""The largest difference from scikit-learn's answer a compiled model may give."""

_OPTIONS: dict[type, frozenset[str]] = {
    Pipeline: frozenset({"steps", "memory", "verbose"}),
    ColumnTransformer: frozenset({
        "transformers", "remainder", "sparse_threshold", "n_jobs", "verbose",
        "verbose_feature_names_out", "force_int_remainder_cols",
    }),
    SimpleImputer: frozenset({"strategy", "fill_value", "copy"}),
    StandardScaler: frozenset({"copy", "with_mean", "with_std"}),
    OneHotEncoder: frozenset({
        "categories", "sparse_output", "sparse", "dtype", "feature_name_combiner", "handle_unknown",
    }),
    FunctionTransformer: frozenset({
        "inverse_func", "validate", "accept_sparse", "check_inverse", "feature_names_out",
        "inv_kw_args",
    }),
    LogisticRegression: frozenset({
        "penalty", "C", "l1_ratio", "dual", "tol", "fit_intercept", "intercept_scaling",
        "class_weight", "random_state", "solver", "max_iter", "verbose", "warm_start", "n_jobs",
    }),
    LinearRegression: frozenset({"fit_intercept", "copy_X", "tol", "n_jobs", "positive"}),
}
"""Per step type, the options that may take any value: they change how the step is fitted (C,
solver, max_iter...) or the container of its output (sparse_output, dtype), never the numbers
the fitted step gives. Every other option must be at its default; a new scikit-learn option
therefore declines until it is reviewed and added here."""

Column: TypeAlias = np.ndarray | pd.Categorical
"""One column: a NumPy array (a request's values, a table's numbers), or a table's categories
as a pandas Categorical, whose codes spare looking up every row's text. Declared a TypeAlias:
pandas has no types (no stubs installed), and mypy reads a bare union with it as a variable."""
Columns = list[Column]
"""A table as one column after another."""
Step = Callable[[Columns], Columns]
"""One fitted transformer, as a function of columns."""
Final = Callable[[np.ndarray, bool], tuple[np.ndarray, np.ndarray | None]]
"""The final estimator: (rows, whether to give probabilities) -> (labels, probabilities)."""


class _Unsupported(Exception):
    """Internal: the model uses something this module does not reproduce."""


class CompiledModel:
    """A fitted model as NumPy functions: ``predict(rows)`` gives labels and probabilities.

    ``rows`` are mappings from feature name to value (None for a missing value), already
    checked against the model card, as ``ServedModel.validate`` returns them.
    """

    def __init__(
        self,
        features: tuple[str, ...],
        steps: list[Step],
        final: Final,
    ) -> None:
        self.features = features
        self._transform = _chain(steps)
        self._final = final

    def predict(
        self, rows: Sequence[Mapping[str, Any]], *, probabilities: bool = True
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """The labels, and the class probabilities (None when the model has none, or when
        ``probabilities`` is False)."""
        columns = [
            np.array([_missing_as_nan(row[name]) for row in rows], dtype=object)
            for name in self.features
        ]
        return self._evaluate(columns, probabilities)

    def predict_frame(
        self, frame: pd.DataFrame, *, probabilities: bool = True
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """``predict`` for every row of a table checked against the card (serving.models.tables:
        the card's columns, in the training dtypes, missing values as NaN)."""
        columns = [_column(frame[name]) for name in self.features]
        return self._evaluate(columns, probabilities)

    def _evaluate(
        self, columns: Columns, probabilities: bool
    ) -> tuple[np.ndarray, np.ndarray | None]:
        return self._final(_matrix(self._transform(columns)), probabilities)


def compile_model(model: Any) -> CompiledModel | None:
    """``model`` (a fitted estimator or Pipeline) as a CompiledModel; None if it uses a step
    this module does not reproduce."""
    features = getattr(model, "feature_names_in_", None)
    if features is None:  # fitted on a bare array: the card's order is not known to match
        return None
    steps, final = (list(model[:-1]), model[-1]) if isinstance(model, Pipeline) else ([], model)
    try:
        if isinstance(model, Pipeline):
            _check_options(model)
        compiled = [_compile_step(step, list(features)) for step in steps]
        return CompiledModel(tuple(features), compiled, _compile_final(final, bool(steps)))
    except _Unsupported as reason:
        logger.info("the pipeline answers for itself (not compiled): %s", reason)
        return None


def _check_options(step: Any) -> None:
    """Decline a step with an option this module does not reproduce (see ``_OPTIONS``)."""
    allowed = _OPTIONS[type(step)]
    defaults = inspect.signature(type(step).__init__).parameters
    for name, value in step.get_params(deep=False).items():
        if name in allowed or name not in defaults:
            continue
        default = defaults[name].default
        if not _same_option(value, default):
            raise _Unsupported(f"{type(step).__name__}({name}={value!r})")


def _same_option(value: Any, default: Any) -> bool:
    if value is default or (_is_nan(value) and _is_nan(default)):
        return True
    try:
        return bool(value == default)
    except (TypeError, ValueError):  # e.g. an array, which has no single truth value
        return False


def profile_rows(features: Sequence[Any]) -> list[dict[str, Any]]:
    """Rows spanning a card's training profile: each category, each number's minimum, mean,
    maximum and one standard deviation either side, and a missing value where training had
    them, combined so that every value appears and neighbouring features vary together.

    ``features`` are the card's ``FeatureSpec``s; the rows are what ``validate_row`` returns
    (missing as None), for ``first_disagreement`` to ask both forms of the model.
    """
    choices = [_profile_values(feature) for feature in features]
    count = max((len(values) for values in choices), default=0) * 2
    return [
        {
            feature.name: values[(row * (position + 1)) % len(values)]
            for position, (feature, values) in enumerate(zip(features, choices, strict=True))
        }
        for row in range(count)
    ]


def _profile_values(feature: Any) -> list[Any]:
    values: list[Any]
    if feature.categories is not None:
        values = list(feature.categories)
    elif feature.kind == "boolean" or feature.min is None or feature.max is None:
        values = [False, True]
    else:
        low, high = feature.min, feature.max
        mean = feature.mean if feature.mean is not None else (low + high) / 2
        spread = feature.std or 0.0
        values = [low, mean - spread, mean, mean + spread, high]
        if feature.kind == "integer":
            values = [round(value) for value in values]
    if feature.missing_seen:
        values.append(None)
    return values


def first_disagreement(
    compiled: CompiledModel, model: Any, rows: Sequence[Mapping[str, Any]], frame: pd.DataFrame
) -> str | None:
    """Where ``compiled`` answers ``rows`` differently from ``model`` on ``frame`` (the same
    rows as the model's DataFrame), in words; None when every answer agrees within TOLERANCE."""
    labels, probabilities = compiled.predict(rows)
    expected = np.asarray(model.predict(frame))
    if labels.dtype.kind == "f" or expected.dtype.kind == "f":
        gap = np.abs(np.asarray(labels, dtype=float) - expected.astype(float))
        if not gap.max(initial=0.0) <= TOLERANCE * max(1.0, float(np.abs(expected).max())):
            return f"predictions differ by up to {gap.max():.3g}"
    elif labels.tolist() != expected.tolist():
        return "labels differ"
    if probabilities is not None:
        gap = np.abs(probabilities - np.asarray(model.predict_proba(frame), dtype=float))
        if not gap.max(initial=0.0) <= TOLERANCE:
            return f"probabilities differ by up to {gap.max():.3g}"
    return None


def _missing_as_nan(value: Any) -> Any:
    return math.nan if value is None else value


# --- transformers -------------------------------------------------------------------------


def _compile_step(step: Any, columns: list[str]) -> Step:
    if type(step) in _OPTIONS:
        _check_options(step)
    if isinstance(step, Pipeline):
        parts = [_compile_step(part, columns) for part in step]
        return _chain(parts)
    if isinstance(step, ColumnTransformer):
        return _column_transformer(step, columns)
    if isinstance(step, SimpleImputer):
        return _imputer(step)
    if isinstance(step, StandardScaler):
        return _scaler(step)
    if isinstance(step, OneHotEncoder):
        return _one_hot(step)
    if isinstance(step, FunctionTransformer) and step.func is None:  # a fitted "passthrough"
        return _identity
    raise _Unsupported(type(step).__name__)


def _identity(columns: Columns) -> Columns:
    return columns


def _column(series: pd.Series) -> Column:
    return series.array if isinstance(series.dtype, pd.CategoricalDtype) else series.to_numpy()


def _matrix(columns: Columns) -> np.ndarray:
    """The 2-D float array a final estimator reads."""
    return np.column_stack([np.asarray(column, dtype=float) for column in columns])


def _missing(column: Column) -> np.ndarray:
    """Which values are missing (NaN: requests and checked tables never hold None)."""
    if isinstance(column, pd.Categorical):
        return np.asarray(column.codes < 0)
    return np.asarray(pd.isna(column))


def _codes(lookup: dict[Any, int], column: Column) -> np.ndarray:
    """Each value's position among ``lookup``'s keys; -1 for a value not among them (or
    missing)."""
    if isinstance(column, pd.Categorical):  # look up each category once, not each row
        known = [lookup.get(category, -1) for category in column.categories.tolist()]
        codes: np.ndarray = column.codes
        return np.take([*known, -1], codes)  # code -1 (missing) takes the last -1
    return np.array([lookup.get(value, -1) for value in column.tolist()], dtype=np.intp)


def _chain(parts: list[Step]) -> Step:
    def chained(columns: Columns) -> Columns:
        for part in parts:
            columns = part(columns)
        return columns

    return chained


def _column_transformer(step: ColumnTransformer, columns: list[str]) -> Step:
    parts: list[tuple[list[int], Step]] = []
    for _, transformer, selected in step.transformers_:
        indices = _indices(selected, columns)
        if (isinstance(transformer, str) and transformer == "drop") or not indices:
            continue
        if isinstance(transformer, str) and transformer == "passthrough":
            transformer = FunctionTransformer()
        names = [columns[index] for index in indices]
        parts.append((indices, _compile_step(transformer, names)))

    def transform(columns: Columns) -> Columns:
        outputs: Columns = []
        for indices, part in parts:
            outputs.extend(part([columns[index] for index in indices]))
        return outputs

    return transform


def _indices(selected: Any, columns: list[str]) -> list[int]:
    """Column positions from a ColumnTransformer's column selection (names or positions)."""
    if isinstance(selected, str | int):
        selected = [selected]
    if isinstance(selected, np.ndarray):
        if selected.dtype == bool:
            return np.flatnonzero(selected).tolist()
        selected = selected.tolist()
    if not isinstance(selected, list):
        raise _Unsupported(f"column selection {selected!r}")
    indices = []
    for column in selected:
        if isinstance(column, str) and column in columns:
            indices.append(columns.index(column))
        elif isinstance(column, int) and not isinstance(column, bool):
            indices.append(column)
        else:
            raise _Unsupported(f"column {column!r}")
    return indices


def _imputer(step: SimpleImputer) -> Step:
    statistics = step.statistics_
    if step.add_indicator or not _is_nan(step.missing_values):
        raise _Unsupported("SimpleImputer with an indicator or another missing-value marker")
    numeric = statistics.dtype.kind == "f"
    if numeric and np.isnan(statistics).any():  # scikit-learn drops such columns
        raise _Unsupported("SimpleImputer with an empty column")

    def impute(columns: Columns) -> Columns:
        imputed = []
        for column, statistic in zip(columns, statistics.tolist(), strict=True):
            values = np.asarray(column, dtype=float) if numeric else column
            missing = _missing(values)
            if missing.any():
                values = _filled(values, missing, statistic)
            imputed.append(values)
        return imputed

    return impute


def _filled(column: Column, missing: np.ndarray, value: Any) -> Column:
    if isinstance(column, pd.Categorical):
        if value not in column.categories:
            column = column.add_categories([value])
        return column.fillna(value)
    filled = column.copy()
    filled[missing] = value
    return filled


def _scaler(step: StandardScaler) -> Step:
    mean = step.mean_ if step.with_mean else None
    scale = step.scale_ if step.with_std else None

    def scale_(columns: Columns) -> Columns:
        scaled = []
        for index, column in enumerate(columns):
            values = np.asarray(column, dtype=float)
            if mean is not None:
                values = values - mean[index]
            if scale is not None:
                values = values / scale[index]
            scaled.append(values)
        return scaled

    return scale_


def _one_hot(step: OneHotEncoder) -> Step:
    # drop, min_frequency and max_categories keep their defaults (_check_options): no dropped
    # or infrequent categories, so categories_ maps one-to-one onto the output columns.
    if step.handle_unknown not in ("ignore", "error"):
        raise _Unsupported(f"OneHotEncoder(handle_unknown={step.handle_unknown!r})")
    refuse_unknown = step.handle_unknown == "error"
    lookups = []
    for categories in step.categories_:
        if any(_is_nan(category) for category in categories):
            raise _Unsupported("OneHotEncoder with a missing-value category")
        lookups.append({category: index for index, category in enumerate(categories.tolist())})

    def encode(columns: Columns) -> Columns:
        encoded: Columns = []
        for number, (lookup, column) in enumerate(zip(lookups, columns, strict=True)):
            codes = _codes(lookup, column)
            known = np.flatnonzero(codes >= 0)
            if refuse_unknown and len(known) < len(codes):
                value = column[np.flatnonzero(codes < 0)[0]]
                raise ValueError(f"unknown category {value!r} in column {number}")
            block = np.zeros((len(lookup), len(column)))  # else all zeros, as "ignore" does
            block[codes[known], known] = 1.0
            encoded.extend(block)
        return encoded

    return encode


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


# --- the final estimator ------------------------------------------------------------------


def _compile_final(estimator: Any, after_steps: bool) -> Final:
    if type(estimator) in (LogisticRegression, LinearRegression):
        _check_options(estimator)
    if type(estimator) is LogisticRegression:
        return _logistic(estimator)
    if type(estimator) is LinearRegression:
        return _linear(estimator)
    if not after_steps or hasattr(estimator, "feature_names_in_"):
        raise _Unsupported("an estimator that reads a DataFrame")  # only the pipeline knows
    return _delegate(estimator)


def _logistic(estimator: LogisticRegression) -> Final:
    classes, coef, intercept = estimator.classes_, estimator.coef_, estimator.intercept_
    binary = len(classes) == 2
    if not binary and estimator.solver == "liblinear":
        raise _Unsupported("liblinear's one-vs-rest probabilities")

    def predict(inputs: np.ndarray, probabilities: bool) -> tuple[np.ndarray, np.ndarray | None]:
        scores = inputs @ coef.T + intercept
        if binary:  # one score: the log-odds of classes[1]
            labels = classes[(scores[:, 0] > 0).astype(int)]
            if not probabilities:
                return labels, None
            positive = 1.0 / (1.0 + np.exp(-scores[:, 0]))
            return labels, np.column_stack([1 - positive, positive])
        labels = classes[scores.argmax(axis=1)]
        if not probabilities:
            return labels, None
        exp = np.exp(scores - scores.max(axis=1, keepdims=True))
        return labels, exp / exp.sum(axis=1, keepdims=True)

    return predict


def _linear(estimator: LinearRegression) -> Final:
    coef, intercept = estimator.coef_, estimator.intercept_
    if np.ndim(coef) != 1:
        raise _Unsupported("a regressor with several targets")

    def predict(inputs: np.ndarray, probabilities: bool) -> tuple[np.ndarray, None]:
        return inputs @ coef + intercept, None

    return predict


def _delegate(estimator: Any) -> Final:
    """Any other estimator, called on the transformed rows as the Pipeline calls it, without
    checks the served rows have passed already."""
    has_proba = hasattr(estimator, "predict_proba")

    def predict(inputs: np.ndarray, probabilities: bool) -> tuple[np.ndarray, np.ndarray | None]:
        with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
            labels = np.asarray(estimator.predict(inputs))
            wanted = has_proba and probabilities
            proba = np.asarray(estimator.predict_proba(inputs), dtype=float) if wanted else None
        return labels, proba

    return predict
