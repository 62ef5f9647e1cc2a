
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from course import checks, datasets
from course.checks import Verdict
from course.holdout import SealedTestSet, split_and_seal
from course.timeseries import time_split
from course.weather import RAIN_TOMORROW, TomorrowLikeToday, rain_tomorrow


def _dated(n=100):
    days = pd.DataFrame(
        {"date": pd.date_range("2012-01-01", periods=n, freq="D")}, index=range(100, 100 + n)
    )
    X = pd.DataFrame({"temp": range(n)}, index=days.index)
    y = pd.Series([i % 2 == 0 for i in range(n)], index=days.index)
    return days, X, y


def test_time_ordered_split_accepts_a_split_by_date_with_the_test_rows_sealed():
    days, X, y = _dated()
    X_train, _, test_set = time_split(X, y, dates=days["date"], test_from="2012-03-21")
    feedback = checks.time_ordered_split(X_train, test_set, days, test_from="2012-03-21")
    assert feedback.passed
    assert "the 20 test days, from 2012-03-21 to 2012-04-09, stay sealed" in feedback.message
    assert test_set.times_opened == 0  # the check reads only the envelope


def test_time_ordered_split_names_the_mistake():
    days, X, y = _dated()
    # a random split: shuffled days
    X_train, _, test_set = split_and_seal(X, y, test_size=0.2, random_state=0)
    feedback = checks.time_ordered_split(X_train, test_set, days)
    assert "training days come after the first test day" in feedback.message
    assert "time_split" in feedback.hint
    # the wrong test period (the exercise tests from 2012-03-21; this tests from 2012-03-11)
    X_train, _, test_set = time_split(X, y, dates=days["date"], test_from="2012-03-11")
    feedback = checks.time_ordered_split(X_train, test_set, days, test_from="2012-03-21")
    assert "the test days start on 2012-03-11, but the exercise tests on the days from " \
        "2012-03-21" in feedback.message
    # overlapping rows: training on every day
    test_set = SealedTestSet(X.iloc[80:], y.iloc[80:])
    assert "20 rows are in both parts" in checks.time_ordered_split(X, test_set, days).message
    # the test days first, the training days after them
    backwards = SealedTestSet(X.iloc[:20], y.iloc[:20])
    feedback = checks.time_ordered_split(X.iloc[20:], backwards, days)
    assert "80 training days come after the first test day (2012-01-01)" in feedback.message
    # half the days for testing
    feedback = checks.time_ordered_split(X.iloc[:50], SealedTestSet(X.iloc[50:], y[50:]), days)
    assert "holds 50% of the days" in feedback.message
    # some days in neither part
    feedback = checks.time_ordered_split(X.iloc[:60], SealedTestSet(X.iloc[80:], y[80:]), days)
    assert "hold 80 days together, but the table has 100" in feedback.message
    # the old four-part split: the test rows in the open
    feedback = checks.time_ordered_split(X.iloc[:80], X.iloc[80:], days)
    assert "should be the sealed test set that time_split returns, got DataFrame" in (
        feedback.message
    )
    # X and y swapped in the unpacking
    feedback = checks.time_ordered_split(y.iloc[:80], SealedTestSet(X[80:], y[80:]), days)
    assert "`X_train` should be the DataFrame of training features, got Series" in (
        feedback.message
    )
    empty = SealedTestSet(X.iloc[:0], y.iloc[:0])
    assert "empty" in checks.time_ordered_split(X, empty, days).message
    renumbered = SealedTestSet(X.reset_index(drop=True), y.reset_index(drop=True))
    feedback = checks.time_ordered_split(X.iloc[:0], renumbered, days)
    assert "not rows of the table" in feedback.message
    assert not feedback.passed and feedback.hint
    feedback = checks.time_ordered_split(X, ..., days)
    assert feedback.verdict is Verdict.NOT_ANSWERED and "`test_set`" in feedback.message


@pytest.fixture(scope="module")
def rain_table():
    weather = datasets.load("seattle_weather")
    return rain_tomorrow(weather.assign(month=weather["date"].dt.month))


