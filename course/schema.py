"""Feature schema: what a model saw in training, and checking new rows against it.

A model only knows the columns, types and categories it was trained on. The schema records
them (``infer_features``) so that the model card can describe the inputs, and so that a
prediction request can be checked (``validate_row``) before it reaches the model: a client's
mistake becomes a precise list of problems instead of a crash deep inside scikit-learn.

This module is pure: no files, no network. The server reuses it for every request.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from course.labels import readable, with_unit

__all__ = [
    "FeatureKind",
    "FeatureSpec",
    "FieldProblem",
    "RowValidationError",
    "infer_features",
    "not_whole_problem",
    "required_problem",
    "to_frame",
    "validate_row",
]

# A numeric value further than this many standard deviations outside the training range
# is accepted but flagged: the model is extrapolating, its prediction deserves less trust.
FAR_OUTSIDE_STDS = 3.0

# Whole numbers must fit the int64 columns the model was trained on.
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


class FeatureKind(enum.StrEnum):
    """The four kinds of input column a course model accepts."""

    NUMBER = "number"
    INTEGER = "integer"
    CATEGORY = "category"
    BOOLEAN = "boolean"


@dataclass(frozen=True)
class FeatureSpec:
    """One input column as seen in training.

    ``dtype`` is the pandas dtype of the training column, so that ``to_frame`` can rebuild
    exactly the frame the model was fitted on. ``categories`` is set for category columns,
    ``min``/``max``/``mean``/``std`` for numeric ones (number and integer).
    """

    name: str
    kind: FeatureKind
    dtype: str
    missing_seen: bool
    categories: tuple[str | int | float | bool, ...] | None = None
    min: float | None = None
    max: float | None = None
    mean: float | None = None
    std: float | None = None
    # Added in issue 15 (optional: older cards have none): what a person calls the column,
    # "bill length", and its unit, "mm". Without them, the column name is made readable.
    label: str | None = None
    unit: str | None = None

    @property
    def is_numeric(self) -> bool:
        return self.kind in (FeatureKind.NUMBER, FeatureKind.INTEGER)

    @property
    def title(self) -> str:
        """The label as a person reads it, unit included: "bill length (mm)"."""
        label, unit = readable(self.name)
        return with_unit(self.label or label, unit if self.unit is None else self.unit)

    @property
    def sentence_start(self) -> str:
        """The label opening a sentence: "Bill length (mm)"."""
        title = self.title
        return title[:1].upper() + title[1:]

    def expected(self) -> str:
        """What a valid value looks like, in words, for error messages."""
        if self.kind is FeatureKind.CATEGORY:
            allowed = ", ".join(repr(category) for category in self.categories or ())
            text = f"one of {allowed}"
        else:
            text = {
                FeatureKind.NUMBER: "a number",
                FeatureKind.INTEGER: "a whole number",
                FeatureKind.BOOLEAN: "true or false",
            }[self.kind]
        return f"{text} (or null)" if self.missing_seen else text


@dataclass(frozen=True)
class FieldProblem:
    """What is wrong with one field of a row (or, as a warning, what is unusual about it)."""

    field: str
    problem: str
    expected: str

    def __str__(self) -> str:
        if self.problem[:1].isupper():  # a whole sentence that names the field itself
            return self.problem
        return f"{self.field}: {self.problem}; expected {self.expected}"


class RowValidationError(ValueError):
    """A row does not match the model's feature schema; ``problems`` lists every field."""

    def __init__(self, problems: Sequence[FieldProblem]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        count = len(self.problems)
        super().__init__(f"the row has {count} problem{'s' if count != 1 else ''}:\n{lines}")


def infer_features(X: pd.DataFrame) -> tuple[FeatureSpec, ...]:
    """Describe every column of the training frame, in order.

    Raises ValueError for a column the schema cannot describe (dates, mixed types), saying
    how to convert it.
    """
    if not isinstance(X, pd.DataFrame):
        raise TypeError(
            f"expected a pandas DataFrame, got {type(X).__name__}: the schema needs column names"
        )
    names = [str(name) for name in X.columns]
    if len(set(names)) != len(names):
        duplicates = sorted({name for name in names if names.count(name) > 1})
        raise ValueError(f"duplicate column names {duplicates}: give every column its own name")
    return tuple(_describe_column(str(name), X[name]) for name in X.columns)


def _describe_column(name: str, column: pd.Series) -> FeatureSpec:
    dtype = column.dtype
    missing_seen = bool(column.isna().any())
    present = column.dropna()
    if isinstance(dtype, pd.CategoricalDtype):
        seen = set(present.tolist())
        categories = tuple(_plain(value) for value in dtype.categories if value in seen)
        return FeatureSpec(name, FeatureKind.CATEGORY, "category", missing_seen, categories)
    if pd.api.types.is_bool_dtype(dtype):
        return FeatureSpec(name, FeatureKind.BOOLEAN, str(dtype), missing_seen)
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype):
        kind = FeatureKind.INTEGER if pd.api.types.is_integer_dtype(dtype) else FeatureKind.NUMBER
        values = present.astype("float64")
        if len(values) == 0 or not np.isfinite(values.to_numpy()).all():
            raise ValueError(
                f"column {name!r} has no finite values to learn a range from: "
                "drop it or replace infinities and missing values first"
            )
        return FeatureSpec(
            name,
            kind,
            str(dtype),
            missing_seen,
            min=float(values.min()),
            max=float(values.max()),
            mean=float(values.mean()),
            std=float(values.std(ddof=0)),
        )
    if pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype):
        values = present.tolist()
        if not all(isinstance(value, str) for value in values):
            types = sorted({type(value).__name__ for value in values})
            raise ValueError(
                f"column {name!r} mixes value types {types}: convert it to one type "
                "(for example X[col].astype('category') or pd.to_numeric(X[col]))"
            )
        return FeatureSpec(
            name, FeatureKind.CATEGORY, str(dtype), missing_seen, tuple(sorted(set(values)))
        )
    raise ValueError(
        f"column {name!r} has dtype {dtype}, which a model card cannot describe: "
        "convert it to numbers, booleans or categories first"
    )


