"""A fitted scikit-learn pipeline, evaluated with NumPy for the few rows of one request.

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

``compile_model`` returns None for anything else (an unknown step, an option this module does
not reproduce): the caller then uses the pipeline. The tests check that both give the same
labels and probabilities on every test row. Large tables (batch scoring) go to the pipeline
anyway, where the per-call overhead is spread over many rows.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import sklearn
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

__all__ = ["CompiledModel", "compile_model"]

Step = Callable[[np.ndarray], np.ndarray]
"""One fitted transformer, as a function of a 2-D array of rows."""


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
        final: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray | None]],
    ) -> None:
        self.features = features
        self._steps = steps
        self._final = final

    def predict(self, rows: Sequence[Mapping[str, Any]]) -> tuple[np.ndarray, np.ndarray | None]:
        """The labels, and the class probabilities (None when the model has none)."""
        values = [[_missing_as_nan(row[name]) for name in self.features] for row in rows]
        inputs = np.array(values, dtype=object).reshape(len(rows), len(self.features))
        for step in self._steps:
            inputs = step(inputs)
        return self._final(inputs)


def compile_model(model: Any) -> CompiledModel | None:
    """``model`` (a fitted estimator or Pipeline) as a CompiledModel; None if it uses a step
    this module does not reproduce."""
    features = getattr(model, "feature_names_in_", None)
    if features is None:  # fitted on a bare array: the card's order is not known to match
        return None
    steps, final = (list(model[:-1]), model[-1]) if isinstance(model, Pipeline) else ([], model)
    try:
        compiled = [_compile_step(step, list(features)) for step in steps]
        return CompiledModel(tuple(features), compiled, _compile_final(final, bool(steps)))
    except _Unsupported:
        return None


def _missing_as_nan(value: Any) -> Any:
    return math.nan if value is None else value


# --- transformers -------------------------------------------------------------------------


def _compile_step(step: Any, columns: list[str]) -> Step:
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


def _identity(inputs: np.ndarray) -> np.ndarray:
    return inputs


def _chain(parts: list[Step]) -> Step:
    def chained(inputs: np.ndarray) -> np.ndarray:
        for part in parts:
            inputs = part(inputs)
        return inputs

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

    def transform(inputs: np.ndarray) -> np.ndarray:
        outputs = []
        for indices, part in parts:
            outputs.append(part(inputs[:, indices]))
        return np.hstack([output.astype(float) for output in outputs])

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

    def impute(inputs: np.ndarray) -> np.ndarray:
        values = inputs.astype(float) if numeric else inputs.copy()
        missing = values != values  # NaN is the only value not equal to itself
        if missing.any():
            values[missing] = np.broadcast_to(statistics, values.shape)[missing]
        return values

    return impute


def _scaler(step: StandardScaler) -> Step:
    mean = step.mean_ if step.with_mean else None
    scale = step.scale_ if step.with_std else None

    def scale_(inputs: np.ndarray) -> np.ndarray:
        values = inputs.astype(float)
        if mean is not None:
            values = values - mean
        if scale is not None:
            values = values / scale
        return values

    return scale_


def _one_hot(step: OneHotEncoder) -> Step:
    if step.drop_idx_ is not None or getattr(step, "_infrequent_enabled", False):
        raise _Unsupported("OneHotEncoder with drop or infrequent categories")
    if step.handle_unknown not in ("ignore", "error"):
        raise _Unsupported(f"OneHotEncoder(handle_unknown={step.handle_unknown!r})")
    refuse_unknown = step.handle_unknown == "error"
    lookups = []
    for categories in step.categories_:
        if any(_is_nan(category) for category in categories):
            raise _Unsupported("OneHotEncoder with a missing-value category")
        lookups.append({category: index for index, category in enumerate(categories.tolist())})
    widths = [len(lookup) for lookup in lookups]
    starts = np.cumsum([0, *widths[:-1]]).tolist()
    total = sum(widths)

    def encode(inputs: np.ndarray) -> np.ndarray:
        encoded = np.zeros((len(inputs), total))
        for column, (lookup, start) in enumerate(zip(lookups, starts, strict=True)):
            for row, value in enumerate(inputs[:, column].tolist()):
                index = lookup.get(value)
                if index is not None:
                    encoded[row, start + index] = 1.0
                elif refuse_unknown:
                    raise ValueError(f"unknown category {value!r} in column {column}")
                # else all zeros, as handle_unknown="ignore" does
        return encoded

    return encode


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


# --- the final estimator ------------------------------------------------------------------


def _compile_final(
    estimator: Any, after_steps: bool
) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray | None]]:
    if type(estimator) is LogisticRegression:
        return _logistic(estimator)
    if type(estimator) is LinearRegression:
        return _linear(estimator)
    if not after_steps or hasattr(estimator, "feature_names_in_"):
        raise _Unsupported("an estimator that reads a DataFrame")  # only the pipeline knows
    return _delegate(estimator)


def _logistic(estimator: LogisticRegression):
    classes, coef, intercept = estimator.classes_, estimator.coef_, estimator.intercept_
    binary = len(classes) == 2
    if not binary and estimator.solver == "liblinear":
        raise _Unsupported("liblinear's one-vs-rest probabilities")

    def predict(inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        scores = inputs.astype(float) @ coef.T + intercept
        if binary:  # one score: the log-odds of classes[1]
            positive = 1.0 / (1.0 + np.exp(-scores[:, 0]))
            return classes[(scores[:, 0] > 0).astype(int)], np.column_stack(
                [1 - positive, positive]
            )
        exp = np.exp(scores - scores.max(axis=1, keepdims=True))
        return classes[scores.argmax(axis=1)], exp / exp.sum(axis=1, keepdims=True)

    return predict


def _linear(estimator: LinearRegression):
    coef, intercept = estimator.coef_, estimator.intercept_
    if np.ndim(coef) != 1:
        raise _Unsupported("a regressor with several targets")

    def predict(inputs: np.ndarray) -> tuple[np.ndarray, None]:
        return inputs.astype(float) @ coef + intercept, None

    return predict


def _delegate(estimator: Any):
    """Any other estimator, called on the transformed rows as the Pipeline calls it, without
    checks the served rows have passed already."""
    has_proba = hasattr(estimator, "predict_proba")

    def predict(inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
            labels = np.asarray(estimator.predict(inputs))
            proba = np.asarray(estimator.predict_proba(inputs), dtype=float) if has_proba else None
        return labels, proba

    return predict