def test_model_ready_features_accepts_numbers_known_today(rain_table):
    X = rain_table[["precipitation", "temp_max", "temp_min", "wind", "month"]]
    feedback = checks.model_ready_features(X, rain_table, target=RAIN_TOMORROW)
    assert feedback.passed
    assert "5 numeric features for 1460 rows" in feedback.message
    # What today says, however it is written: a threshold, a rescaling, yesterday's value
    # (today's weather follows yesterday's as tomorrow's follows today's: not a leak).
    X = rain_table[["temp_max", "month"]].assign(
        rained_today=rain_table["precipitation"] > 0,
        rain_cm=rain_table["precipitation"] / 10,
        wind_kmh=rain_table["wind"] * 3.6,
        temp_yesterday=rain_table["temp_max"].shift(1).bfill(),
        warm_today=rain_table["temp_max"] > 15,
    )
    assert checks.model_ready_features(X, rain_table, target=RAIN_TOMORROW).passed


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda t: t[["precipitation", RAIN_TOMORROW]], "contains the target"),
        (lambda t: t[["precipitation", "date"]], "['date'] hold dates"),
        (lambda t: t[["precipitation", "weather"]], "['weather'] hold labels"),
        (lambda t: t[["precipitation"]].iloc[:-1], "has 1459 rows but the table has 1460"),
        (lambda t: t[["precipitation"]].assign(gap=np.nan), "['gap'] have missing values"),
        (lambda t: t[[]], "has no columns"),
        (lambda t: t["precipitation"], "is one column ('precipitation'), a Series"),
        (
            lambda t: t[["wind"]].assign(rain_next=t["precipitation"].shift(-1).fillna(0)),
            "'rain_next' carries tomorrow's 'precipitation'",
        ),
        (  # the target itself under another name, and its opposite
            lambda t: t[["wind"]].assign(answer=t[RAIN_TOMORROW]),
            "'answer' gives the target away: it follows 'rain_tomorrow' on 100%",
        ),
        (
            lambda t: t[["wind"]].assign(dry_tomorrow=~t[RAIN_TOMORROW]),
            "'dry_tomorrow' gives the target away",
        ),
        (  # the target rescaled
            lambda t: t[["wind"]].assign(score=t[RAIN_TOMORROW] * 10),
            "'score' gives the target away",
        ),
        (  # tomorrow's temperature: nothing to do with rain, still the future
            lambda t: t[["precipitation"]].assign(
                temp_next=t["temp_max"].shift(-1).fillna(t["temp_max"].iloc[-1])
            ),
            "'temp_next' carries tomorrow's 'temp_max'",
        ),
        (  # a rescaled copy of tomorrow's rain, in centimetres
            lambda t: t[["wind"]].assign(rain_cm=t["precipitation"].shift(-1).fillna(0) / 10),
            "'rain_cm' carries tomorrow's 'precipitation': it follows the next day's value on 100%",
        ),
        (  # tomorrow's rain, log-transformed
            lambda t: t[["wind"]].assign(log_rain=np.log1p(t["precipitation"].shift(-1).fillna(0))),
            "'log_rain' carries tomorrow's 'precipitation'",
        ),
        (  # a threshold of tomorrow's temperature
            lambda t: t[["precipitation"]].assign(warm_tomorrow=t["temp_max"].shift(-1) > 15),
            "'warm_tomorrow' carries tomorrow's 'temp_max'",
        ),
        (
            lambda t: t[["precipitation"]].assign(wind_next=t["wind"].shift(-1).ffill() * 3.6),
            "'wind_next' carries tomorrow's 'wind'",
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
    X_train = pd.DataFrame({"precipitation": [0.0, 2.0, 0.5, 0.0, 0.0]})
    y_train = pd.Series([False, True, False, False, True])  # the rule is right on 3 of 5 days
    feedback = checks.persistence_accuracy(0.6, X_train, y_train)
    assert feedback.passed and "60.0% of the training days" in feedback.message
    for answer, says in [
        (60, "percentage"),
        (0.4, "gets wrong"),
        ("0.6", "is the text '0.6', not a number between 0 and 1"),
        (0.9, "not the accuracy"),
    ]:
        feedback = checks.persistence_accuracy(answer, X_train, y_train)
        assert not feedback.passed
        assert says in feedback.message
        assert feedback.hint
    rainy = pd.Series([False, True, True, True, False])  # 60% rainy, the rule right on 20%
    today = pd.DataFrame({"precipitation": [1.0, 0.0, 0.0, 0.0, 0.0]})
    feedback = checks.persistence_accuracy(0.6, today, rainy)
    assert "share of days followed by rain" in feedback.message
    # the share of days the rule says rain: 2 wet days of 5, while it is right on 3 of 5
    wet = pd.DataFrame({"precipitation": [1.0, 1.0, 0.0, 0.0, 0.0]})
    truth = pd.Series([True, False, False, False, False])  # right on 4 of 5, says rain on 2
    feedback = checks.persistence_accuracy(0.4, wet, truth)
    assert "the share of days on which the rule says rain" in feedback.message
    feedback = checks.persistence_accuracy(..., X_train, y_train)
    assert feedback.verdict is Verdict.NOT_ANSWERED and "`persistence`" in feedback.message


@pytest.fixture(scope="module")
def rain_split(rain_table):
    X = rain_table[["precipitation", "temp_max", "temp_min", "wind", "month"]]
    y = rain_table[RAIN_TOMORROW]
    return X, y, *time_split(X, y, dates=rain_table["date"], test_from="2015-01-01")


def _logistic():
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression())