def _plain(value: Any) -> str | int | float | bool:
    """A NumPy scalar as the plain Python value JSON can carry."""
    plain: str | int | float | bool = value.item() if isinstance(value, np.generic) else value
    return plain


def validate_row(card: Any, row: Any) -> tuple[dict[str, Any], list[FieldProblem]]:
    """Check one prediction request against the card's feature schema.

    ``card`` is a ModelCard (anything with a ``features`` sequence of FeatureSpec). ``row``
    is the decoded JSON object. Returns the clean row (every feature, in training order, as
    plain Python values) and warnings for values far outside the training range. Raises
    RowValidationError, and nothing else, listing every problem at once.
    """
    features: Sequence[FeatureSpec] = card.features
    if not isinstance(row, Mapping):
        raise RowValidationError(
            [FieldProblem("<row>", f"got {_describe(row)}", "an object of feature values")]
        )
    problems: list[FieldProblem] = []
    warnings: list[FieldProblem] = []
    clean: dict[str, Any] = {}
    known = {feature.name for feature in features}
    for key in row:
        if not isinstance(key, str):
            problems.append(
                FieldProblem(repr(key), "field names must be strings", "a feature name")
            )
        elif key not in known:
            problems.append(
                FieldProblem(key, "unknown field", f"only the fields {_names(features)}")
            )
    for feature in features:
        if feature.name not in row:
            problems.append(FieldProblem(feature.name, "missing field", feature.expected()))
            continue
        try:
            clean[feature.name] = _clean_value(feature, row[feature.name])
        except _BadValue as bad:
            problems.append(FieldProblem(feature.name, str(bad), feature.expected()))
            continue
        warning = _range_warning(feature, clean[feature.name])
        if warning is not None:
            warnings.append(warning)
    if problems:
        raise RowValidationError(problems)
    return clean, warnings


class _BadValue(Exception):
    """Internal: one value does not fit its feature; the message says how."""


def _clean_value(feature: FeatureSpec, value: Any) -> Any:
    # Messages that start with a capital letter are whole sentences, shown alone next to the
    # field ("Age must be a whole number, like 48"); lowercase ones read with ``expected``.
    if value is None:
        if feature.missing_seen:
            return None
        raise _BadValue(required_problem(feature))
    if feature.kind is FeatureKind.CATEGORY:
        return _clean_category(feature, value)
    if feature.kind is FeatureKind.BOOLEAN:
        if isinstance(value, bool):
            return value
        raise _BadValue(f"{feature.sentence_start} must be true or false; got {_describe(value)}")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _BadValue(_not_a_number(feature, value))
    if isinstance(value, float) and not math.isfinite(value):
        raise _BadValue(f"got {value}, which is not a finite number")
    if feature.kind is FeatureKind.INTEGER:
        if isinstance(value, float):
            if not value.is_integer():
                raise _BadValue(not_whole_problem(feature, value))
            value = int(value)
        if not _INT64_MIN <= value <= _INT64_MAX:
            raise _BadValue(f"got {value}, which is too large")
        return value
    try:
        return float(value)
    except OverflowError:
        raise _BadValue(f"got {value}, which is too large") from None


