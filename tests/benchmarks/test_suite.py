"""The results page: headline tables are read from each benchmark page, ratios picked out."""

from __future__ import annotations

from pathlib import Path

from benchmarks.suite import chart, first_table, ratios

PAGE = """# Streams

Some words.

| scenario | unit | ours | peer | ratio | target |
|---|---|---|---|---|---|
| appends | appends/s | 937 | 161 | 5.81x | PASS |
| latency p99 | ms | 3.4 | 5.2 | **0.65x** | **MISS** |
| memory | MB | 131 | 80 | - | - |

| second | table |
|---|---|
| not | read |
"""


def test_the_first_table_is_read_and_the_rest_ignored() -> None:
    table = first_table(PAGE)
    assert table[0] == ["scenario", "unit", "ours", "peer", "ratio", "target"]
    assert [row[0] for row in table[1:]] == ["appends", "latency p99", "memory"]


def test_the_first_ratio_of_each_row_is_picked_rows_without_one_are_skipped() -> None:
    assert ratios(first_table(PAGE)) == [
        ("appends", "ratio", 5.81),
        ("latency p99", "ratio", 0.65),
    ]


def test_the_chart_is_a_png(tmp_path: Path) -> None:
    path = tmp_path / "chart.png"
    chart([("streams: appends", 5.81), ("naive: prediction", 1.11)], path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