def test_time_series_model_judges_by_time_ordered_folds_on_the_training_days(rain_split):
    from sklearn.model_selection import TimeSeriesSplit

    _, _, X_train, y_train, test_set = rain_split
    model = _logistic().fit(X_train, y_train)
    feedback = checks.time_series_model(model, TimeSeriesSplit(n_splits=5), X_train, y_train)
    assert feedback.passed, feedback
    assert "fitted on the 1096 training days; accuracy 0.6" in feedback.message
    assert "over 5 time-ordered folds, against 0.548 for 'never rains'" in feedback.message
    assert "for 'tomorrow like today'" in feedback.message
    assert test_set.times_opened == 0


@pytest.mark.parametrize(
    ("folds", "says"),
    [
        (5, "`folds` is 5, not a splitter: with cv=5"),
        ("KFold(n_splits=5, shuffle=True, random_state=0)", "KFold shuffles the days"),
        ("KFold(n_splits=5)", "KFold does not keep the past before the future"),
        ("StratifiedKFold(n_splits=5)", "StratifiedKFold does not keep the past"),
        ("ShuffleSplit(n_splits=5, random_state=0)", "ShuffleSplit does not keep the past"),
    ],
)
def test_time_series_model_refuses_folds_that_peek_at_the_future(rain_split, folds, says):
    from sklearn import model_selection  # noqa: F401 - used by eval

    _, _, X_train, y_train, _ = rain_split
    if isinstance(folds, str):
        folds = eval(f"model_selection.{folds}")
    model = _logistic().fit(X_train, y_train)
    feedback = checks.time_series_model(model, folds, X_train, y_train)
    assert not feedback.passed
    assert says in feedback.message
    assert "TimeSeriesSplit" in feedback.hint


def test_time_series_model_names_the_mistake(rain_split):
    from sklearn.dummy import DummyClassifier
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LinearRegression
    from sklearn.model_selection import TimeSeriesSplit

    X, y, X_train, y_train, _ = rain_split
    folds = TimeSeriesSplit(n_splits=5)
    cases = [
        # fitted on every day, the sealed 2015 days included
        (_logistic().fit(X, y), "was not fitted on the 1096 training days"),
        # fitted on the first fold only
        (_logistic().fit(X_train[:300], y_train[:300]), "was not fitted on the 1096"),
        # fitted on fewer features than X_train holds
        (
            _logistic().fit(X_train[["wind"]], y_train),
            "fitted on the columns ['wind'], but X_train has",
        ),
        (_logistic(), "not fitted yet"),
        (
            RandomForestClassifier(n_estimators=5, random_state=None).fit(X_train, y_train),
            "two different models",
        ),
        (DummyClassifier().fit(X_train, y_train), "a baseline itself"),
        (TomorrowLikeToday().fit(X_train, y_train), "a baseline itself"),
        (LinearRegression().fit(X_train, y_train), "not a classifier"),
        ("forest", "should be a scikit-learn model"),
    ]
    for model, says in cases:
        feedback = checks.time_series_model(model, folds, X_train, y_train)
        assert not feedback.passed, says
        assert says in feedback.message, feedback
        assert feedback.hint
    # a model that learns nothing useful: the wind alone says little about tomorrow's rain
    windy = _logistic().fit(X_train[["wind"]], y_train)
    feedback = checks.time_series_model(windy, folds, X_train[["wind"]], y_train)
    assert "not clearly better than never rains" in feedback.message
    feedback = checks.time_series_model(_logistic(), ..., X_train, y_train)
    assert feedback.verdict is Verdict.NOT_ANSWERED and "`folds`" in feedback.message
    feedback = checks.time_series_model(..., folds, X_train, y_train)
    assert feedback.verdict is Verdict.NOT_ANSWERED and "`model`" in feedback.message


