"""The capstone's target: "will it rain tomorrow?", built from daily weather records.

``rain_tomorrow(weather)`` adds to each day the answer the model must learn: whether the
*next* day had precipitation. It is read from the measured precipitation, not from the
dataset's ``weather`` label, which its datasheet calls unreliable. The last day has no
tomorrow in the data, so it is dropped rather than given a made-up answer.

``TomorrowLikeToday`` is the baseline a Seattle local would give, "tomorrow like today", as a
scikit-learn classifier with nothing to fit: cross-validation and ``report`` measure it like
any model.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

__all__ = ["RAIN_TOMORROW", "TomorrowLikeToday", "rain_tomorrow"]

RAIN_TOMORROW = "rain_tomorrow"


def rain_tomorrow(
    weather: pd.DataFrame,
    *,
    min_mm: float = 0.0,
    date: str = "date",
    precipitation: str = "precipitation",
) -> pd.DataFrame:
    """A copy of ``weather`` without its last day, plus a boolean column ``rain_tomorrow``.

    ``rain_tomorrow`` is True when the next day's precipitation is above ``min_mm``. The rows
    must be consecutive days in order, otherwise "the next row" would not be "tomorrow".
    """
    for parameter, column in (("date", date), ("precipitation", precipitation)):
        if column not in weather.columns:
            raise ValueError(
                f"rain_tomorrow needs a {column!r} column, but the frame has only "
                f"{list(weather.columns)}: pass the daily weather table, or name the column "
                f"that holds the {parameter} with {parameter}='...'"
            )
    if len(weather) < 2:
        raise ValueError("rain_tomorrow needs at least two days: one to learn from, its next")
    days = pd.to_datetime(weather[date]).reset_index(drop=True)
    if days.isna().any():
        raise ValueError(f"{int(days.isna().sum())} rows have no {date!r}: drop them first")
    gaps = days.diff().iloc[1:] != pd.Timedelta(days=1)
    if gaps.any():
        position = int(gaps.idxmax())  # the first row that does not follow its previous day
        before, after = days[position - 1].date(), days[position].date()
        raise ValueError(
            f"rows must be consecutive days in order, but {after} follows {before} "
            f"({int(gaps.sum())} such step{'s' if gaps.sum() != 1 else ''}): sort by date "
            "(weather.sort_values('date')) and keep one row per day, with no gaps"
        )
    rain = weather[precipitation]
    if rain.isna().any():
        raise ValueError(
            f"{int(rain.isna().sum())} days have no {precipitation!r} value, so whether it "
            "rained on them cannot be told: fill or drop them first"
        )
    table = weather.iloc[:-1].copy()
    table[RAIN_TOMORROW] = (rain.shift(-1).iloc[:-1] > min_mm).astype(bool)
    return table


class TomorrowLikeToday(ClassifierMixin, BaseEstimator):
    """The persistence rule as a scikit-learn classifier: rain tomorrow when it rained today.

    It has nothing to learn: ``fit`` only notes the classes, so cross-validation measures it on
    each validation fold exactly like a model, and ``report`` scores it on the test days. The
    rule predicts True when ``column`` (today's precipitation) is above ``min_mm``; its
    "probability" of True is 1 or 0, a yes/no answer that cannot rank the days by risk.
    """

    def __init__(self, column: str = "precipitation", min_mm: float = 0.0) -> None:
        self.column = column
        self.min_mm = min_mm

    def fit(self, X: pd.DataFrame, y: object = None) -> TomorrowLikeToday:
        self._today(X)
        self.classes_ = np.array([False, True])
        self.n_features_in_ = X.shape[1]
        return self

    def _today(self, X: pd.DataFrame) -> np.ndarray:
        if not isinstance(X, pd.DataFrame) or self.column not in X.columns:
            found = list(X.columns) if isinstance(X, pd.DataFrame) else type(X).__name__
            raise ValueError(
                f"TomorrowLikeToday reads today's {self.column!r} column, but X has {found}: "
                "pass a DataFrame with that column, or name it with column='...'"
            )
        return np.asarray(X[self.column], dtype=float)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        check_is_fitted(self)
        return self._today(X) > self.min_mm

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        rain = self.predict(X).astype(float)
        return np.column_stack([1.0 - rain, rain])
