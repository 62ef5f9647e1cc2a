"""CSV lines assembled with NumPy read back as the values they were made of."""

from __future__ import annotations

import csv
import io

import numpy as np
from hypothesis import example, given
from hypothesis import strategies as st

from serving.models.csvlines import CodedColumn, coded, csv_field, format_lines

values = st.one_of(
    st.none(),
    st.text(max_size=12),  # commas, quotes, line breaks and any unicode among them
    st.sampled_from(["Adelie", "a,b", 'say "hi"', "two\nlines", "", "é"]),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False),
)


def expected_rows(first_row: int, columns: list[list[object]]) -> list[list[str]]:
    return [
        [str(first_row + offset), *("" if value is None else str(value) for value in row)]
        for offset, row in enumerate(zip(*columns, strict=True))
    ]


@given(
    first_row=st.integers(0, 10**9),
    columns=st.integers(1, 4).flatmap(
        lambda width: st.integers(1, 30).flatmap(
            lambda rows: st.lists(
                st.lists(values, min_size=rows, max_size=rows), min_size=width, max_size=width
            )
        )
    ),
)
@example(first_row=0, columns=[[0.0, -0.0]])  # equal, and pd.factorize once merged them
@example(first_row=0, columns=[["a", 0.0, -0.0]])  # the same in a column of mixed types
def test_the_csv_module_reads_the_lines_back_as_their_values(first_row, columns):
    lines = format_lines(first_row, [coded(column) for column in columns])
    read = list(csv.reader(io.StringIO(lines.decode(), newline="")))
    assert read == expected_rows(first_row, columns)
    assert lines.endswith(b"\n") and not lines.endswith(b"\r\n")


def test_row_numbers_cross_powers_of_ten():
    lines = format_lines(8, [coded(["x"] * 95)]).decode().splitlines()
    assert [line.split(",")[0] for line in lines] == [str(n) for n in range(8, 103)]


def test_a_column_given_as_codes_into_its_distinct_fields():
    sparse = CodedColumn(np.array([0, 2, 0, 1]), ["", csv_field("far, away"), "low"])
    assert format_lines(0, [sparse]) == b'0,\n1,low\n2,\n3,"far, away"\n'


def test_fields_are_quoted_only_when_they_must_be():
    assert [csv_field(v) for v in (None, "", "a b", "a,b", 'q"', "x\r")] == [
        "",
        "",
        "a b",
        '"a,b"',
        '"q"""',
        '"x\r"',
    ]