def test_opened_once_counts_the_openings():
    X = pd.DataFrame({"a": [1, 2]})
    test_set = SealedTestSet(X, pd.Series([True, False]))
    feedback = checks.opened_once(test_set)
    assert not feedback.passed and "still sealed" in feedback.message
    test_set.open()
    feedback = checks.opened_once(test_set)
    assert feedback.passed and "the 2 test days were opened once" in feedback.message
    test_set.open()
    feedback = checks.opened_once(test_set)
    assert not feedback.passed and "opened 2 times" in feedback.message
    assert "should be the sealed test set" in checks.opened_once([X]).message
    feedback = checks.opened_once(...)
    assert feedback.verdict is Verdict.NOT_ANSWERED and "`test_set`" in feedback.message


# --- What a beginner really writes: each gets its own message, never the safety net ----------


def _specific(feedback, says):
    assert not feedback.passed, feedback
    assert says in feedback.message, feedback
    assert feedback.error == "", feedback.error  # recognised, not the generic fallback
    return feedback


def test_model_ready_features_reads_every_kind_of_x_and_table(rain_table):
    weather = datasets.load("seattle_weather")
    today = ["precipitation", "wind"]
    cases = [
        # built from the weather records: the last day has no tomorrow, so no target
        (weather[today], rain_table, "has 1461 rows, one more than `table` (1460)"),
        (rain_table[today].to_numpy(), rain_table, "its columns have lost their names"),
        (rain_table[["wind", "wind"]], rain_table, "has the column(s) ['wind'] twice"),
        (rain_table[today].assign(ratio=rain_table["wind"] / 0.0), rain_table,
         "['ratio'] hold infinite values"),
        ([1, 2, 3], rain_table, "is a list of 3 items, not a table of features"),
        # step 2 left as it was before rain_tomorrow: no target column in the table
        (rain_table[today], weather, "`table` has no 'rain_tomorrow' column"),
        (rain_table[today], rain_table["precipitation"], "`table` is a Series of 1460 values"),
    ]
    for X, table, says in cases:
        feedback = _specific(checks.model_ready_features(X, table, target=RAIN_TOMORROW), says)
        assert feedback.hint
    feedback = checks.model_ready_features(rain_table[today], ..., target=RAIN_TOMORROW)
    assert feedback.verdict is Verdict.NOT_ANSWERED and "`table`" in feedback.message


def test_time_ordered_split_reads_the_parts_in_any_order(rain_split, rain_table):
    X, y, X_train, y_train, test_set = rain_split
    date = "2015-01-01"
    # X_train, test_set, y_train = time_split(...): the labels where the envelope should be
    mixed_up = X_train, y_train
    feedback = _specific(
        checks.time_ordered_split(mixed_up[0], mixed_up[1], rain_table, test_from=date),
        "should be the sealed test set that time_split returns, got Series",
    )
    assert "X_train, y_train, test_set" in feedback.hint
    # parts = time_split(...): the whole tuple under one name
    parts = time_split(X, y, dates=rain_table["date"], test_from=date)
    _specific(checks.time_ordered_split(parts, test_set, rain_table, test_from=date),
              "`parts` is a tuple of 3 items: the whole result of a split")
    _specific(checks.time_ordered_split(X_train, test_set, rain_table.drop(columns="date"),
                                        test_from=date), "`table` has no 'date' column")
    _specific(checks.time_ordered_split(X_train, "test", rain_table, test_from=date),
              "got the text 'test'")
    # time_split(table, y, ...): the whole table split, the target still among the features
    whole = time_split(rain_table, y, dates=rain_table["date"], test_from=date)
    _specific(checks.time_ordered_split(whole[0], whole[2], rain_table, test_from=date),
              "holds every column of `rain_table`, the target and the date among them")
    feedback = checks.time_ordered_split(X_train, test_set, ..., test_from=date)
    assert feedback.verdict is Verdict.NOT_ANSWERED and "`table`" in feedback.message
    # the hint that names the exact call waits behind a disclosure
    early = time_split(X, y, dates=rain_table["date"], test_from="2014-06-01")
    feedback = checks.time_ordered_split(early[0], early[2], rain_table, test_from=date)
    assert "test_from='2015-01-01'" in feedback.hint and feedback.hint_gives_answer


