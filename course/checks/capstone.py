"""Checks for notebook 12: the capstone, will it rain tomorrow in Seattle?

The capstone's answers build on each other (``table`` from step 2 feeds step 3, ``X_train``
from step 4 feeds steps 5 to 7), so each check looks at every learner variable it is given,
not only the step's own answer: a learner who left step 4 half done is told so at step 5, in
words, rather than meeting the safety net's "could not work with your answer".
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from course.checks._answers import expect_labels, expect_number, expect_table
from course.checks._feedback import Feedback, Mistake, correct, require_answer, wrong
from course.checks._guard import check, describe
from course.checks._quiz import Question, Quiz
from course.checks._refit import Refit, refit_verdict


def _is_int(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


SPLIT_ORDER = "time_split returns three things, in this order: X_train, y_train, test_set."


def _expect_table_with(name: str, value: Any, *, column: str, made_by: str) -> Any:
    """``value`` is a DataFrame holding ``column`` (the learner's ``table`` or ``X_train``)."""
    import pandas as pd

    if not isinstance(value, pd.DataFrame):
        raise Mistake(wrong(
            f"`{name}` is {describe(value)}, not a table (a DataFrame).",
            hint=f"run the earlier step that builds `{name}` again: {made_by}.",
            mistake="not-a-table",
        ))
    if column not in value.columns:
        raise Mistake(wrong(
            f"`{name}` has no {column!r} column (it has {[str(c) for c in value.columns][:8]}).",
            hint=f"{made_by}; do not rename or drop {column!r}.",
            mistake="missing-column",
        ))
    return value


def _expect_table_of_days(table: Any, target: str) -> Any:
    return _expect_table_with(
        "table", table, column=target,
        made_by="table = rain_tomorrow(weather), in step 2, adds the target to each day",
    )


@check
def model_ready_features(X: Any, table: Any, *, target: str) -> Feedback:
    """Check a feature table built from ``table``: same rows, numbers only, no gaps, no target."""
    require_answer("X", X)
    require_answer("table", table)
    import pandas as pd

    table = _expect_table_of_days(table, target)
    if isinstance(X, pd.Series):
        return wrong(
            f"`X` is one column ({X.name!r}), a Series, not a table of features.",
            hint="select columns with a list inside the brackets, table[[...]]: double "
            "brackets give a DataFrame, even for one column.",
            mistake="series-not-table",
        )
    if isinstance(X, np.ndarray):
        return wrong(
            f"`X` is {describe(X)}: its columns have lost their names.",
            hint="keep the DataFrame (no .values or .to_numpy()): the checks, the rule and the "
            "model of step 7 read the columns by name.",
            mistake="column-names-lost",
        )
    if not isinstance(X, pd.DataFrame):
        return wrong(
            f"`X` is {describe(X)}, not a table of features (a DataFrame).",
            hint="select the feature columns of the table: table[[...]].",
            mistake="not-a-table",
        )
    if len(X) != len(table):
        if len(X) == len(table) + 1:
            return wrong(
                f"`X` has {len(X)} rows, one more than `table` ({len(table)}): it was built "
                "from `weather`, whose last day has no tomorrow and so no target.",
                hint="build X from `table` (rain_tomorrow dropped that last day), so that X and "
                "y have the same rows.",
                mistake="built-from-weather",
            )
        return wrong(
            f"`X` has {len(X)} rows but the table has {len(table)}.",
            hint="build X from `table`, with one row per row of the table.",
            mistake="row-count-differs",
        )
    repeated = sorted({str(c) for c in X.columns[X.columns.duplicated()]})
    if repeated:
        return wrong(
            f"`X` has the column(s) {repeated} twice.",
            hint="give every feature its own name: each column once in the list, new ones "
            "with .assign(new_name=...).",
            mistake="repeated-columns",
        )
    if target in X.columns:
        return wrong(
            f"`X` contains the target {target!r}: the model would be handed the answer.",
            hint="leave the target out of X: it goes alone into y.",
            mistake="target-in-features",
        )
    dates = [str(c) for c in X.columns if pd.api.types.is_datetime64_any_dtype(X[c])]
    if dates:
        return wrong(
            f"{dates} hold dates, and a model needs numbers.",
            hint="turn a date into numbers a model can use, such as the month (the .dt "
            "accessor of a date column).",
            mistake="date-columns",
        )
    numeric = X.select_dtypes(["number", "bool"]).columns
    text = [str(c) for c in X.columns if c not in numeric]
    if text:
        return wrong(
            f"{text} hold labels, not numbers.",
            hint="drop them, or one-hot encode them in a pipeline (and check the datasheet: "
            "some labels are unreliable).",
            mistake="text-columns",
        )
    if not len(X.columns):
        return wrong(
            "`X` has no columns.", hint="choose at least one feature.",
            mistake="no-columns",
        )
    gaps = [str(c) for c in X.columns if X[c].isna().any()]
    if gaps:
        return wrong(
            f"{gaps} have missing values.", hint="fill or drop them first.",
            mistake="missing-values",
        )
    endless = [str(c) for c in X.columns if np.isinf(X[c].to_numpy(dtype=float)).any()]
    if endless:
        return wrong(
            f"{endless} hold infinite values, which a model cannot use.",
            hint="an infinity comes from a division by zero or the log of 0: add a small "
            "number first (np.log1p instead of np.log), or leave that feature out.",
            mistake="infinite-values",
        )
    leak = _tomorrow_in(X, table, target=target)
    if leak is not None:
        return leak
    return correct(f"{X.shape[1]} numeric features for {len(X)} rows: {[str(c) for c in X]}.")


def _tomorrow_in(X: Any, table: Any, *, target: str) -> Feedback | None:
    """A feature that carries tomorrow's information: the target in disguise, or a copy
    (rescaled, transformed or cut at a threshold) of a weather column of the next day."""
    import pandas as pd

    hint = (
        "use only what is known on the day of the prediction: today's measurements and the "
        "date; nothing from the next row."
    )
    truth = pd.Series(pd.Series(table[target]).to_numpy().astype(float))
    weather = [
        str(c) for c in table.select_dtypes(["number", "bool"]).columns if str(c) != target
    ]
    for column in X.columns:
        feature = pd.Series(X[column].to_numpy().astype(float))
        if feature.nunique() < 2:
            continue
        agreement = _closeness(feature, truth)
        if agreement > 0.97:
            return wrong(
                f"{str(column)!r} gives the target away: it follows {target!r} on "
                f"{agreement:.0%} of the rows (as a copy, a rescaled copy or its opposite), so "
                "it must come from the future.",
                hint=hint,
                mistake="target-leak",
            )
        for name in weather:
            today = pd.Series(pd.Series(table[name]).to_numpy().astype(float))
            tomorrow = today.shift(-1)
            ahead, now = _closeness(feature, tomorrow), _closeness(feature, today)
            if ahead > 0.97 and ahead > now + 0.02:
                return wrong(
                    f"{str(column)!r} carries tomorrow's {name!r}: it follows the next day's "
                    f"value on {ahead:.0%} of the rows (a copy, a rescaled copy or a threshold "
                    "of it), and tomorrow is not known yet when the prediction is made.",
                    hint=hint,
                    mistake="tomorrow-leak",
                )
    return None


def _closeness(feature: Any, other: Any) -> float:
    """How closely ``feature`` follows ``other``, from 0 to 1: the largest of the absolute
    Pearson and Spearman correlations and, for a yes/no feature, how well one threshold of
    ``other`` (or of its opposite) reproduces it."""
    pair = np.column_stack([feature.to_numpy(), other.to_numpy()])
    pair = pair[~np.isnan(pair).any(axis=1)]
    if len(pair) < 3 or np.ptp(pair[:, 0]) == 0 or np.ptp(pair[:, 1]) == 0:
        return 0.0
    import pandas as pd

    a, b = pd.Series(pair[:, 0]), pd.Series(pair[:, 1])
    scores = [abs(a.corr(b)), abs(a.corr(b, method="spearman"))]
    if a.nunique() == 2:
        from sklearn.metrics import roc_auc_score

        auc = roc_auc_score(a == a.max(), b)
        scores.append(max(auc, 1 - auc))
    return float(np.nanmax(scores))


@check
def time_ordered_split(
    X_train: Any, test_set: Any, table: Any, *, test_from: Any = None, date: str = "date"
) -> Feedback:
    """Check a split by date of ``table``: the training rows, then the sealed test rows after
    them, together every row once; with ``test_from``, the test rows start on that day."""
    require_answer("X_train", X_train)
    require_answer("test_set", test_set)
    require_answer("table", table)
    import pandas as pd

    from course.holdout import SealedTestSet

    table = _expect_table_with(
        "table", table, column=date,
        made_by="table = rain_tomorrow(weather), in step 2, keeps the date of each day",
    )
    if not isinstance(test_set, SealedTestSet):
        if isinstance(test_set, pd.DataFrame | pd.Series | np.ndarray):
            return wrong(
                f"`test_set` should be the sealed test set that time_split returns, got "
                f"{type(test_set).__name__} ({describe(test_set)}).",
                hint=f"check the order of the names on the left of `=`: {SPLIT_ORDER} The "
                "test rows stay sealed until the evaluation step.",
                mistake="not-a-sealed-test-set",
            )
        return wrong(
            f"`test_set` should be the sealed test set that time_split returns, got "
            f"{describe(test_set)}.",
            hint=f"split X and y with time_split (from the set-up cell): {SPLIT_ORDER}",
            mistake="not-a-sealed-test-set",
        )
    if isinstance(X_train, tuple):
        return wrong(
            f"`X_train` is a tuple of {len(X_train)} items: the whole result of a split, "
            "not its first part.",
            hint=f"unpack it into three names on the left of `=`: {SPLIT_ORDER}",
            mistake="whole-split-result",
        )
    if not isinstance(X_train, pd.DataFrame):
        return wrong(
            f"`X_train` should be the DataFrame of training features, got "
            f"{type(X_train).__name__} ({describe(X_train)}).",
            hint=f"check the order of the names on the left of `=`: {SPLIT_ORDER}",
            mistake="x-train-not-a-table",
        )
    if len(table.columns) > 1 and set(table.columns) <= set(X_train.columns):
        return wrong(
            "`X_train` holds every column of `table`, the target and the date among them: the "
            "model would be handed tomorrow's answer.",
            hint="split the features and the target of step 3 (X and y), not the whole table.",
            mistake="all-columns-kept",
        )
    dates = pd.to_datetime(table[date], errors="coerce")
    if dates.isna().any():
        return wrong(
            f"{int(dates.isna().sum())} rows of `table` have no readable date in {date!r}.",
            hint="build table with rain_tomorrow(weather) and leave its date column as it is.",
            mistake="unreadable-dates",
        )
    missing = [index for index in (*X_train.index, *test_set.index) if index not in dates.index]
    if missing:
        return wrong(
            f"{len(missing)} rows of X_train and the test set are not rows of the table.",
            hint="split the X and y built from the table, without resetting their index.",
            mistake="rows-not-from-table",
        )
    train, test = dates.loc[X_train.index], dates.loc[test_set.index]
    if not len(train) or not len(test):
        return wrong(
            "one of the two parts is empty.", hint="choose a cut inside the dates.",
            mistake="empty-part",
        )
    overlap = set(X_train.index) & set(test_set.index)
    if overlap:
        return wrong(
            f"{len(overlap)} rows are in both parts.",
            hint="split once, at a date, with time_split (from the set-up cell).",
            mistake="rows-in-both-parts",
        )
    if train.max() >= test.min():
        later = int((train > test.min()).sum())
        return wrong(
            f"{later} training days come after the first test day ({test.min().date()}): the "
            "model would learn from the future it is tested on.",
            hint="do not shuffle: train on the earlier days, test on the later ones "
            "(course.timeseries.time_split).",
            mistake="train-after-test",
        )
    if len(train) + len(test) != len(dates):
        return wrong(
            f"the two parts hold {len(train) + len(test)} days together, but the table has "
            f"{len(dates)}.",
            hint="split all of X and y: every day goes either to training or to the test set.",
            mistake="days-lost-in-split",
        )
    if test_from is not None and test.min() != pd.Timestamp(test_from):
        return wrong(
            f"the test days start on {test.min().date()}, but the exercise tests on the days "
            f"from {pd.Timestamp(test_from).date()}.",
            hint=f"time_split(X, y, dates=table['date'], test_from={str(test_from)!r}).",
            hint_gives_answer=True,
            mistake="wrong-test-start",
        )
    share = len(test) / (len(train) + len(test))
    if not 0.1 <= share <= 0.4:
        return wrong(
            f"the test set holds {share:.0%} of the days.",
            hint="keep between 10% and 40% of the days (the latest ones) for testing.",
            mistake="wrong-test-share",
        )
    return correct(
        f"trained on {train.min().date()} to {train.max().date()}; the {len(test)} test days, "
        f"from {test.min().date()} to {test.max().date()}, stay sealed until step 6."
    )


@check
def persistence_accuracy(
    answer: Any, X_train: Any, y_train: Any, *, column: str = "precipitation"
) -> Feedback:
    """Check the accuracy of the rule "tomorrow like today" (rain when ``column`` > 0) on the
    training days."""
    require_answer("persistence", answer)
    require_answer("X_train", X_train)
    require_answer("y_train", y_train)
    import pandas as pd

    X_train = _expect_table_with(
        "X_train", X_train, column=column,
        made_by=f"X built in step 3 (with today's {column!r}), split with time_split in step 4",
    )
    y_train = expect_labels("y_train", y_train)
    if len(y_train) != len(X_train):
        return wrong(
            f"`X_train` has {len(X_train)} rows but `y_train` {len(y_train)}.",
            hint=f"run step 4 again: {SPLIT_ORDER}",
            mistake="x-y-rows-differ",
        )
    truth = np.asarray(y_train).astype(bool)
    rule = np.asarray(X_train[column], dtype=float) > 0
    expected = float((rule == truth).mean())
    if isinstance(answer, pd.Series | np.ndarray) and np.ndim(answer) == 1 and len(answer) > 1:
        return wrong(
            f"`persistence` is {describe(answer)}: one True/False per day, whether the rule "
            "was right on it, not yet the accuracy.",
            hint="turn the day-by-day results into one number: the mean of True/False values "
            "is the share of True.",
            mistake="per-day-not-accuracy",
        )
    answer = expect_number("persistence", answer, what="a number between 0 and 1")
    if math.isclose(answer, expected, abs_tol=5e-4):
        return correct(f"tomorrow is like today on {expected:.1%} of the training days.")
    if math.isclose(answer, 100 * expected, abs_tol=0.05):
        return wrong(
            f"{answer:g} is a percentage.", hint="give it as a number from 0 to 1.",
            mistake="percentage-not-share",
        )
    right_days = int((rule == truth).sum())
    if answer == right_days and right_days > 1:
        return wrong(
            f"{answer:g} is the number of days on which the rule is right, a count: the check "
            "wants their share of the training days.",
            hint="divide by the number of training days, or take the mean instead of the sum.",
            mistake="count-not-share",
        )
    if math.isclose(answer, 1 - expected, abs_tol=5e-4):
        return wrong(
            f"{answer:.3f} is the share of days the rule gets wrong.",
            hint="count the days where the rule's answer equals the truth.",
            mistake="error-rate",
        )
    if math.isclose(answer, float(truth.mean()), abs_tol=5e-4):
        return wrong(
            f"{answer:.3f} is the share of days followed by rain, not the rule's accuracy.",
            hint=f"the rule predicts rain when {column} > 0; compare that with y_train.",
            mistake="rain-share",
        )
    if math.isclose(answer, float(rule.mean()), abs_tol=5e-4):
        return wrong(
            f"{answer:.3f} is the share of days on which the rule says rain (the rainy days), "
            "not how often it is right.",
            hint="compare the rule's answers with the truth, y_train, day by day (with ==), "
            "then take the share of days where they agree.",
            mistake="rain-prediction-share",
        )
    return wrong(
        f"{answer:.3f} is not the accuracy of the rule on the training days.",
        hint=f"((X_train[{column!r}] > 0) == y_train).mean(), on the training days only.",
        hint_gives_answer=True,
        mistake="wrong-accuracy",
    )


@check
def time_series_model(
    model: Any, folds: Any, X_train: Any, y_train: Any, *, column: str = "precipitation"
) -> Feedback:
    """Check step 5: time-ordered folds, and a model fitted on the training days that clearly
    beats "never rains" by cross-validation on those folds (never on the test days).

    The check's own refits stay quiet: a model fitted on ``X_train.to_numpy()`` is right, yet
    each prediction on the DataFrame warns "X has feature names, but ... was fitted without"
    (and a slow solver warns it did not converge, as the learner's own fit already showed):
    pink text under a check reads as an error.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # ConvergenceWarning is one too
        return _time_series_model(model, folds, X_train, y_train, column=column)


def _time_series_model(
    model: Any, folds: Any, X_train: Any, y_train: Any, *, column: str
) -> Feedback:
    require_answer("folds", folds)
    require_answer("model", model)
    require_answer("X_train", X_train)
    require_answer("y_train", y_train)
    import pandas as pd
    from sklearn.base import clone, is_classifier
    from sklearn.dummy import DummyClassifier
    from sklearn.model_selection import TimeSeriesSplit, cross_val_score

    from course.weather import TomorrowLikeToday

    X_train = expect_table("X_train", X_train)
    y_train = expect_labels("y_train", y_train)
    if len(y_train) != len(X_train):
        return wrong(
            f"`X_train` has {len(X_train)} rows but `y_train` {len(y_train)}.",
            hint=f"run step 4 again: {SPLIT_ORDER}",
            mistake="x-y-rows-differ",
        )
    gaps = [str(c) for c in X_train.columns if X_train[c].isna().to_numpy().any()]
    if gaps:
        return wrong(
            f"`X_train` has missing values in {gaps}, which most models cannot read.",
            hint="fill them or leave those features out in step 3, then run the steps again.",
            mistake="missing-values",
        )
    folds_hint = (
        "use scikit-learn's splitter for time-ordered rows, TimeSeriesSplit (5 splits): each "
        "fold trains on the past and validates on the period right after it, as the model "
        "will be used."
    )
    if isinstance(folds, type):
        return wrong(
            f"`folds` is the class {folds.__name__} itself, not a splitter made from it.",
            hint="call the class to make one, with parentheses and the number of splits, "
            "as you would make a model.",
            mistake="splitter-class-not-instance",
        )
    if isinstance(folds, list | tuple) or hasattr(folds, "__next__"):
        return wrong(
            f"`folds` is {describe(folds)}: the folds already cut (or a generator of them), "
            "not the splitter that cuts them.",
            hint="keep the splitter object itself, without .split(...): cross_val_score "
            "calls it for each candidate.",
            mistake="folds-not-splitter",
        )
    if isinstance(folds, bool) or not hasattr(folds, "split"):
        what = f"{folds!r}" if _is_int(folds) else describe(folds)
        return wrong(
            f"`folds` is {what}, not a splitter: with cv={folds!r}, cross_val_score cuts the "
            "days into plain folds, and most of them train on days that come after the ones "
            "they validate on." if _is_int(folds) else f"`folds` is {what}, not a splitter.",
            hint=folds_hint,
            mistake="plain-folds",
        )
    if not isinstance(folds, TimeSeriesSplit):
        shuffled = bool(getattr(folds, "shuffle", False))
        how = "shuffles the days" if shuffled else "does not keep the past before the future"
        return wrong(
            f"{type(folds).__name__} {how}: its folds train on days that come after the ones "
            "they validate on, so the scores peek at the future.",
            hint=folds_hint,
            mistake="folds-peek-at-future",
        )
    if isinstance(model, type):
        return wrong(
            f"`model` is the class {model.__name__} itself, not a model made and fitted.",
            hint="make one with parentheses, e.g. LogisticRegression(), then call "
            ".fit(X_train, y_train) on it.",
            mistake="class-not-instance",
        )
    if isinstance(model, dict):
        return wrong(
            f"`model` is a dict of {len(model)} candidates: step 5 asks you to choose one.",
            hint="pick your choice from the dict by its name, and fit it on the training days.",
            mistake="dict-of-candidates",
        )
    if not hasattr(model, "predict") or not hasattr(model, "fit"):
        return wrong(
            f"`model` should be a scikit-learn model, got {describe(model)}.",
            hint="build it, e.g. RandomForestClassifier(random_state=0), then fit it on the "
            "training days.",
            mistake="not-a-model",
        )
    final = model.steps[-1][1] if hasattr(model, "steps") else model
    if type(final).__name__.startswith("Dummy") or isinstance(final, TomorrowLikeToday):
        return wrong(
            "this is a baseline itself: step 5 asks for a model that learns from the features.",
            hint="measure the baselines, then choose a model such as a random forest.",
            mistake="baseline-as-model",
        )
    if not is_classifier(model):
        return wrong(
            "the target is yes or no, but the model is not a classifier.",
            hint="use a classifier (LogisticRegression, or a name ending in Classifier).",
            mistake="not-a-classifier",
        )
    if not hasattr(model, "predict_proba"):
        return wrong(
            f"{type(final).__name__} answers yes or no but gives no probability, and step 7 "
            "asks for the probability of rain.",
            hint="choose a model with predict_proba: LogisticRegression, a random forest, "
            "or SVC(probability=True).",
            mistake="no-probability",
        )
    columns = [str(c) for c in X_train.columns]
    seen = getattr(final if not hasattr(model, "steps") else model, "feature_names_in_", None)
    try:
        model.predict_proba(X_train)  # an unfitted model, or one on other columns, fails here
    except Exception as error:  # the learner's model may raise anything: say it kindly
        if type(error).__name__ == "NotFittedError":
            return wrong(
                "the model is not fitted yet.", hint="call model.fit(X_train, y_train).",
                mistake="model-not-fitted",
            )
        names = [] if seen is None else [str(c) for c in seen]
        if names and names != columns:
            return wrong(
                f"the model was fitted on the columns {names}, but X_train has {columns}.",
                hint="fit it on all the features of X_train: model.fit(X_train, y_train).",
                mistake="fitted-on-other-columns",
            )
        return wrong(
            f"the model cannot read X_train: {type(error).__name__}: {error}",
            hint="fit it on X_train and y_train, with any preprocessing in the same pipeline.",
            mistake="cannot-read-x-train",
        )
    verdict = refit_verdict(model, X_train, y_train)
    if verdict is not Refit.SAME:
        if verdict is Refit.UNSEEDED:
            return wrong(
                "fitting your model twice on the same days gives two different models, so "
                "nobody can repeat your result.",
                hint="set random_state=0 in the model (and in every random step of the "
                "pipeline).",
                mistake="unseeded-model",
            )
        return wrong(
            f"the model was not fitted on the {len(X_train)} training days: the same model "
            "fitted on X_train and y_train predicts differently (was it fitted on all of X, "
            "with the sealed test days, or on one fold?).",
            hint="model.fit(X_train, y_train), on the training days only.",
            mistake="fitted-on-other-rows",
        )
    accuracy = cross_val_score(clone(model), X_train, y_train, cv=folds)
    never = cross_val_score(DummyClassifier(strategy="most_frequent"), X_train, y_train, cv=folds)
    persistence = ""
    if isinstance(X_train, pd.DataFrame) and column in X_train.columns:
        rule = cross_val_score(TomorrowLikeToday(column=column), X_train, y_train, cv=folds)
        persistence = f", {rule.mean():.3f} ± {rule.std(ddof=1):.3f} for 'tomorrow like today'"
    reached = (
        f"accuracy {accuracy.mean():.3f} ± {accuracy.std(ddof=1):.3f} over {len(accuracy)} "
        f"time-ordered folds, against {never.mean():.3f} for 'never rains'{persistence}"
    )
    if accuracy.mean() <= never.mean() + 0.05:
        return wrong(
            f"{reached}: not clearly better than never rains.",
            hint="try other features or another model, and compare them by cross-validation.",
            mistake="not-better-than-baseline",
        )
    return correct(f"fitted on the {len(X_train)} training days; {reached}.")


@check
def opened_once(test_set: Any) -> Feedback:
    """Check that the sealed test set was opened, and only once: the score to report."""
    require_answer("test_set", test_set)
    import pandas as pd

    from course.holdout import SealedTestSet

    if isinstance(test_set, tuple | pd.DataFrame | pd.Series):
        return wrong(
            f"`test_set` is now {describe(test_set)}: the name of the envelope was given to "
            "what came out of it, so the check cannot see how often it was opened.",
            hint="keep the name test_set for the sealed set and give the opened rows their own "
            "names (X_test, y_test); then run the notebook again from step 4.",
            mistake="envelope-name-reused",
        )
    if not isinstance(test_set, SealedTestSet):
        return wrong(
            f"`test_set` should be the sealed test set of step 4, got {describe(test_set)}.",
            hint=f"run step 4 again: {SPLIT_ORDER}",
            mistake="not-a-sealed-test-set",
        )
    if test_set.times_opened == 0:
        return wrong(
            "the test set is still sealed: the evaluation has not looked at 2015 yet.",
            hint="X_test, y_test = test_set.open(), then report(model, X_test, y_test).",
            hint_gives_answer=True,
            mistake="test-set-never-opened",
        )
    if test_set.times_opened > 1:
        return wrong(
            f"the test set was opened {test_set.times_opened} times: a score you looked at "
            "before is no longer a fresh test.",
            hint="report the first scores you got, and choose nothing from them; re-run the "
            "notebook from the top to start with a sealed test set again.",
            mistake="test-set-opened-repeatedly",
        )
    return correct(
        f"the {len(test_set)} test days were opened once, at the evaluation step: these are "
        "the scores to report."
    )


QUIZ = Quiz((
    Question(
        answer="c",
        why="a shuffled split scatters the test days between training days, some of them "
        "later: the model is tested on spells of weather it has partly seen, which real use "
        "(predicting days to come) never allows. Time-ordered data is split by date.",
        wrong={
            "a": "varied training days do not raise a test score by 0.05 on their own: what "
            "changed is which days are tested. Shuffled, they are no longer a later period, so "
            "the score no longer measures predicting the future.",
            "b": "a larger test set makes a score more precise (a narrower interval), it does "
            "not move it up by 0.05. A shift that size comes from what the test days are: "
            "mixed in with the training days instead of after them.",
            "d": "balance between the two parts changes little here, and it does not add "
            "information a model can use. The difference is time: shuffled test days sit "
            "between training days, some of them later.",
        },
    ),
    Question(
        answer="a",
        why="every difference (0.02 to 0.06) is smaller than the spread across the folds "
        "(0.04 to 0.08): none of them is a real difference, and a tie goes to the simpler "
        "option. A model is still worth it for step 7, where only a model gives a probability.",
        wrong={
            "b": "0.74 is the highest mean, but by less than the spread across the folds: "
            "another period could reorder them. A difference smaller than the spread is a tie.",
            "c": "a wide spread means the forest's score depends on which period it is tested "
            "on: it is less certain, not better. Compare the means, against the spread.",
            "d": "a small spread makes a score steadier, not higher, and 0.68 is the lowest "
            "mean of the three. Here all three differences are within the spread: a tie.",
        },
    ),
    Question(
        answer="d",
        why="getting wet is a rainy day the model missed, a false negative; recall of rain is "
        "the share of rainy days it saw coming. Watch it (with accuracy) when comparing.",
        wrong={
            "a": "accuracy counts a missed rainy day and a needless umbrella the same; these "
            "users mind the first far more. Recall of rain counts the missed rainy days.",
            "b": "precision of rain tells how often \"rain\" was right: it punishes carrying "
            "the umbrella for nothing, the mistake these users mind least.",
            "c": "the share of rainy days describes the data, not a model: it is the same for "
            "both models you compare.",
        },
    ),
    Question(
        answer="b",
        why="a score used to choose is no longer a test: of two models, the one that happened "
        "to do better on these 364 days is picked, so its score leans high. Choose by "
        "cross-validation on the training days, then open the test set once and report.",
        wrong={
            "a": "on 364 days, 0.73 against 0.71 is well inside both 95% intervals: a tie. "
            "And once the test days chose the model, its score on them is no longer fresh.",
            "c": "opening it again shows the same days and the same score: it confirms "
            "nothing, and the choice was still made on them.",
            "d": "the interval covers chance in which days were tested; it does not correct "
            "for having chosen the model on those very days, which pushes the score up.",
        },
    ),
    Question(
        answer="a",
        why="yesterday's precipitation is known this evening, before the day predicted: only "
        "the past and today may go into X (computed from earlier rows only).",
        wrong={
            "b": "the next row's label is tomorrow's weather: the answer itself, and the "
            "datasheet says the label is unreliable too.",
            "c": "an average that includes tomorrow carries tomorrow's rain: the model would "
            "score well in testing and could not be used, since tomorrow is not known yet.",
            "d": "tomorrow's temperature is not known this evening either, and it tells about "
            "tomorrow's weather (the check of step 3 refuses any copy of the next day).",
        },
    ),
    Question(
        answer="c",
        why="the share of rainy tomorrows goes down from winter to summer and up again: a tree "
        "splits the month number into ranges (≤ 3, ≥ 11) and follows that, while one weight "
        "can only make rain rise or fall with the month number.",
        wrong={
            "a": "one weight makes the predicted rain rise (or fall) steadily from January to "
            "December; it cannot say that both January and December are wet and July dry.",
            "b": "a month is a number known on the day of the prediction: a fine feature, as "
            "step 3 used. How a model reads it is the question.",
            "d": "scaling moves and stretches the numbers but keeps their order: a linear model "
            "still gets one weight, so still one direction, for the month.",
        },
    ),
))
