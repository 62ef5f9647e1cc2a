"""Checks for notebook 04: split and build."""

from __future__ import annotations

import math
from typing import Any

from course.checks._answers import expect_labels, expect_table
from course.checks._feedback import Feedback, correct, is_number, require_answer, wrong
from course.checks._guard import check, describe
from course.checks._quiz import Question, Quiz
from course.checks._refit import Refit, refit_verdict


@check
def stratified_split(
    X_train: Any,
    y_train: Any,
    test_set: Any,
    X: Any,
    y: Any,
    *,
    test_size: float,
    random_state: int,
) -> Feedback:
    """Check ``X_train, y_train, test_set = split_and_seal(X, y, ...)``: ``test_size`` of the
    rows sealed for testing, stratified by ``y``, shuffled with ``random_state``.

    Only the envelope's outside is read (its size, its rows' labels, its class shares): the
    check never opens the test set.
    """
    require_answer("X_train", X_train)
    require_answer("y_train", y_train)
    require_answer("test_set", test_set)
    import pandas as pd
    from sklearn.model_selection import train_test_split

    from course.holdout import SealedTestSet

    order = "split_and_seal returns X_train, y_train, test_set, in that order."
    if isinstance(X_train, SealedTestSet) or isinstance(y_train, SealedTestSet):
        return wrong(
            "the sealed test set landed in a training name: the three parts are in the wrong "
            "order.",
            hint=order,
            mistake="test-set-in-training-name",
        )
    if not isinstance(test_set, SealedTestSet):
        return wrong(
            f"the third part is a {type(test_set).__name__}, not a sealed test set.",
            hint=f"split with course.holdout.split_and_seal(X, y, ...): {order}",
            mistake="not-a-sealed-test-set",
        )
    if isinstance(X_train, pd.Series) and isinstance(y_train, pd.DataFrame):
        return wrong(
            "X and y are swapped: the training features are a single column and the labels a "
            "table.",
            hint="the features come first on both sides of `=`: "
            "`X_train, y_train, test_set = split_and_seal(X, y, ...)`.",
            mistake="x-y-swapped",
        )
    expect_table("X_train", X_train)
    y_train = expect_labels("y_train", y_train)
    y = pd.Series(y)
    if len(y_train) + len(test_set) != len(y):
        return wrong(
            f"train and test hold {len(y_train) + len(test_set)} rows together, but y has "
            f"{len(y)}.",
            hint="split the whole X and y: split_and_seal(X, y, ...).",
            mistake="rows-lost-in-split",
        )
    if len(X_train) != len(y_train) or not X_train.index.equals(y_train.index):
        return wrong(
            "X_train and y_train do not hold the same rows.",
            hint="split X and y in one call, so their rows stay together.",
            mistake="x-y-rows-differ",
        )
    if set(y_train.index) & set(test_set.index):
        return wrong(
            "some rows are in both the training and the test set.",
            hint="split once with split_and_seal; never pick test rows by hand.",
            mistake="rows-in-both-sets",
        )
    expected_test = math.ceil(test_size * len(y))
    if len(test_set) != expected_test:
        if len(test_set) == round(test_size * 100):
            hint = (f"test_size={round(test_size * 100)} asks for {round(test_size * 100)} "
                    f"birds; a share is written as a fraction: test_size={test_size}.")
        else:
            hint = f"pass test_size={test_size}."
        return wrong(
            f"the test set has {len(test_set)} rows; with test_size={test_size} it should have "
            f"{expected_test}.",
            hint=hint,
            mistake="test-size-wrong",
        )
    positions = pd.Series(range(len(y)), index=y.index)
    _, expected_rows = train_test_split(
        positions, test_size=test_size, stratify=y, random_state=random_state
    )
    if set(test_set.index) == set(expected_rows.index):
        return correct(
            f"{len(y_train)} training and {len(test_set)} test rows, every class with the same "
            f"share in both, the same rows as random_state={random_state} gives."
        )
    train_share = y_train.value_counts(normalize=True)
    test_share = test_set.label_shares
    gaps = (train_share - test_share).fillna(1).abs()
    _, unstratified = train_test_split(
        positions, test_size=test_size, random_state=random_state
    )
    if gaps.max() > 0.02 or set(test_set.index) == set(unstratified.index):
        label = gaps.idxmax()
        return wrong(
            f"the split is not stratified: {label!r} is {train_share.get(label, 0):.1%} of the "
            f"training rows but {test_share.get(label, 0):.1%} of the test rows.",
            hint="pass stratify=y so every class keeps its share in both parts.",
            mistake="not-stratified",
        )
    return wrong(
        f"the split is stratified, but its test rows are not the ones random_state="
        f"{random_state} picks: another seed shuffled the birds differently.",
        hint=f"pass random_state={random_state}, as the exercise asks: the same seed gives "
        "everyone the same rows, so results can be compared and repeated.",
        mistake="other-random-state",
    )