def test_persistence_accuracy_reads_every_kind_of_answer(rain_split):
    _, _, X_train, y_train, _ = rain_split
    right = (X_train["precipitation"] > 0) == y_train
    cases = [
        (right, X_train, y_train, "one True/False per day, whether the rule was right"),
        (int(right.sum()), X_train, y_train, "the number of days on which the rule is right"),
        (float("nan"), X_train, y_train, "`persistence` is nan, not a number between 0 and 1"),
        (True, X_train, y_train, "`persistence` is True, not a number"),
        (0.7, X_train.drop(columns="precipitation"), y_train,
         "`X_train` has no 'precipitation' column"),
        (0.7, X_train, y_train[:100], "`X_train` has 1096 rows but `y_train` 100"),
        (0.7, y_train, X_train, "`X_train` is a Series of 1096 values, not a table"),
    ]
    for persistence, X_train, y_train, says in cases:  # the learner's names: feedback uses them
        assert _specific(checks.persistence_accuracy(persistence, X_train, y_train), says).hint
    _, _, X_train, y_train, _ = rain_split
    feedback = checks.persistence_accuracy(0.7, ..., y_train)
    assert feedback.verdict is Verdict.NOT_ANSWERED and "`X_train`" in feedback.message
    # only the last resort writes the answer line, and it says so
    assert checks.persistence_accuracy(0.9, X_train, y_train).hint_gives_answer
    rainy = checks.persistence_accuracy(float(y_train.mean()), X_train, y_train)
    assert not rainy.hint_gives_answer and ".mean()" not in rainy.hint


def test_time_series_model_reads_every_kind_of_answer(rain_split):
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import TimeSeriesSplit
    from sklearn.svm import LinearSVC

    _, _, X_train, y_train, _ = rain_split
    folds = TimeSeriesSplit(n_splits=5)
    model = _logistic().fit(X_train, y_train)
    gappy = X_train.assign(wind=X_train["wind"].where(X_train["wind"] > 2))
    cases = [
        (model, TimeSeriesSplit, X_train, y_train, "the class TimeSeriesSplit itself"),
        (model, list(folds.split(X_train)), X_train, y_train, "the folds already cut"),
        (model, folds.split(X_train), X_train, y_train, "the folds already cut"),
        (model, None, X_train, y_train, "`folds` is None, not a splitter"),
        (LogisticRegression, folds, X_train, y_train, "the class LogisticRegression itself"),
        ({"logistic": model}, folds, X_train, y_train, "a dict of 1 candidates"),
        (LinearSVC().fit(X_train, y_train), folds, X_train, y_train, "gives no probability"),
        (model, folds, y_train, X_train, "`X_train` is a Series of 1096 values"),
        (model, folds, X_train, X_train, "`y_train` is a DataFrame with 1096 rows"),
        (model, folds, X_train, y_train[:10], "`X_train` has 1096 rows but `y_train` 10"),
        (model, folds, gappy, y_train, "`X_train` has missing values in ['wind']"),
    ]
    for model, folds, X_train, y_train, says in cases:  # the learner's names: feedback uses them
        assert _specific(checks.time_series_model(model, folds, X_train, y_train), says).hint
    _, _, X_train, y_train, _ = rain_split
    model, folds = _logistic().fit(X_train, y_train), TimeSeriesSplit(n_splits=5)
    # the folds hint names the tool, not the answer line
    assert "folds =" not in checks.time_series_model(model, 5, X_train, y_train).hint


def test_opened_once_reads_a_test_set_renamed_by_mistake():
    X = pd.DataFrame({"a": [1, 2]})
    test_set = SealedTestSet(X, pd.Series([True, False]))
    # test_set = test_set.open(): the envelope's name now holds what came out of it
    _specific(checks.opened_once(test_set.open()), "the name of the envelope was given to")
    _specific(checks.opened_once(X), "`X` is now a DataFrame with 2 rows")
    assert checks.opened_once(SealedTestSet(X, pd.Series([1, 0]))).hint_gives_answer


# --- Anything in any answer position: feedback, never an exception, never a pass -------------


