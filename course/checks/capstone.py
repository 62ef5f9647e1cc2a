"""Checks for notebook 12: the capstone, will it rain tomorrow in Seattle?"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from course.checks._feedback import Feedback, correct, is_number, require_answer, wrong
from course.checks._guard import check
from course.checks._refit import Refit, refit_verdict


@check
def model_ready_features(X: Any, table: Any, *, target: str) -> Feedback:
    """Check a feature table built from ``table``: same rows, numbers only, no gaps, no target."""
    require_answer("X", X)
    import pandas as pd

    if not isinstance(X, pd.DataFrame):
        return wrong(
            f"`X` should be a DataFrame of features, got {type(X).__name__}.",
            hint="select the feature columns of the table: table[[...]].",
        )
    if len(X) != len(table):
        return wrong(
            f"`X` has {len(X)} rows but the table has {len(table)}.",
            hint="build X from `table`, with one row per row of the table.",
        )
    if target in X.columns:
        return wrong(
            f"`X` contains the target {target!r}: the model would be handed the answer.",
            hint=f"leave it out: table.drop(columns=[{target!r}, ...]).",
        )
    dates = [str(c) for c in X.columns if pd.api.types.is_datetime64_any_dtype(X[c])]
    if dates:
        return wrong(
            f"{dates} hold dates, and a model needs numbers.",
            hint="turn a date into numbers a model can use, such as the month: "
            "table['date'].dt.month.",
        )
    numeric = X.select_dtypes(["number", "bool"]).columns
    text = [str(c) for c in X.columns if c not in numeric]
    if text:
        return wrong(
            f"{text} hold labels, not numbers.",
            hint="drop them, or one-hot encode them in a pipeline (and check the datasheet: "
            "some labels are unreliable).",
        )
    if not len(X.columns):
        return wrong("`X` has no columns.", hint="choose at least one feature.")
    gaps = [str(c) for c in X.columns if X[c].isna().any()]
    if gaps:
        return wrong(f"{gaps} have missing values.", hint="fill or drop them first.")
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
    import pandas as pd

    from course.holdout import SealedTestSet

    if not isinstance(test_set, SealedTestSet):
        return wrong(
            f"`test_set` should be the sealed test set that time_split returns, got "
            f"{type(test_set).__name__}.",
            hint="X_train, y_train, test_set = time_split(X, y, dates=table['date'], "
            "test_from=...): the test rows stay sealed until the evaluation step.",
        )
    if not isinstance(X_train, pd.DataFrame):
        return wrong(
            f"`X_train` should be the DataFrame of training features, got "
            f"{type(X_train).__name__}.",
            hint="time_split returns X_train, y_train, test_set, in that order.",
        )
    dates = pd.to_datetime(table[date])
    missing = [index for index in (*X_train.index, *test_set.index) if index not in dates.index]
    if missing:
        return wrong(
            f"{len(missing)} rows of X_train and the test set are not rows of the table.",
            hint="split the X and y built from the table, without resetting their index.",
        )
    train, test = dates.loc[X_train.index], dates.loc[test_set.index]
    if not len(train) or not len(test):
        return wrong("one of the two parts is empty.", hint="choose a cut inside the dates.")
    overlap = set(X_train.index) & set(test_set.index)
    if overlap:
        return wrong(
            f"{len(overlap)} rows are in both parts.",
            hint="split once, at a date: time_split(X, y, dates=..., test_from=...).",
        )
    if train.max() >= test.min():
        later = int((train > test.min()).sum())
        return wrong(
            f"{later} training days come after the first test day ({test.min().date()}): the "
            "model would learn from the future it is tested on.",
            hint="do not shuffle: train on the earlier days, test on the later ones "
            "(course.timeseries.time_split).",
        )
    if len(train) + len(test) != len(dates):
        return wrong(
            f"the two parts hold {len(train) + len(test)} days together, but the table has "
            f"{len(dates)}.",
            hint="split all of X and y: every day goes either to training or to the test set.",
        )
    if test_from is not None and test.min() != pd.Timestamp(test_from):
        return wrong(
            f"the test days start on {test.min().date()}, but the exercise tests on the days "
            f"from {pd.Timestamp(test_from).date()}.",
            hint=f"time_split(X, y, dates=table['date'], test_from={str(test_from)!r}).",
        )
    share = len(test) / (len(train) + len(test))
    if not 0.1 <= share <= 0.4:
        return wrong(
            f"the test set holds {share:.0%} of the days.",
            hint="keep between 10% and 40% of the days (the latest ones) for testing.",
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
    truth = np.asarray(y_train).astype(bool)
    rule = np.asarray(X_train[column]) > 0
    expected = float((rule == truth).mean())
    if not is_number(answer):
        return wrong(
            f"the answer should be a number, got {type(answer).__name__} {answer!r}.",
            hint="compare the rule's answers with y_train and take the mean.",
        )
    if math.isclose(answer, expected, abs_tol=5e-4):
        return correct(f"tomorrow is like today on {expected:.1%} of the training days.")
    if math.isclose(answer, 100 * expected, abs_tol=0.05):
        return wrong(f"{answer:g} is a percentage.", hint="give it as a number from 0 to 1.")
    if math.isclose(answer, 1 - expected, abs_tol=5e-4):
        return wrong(
            f"{answer:.3f} is the share of days the rule gets wrong.",
            hint="count the days where the rule's answer equals the truth.",
        )
    if math.isclose(answer, float(truth.mean()), abs_tol=5e-4):
        return wrong(
            f"{answer:.3f} is the share of days followed by rain, not the rule's accuracy.",
            hint=f"the rule predicts rain when {column} > 0; compare that with y_train.",
        )
    if math.isclose(answer, float(rule.mean()), abs_tol=5e-4):
        return wrong(
            f"{answer:.3f} is the share of days on which the rule says rain (the rainy days), "
            "not how often it is right.",
            hint=f"compare the rule with the truth: ((X_train[{column!r}] > 0) == y_train).mean().",
        )
    return wrong(
        f"{answer:.3f} is not the accuracy of the rule on the training days.",
        hint=f"((X_train[{column!r}] > 0) == y_train).mean(), on the training days only.",
    )


@check
def time_series_model(
    model: Any, folds: Any, X_train: Any, y_train: Any, *, column: str = "precipitation"
) -> Feedback:
    """Check step 5: time-ordered folds, and a model fitted on the training days that clearly
    beats "never rains" by cross-validation on those folds (never on the test days)."""
    require_answer("folds", folds)
    require_answer("model", model)
    import pandas as pd
    from sklearn.base import clone, is_classifier
    from sklearn.dummy import DummyClassifier
    from sklearn.model_selection import TimeSeriesSplit, cross_val_score

    from course.weather import TomorrowLikeToday

    folds_hint = (
        "folds = TimeSeriesSplit(n_splits=5): each fold trains on the past and validates on "
        "the period right after it, as the model will be used."
    )
    if isinstance(folds, bool) or not hasattr(folds, "split"):
        what = f"{folds!r}" if isinstance(folds, int) else type(folds).__name__
        return wrong(
            f"`folds` is {what}, not a splitter: with cv={what}, cross_val_score cuts the days "
            "into plain folds, and most of them train on days that come after the ones they "
            "validate on.",
            hint=folds_hint,
        )
    if not isinstance(folds, TimeSeriesSplit):
        shuffled = bool(getattr(folds, "shuffle", False))
        how = "shuffles the days" if shuffled else "does not keep the past before the future"
        return wrong(
            f"{type(folds).__name__} {how}: its folds train on days that come after the ones "
            "they validate on, so the scores peek at the future.",
            hint=folds_hint,
        )
    if not hasattr(model, "predict") or not hasattr(model, "fit"):
        return wrong(
            f"`model` should be a scikit-learn model, got {type(model).__name__}.",
            hint="build it, e.g. RandomForestClassifier(random_state=0), then "
            "model.fit(X_train, y_train).",
        )
    final = model.steps[-1][1] if hasattr(model, "steps") else model
    if type(final).__name__.startswith("Dummy") or isinstance(final, TomorrowLikeToday):
        return wrong(
            "this is a baseline itself: step 5 asks for a model that learns from the features.",
            hint="measure the baselines, then choose a model such as a random forest.",
        )
    if not is_classifier(model):
        return wrong(
            "the target is yes or no, but the model is not a classifier.",
            hint="use a classifier (LogisticRegression, or a name ending in Classifier).",
        )
    columns = [str(c) for c in X_train.columns]
    seen = getattr(final if not hasattr(model, "steps") else model, "feature_names_in_", None)
    try:
        model.predict_proba(X_train)  # an unfitted model, or one on other columns, fails here
    except Exception as error:  # the learner's model may raise anything: say it kindly
        if type(error).__name__ == "NotFittedError":
            return wrong("the model is not fitted yet.", hint="call model.fit(X_train, y_train).")
        names = [] if seen is None else [str(c) for c in seen]
        if names and names != columns:
            return wrong(
                f"the model was fitted on the columns {names}, but X_train has {columns}.",
                hint="fit it on all the features of X_train: model.fit(X_train, y_train).",
            )
        return wrong(
            f"the model cannot read X_train: {type(error).__name__}: {error}",
            hint="fit it on X_train and y_train, with any preprocessing in the same pipeline.",
        )
    verdict = refit_verdict(model, X_train, y_train)
    if verdict is not Refit.SAME:
        if verdict is Refit.UNSEEDED:
            return wrong(
                "fitting your model twice on the same days gives two different models, so "
                "nobody can repeat your result.",
                hint="set random_state=0 in the model (and in every random step of the "
                "pipeline).",
            )
        return wrong(
            f"the model was not fitted on the {len(X_train)} training days: the same model "
            "fitted on X_train and y_train predicts differently (was it fitted on all of X, "
            "with the sealed test days, or on one fold?).",
            hint="model.fit(X_train, y_train), on the training days only.",
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
        )
    return correct(f"fitted on the {len(X_train)} training days; {reached}.")


@check
def opened_once(test_set: Any) -> Feedback:
    """Check that the sealed test set was opened, and only once: the score to report."""
    require_answer("test_set", test_set)
    from course.holdout import SealedTestSet

    if not isinstance(test_set, SealedTestSet):
        return wrong(
            f"`test_set` should be the sealed test set of step 4, got {type(test_set).__name__}.",
            hint="X_train, y_train, test_set = time_split(...), in step 4.",
        )
    if test_set.times_opened == 0:
        return wrong(
            "the test set is still sealed: the evaluation has not looked at 2015 yet.",
            hint="X_test, y_test = test_set.open(), then report(model, X_test, y_test).",
        )
    if test_set.times_opened > 1:
        return wrong(
            f"the test set was opened {test_set.times_opened} times: a score you looked at "
            "before is no longer a fresh test.",
            hint="report the first scores you got, and choose nothing from them; re-run the "
            "notebook from the top to start with a sealed test set again.",
        )
    return correct(
        f"the {len(test_set)} test days were opened once, at the evaluation step: these are "
        "the scores to report."
    )