@check
def measurements_model(model: Any, X_train: Any, y_train: Any, *, features: list[str]) -> Feedback:
    """Check notebook 04's exercise 2: a pipeline that fills the gaps of ``features``, scales
    them and ends in a classifier, fitted on ``X_train[features]`` and ``y_train``.

    Judged on the training rows only: a copy of the learner's pipeline is refitted on them
    (same predictions, or it was fitted on other rows) and cross-validated against the
    "most frequent species" baseline. The test set is never used.
    """
    require_answer("model", model)
    import numpy as np
    import pandas as pd
    from sklearn.base import clone, is_classifier, is_regressor
    from sklearn.dummy import DummyClassifier
    from sklearn.model_selection import cross_val_score
    from sklearn.utils.validation import check_is_fitted

    features = list(features)
    if isinstance(model, type):
        return wrong(
            f"`model` is the class {model.__name__}, not a model made from it.",
            hint="call it, e.g. make_pipeline(SimpleImputer(...), StandardScaler(), ...).",
            mistake="class-not-instance",
        )
    if isinstance(model, tuple | list) and any(hasattr(part, "predict") for part in model):
        return wrong(
            f"`model` is {describe(model)} with a model inside: a comma too many at the end "
            "of the line, or several things assigned to one name?",
            hint="assign the fitted pipeline alone: `model = make_pipeline(...).fit(...)`, "
            "with no comma at the end.",
            mistake="tuple-with-model",
        )
    if isinstance(model, np.ndarray | pd.Series):
        return wrong(
            f"`model` is {describe(model)}: predictions, not the model that makes them.",
            hint="keep the fitted pipeline itself: `.fit(...)` returns it; leave out "
            "`.predict(...)`.",
            mistake="predictions-not-model",
        )
    if is_number(model):
        return wrong(
            f"`model` is {describe(model)}: a score, not the model.",
            hint="keep the fitted pipeline itself: `.fit(...)` returns it; leave out "
            "`.score(...)`.",
            mistake="score-not-model",
        )
    if not hasattr(model, "predict") or not hasattr(model, "get_params"):
        return wrong(
            f"`model` should be a scikit-learn model, but it is {describe(model)}.",
            hint="build it with make_pipeline(...), then call .fit(X_train[measurements], "
            "y_train).",
            mistake="not-a-model",
        )
    steps = [step for _, step in model.steps] if hasattr(model, "steps") else [model]
    final = steps[-1]
    if type(final).__name__.startswith("Dummy"):
        return wrong(
            "this is a baseline itself: it ignores the measurements, so it cannot beat the "
            "baseline.",
            hint="end the pipeline in a model that learns from the features, e.g. "
            "LogisticRegression(max_iter=1000).",
            mistake="baseline-as-model",
        )
    if is_regressor(model) or not is_classifier(model):
        return wrong(
            f"the pipeline ends in {type(final).__name__}, which is not a classifier: the "
            "species is a label.",
            hint="end it in a classifier (LogisticRegression, or a name ending in Classifier).",
            mistake="not-a-classifier",
        )
    if not any(type(step).__name__.endswith("Imputer") for step in _all_steps(model)):
        return wrong(
            "no step fills the gaps: the exercise asks for an imputer, and a new bird with a "
            "missing measurement would get no prediction (or an error).",
            hint='start the pipeline with SimpleImputer(strategy="median").',
            mistake="no-imputer",
        )
    if not any(type(step).__name__.endswith("Scaler") for step in _all_steps(model)):
        return wrong(
            "no step scales the measurements: body mass (thousands of grams) would outweigh "
            "bill depth (under 22 mm) for any model that compares distances.",
            hint="add StandardScaler() after the imputer.",
            mistake="no-scaler",
        )
    try:
        check_is_fitted(model)
    except Exception:  # NotFittedError, or a step scikit-learn cannot inspect
        return wrong("the model is not fitted yet.",
                     hint="call .fit(X_train[measurements], y_train) on it.",
                     mistake="model-not-fitted")
    seen = getattr(model, "feature_names_in_", None)
    if seen is None:
        return wrong(
            "the model was fitted on an array without column names, so nothing shows it "
            "learned from the measurements.",
            hint="fit it on the table itself: .fit(X_train[measurements], y_train).",
            mistake="fitted-on-array",
        )
    seen = [str(name) for name in seen]
    if seen != features:
        extra = [name for name in seen if name not in features]
        missing = [name for name in features if name not in seen]
        said = f"it also uses {extra}" if extra else f"it leaves out {missing}"
        return wrong(
            f"the model was fitted on {len(seen)} columns, not the {len(features)} "
            f"measurements: {said}.",
            hint="fit it on X_train[measurements]: the measurements only, no island, no sex.",
            mistake="fitted-on-other-columns",
        )
    X_rows = X_train[features]
    try:
        verdict = refit_verdict(model, X_rows, y_train)
    except Exception as error:  # the learner's pipeline may raise anything; report it
        return wrong(
            f"a copy of the pipeline cannot be fitted on X_train[measurements]: "
            f"{type(error).__name__}: {error}",
            hint="fill the gaps first, then scale, then classify.",
            mistake="cannot-refit",
        )
    if verdict is not Refit.SAME:
        unseeded = [name for name, value in model.get_params(deep=True).items()
                    if name.endswith("random_state") and value is None]
        if unseeded and verdict is Refit.UNSEEDED:
            return wrong(
                "the model is random and unseeded: refitting it gives other predictions, so "
                "the check cannot confirm which rows it was fitted on.",
                hint=f"pass random_state=0 ({unseeded[0]}), as everywhere in the course.",
                mistake="unseeded-model",
            )
        return wrong(
            "the model was not fitted on X_train[measurements] and y_train: a copy refitted "
            "on those rows predicts differently. Fitted on the test rows, on all the birds, "
            "or on rows without gaps?",
            hint="fit it on the training rows, exactly: .fit(X_train[measurements], y_train). "
            "The test set stays sealed until the evaluation step.",
            mistake="fitted-on-other-rows",
        )
    folds = cross_val_score(clone(model), X_rows, y_train, cv=5)
    base = cross_val_score(DummyClassifier(strategy="most_frequent"), X_rows, y_train, cv=5)
    reached = (
        f"cross-validated accuracy {folds.mean():.3f} ± {folds.std():.3f} on the training rows, "
        f"against {base.mean():.3f} for the baseline"
    )
    if folds.mean() - folds.std() > base.mean() + base.std():
        return correct(f"{reached}.")
    return wrong(
        f"{reached}: not clearly better, the two overlap within their spreads.",
        hint="check the settings of the classifier (a KNN with too many neighbours votes like "
        "the baseline), or try another classifier.",
        mistake="not-better-than-baseline",
    )


