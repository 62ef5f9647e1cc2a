"""CSV lines for many rows at once, assembled with NumPy instead of row by row in Python.

A batch result has a line per input row: the row number, then a few fields. Formatting and
joining them in Python costs about a microsecond per row, as much as the model itself spends
on a row. Here each column is given as *codes* into a small table of distinct field texts (a
prediction column has a few classes; a message column is mostly empty), the row numbers are
written digit by digit, and every field is copied into one byte buffer with a handful of
vectorized operations per column, whatever the number of rows.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["CodedColumn", "coded", "csv_field", "format_lines"]

_NEEDS_QUOTES = re.compile(r'[",\r\n]')


def csv_field(value: Any) -> str:
    """One value as a CSV field (RFC 4180): None is empty; text with a comma, quote or line
    break is quoted, its quotes doubled."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if _NEEDS_QUOTES.search(text):
        return '"' + text.replace('"', '""') + '"'
    return text


@dataclass(frozen=True)
class CodedColumn:
    """A column as ``codes`` (one per row) into ``fields`` (the distinct CSV fields)."""

    codes: np.ndarray
    fields: Sequence[str]


def coded(values: Sequence[Any]) -> CodedColumn:
    """The column of ``values`` (hashable), each distinct value formatted once; None (and NaN)
    is an empty field."""
    array = np.asarray(values, dtype=object)
    kind = pd.api.types.infer_dtype(array, skipna=True)
    if kind in _ONE_TYPE and not (kind == "floating" and _negative_zero(array)):
        codes, distinct = pd.factorize(array)  # hashing in C; a missing value is code -1
        fields = [*map(csv_field, distinct.tolist()), ""]
        codes[codes < 0] = len(fields) - 1
        return CodedColumn(codes, fields)
    # Mixed types: 1, 1.0 and True are equal in Python (and to pandas), but not the same text;
    # nor are 0.0 and -0.0 (equal, and hashed alike, so pd.factorize would merge them).
    index: dict[tuple[type, Any, bool], int] = {}
    codes = np.fromiter(
        (index.setdefault(_key(value), len(index)) for value in values),
        dtype=np.intp,
        count=len(values),
    )
    return CodedColumn(codes, [csv_field(value) for _, value, _ in index])


def _key(value: Any) -> tuple[type, Any, bool]:
    return type(value), value, isinstance(value, float) and math.copysign(1.0, value) < 0


def _negative_zero(array: np.ndarray) -> bool:
    return any(
        isinstance(value, float) and value == 0 and math.copysign(1.0, value) < 0
        for value in array
    )


_ONE_TYPE = {"string", "integer", "floating", "boolean", "empty"}
"""``pd.api.types.infer_dtype`` kinds of columns whose values all have one type."""


def format_lines(first_row: int, columns: Sequence[CodedColumn]) -> bytes:
    """UTF-8 lines ``<row number>,<field>,<field>...\n`` for the rows ``first_row`` on, one
    per code of the columns (all columns have the same number of codes).

    The lines are laid out as a byte matrix with one row per line, each field padded to its
    column's widest value, next to a mask of the bytes that are not padding; the mask picks
    the lines out of the matrix, in order, in one operation.
    """
    rows = len(columns[0].codes) if columns else 0
    tables = [_padded(column.fields) for column in columns]
    digits = len(str(first_row + max(rows - 1, 0)))
    width = digits + sum(1 + fields.shape[1] for fields, _ in tables) + 1
    text = np.empty((rows, width), dtype=np.uint8)
    keep = np.ones((rows, width), dtype=bool)
    _write_numbers(text[:, :digits], keep[:, :digits], first_row)
    at = digits
    for column, (fields, lengths) in zip(columns, tables, strict=True):
        text[:, at] = ord(",")
        at += 1
        field_width = fields.shape[1]
        if field_width:
            text[:, at : at + field_width] = fields[column.codes]
            if lengths.min() < field_width:  # some fields are shorter: mask their padding
                keep[:, at : at + field_width] = (
                    np.arange(field_width) < lengths[column.codes, None]
                )
        at += field_width
    text[:, at] = ord("\n")
    return text[keep].tobytes()


def _write_numbers(text: np.ndarray, keep: np.ndarray, first: int) -> None:
    """The numbers ``first``, ``first + 1``... right-aligned in ``text`` (one per row), and
    the zeros before their first digit masked out in ``keep``."""
    rows, width = text.shape
    numbers = np.arange(first, first + rows, dtype=np.uint64)
    remaining = numbers.copy()
    for place in range(width - 1, -1, -1):  # units first; dividing by a constant is fast
        quotient = remaining // 10
        text[:, place] = remaining - quotient * 10 + ord("0")
        remaining = quotient
    powers = 10 ** np.arange(1, width, dtype=np.uint64)
    lengths = 1 + np.searchsorted(powers, numbers, side="right")
    keep[:] = np.arange(width) >= width - lengths[:, None]


def _padded(fields: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """The fields' UTF-8 bytes as rows of a matrix (zero-padded), and their lengths."""
    encoded = [field.encode() for field in fields]
    lengths = np.array([len(field) for field in encoded], dtype=np.intp)
    width = int(lengths.max(initial=0))
    padded = np.frombuffer(b"".join(field.ljust(width, b"\0") for field in encoded), np.uint8)
    return padded.reshape(len(encoded), width), lengths
