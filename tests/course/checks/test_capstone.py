
import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import train_test_split

from course import checks, datasets
from course.weather import RAIN_TOMORROW, rain_tomorrow


def test_time_ordered_split_names_the_mistake():
    days = pd.DataFrame(
        {"date": pd.date_range("2012-01-01", periods=100, freq="D")}, index=range(100, 200)
    )
    X = pd.DataFrame({"temp": range(100)}, index=days.index)
    feedback = checks.time_ordered_split(X.iloc[:80], X.iloc[80:], days)
    assert feedback.passed
    assert "tested on the 20 days from 2012-03-21 to 2012-04-09" in feedback.message
    train, test = train_test_split(X, test_size=0.2, random_state=0)
    feedback = checks.time_ordered_split(train, test, days)
    assert "training days come after the first test day" in feedback.message
    assert "time_split" in feedback.hint
    feedback = checks.time_ordered_split(X.iloc[:81], X.iloc[80:], days)
    assert "in both parts" in feedback.message
    feedback = checks.time_ordered_split(X.iloc[:50], X.iloc[50:], days)
    assert "holds 50% of the days" in feedback.message
    assert "empty" in checks.time_ordered_split(X, X.iloc[:0], days).message
    feedback = checks.time_ordered_split(X.reset_index(drop=True), X.iloc[:0], days)
    assert "not rows of the table" in feedback.message


@pytest.fixture(scope="module")
def rain_table():
    weather = datasets.load("seattle_weather")
    return rain_tomorrow(weather.assign(month=weather["date"].dt.month))


def test_model_ready_features_accepts_numbers_known_today(rain_table):
    X = rain_table[["precipitation", "temp_max", "temp_min", "wind", "month"]]
    feedback = checks.model_ready_features(X, rain_table, target=RAIN_TOMORROW)
    assert feedback.passed
    assert "5 numeric features for 1460 rows" in feedback.message


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda t: t[["precipitation", RAIN_TOMORROW]], "contains the target"),
        (lambda t: t[["precipitation", "date"]], "['date'] hold dates"),
        (lambda t: t[["precipitation", "weather"]], "['weather'] hold labels"),
        (lambda t: t[["precipitation"]].iloc[:-1], "has 1459 rows but the table has 1460"),
        (lambda t: t[["precipitation"]].assign(gap=np.nan), "['gap'] have missing values"),
        (lambda t: t[[]], "has no columns"),
        (lambda t: t["precipitation"], "should be a DataFrame"),
        (
            lambda t: t[["wind"]].assign(rain_next=t["precipitation"].shift(-1).fillna(0)),
            "'rain_next' gives the target away",
        ),
    ],
)
def test_model_ready_features_names_the_mistake(rain_table, make, says):
    feedback = checks.model_ready_features(make(rain_table), rain_table, target=RAIN_TOMORROW)
    assert not feedback.passed
    assert says in feedback.message
    assert feedback.hint


def test_class_probability_reports_a_row_the_model_cannot_read(split, fitted):
    feedback = checks.class_probability(0.5, fitted, split[1].head(1)[["island"]], "Adelie")
    assert "cannot score the row" in feedback.message


def test_persistence_accuracy_names_the_mistake():
    X_test = pd.DataFrame({"precipitation": [0.0, 2.0, 0.5, 0.0, 0.0]})
    y_test = pd.Series([False, True, False, False, True])  # the rule is right on 3 of 5 days
    assert checks.persistence_accuracy(0.6, X_test, y_test).passed
    for answer, says in [
        (60, "percentage"),
        (0.4, "gets wrong"),
        ("0.6", "should be a number"),
        (0.9, "not the accuracy"),
    ]:
        feedback = checks.persistence_accuracy(answer, X_test, y_test)
        assert not feedback.passed
        assert says in feedback.message
    rainy = pd.Series([False, True, True, True, False])  # 60% rainy, the rule right on 20%
    today = pd.DataFrame({"precipitation": [1.0, 0.0, 0.0, 0.0, 0.0]})
    feedback = checks.persistence_accuracy(0.6, today, rainy)
    assert "share of rainy days" in feedback.message