def required_problem(feature: FeatureSpec) -> str:
    """The sentence for a missing value where training had none (rows and tables alike)."""
    return (
        f"{feature.sentence_start} is required: no missing values were seen in training, "
        "so the model needs one"
    )


def not_whole_problem(feature: FeatureSpec, value: float) -> str:
    """The sentence for a fraction given to a whole-number feature: "Age must be a whole
    number, like 48"."""
    return f"{feature.sentence_start} must be a whole number, like {round(value)}"


_DECIMAL_COMMA = re.compile(r"\s*[-+]?\d+,\d+\s*")
_NUMBER_TEXT = re.compile(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*")


def _not_a_number(feature: FeatureSpec, value: Any) -> str:
    """A plain-words message for a value that is not a number where one is expected."""
    if isinstance(value, str) and _DECIMAL_COMMA.fullmatch(value):
        return f"Use a dot for decimals: {value.strip().replace(',', '.')}"
    whole = feature.kind is FeatureKind.INTEGER
    wanted = "a whole number" if whole else "a number"
    like = _example(feature)
    if isinstance(value, str) and _NUMBER_TEXT.fullmatch(value):
        return (
            f"{feature.sentence_start} must be {wanted}, not text: send {value.strip()} "
            "without quotes"
        )
    if isinstance(value, str) and not value.strip():
        return f"{feature.sentence_start} must be {wanted}, like {like}; it was left empty"
    return f"{feature.sentence_start} must be {wanted}, like {like}; got {_describe(value)}"


def _example(feature: FeatureSpec) -> str:
    """A typical value to show in a message: the training mean, rounded for a person."""
    if feature.mean is None:
        return "12.5"
    if feature.kind is FeatureKind.INTEGER or abs(feature.mean) >= 100:
        return str(round(feature.mean))
    return f"{feature.mean:.3g}"


def _clean_category(feature: FeatureSpec, value: Any) -> Any:
    # Types are compared as well as values, so that True never passes for the category 1;
    # a whole number may stand for a float category (JSON writes 2.0 as 2).
    comparable = [
        category
        for category in feature.categories or ()
        if type(value) is type(category) or (isinstance(category, float) and type(value) is int)
    ]
    if not comparable:
        raise _BadValue(f"got {_describe(value)}")
    for category in comparable:
        if value == category:
            return category
    raise _BadValue(f"unknown category {value!r}, never seen in training")


def _range_warning(feature: FeatureSpec, value: Any) -> FieldProblem | None:
    if not feature.is_numeric or value is None:
        return None
    assert feature.min is not None and feature.max is not None and feature.std is not None
    margin = FAR_OUTSIDE_STDS * feature.std
    if feature.min - margin <= value <= feature.max + margin:
        return None
    return FieldProblem(
        feature.name,
        f"{value:g} is far outside the range seen in training "
        f"({feature.min:g} to {feature.max:g}); the prediction is an extrapolation",
        f"a value near {feature.min:g} to {feature.max:g}",
    )


def _describe(value: Any) -> str:
    """A short, safe description of a JSON value for an error message."""
    if isinstance(value, bool):
        return f"a boolean ({'true' if value else 'false'})"
    if isinstance(value, int | float):
        return f"a number ({value!r})" if len(repr(value)) <= 40 else "a very long number"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"a string ({shown!r})"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    return f"a value of type {type(value).__name__}"


def _names(features: Iterable[FeatureSpec]) -> str:
    return ", ".join(feature.name for feature in features)


def to_frame(card: Any, rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Build the DataFrame the model expects from rows cleaned by ``validate_row``.

    Columns come in training order with training dtypes (categories included), so the
    pipeline sees new rows exactly as it saw its training data.
    """
    rows = list(rows)
    columns = {}
    for feature in card.features:
        values = [row[feature.name] for row in rows]
        if feature.kind is FeatureKind.CATEGORY and feature.dtype == "category":
            dtype: Any = pd.CategoricalDtype(list(feature.categories or ()))
        else:
            dtype = feature.dtype
        columns[feature.name] = pd.Series(values, dtype=dtype)
    return pd.DataFrame(columns)
