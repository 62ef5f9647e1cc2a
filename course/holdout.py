"""The test set in a sealed envelope: split once, choose on the training rows, open it once.

Every score taken on the test set and used to choose something (a model, a setting, a feature)
makes that score optimistic, and a learner who retries until a number looks good is tuning on
it. So the course never hands out the test rows with the training rows: ``split_and_seal``
returns the training part and a ``SealedTestSet``. Until the evaluation step, the envelope
only says what is written on it (how many rows, which rows, the share of each class);
``open()`` gives the rows, and records that it was opened so a second opening is visible.

``course.notebooks.test_set_problems`` reads every notebook's code and refuses one that opens its
test set (or touches test rows) before the cell tagged ``evaluation``, opens it twice, or gives
test rows to a check; ``tests/notebooks/test_committed_notebooks.py`` runs it on every notebook.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["SealedTestSet", "split_and_seal"]


class SealedTestSet:
    """Test rows that stay out of sight until ``open()``, the evaluation step."""

    def __init__(self, X: pd.DataFrame, y: pd.Series) -> None:
        if len(X) != len(y):
            raise ValueError(
                f"X has {len(X)} rows but y has {len(y)}: seal the test rows with their labels."
            )
        self._X = X
        self._y = y
        self.times_opened = 0

    def __len__(self) -> int:
        return len(self._X)

    @property
    def index(self) -> pd.Index:
        """Which rows are in the envelope (their labels in the original table), not their values."""
        return self._X.index

    @property
    def label_shares(self) -> pd.Series:
        """The share of each class: what a stratified split keeps equal on both sides."""
        return self._y.value_counts(normalize=True)

    def open(self) -> tuple[pd.DataFrame, pd.Series]:
        """The test rows and their labels, ``X_test, y_test``: only at the evaluation step.

        Opening twice is allowed (a re-run cell opens it again) but counted: the first score
        is the one to report, and nothing may be chosen from either.
        """
        self.times_opened += 1
        return self._X, self._y

    def __repr__(self) -> str:
        if self.times_opened == 0:
            state = "sealed: open it once, at the evaluation step"
        elif self.times_opened == 1:
            state = "opened once"
        else:
            state = f"opened {self.times_opened} times: report the first score, choose nothing"
        return f"<test set of {len(self)} rows, {state}>"


def split_and_seal(
    X: pd.DataFrame,
    y: pd.Series,
    *,
    test_size: float | int,
    random_state: int | None,
    stratify: Any = None,
    shuffle: bool = True,
) -> tuple[pd.DataFrame, pd.Series, SealedTestSet]:
    """``train_test_split``, with the test part sealed: ``X_train, y_train, test_set``.

    The arguments are ``train_test_split``'s, and the rows are exactly the ones it picks.
    ``random_state`` is required: an unseeded split changes the test rows on every run.
    """
    from sklearn.model_selection import train_test_split

    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_size, random_state=random_state, stratify=stratify, shuffle=shuffle
    )
    return X_train, y_train, SealedTestSet(X_test, y_test)
