from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from benchmarks import notebooks_bench


def test_table_gives_medians_and_shares_of_the_budget():
    text = notebooks_bench.table(
        {Path("09_deep.ipynb"): [40.0, 45.0, 90.0], Path("10_rl.ipynb"): [9.0]}
    )
    lines = text.splitlines()
    assert lines[2] == "| 09_deep.ipynb | 45.0 | 3 | 50% |"
    assert lines[3] == "| 10_rl.ipynb | 9.0 | 1 | 10% |"
    assert lines[4].startswith("| **all 2 notebooks** | **54.0** |")
    assert "15% of the 6 min course budget" in lines[4]


def test_measure_runs_each_notebook_once_per_round(tmp_path):
    path = tmp_path / "01_tiny.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell("1 + 1")]), path)
    times = notebooks_bench.measure([path], rounds=2)
    assert len(times[path]) == 2
    assert all(seconds > 0 for seconds in times[path])