def _malformed(right_objects):
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import KFold, TimeSeriesSplit

    return st.one_of(
        st.none(), st.booleans(), st.integers(-5, 2000), st.floats(allow_nan=True),
        st.text(max_size=5), st.lists(st.integers(), max_size=3),
        st.tuples(st.integers(), st.text(max_size=2)), st.builds(dict),
        st.sampled_from([
            np.full(3, np.nan), np.arange(6).reshape(2, 3), pd.DataFrame(),
            pd.DataFrame({"a": [1, 2]}), pd.Series([1.0, np.nan]),
            pd.DataFrame({"precipitation": [np.nan, 1.0]}),
            LogisticRegression(), TimeSeriesSplit, KFold(n_splits=2), iter([(0, 1)]),
        ]),
        st.sampled_from(right_objects),
    )


def _swap(args, data, right_objects):
    position = data.draw(st.sampled_from(range(len(args))), label="position")
    value = data.draw(_malformed([o for o in right_objects if o is not args[position]]),
                      label="answer")
    changed = list(args)
    changed[position] = value
    return changed


FAST = settings(max_examples=30, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def step_answers(rain_table, rain_split):
    from sklearn.model_selection import TimeSeriesSplit

    X, _, X_train, y_train, test_set = rain_split
    model = _logistic().fit(X_train, y_train)
    return {"table": rain_table, "X": X, "X_train": X_train, "y_train": y_train,
            "test_set": test_set, "folds": TimeSeriesSplit(n_splits=5), "model": model}


def _answers_with_feedback(feedback):
    assert isinstance(feedback, checks.Feedback)
    assert not feedback.passed, feedback
    assert feedback.error == "", feedback.error


@FAST
@given(data=st.data())
def test_model_ready_features_answers_anything(step_answers, data):
    a = step_answers
    args = _swap([a["X"], a["table"]], data, list(a.values()))
    _answers_with_feedback(checks.model_ready_features(*args, target=RAIN_TOMORROW))


@FAST
@given(data=st.data())
def test_time_ordered_split_answers_anything(step_answers, data):
    a = step_answers
    args = _swap([a["X_train"], a["test_set"], a["table"]], data, list(a.values()))
    _answers_with_feedback(checks.time_ordered_split(*args, test_from="2015-01-01"))


@FAST
@given(data=st.data())
def test_persistence_accuracy_answers_anything(step_answers, data):
    a = step_answers
    args = _swap([0.5, a["X_train"], a["y_train"]], data, list(a.values()))  # 0.726 is right
    _answers_with_feedback(checks.persistence_accuracy(*args))


@FAST
@given(data=st.data())
def test_time_series_model_answers_anything(step_answers, data):
    a = step_answers
    args = _swap([a["model"], a["folds"], a["X_train"], a["y_train"]], data, list(a.values()))
    _answers_with_feedback(checks.time_series_model(*args))


@FAST
@given(answer=_malformed([pd.DataFrame({"a": [1]}), SealedTestSet(pd.DataFrame({"a": [1]}),
                                                                  pd.Series([True]))]))
def test_opened_once_answers_anything(answer):
    _answers_with_feedback(checks.opened_once(answer))


# --- The quiz ---------------------------------------------------------------------------------


def test_the_quiz_agrees_with_the_notebook_and_explains_every_option():
    from course import exercises, files, notebooks
    from course.checks import capstone

    path = next(files.notebooks_dir().glob("12_*.ipynb"))
    assert exercises.help_problems(notebooks.read(path), "12") == []
    questions = capstone.QUIZ.questions
    assert 4 <= len(questions) <= 6
    assert len({question.answer for question in questions}) >= 3  # the right letters vary
    for question in questions:
        assert question.why and all(len(text) > 40 for text in question.wrong.values())
    answers = {1: "c", 2: "a", 3: "d", 4: "b", 5: "a", 6: "c"}
    assert checks.quiz("12", answers).passed
    feedback = checks.quiz("12", {**answers, 4: "a"})
    assert "0.73 against 0.71 is well inside both 95% intervals" in str(feedback)


def test_time_series_model_stays_quiet_on_a_model_fitted_on_numbers_without_names(rain_split):
    import warnings

    from sklearn.model_selection import TimeSeriesSplit

    _, _, X_train, y_train, _ = rain_split
    model = _logistic().fit(X_train.to_numpy(), y_train)  # right, but without column names
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a warning under a check cell reads as an error
        feedback = checks.time_series_model(model, TimeSeriesSplit(n_splits=5), X_train, y_train)
    assert feedback.passed, feedback
