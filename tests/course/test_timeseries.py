import pandas as pd
import pytest

from course.timeseries import time_split


@pytest.fixture
def daily():
    dates = pd.Series(pd.date_range("2014-12-29", periods=6, freq="D"), name="date")
    X = pd.DataFrame({"temp": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]}, index=range(10, 16))
    y = pd.Series([0, 1, 0, 1, 0, 1], index=X.index, name="rain")
    return X, y, dates


def test_the_past_trains_and_the_future_tests(daily):
    X, y, dates = daily
    X_train, y_train, test_set = time_split(X, y, dates=dates, test_from="2015-01-01")
    X_test, y_test = test_set.open()
    assert X_train["temp"].tolist() == [1.0, 2.0, 3.0]
    assert X_test["temp"].tolist() == [4.0, 5.0, 6.0]
    assert y_train.index.tolist() == X_train.index.tolist() == [10, 11, 12]
    assert y_test.index.tolist() == [13, 14, 15]


def test_the_dates_may_be_a_column_with_another_index_or_strings(daily):
    X, y, dates = daily
    as_text = dates.dt.strftime("%Y-%m-%d").tolist()
    X_train, _, test_set = time_split(X, y, dates=as_text, test_from=pd.Timestamp("2015-01-02"))
    X_test, _ = test_set.open()
    assert (len(X_train), len(X_test)) == (4, 2)


def test_rows_out_of_date_order_are_refused(daily):
    X, y, dates = daily
    with pytest.raises(ValueError, match="not in date order: sort the frame by date first"):
        time_split(X, y, dates=dates[::-1], test_from="2015-01-01")


@pytest.mark.parametrize(
    ("test_from", "side"), [("2014-01-01", "training"), ("2016-01-01", "test")]
)
def test_a_cut_outside_the_dates_is_refused(daily, test_from, side):
    X, y, dates = daily
    with pytest.raises(ValueError, match=f"leaves no {side} rows: the dates run from 2014-12-29"):
        time_split(X, y, dates=dates, test_from=test_from)


def test_rows_that_do_not_line_up_are_refused(daily):
    X, y, dates = daily
    with pytest.raises(ValueError, match="X has 6 rows, y 5 and dates 6"):
        time_split(X, y.iloc[:5], dates=dates, test_from="2015-01-01")
    with pytest.raises(ValueError, match="1 rows have no date"):
        time_split(X, y, dates=[*dates[:5], None], test_from="2015-01-01")
