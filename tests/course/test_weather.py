import pandas as pd
import pytest

from course import datasets
from course.weather import RAIN_TOMORROW, rain_tomorrow


def days(precipitation, start="2015-03-01"):
    return pd.DataFrame(
        {
            "date": pd.date_range(start, periods=len(precipitation), freq="D"),
            "precipitation": precipitation,
            "temp_max": 10.0,
        }
    )


def test_each_day_gets_whether_it_rains_the_next_day():
    table = rain_tomorrow(days([0.0, 2.5, 0.0, 0.3]))
    assert table[RAIN_TOMORROW].tolist() == [True, False, True]
    assert table[RAIN_TOMORROW].dtype == bool
    # Today's own measurements stay as features; the last day, with no tomorrow, is gone.
    assert table["precipitation"].tolist() == [0.0, 2.5, 0.0]
    assert list(table.columns) == ["date", "precipitation", "temp_max", RAIN_TOMORROW]


def test_a_threshold_ignores_traces_of_rain():
    table = rain_tomorrow(days([0.0, 0.3, 1.5]), min_mm=1.0)
    assert table[RAIN_TOMORROW].tolist() == [False, True]


def test_the_input_frame_is_left_unchanged():
    weather = days([1.0, 0.0])
    rain_tomorrow(weather)
    assert list(weather.columns) == ["date", "precipitation", "temp_max"]
    assert len(weather) == 2


def test_on_seattle_rain_follows_the_precipitation_not_the_weather_label():
    weather = datasets.load("seattle_weather")
    table = rain_tomorrow(weather)
    assert len(table) == len(weather) - 1
    expected = weather["precipitation"].iloc[1:].to_numpy() > 0
    assert (table[RAIN_TOMORROW].to_numpy() == expected).all()
    assert 0.4 < table[RAIN_TOMORROW].mean() < 0.45


@pytest.mark.parametrize(
    ("dates", "says"),
    [
        (["2015-03-01", "2015-03-02", "2015-03-04"], "2015-03-04 follows 2015-03-02 \\(1 such"),
        (["2015-03-02", "2015-03-01", "2015-03-03"], "2015-03-01 follows 2015-03-02 \\(2 such"),
        (["2015-03-01", "2015-03-01", "2015-03-02"], "2015-03-01 follows 2015-03-01"),
    ],
)
def test_rows_that_are_not_consecutive_days_are_refused(dates, says):
    weather = pd.DataFrame({"date": pd.to_datetime(dates), "precipitation": [0.0, 1.0, 0.0]})
    with pytest.raises(ValueError, match=f"must be consecutive days in order, but {says}"):
        rain_tomorrow(weather)


def test_missing_columns_and_values_are_named():
    with pytest.raises(ValueError, match="needs a 'date' column, but the frame has only"):
        rain_tomorrow(days([0.0, 1.0]).rename(columns={"date": "day"}))
    with pytest.raises(ValueError, match=r"precipitation='\.\.\.'"):
        rain_tomorrow(days([0.0, 1.0]).drop(columns="precipitation"))
    with pytest.raises(ValueError, match="1 days have no 'precipitation' value"):
        rain_tomorrow(days([0.0, None, 1.0]))
    with pytest.raises(ValueError, match="at least two days"):
        rain_tomorrow(days([0.0]))
    undated = days([0.0, 1.0]).astype({"date": "object"})
    undated.loc[1, "date"] = None
    with pytest.raises(ValueError, match="1 rows have no 'date'"):
        rain_tomorrow(undated)


def test_tomorrow_like_today_predicts_rain_after_a_wet_day():
    from sklearn.base import clone, is_classifier

    from course.evaluate import report
    from course.weather import TomorrowLikeToday

    X = pd.DataFrame({"precipitation": [0.0, 2.5, 0.3, 0.0], "wind": 1.0})
    y = pd.Series([True, True, False, False])
    rule = TomorrowLikeToday().fit(X, y)
    assert is_classifier(rule) and rule.classes_.tolist() == [False, True]
    assert rule.predict(X).tolist() == [False, True, True, False]
    assert rule.predict_proba(X)[:, 1].tolist() == [0.0, 1.0, 1.0, 0.0]
    assert rule.score(X, y) == 0.5
    heavy = TomorrowLikeToday(min_mm=1.0).fit(X, y)
    assert heavy.predict(X).tolist() == [False, True, False, False]
    assert clone(rule).get_params() == {"column": "precipitation", "min_mm": 0.0}
    assert "accuracy" in str(report(rule, X, y))


def test_tomorrow_like_today_is_measured_in_each_time_ordered_fold():
    from sklearn.model_selection import TimeSeriesSplit, cross_val_score

    from course.weather import TomorrowLikeToday

    table = rain_tomorrow(datasets.load("seattle_weather"))
    X, y = table[["precipitation", "wind"]], table[RAIN_TOMORROW]
    folds = TimeSeriesSplit(n_splits=4)
    scores = cross_val_score(TomorrowLikeToday(), X, y, cv=folds)
    expected = [((X.iloc[v]["precipitation"] > 0) == y.iloc[v]).mean() for _, v in folds.split(X)]
    assert scores.tolist() == pytest.approx(expected)


def test_tomorrow_like_today_names_what_it_needs():
    from sklearn.exceptions import NotFittedError

    from course.weather import TomorrowLikeToday

    X = pd.DataFrame({"rain_mm": [0.0, 1.0]})
    with pytest.raises(ValueError, match="reads today's 'precipitation' column, but X has"):
        TomorrowLikeToday().fit(X, [True, False])
    assert TomorrowLikeToday(column="rain_mm").fit(X, [True, False]).predict(X).tolist() == [
        False,
        True,
    ]
    with pytest.raises(NotFittedError):
        TomorrowLikeToday().predict(X)