def _all_steps(estimator: Any) -> list[Any]:
    """Every estimator inside a pipeline, a ColumnTransformer, or both nested."""
    if hasattr(estimator, "steps"):
        return [inner for _, step in estimator.steps for inner in _all_steps(step)]
    parts = getattr(estimator, "transformers", None)
    if isinstance(parts, list):
        return [inner for part in parts if len(part) == 3 for inner in _all_steps(part[1])]
    return [estimator]




QUIZ = Quiz((
    Question(
        answer="c",
        why="a tree without a depth limit can grow one leaf per bird: 1.000 on its own rows "
        "proves memory, not understanding. Only rows it did not learn from say how it does on "
        "new birds (it scores about 0.97 by cross-validation).",
        wrong={
            "a": "a perfect score on the rows a model learned from is what memorising looks "
            "like; it says nothing yet about new birds. Score it on rows it has not seen.",
            "b": "the training score cannot tell easy data from memorised data: every unlimited "
            "tree scores 1.000 on its own rows, even on random labels.",
        },
    ),
    Question(
        answer="b",
        why="a random split keeps the class shares only on average: 4 of class B is expected "
        "in 40 test rows, but 1 or 8 happen, and a score on 1 rare row means little. "
        "stratify=y puts 10% of B on each side.",
        wrong={
            "a": "random draws wobble: 40 rows drawn from a table with 10% of B hold 4 of B only "
            "on average. Stratifying makes the shares exact.",
            "c": "stratify uses the labels only to share each class out between the two parts; "
            "no test row enters training, so nothing leaks.",
        },
    ),
    Question(
        answer="c",
        why="the means differ by 0.010, less than either spread (0.020, 0.015): another split "
        "of the same birds into folds could reverse the order. They tie; decide on something "
        "else, or get more data.",
        wrong={
            "a": "a higher mean by less than the fold-to-fold wobble is luck of the folds: "
            "compare the difference with the spreads first.",
            "b": "the spread is not a quality: it measures how much the score wobbles from one "
            "set of rows to another, and a larger one makes A's mean *less* certain.",
            "d": "the test set is opened once, to report the chosen model. Using it to choose "
            "turns it into one more training decision, and its score is no longer honest.",
        },
    ),
    Question(
        answer="d",
        why="always answering the most frequent species (Adelie, 44% of the birds) scores 0.44 "
        "without looking at any feature. A model is worth something only by how far it beats "
        "that baseline.",
        wrong={
            "a": "the test set is opened once, at the end, for the chosen model: a model being "
            "judged is compared on the training rows, by cross-validation.",
            "b": "no model reaches 1.0 on real data; 1.0 does not say whether 0.44 is good or "
            "bad. The baseline does: a model that learned nothing scores 0.44 here.",
            "c": "a published score on other splits and other preprocessing is not comparable. "
            "The first question is whether the model learned anything at all: the baseline.",
        },
    ),
    Question(
        answer="b",
        why="picking the best of eight by their test scores is choosing on the test set: the "
        "winner's score includes its luck on those particular birds. Choose by cross-validation "
        "on the training rows; open the test set once, for the chosen model.",
        wrong={
            "a": "the test set measures the chosen model; it does not choose. The best of eight "
            "test scores is partly the luckiest of eight, so it is too good to be true.",
            "c": "more models scored on the test set make it worse: the more you pick from, the "
            "more the winner's test score owes to luck.",
        },
    ),
    Question(
        answer="a",
        why="a cross-validated score still rising at the largest size means the model has not "
        "seen enough examples yet: more rows raise it and narrow the gap to the training score "
        "(the overfitting).",
        wrong={
            "b": "fewer rows make the model memorise more and generalise less: the gap closes "
            "by the cross-validated score climbing, with more data.",
            "c": "a training score of 1.0 is memorising; the cross-validated score, still below "
            "it and rising, is the one that counts for new birds.",
        },
    ),
))
