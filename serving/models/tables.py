"""Checking a whole table (an uploaded CSV, a shipped dataset) against a model card, vectorized.

``course.schema.validate_row`` checks one request at a time, which is right for a form and far
too slow for 100,000 rows. ``check_table`` applies the same rules column by column with pandas:
a missing column refuses the whole table (``TableError``); a bad value (wrong type, a category
never seen in training, a missing value the model never saw) marks its row invalid, with a
message in the words ``validate_row`` uses, and the row never reaches the model; a value far
outside the training range is a warning. Columns the model does not use (the target, an id)
are ignored and listed, since a dataset usually has them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from course.schema import (
    FAR_OUTSIDE_STDS,
    FeatureKind,
    FeatureSpec,
    FieldProblem,
    not_whole_problem,
    required_problem,
)

__all__ = ["TableCheck", "TableError", "check_table"]

_TRUE_FALSE = {"true": True, "false": False}


class TableError(ValueError):
    """The table as a whole cannot be scored (a missing column, no rows)."""


@dataclass(frozen=True)
class TableCheck:
    """What ``check_table`` found, aligned with the input rows (position 0 is the first row).

    ``frame`` holds the valid rows only, with the columns and dtypes of the training frame;
    ``positions`` gives the input position of each of them. ``errors`` and ``warnings`` hold
    one string per input row, empty when there is nothing to say; ``warned`` gives the input
    positions whose warning is not empty (the rows with an error are those not in
    ``positions``), so that nobody has to search 100,000 empty strings for the few that are not.
    """

    frame: pd.DataFrame
    positions: np.ndarray
    errors: pd.Series
    warnings: pd.Series
    ignored_columns: tuple[str, ...]
    warned: np.ndarray

    @property
    def n_rows(self) -> int:
        return len(self.errors)

    @property
    def n_invalid(self) -> int:
        return self.n_rows - len(self.positions)


def check_table(card: Any, table: pd.DataFrame) -> TableCheck:
    """Check every row of ``table`` against ``card.features`` (see the module docstring)."""
    features: Sequence[FeatureSpec] = card.features
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"expected a pandas DataFrame, got {type(table).__name__}")
    columns = [str(column) for column in table.columns]
    missing = [feature.name for feature in features if feature.name not in columns]
    if missing:
        raise TableError(
            f"the table has no column {', '.join(repr(m) for m in missing)}: the model needs "
            f"the columns {', '.join(f.name for f in features)} (found {', '.join(columns)})"
        )
    if len(table) == 0:
        raise TableError("the table has no rows: nothing to score")
    table = table.set_axis(columns, axis=1).reset_index(drop=True)
    errors = pd.Series("", index=table.index, dtype=object)
    warnings = pd.Series("", index=table.index, dtype=object)
    clean: dict[str, pd.Series] = {}
    warned = np.zeros(len(table), dtype=bool)
    for feature in features:
        values, bad, far = _check_column(feature, table[feature.name])
        if bad is not None and bad.any():
            errors[bad] = _append_error(errors[bad], feature, table[feature.name][bad])
        if far is not None and far.any():
            warnings[far] = _append_warning(warnings[far], feature, values[far])
            warned |= far.to_numpy(dtype=bool)
        clean[feature.name] = values
    valid = (errors == "").to_numpy()
    frame = pd.DataFrame({name: values[valid] for name, values in clean.items()})
    frame = _with_training_dtypes(features, frame.reset_index(drop=True))
    warnings[~valid] = ""
    ignored = tuple(column for column in columns if column not in {f.name for f in features})
    return TableCheck(
        frame, np.flatnonzero(valid), errors, warnings, ignored, np.flatnonzero(warned & valid)
    )


def _check_column(
    feature: FeatureSpec, column: pd.Series
) -> tuple[pd.Series, pd.Series | None, pd.Series | None]:
    """The column's values in model types, the rows with a bad value, the rows far outside."""
    present = column.notna()
    if feature.kind is FeatureKind.CATEGORY:
        codes = _category_codes(feature.categories or (), column.astype(str).where(present))
        categories = list(feature.categories or ())
        values = pd.Series(pd.Categorical.from_codes(codes, categories), index=column.index)
        bad = present & (codes < 0)
    elif feature.kind is FeatureKind.BOOLEAN:
        values = column.astype(str).str.lower().where(present).map(_TRUE_FALSE)
        bad = present & values.isna()
    else:
        values = pd.to_numeric(column, errors="coerce").astype("float64")
        finite = np.isfinite(values.to_numpy())
        bad = present & ~pd.Series(finite, index=column.index)
        if feature.kind is FeatureKind.INTEGER:
            bad |= present & finite & (values % 1 != 0)
    if not feature.missing_seen:
        bad |= ~present
    far = None
    if feature.is_numeric:
        assert feature.min is not None and feature.max is not None and feature.std is not None
        margin = FAR_OUTSIDE_STDS * feature.std
        far = ~bad & present & ~values.between(feature.min - margin, feature.max + margin)
    return values, bad, far


