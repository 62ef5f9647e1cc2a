"""Material for the leakage demo of notebook 02: columns of pure noise.

Noise columns hold no information about anything, so no honest procedure can predict a label
from them better than the baseline. That makes them the clearest test of a procedure: when a
score measured on noise comes out far above the baseline, the procedure leaked (typically:
features were chosen by looking at every row, the rows later used for scoring included).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["noise_columns"]


def noise_columns(
    index: Sequence[Any] | pd.Index, n_columns: int, *, random_state: int = 0
) -> pd.DataFrame:
    """``n_columns`` columns of random numbers (standard normal), one row per label of ``index``.

    The columns are named ``noise_0``, ``noise_1``, ...; the same ``random_state`` gives the
    same numbers. Pass a table's index (``X_train.index``) to line the noise up with its rows.
    """
    if n_columns < 1:
        raise ValueError(f"n_columns={n_columns!r}: ask for at least one column of noise.")
    index = pd.Index(index)
    values = np.random.default_rng(random_state).normal(size=(len(index), n_columns))
    return pd.DataFrame(values, index=index, columns=[f"noise_{i}" for i in range(n_columns)])