def _category_codes(categories: Sequence[Any], texts: pd.Series) -> np.ndarray:
    """The position of each text's training category, -1 if none (so '2' finds 2.0)."""
    code_of: dict[str, int] = {}
    for code, category in enumerate(categories):
        code_of[str(category)] = code
        if isinstance(category, bool):
            code_of[str(category).lower()] = code
        elif isinstance(category, float) and category.is_integer():
            code_of[str(int(category))] = code
    found = pd.Index(list(code_of), dtype=object).get_indexer(texts.astype(object))
    return np.where(found >= 0, np.asarray([*code_of.values(), -1])[found], -1)


def _append_error(messages: pd.Series, feature: FeatureSpec, values: pd.Series) -> pd.Series:
    expected = feature.expected()
    text = pd.Series(
        [str(FieldProblem(feature.name, _problem(feature, value), expected)) for value in values],
        index=values.index,
        dtype=object,
    )
    return _joined(messages, text)


def _append_warning(messages: pd.Series, feature: FeatureSpec, values: pd.Series) -> pd.Series:
    text = (
        f"{feature.name}: "
        + values.map(lambda v: f"{v:g}")
        + f" is far outside the range seen in training ({feature.min:g} to {feature.max:g})"
    )
    return _joined(messages, text)


def _joined(messages: pd.Series, text: pd.Series) -> pd.Series:
    return messages.where(messages == "", messages + "; ") + text


def _problem(feature: FeatureSpec, value: Any) -> str:
    """Why one value does not fit, worded as ``validate_row`` words it."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return required_problem(feature)
    if feature.kind is FeatureKind.CATEGORY:
        return f"unknown category {_shown(value)}, never seen in training"
    if feature.kind is FeatureKind.INTEGER and _is_number(value):
        return not_whole_problem(feature, float(value))
    if _is_number(value):
        return f"got {_shown(value)}, which is not a finite number"
    return f"got {_shown(value)}"


def _is_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return not isinstance(value, bool)


def _shown(value: Any) -> str:
    text = repr(value.item() if isinstance(value, np.generic) else value)
    return text if len(text) <= 40 else text[:37] + "..."


def _with_training_dtypes(features: Sequence[FeatureSpec], frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with each column in the dtype the model was trained on (as ``to_frame``)."""
    columns = {}
    for feature in features:
        values = frame[feature.name]
        if feature.kind is FeatureKind.CATEGORY and feature.dtype == "category":
            dtype: Any = pd.CategoricalDtype(list(feature.categories or ()))
        else:
            dtype = feature.dtype
        if feature.kind is not FeatureKind.CATEGORY or feature.dtype == "category":
            values = values.astype(dtype)
        else:
            values = pd.Series(values.tolist(), dtype=dtype)
        columns[feature.name] = values
    return pd.DataFrame(columns)
