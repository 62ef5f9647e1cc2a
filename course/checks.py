"""Instant feedback on the notebooks' exercises.

Each check takes the learner's answer and returns a ``Feedback``: either "correct" with why,
or what is wrong and a hint. A check never answers a bare ``False``. An answer still left as
``...`` (the starting point of every exercise) raises ``NotImplementedError``, which says what
to do next; that is also what keeps the learner versions of the notebooks runnable.

Writing a new check: take the answer first, call ``require_answer``, compare with the expected
value, and return ``correct(...)`` or ``wrong(..., hint=...)`` with a message for each common
mistake (see docs/notebooks.md). Checks import scikit-learn, pandas and the course modules
they need inside the function, so that importing this module stays fast.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "Feedback",
    "beats_baseline",
    "best_k",
    "caught_up",
    "class_probability",
    "class_share",
    "clusters_match",
    "confusion_cell",
    "correct",
    "digits_network",
    "discounted_return",
    "dissenting_member",
    "grid_search",
    "largest_coefficient",
    "leaky_option",
    "missing_values",
    "model_ready_features",
    "parameter_count",
    "penguin_features",
    "penguin_preprocessor",
    "persistence_accuracy",
    "problem_kind",
    "q_update",
    "reaches_goal",
    "require_answer",
    "shorter_explanation",
    "stratified_split",
    "strongest_correlation",
    "time_ordered_split",
    "valid_request",
    "wrong",
]


@dataclass(frozen=True)
class Feedback:
    """The verdict on one answer; it displays as a short readable message in a notebook."""

    passed: bool
    message: str
    hint: str = ""

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        if self.passed:
            return f"✅ Correct: {self.message}"
        text = f"❌ Not yet: {self.message}"
        return f"{text}\n💡 Hint: {self.hint}" if self.hint else text

    def __repr__(self) -> str:
        return str(self)


def correct(message: str) -> Feedback:
    return Feedback(passed=True, message=message)


def wrong(message: str, *, hint: str) -> Feedback:
    return Feedback(passed=False, message=message, hint=hint)


def require_answer(name: str, value: Any) -> None:
    """Raise NotImplementedError when an exercise's answer is still the placeholder ``...``."""
    if value is ...:
        raise NotImplementedError(
            f"`{name}` is still `...`: write your answer in the exercise cell above, run that "
            f"cell, then run this check again."
        )


def _is_number(value: Any) -> bool:
    numeric = isinstance(value, int | float | np.integer | np.floating)
    return numeric and not isinstance(value, bool)


# --- Notebooks 00, 01 and the capstone: framing the problem ----------------------------------

_KIND_WORDS = {
    "regression": "regression",
    "classification": "classification",
    "binary classification": "classification",
    "multiclass classification": "classification",
    "clustering": "clustering",
}


def problem_kind(answer: Any, frame: Any, target: Any = None) -> Feedback:
    """Check a problem kind ("regression", "classification", "clustering") for a target."""
    require_answer("kind", answer)
    from course.advisor import ProblemKind, classify_problem

    report = classify_problem(frame, target)
    expected = report.kind
    family = "classification" if expected.is_classification else expected.value
    words = ", ".join(repr(word) for word in ("regression", "classification", "clustering"))
    if not isinstance(answer, str):
        return wrong(
            f"the answer should be a word, got {type(answer).__name__} {answer!r}.",
            hint=f"answer with one of {words}, in quotes.",
        )
    text = " ".join(str(answer).lower().replace("-", " ").split())
    if text not in _KIND_WORDS:
        return wrong(f"{answer!r} is not a kind of problem.", hint=f"answer with one of {words}.")
    given = _KIND_WORDS[text]
    if given == family:
        if text != "classification" and text != expected.value:
            classes = len(report.class_counts or {})
            return wrong(
                f"it is classification, but with {classes} classes it is {expected.value}.",
                hint="binary means exactly two classes; multiclass means three or more.",
            )
        return correct(f"{expected.value}: {report.reason}")
    if family == "clustering":
        return wrong(
            f"there is no target column, so there is nothing to predict ({given} needs one).",
            hint="without a target, the task is to find groups of similar rows.",
        )
    if given == "clustering":
        return wrong(
            f"there is a target, {target!r}, with a value for the rows: learning to predict it "
            "is supervised learning, not clustering.",
            hint="clustering is for data without answers; ask what the target's values look like.",
        )
    if expected is ProblemKind.REGRESSION:
        low, high = report.target_range or (float("nan"), float("nan"))
        return wrong(
            f"{target!r} is a quantity on a scale ({low:g} to {high:g}), not a label from a "
            "short list.",
            hint="classification predicts one of a few labels; a measured amount is regression.",
        )
    labels = ", ".join(str(label) for label in (report.class_counts or {}))
    return wrong(
        f"{target!r} holds labels ({labels}), not quantities.",
        hint="regression predicts an amount; a label from a fixed list is classification.",
    )


def missing_values(answer: Any, frame: Any, column: str) -> Feedback:
    """Check a count of the missing values in one column of a DataFrame."""
    require_answer("n_missing", answer)
    expected = int(frame[column].isna().sum())
    if not _is_number(answer):
        return wrong(
            f"the answer should be a number, got {type(answer).__name__} {answer!r}.",
            hint=f"count them with frame[{column!r}].isna().sum().",
        )
    if answer == expected:
        return correct(f"{expected} of the {len(frame)} rows have no {column!r}.")
    if answer == int(frame.isna().sum().sum()):
        return wrong(
            f"{answer} counts the missing values of every column, not only {column!r}.",
            hint=f"select the column first: frame[{column!r}].isna().sum().",
        )
    if answer == len(frame) - expected:
        return wrong(
            f"{answer} counts the rows that *have* a {column!r}.",
            hint="isna() is True where the value is missing; sum() counts the Trues.",
        )
    if answer == len(frame):
        return wrong(f"{answer} is the number of rows.", hint="count only the missing ones.")
    return wrong(
        f"{answer} is not the number of missing values in {column!r}.",
        hint=f"frame[{column!r}].isna().sum() counts them.",
    )


def penguin_features(answer: Any, frame: Any) -> Feedback:
    """Check the feature columns chosen to predict a penguin's species."""
    require_answer("features", answer)
    from course.recipes import PENGUIN_FEATURES, PENGUIN_TARGET

    if isinstance(answer, str) or not isinstance(answer, Sequence):
        return wrong(
            f"`features` should be a list of column names, got {type(answer).__name__}.",
            hint='write it as a list: features = ["bill_length_mm", ...].',
        )
    chosen = list(answer)
    unknown = [name for name in chosen if name not in frame.columns]
    if unknown:
        return wrong(
            f"{unknown} {'is not a column' if len(unknown) == 1 else 'are not columns'} of the "
            "table.",
            hint=f"copy the names exactly from the table: {list(frame.columns)}.",
        )
    if PENGUIN_TARGET in chosen:
        return wrong(
            f"{PENGUIN_TARGET!r} is the answer itself: a model given it as an input learns "
            "nothing useful, and a new bird comes without it.",
            hint="the target never goes into the features.",
        )
    if "year" in chosen:
        return wrong(
            "'year' says when a bird was measured, not what it looks like: the model would "
            "learn about 2007-2009, and every new bird comes from a later year.",
            hint="keep the columns that describe the bird: its measurements, island and sex.",
        )
    left_out = [name for name in PENGUIN_FEATURES if name not in chosen]
    if left_out:
        return wrong(
            f"you left out {left_out}: {'it describes' if len(left_out) == 1 else 'they describe'}"
            " the bird and would be known for a new one.",
            hint="use every column that describes the bird.",
        )
    return correct(f"{len(chosen)} features that describe a bird, and the target left out.")


# --- Notebook 02: prepare the data -----------------------------------------------------------


def penguin_preprocessor(preprocessor: Any, X_train: Any) -> Feedback:
    """Check a preprocessor that fills, scales and one-hot encodes the penguin features."""
    require_answer("preprocessor", preprocessor)
    if isinstance(preprocessor, type):
        return wrong(
            f"`preprocessor` is the class {preprocessor.__name__}, not a transformer made from it.",
            hint=f"call the class to make one: {preprocessor.__name__}(...).",
        )
    if not hasattr(preprocessor, "fit_transform"):
        return wrong(
            f"`preprocessor` should be a scikit-learn transformer, got "
            f"{type(preprocessor).__name__}.",
            hint="build it with ColumnTransformer([(name, transformer, columns), ...]).",
        )
    from sklearn.base import clone

    try:
        out = clone(preprocessor).fit_transform(X_train)
        out = np.asarray(out.toarray() if hasattr(out, "toarray") else out)
    except Exception as error:  # the learner's transformer may raise anything; report it
        return wrong(
            f"fitting it on X_train raised {type(error).__name__}: {error}",
            hint="each entry is (name, transformer, list of column names); text columns need "
            "a OneHotEncoder, numbers a StandardScaler, and both a SimpleImputer first.",
        )
    if out.dtype == object:
        return wrong(
            "the output still holds text: a model needs numbers.",
            hint="encode island and sex with a OneHotEncoder.",
        )
    out = out.astype(float)
    if np.isnan(out).any():
        columns = sorted({int(c) for c in np.flatnonzero(np.isnan(out).any(axis=0))})
        return wrong(
            f"output columns {columns} still have missing values.",
            hint="put a SimpleImputer before the scaler and before the encoder.",
        )
    n_expected = 4 + int(X_train["island"].nunique()) + int(X_train["sex"].nunique())
    if out.shape[1] != n_expected:
        return wrong(
            f"the output has {out.shape[1]} columns; expected {n_expected}: 4 measurements, "
            "one column per island and one per sex.",
            hint="list the four measurements for the numeric part and island and sex for the "
            "categorical part; the ColumnTransformer drops columns it is not given.",
        )
    binary = np.isin(out, (0.0, 1.0)).all(axis=0)
    numbers = out[:, ~binary]
    if numbers.shape[1] != 4:
        return wrong(
            f"{numbers.shape[1]} output columns are measurements, expected 4.",
            hint="one-hot encode only island and sex; scale the four measurements.",
        )
    if not (
        np.allclose(numbers.mean(axis=0), 0, atol=1e-6)
        and np.allclose(numbers.std(axis=0), 1, atol=1e-6)
    ):
        return wrong(
            "the measurements are not scaled: their means and spreads differ "
            f"(means {np.round(numbers.mean(axis=0), 1).tolist()}).",
            hint="add a StandardScaler after the imputer of the numeric columns.",
        )
    return correct(
        f"{out.shape[1]} numeric columns with no missing values: 4 scaled measurements and "
        f"{out.shape[1] - 4} one-hot columns."
    )


_LEAK_EXPLANATIONS = {
    "a": "the scaler learns its mean and spread from every row, test rows included, before "
    "the split: the test rows leak into training.",
    "b": "the scaler is fitted on the training rows only, then applied to the test rows.",
    "c": "the pipeline fits its scaler inside fit, on the training rows only.",
}


def leaky_option(answer: Any) -> Feedback:
    """Check which of the three scaling recipes of notebook 02 leaks the test set ("a")."""
    require_answer("leaky", answer)
    text = str(answer).strip().lower().strip("()")
    if text not in _LEAK_EXPLANATIONS:
        return wrong(f"{answer!r} is not one of the options.", hint='answer "a", "b" or "c".')
    if text == "a":
        return correct(_LEAK_EXPLANATIONS["a"])
    return wrong(
        f"option {text} is safe: {_LEAK_EXPLANATIONS[text]}",
        hint="look for the option where fit sees rows that later serve as the test set.",
    )


# --- Notebook 03: explore the data ---------------------------------------------------------


def strongest_correlation(answer: Any, frame: Any, column: str) -> Feedback:
    """Check which numeric column correlates most strongly (in absolute value) with ``column``."""
    require_answer("strongest", answer)
    numeric = frame.select_dtypes("number")
    correlations = numeric.corr()[column].drop(column)
    best = correlations.abs().idxmax()
    if not isinstance(answer, str):
        return wrong(
            f"the answer should be a column name, got {type(answer).__name__} {answer!r}.",
            hint='write the name in quotes, e.g. "bill_depth_mm".',
        )
    if answer == column:
        return wrong(
            "every column correlates perfectly (1.0) with itself; look at the *other* columns.",
            hint=f"read the {column!r} row of the correlation matrix, skipping the diagonal.",
        )
    if answer not in frame.columns:
        return wrong(
            f"{answer!r} is not a column.", hint=f"pick one of {list(correlations.index)}."
        )
    if answer not in correlations.index:
        return wrong(
            f"{answer!r} is not a number, so it has no correlation coefficient.",
            hint=f"pick one of the numeric columns {list(correlations.index)}.",
        )
    if answer == best:
        return correct(f"{best!r} has the strongest correlation, {correlations[best]:.2f}.")
    r = correlations[answer]
    message = f"{answer!r} has a correlation of {r:.2f}, but another column's is stronger."
    if abs(correlations.min()) > correlations.max() and answer == correlations.idxmax():
        return wrong(message, hint="a strong negative correlation counts too: compare sizes.")
    return wrong(message, hint=f"compare the numbers in the {column!r} row of the matrix.")


def class_share(answer: Any, labels: Any, label: Any) -> Feedback:
    """Check the share (a fraction between 0 and 1) of rows with one label."""
    require_answer("share", answer)
    import pandas as pd

    counts = pd.Series(labels).value_counts()
    expected = counts.get(label, 0) / counts.sum()
    if not _is_number(answer):
        return wrong(
            f"the answer should be a number, got {type(answer).__name__} {answer!r}.",
            hint="divide the count of that label by the number of rows.",
        )
    if math.isclose(answer, expected, abs_tol=0.005):
        return correct(f"{expected:.1%} of the rows are {label!r}.")
    if math.isclose(answer, 100 * expected, abs_tol=0.5):
        return wrong(
            f"{answer:g} is a percentage; the answer is a fraction.",
            hint="give a number between 0 and 1, e.g. 0.25 for a quarter.",
        )
    if answer == counts.get(label, 0):
        return wrong(
            f"{answer} is the number of {label!r} rows, not their share.",
            hint="divide it by the number of rows.",
        )
    for other, count in counts.items():
        if other != label and math.isclose(answer, count / counts.sum(), abs_tol=0.005):
            return wrong(
                f"{answer:.3f} is the share of {other!r}, not {label!r}.",
                hint="check which label you counted.",
            )
    return wrong(
        f"{answer:.3f} is not the share of {label!r}.",
        hint="value_counts(normalize=True) gives the share of every label.",
    )


# --- Notebook 04: split and build ----------------------------------------------------------


def stratified_split(y_train: Any, y_test: Any, y: Any, *, test_size: float) -> Feedback:
    """Check a stratified train/test split of ``y`` with ``test_size`` of the rows for testing."""
    require_answer("y_train", y_train)
    require_answer("y_test", y_test)
    import pandas as pd

    y_train, y_test, y = pd.Series(y_train), pd.Series(y_test), pd.Series(y)
    expected_test = math.ceil(test_size * len(y))
    if len(y_train) + len(y_test) != len(y):
        return wrong(
            f"train and test hold {len(y_train) + len(y_test)} rows together, but y has {len(y)}.",
            hint="split the whole X and y: train_test_split(X, y, ...).",
        )
    if set(y_train.index) & set(y_test.index):
        return wrong(
            "some rows are in both the training and the test set.",
            hint="split once with train_test_split; never pick test rows by hand.",
        )
    if len(y_test) != expected_test:
        swapped = len(y_train) == expected_test
        return wrong(
            f"the test set has {len(y_test)} rows; with test_size={test_size} it should have "
            f"{expected_test}.",
            hint="train_test_split returns X_train, X_test, y_train, y_test in that order."
            if swapped
            else f"pass test_size={test_size}.",
        )
    train_share = y_train.value_counts(normalize=True)
    test_share = y_test.value_counts(normalize=True)
    gaps = (train_share - test_share).fillna(1).abs()
    if gaps.max() > 0.02:
        label = gaps.idxmax()
        return wrong(
            f"the split is not stratified: {label!r} is {train_share.get(label, 0):.1%} of the "
            f"training rows but {test_share.get(label, 0):.1%} of the test rows.",
            hint="pass stratify=y so every class keeps its share in both parts.",
        )
    return correct(
        f"{len(y_train)} training and {len(y_test)} test rows, every class with the same share "
        "in both."
    )


def beats_baseline(model: Any, X_train: Any, y_train: Any, X_test: Any, y_test: Any) -> Feedback:
    """Check a fitted model against the dummy baseline on the test set.

    A label target compares accuracy with "always the most frequent class"; a quantity
    compares the mean absolute error with "always the training mean".
    """
    require_answer("model", model)
    from sklearn.base import is_classifier, is_regressor
    from sklearn.dummy import DummyClassifier, DummyRegressor
    from sklearn.exceptions import NotFittedError
    from sklearn.metrics import mean_absolute_error

    if not hasattr(model, "predict"):
        return wrong(
            f"`model` should be a scikit-learn model, got {type(model).__name__}.",
            hint="build it, e.g. make_pipeline(...), then call model.fit(X_train, y_train).",
        )
    final = model.steps[-1][1] if hasattr(model, "steps") else model
    if type(final).__name__.startswith("Dummy"):
        return wrong(
            "this is a baseline itself: it cannot beat the baseline.",
            hint="use a model that learns from the features, e.g. a random forest.",
        )
    labels = _is_label_target(y_train)
    if labels and is_regressor(model):
        return wrong(
            "the target is a label, but the model is a regressor.",
            hint="use a classifier (LogisticRegression, or a name ending in Classifier).",
        )
    if not labels and is_classifier(model):
        return wrong(
            "the target is a quantity, but the model is a classifier.",
            hint="use a regressor (LinearRegression, Ridge, or a name ending in Regressor).",
        )
    try:
        predictions = np.asarray(model.predict(X_test))
    except NotFittedError:
        return wrong("the model is not fitted yet.", hint="call model.fit(X_train, y_train).")
    except Exception as error:  # the learner's model may raise anything; report it kindly
        return wrong(
            f"the model cannot predict X_test: {type(error).__name__}: {error}",
            hint="fit it on X_train, and put the preprocessing in the same pipeline so the "
            "test rows get it too.",
        )
    if labels:
        score = float(np.mean(predictions == np.asarray(y_test)))
        base = DummyClassifier(strategy="most_frequent").fit(X_train, y_train).score(X_test, y_test)
        better = score > base + 0.05
        reached = f"test accuracy {score:.3f} against {base:.3f} for the baseline"
    else:
        score = mean_absolute_error(y_test, predictions)
        base_predictions = DummyRegressor(strategy="mean").fit(X_train, y_train).predict(X_test)
        base = mean_absolute_error(y_test, base_predictions)
        better = score < 0.9 * base
        reached = f"test mean absolute error {score:.1f} against {base:.1f} for the baseline"
    if better:
        return correct(f"{reached}.")
    return wrong(
        f"{reached}: not clearly better.",
        hint="check the model was fitted on X_train and y_train; try other features, another "
        "model or other settings.",
    )


def _is_label_target(y: Any) -> bool:
    """True for a target of labels; False for a quantity (as course.advisor reads it)."""
    from sklearn.utils.multiclass import type_of_target

    from course.advisor import MAX_CLASSES

    kind = type_of_target(np.asarray(y))
    if kind == "continuous":
        return False
    numeric = np.issubdtype(np.asarray(y).dtype, np.number)
    return not (numeric and kind == "multiclass" and len(np.unique(y)) > MAX_CLASSES)


# --- Notebook 05: evaluate and tune --------------------------------------------------------


def confusion_cell(answer: Any, confusion: Any, *, true: Any, predicted: Any) -> Feedback:
    """Check a count read from a confusion matrix (rows: true class, columns: predicted)."""
    require_answer("count", answer)
    expected = int(confusion.loc[true, predicted])
    if not _is_number(answer):
        return wrong(
            f"the answer should be a number, got {type(answer).__name__} {answer!r}.",
            hint="read one cell of the confusion matrix.",
        )
    if answer == expected:
        return correct(f"{expected} {true} penguins were predicted {predicted}.")
    if answer == int(confusion.loc[predicted, true]):
        return wrong(
            f"{answer} is the number of {predicted} penguins predicted {true}: row and column "
            "are swapped.",
            hint="rows are the true class, columns the predicted class.",
        )
    if answer == int(confusion.loc[true].sum()):
        return wrong(
            f"{answer} is the number of {true} penguins in the test set.",
            hint=f"only those predicted {predicted}: one cell of the {true!r} row.",
        )
    return wrong(
        f"{answer} is not the number of {true} penguins predicted {predicted}.",
        hint=f"row {true!r}, column {predicted!r}.",
    )


def grid_search(search: Any, X_train: Any, *, param: str, cv: int = 5) -> Feedback:
    """Check a fitted GridSearchCV over ``param`` with ``cv`` folds, on the training rows only."""
    require_answer("search", search)
    if not hasattr(search, "param_grid"):
        return wrong(
            f"`search` should be a GridSearchCV, got {type(search).__name__}.",
            hint=f"GridSearchCV(model, {{{param!r}: [values]}}, cv={cv}).",
        )
    if not hasattr(search, "cv_results_"):
        return wrong("the search has not run yet.", hint="call search.fit(X_train, y_train).")
    grids = search.param_grid if isinstance(search.param_grid, list) else [search.param_grid]
    values = [value for grid in grids for value in grid.get(param, [])]
    if not values:
        names = sorted({name for grid in grids for name in grid})
        return wrong(
            f"the grid does not search {param!r} (it searches {names}).",
            hint=f"use the key {param!r}: the pipeline step's name, two underscores, the "
            "parameter's name.",
        )
    if len(values) < 3:
        return wrong(
            f"the grid tries only {len(values)} values of {param!r}.",
            hint="try a range of values, e.g. list(range(1, 11)).",
        )
    if search.n_splits_ != cv:
        return wrong(
            f"the search uses {search.n_splits_}-fold cross-validation, expected {cv}.",
            hint=f"pass cv={cv} to GridSearchCV.",
        )
    seen = _rows_seen(getattr(search, "best_estimator_", None))
    if seen is not None and seen != len(X_train):
        return wrong(
            f"the search was fitted on {seen} rows, but X_train has {len(X_train)}: tuning on "
            "the test rows too makes the final test score too good to be true.",
            hint="call search.fit(X_train, y_train); keep the test set for the very end.",
        )
    best = search.best_params_[param]
    return correct(
        f"the best {param} is {best!r}, with a cross-validated accuracy of "
        f"{search.best_score_:.3f}."
    )


def _rows_seen(model: Any) -> int | None:
    """How many rows a fitted model (or the last step of a pipeline) was trained on, if known."""
    steps = [step for _, step in model.steps] if hasattr(model, "steps") else [model]
    for step in steps:
        for attribute in ("n_samples_fit_", "n_samples_seen_"):
            value = getattr(step, attribute, None)
            if value is not None:
                return int(np.max(value))
        tree = getattr(step, "tree_", None)
        if tree is not None:
            return int(tree.n_node_samples[0])
    return None


# --- Notebook 06: predict on unseen data ----------------------------------------------------


def class_probability(answer: Any, model: Any, row: Any, label: Any) -> Feedback:
    """Check the probability a fitted classifier gives to ``label`` for one row (a 1-row frame)."""
    require_answer("probability", answer)
    try:
        probabilities = np.asarray(model.predict_proba(row))[0]
    except Exception as error:  # a row the model cannot read: say so instead of crashing
        return wrong(
            f"the model cannot score the row: {type(error).__name__}: {error}",
            hint="give the row the same columns, in the same order, as the training features.",
        )
    classes = list(model.classes_)
    expected = float(probabilities[classes.index(label)])
    if isinstance(answer, str):
        return wrong(
            f"{answer!r} is a label; the question asks for a probability.",
            hint="model.predict_proba(row) gives one probability per class.",
        )
    if isinstance(answer, np.ndarray | list | tuple):
        return wrong(
            "that is one probability per class; the question asks for one of them.",
            hint=f"pick the column of {label!r}: the columns follow model.classes_ = {classes}.",
        )
    if not _is_number(answer):
        return wrong(
            f"the answer should be a number, got {type(answer).__name__}.",
            hint="model.predict_proba(row)[0, column] is a number.",
        )
    if math.isclose(answer, expected, abs_tol=5e-4):
        return correct(f"the model gives {label!r} a probability of {expected:.3f}.")
    if math.isclose(answer, 100 * expected, abs_tol=0.05):
        return wrong(f"{answer:g} is a percentage.", hint="give it as a number from 0 to 1.")
    for other, probability in zip(classes, probabilities, strict=True):
        if other != label and math.isclose(answer, probability, abs_tol=5e-4):
            return wrong(
                f"{answer:.3f} is the probability of {other!r}.",
                hint=f"the columns follow model.classes_ = {classes}.",
            )
    return wrong(
        f"{answer:.3f} is not the probability of {label!r}.",
        hint="use model.predict_proba on the new row, not on the test set.",
    )


def valid_request(row: Any, card: Any) -> Feedback:
    """Check that a prediction request passes the model card's schema, as the server does."""
    require_answer("fixed_request", row)
    from course.schema import RowValidationError, validate_row

    try:
        _, warnings = validate_row(card, row)
    except RowValidationError as error:
        first = error.problems[0]
        return wrong(
            f"the server would refuse it: {error}",
            hint=f"start with {first.field!r}: {first.problem}; expected {first.expected}.",
        )
    if warnings:
        return wrong(
            f"the server accepts it but warns: {warnings[0]}",
            hint="a value far outside the training range makes the prediction a guess.",
        )
    return correct("the server would accept this request and predict from it.")


# --- Notebook 07: regression ---------------------------------------------------------------


def largest_coefficient(answer: Any, model: Any) -> Feedback:
    """Check which input has the largest coefficient (in size) in a fitted linear pipeline."""
    require_answer("largest", answer)
    final = model.steps[-1][1] if hasattr(model, "steps") else model
    coefficients = np.ravel(final.coef_)
    if hasattr(model, "steps") and len(model.steps) > 1:
        names = list(model[:-1].get_feature_names_out())
    else:
        names = list(getattr(final, "feature_names_in_", range(len(coefficients))))
    # A ColumnTransformer prefixes names with its part ("numeric__bmi"): keep the column's.
    names = [str(name).rpartition("__")[2] for name in names]
    sizes = dict(zip(names, coefficients, strict=True))
    best = max(sizes, key=lambda name: abs(sizes[name]))
    if answer == best:
        return correct(
            f"{best!r}: a change of one standard deviation moves the prediction by "
            f"{sizes[best]:+.1f}."
        )
    if answer not in sizes:
        return wrong(f"{answer!r} is not one of the model's inputs.", hint=f"pick one of {names}.")
    most_positive = max(sizes, key=lambda name: sizes[name])
    if answer == most_positive and sizes[best] < 0:
        return wrong(
            f"{answer!r} has the largest positive coefficient, but a negative one is larger.",
            hint="compare sizes: abs(coefficient).",
        )
    return wrong(
        f"{answer!r} has a coefficient of {sizes[answer]:+.1f}; another input's is larger.",
        hint="sort the coefficients by their absolute value.",
    )


# --- Notebook 08: unsupervised learning ----------------------------------------------------


def best_k(answer: Any, scores: Any) -> Feedback:
    """Check the number of clusters with the highest silhouette in a ``cluster_scores`` table."""
    require_answer("best_k", answer)
    expected = int(scores["silhouette"].idxmax())
    if not _is_number(answer):
        return wrong(
            f"the answer should be a whole number, got {type(answer).__name__} {answer!r}.",
            hint="read the k with the highest silhouette.",
        )
    if answer == expected:
        return correct(
            f"k = {expected} has the highest silhouette, {scores['silhouette'][expected]:.3f}."
        )
    if answer not in scores.index:
        return wrong(f"k = {answer} was not scored.", hint=f"pick one of {list(scores.index)}.")
    if answer == int(scores["silhouette"].idxmin()):
        return wrong(
            f"k = {answer} has the *lowest* silhouette.",
            hint="a higher silhouette means tighter, better separated clusters.",
        )
    if answer == int(scores["inertia"].idxmin()):
        return wrong(
            f"k = {answer} has the lowest inertia, but inertia always falls as k grows.",
            hint="judge by the silhouette, which does not reward more clusters.",
        )
    return wrong(
        f"k = {answer} has a silhouette of {scores['silhouette'][answer]:.3f}; another is higher.",
        hint="scores['silhouette'].idxmax() gives the best k.",
    )


def clusters_match(labels: Any, truth: Any, *, n_clusters: int, min_agreement: float) -> Feedback:
    """Check cluster labels against the true classes with the adjusted Rand index."""
    require_answer("clusters", labels)
    from sklearn.metrics import adjusted_rand_score

    labels, truth = np.asarray(labels), np.asarray(truth)
    if labels.ndim != 1 or len(labels) != len(truth):
        return wrong(
            f"expected one cluster label per row ({len(truth)}), got shape {labels.shape}.",
            hint="clusters = model.fit_predict(X) on the rows of the whole table.",
        )
    found = len(np.unique(labels))
    if found != n_clusters:
        return wrong(
            f"the rows fall into {found} clusters, expected {n_clusters}.",
            hint=f"pass n_clusters={n_clusters} to KMeans.",
        )
    agreement = adjusted_rand_score(truth, labels)
    if agreement >= min_agreement:
        return correct(
            f"the clusters agree with the species (adjusted Rand index {agreement:.2f}) without "
            "ever seeing them."
        )
    return wrong(
        f"the clusters agree little with the species (adjusted Rand index {agreement:.2f}, "
        f"target {min_agreement:.2f}).",
        hint="scale the features first (unscaled, body mass in grams outweighs everything "
        "else), and cluster on the measurements that separate the species (notebook 03).",
    )


# --- Capstone: will it rain tomorrow in Seattle? ---------------------------------------------


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
    y = pd.Series(table[target]).to_numpy()
    for column in X.columns:
        if X[column].nunique() > 1 and ((X[column].to_numpy() > 0) == y).mean() > 0.99:
            return wrong(
                f"{column!r} gives the target away: it is positive exactly on the rows where "
                f"{target!r} is true, so it must come from the future.",
                hint="use only what is known on the day of the prediction.",
            )
    return correct(f"{X.shape[1]} numeric features for {len(X)} rows: {[str(c) for c in X]}.")


def time_ordered_split(X_train: Any, X_test: Any, table: Any, *, date: str = "date") -> Feedback:
    """Check that every test row comes after every training row of ``table`` (by ``date``)."""
    require_answer("X_train", X_train)
    require_answer("X_test", X_test)
    require_answer("table", table)
    import pandas as pd

    dates = pd.to_datetime(table[date])
    missing = [index for index in (*X_train.index, *X_test.index) if index not in dates.index]
    if missing:
        return wrong(
            f"{len(missing)} rows of X_train and X_test are not rows of the table.",
            hint="split the X and y built from the table, without resetting their index.",
        )
    train, test = dates.loc[X_train.index], dates.loc[X_test.index]
    if not len(train) or not len(test):
        return wrong("one of the two parts is empty.", hint="choose a cut inside the dates.")
    overlap = set(X_train.index) & set(X_test.index)
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
    share = len(test) / (len(train) + len(test))
    if not 0.1 <= share <= 0.4:
        return wrong(
            f"the test set holds {share:.0%} of the days.",
            hint="keep between 10% and 40% of the days (the latest ones) for testing.",
        )
    return correct(
        f"trained on {train.min().date()} to {train.max().date()}, tested on the "
        f"{len(test)} days from {test.min().date()} to {test.max().date()}."
    )


def persistence_accuracy(
    answer: Any, X_test: Any, y_test: Any, *, column: str = "precipitation"
) -> Feedback:
    """Check the test accuracy of the rule "tomorrow like today": rain when ``column`` > 0."""
    require_answer("persistence", answer)
    truth = np.asarray(y_test).astype(bool)
    rule = np.asarray(X_test[column]) > 0
    expected = float((rule == truth).mean())
    if not _is_number(answer):
        return wrong(
            f"the answer should be a number, got {type(answer).__name__} {answer!r}.",
            hint="compare the rule's answers with y_test and take the mean.",
        )
    if math.isclose(answer, expected, abs_tol=5e-4):
        return correct(f"tomorrow is like today on {expected:.1%} of the test days.")
    if math.isclose(answer, 100 * expected, abs_tol=0.05):
        return wrong(f"{answer:g} is a percentage.", hint="give it as a number from 0 to 1.")
    if math.isclose(answer, 1 - expected, abs_tol=5e-4):
        return wrong(
            f"{answer:.3f} is the share of days the rule gets wrong.",
            hint="count the days where the rule's answer equals the truth.",
        )
    if math.isclose(answer, float(truth.mean()), abs_tol=5e-4):
        return wrong(
            f"{answer:.3f} is the share of rainy days, not the rule's accuracy.",
            hint=f"the rule predicts rain when {column} > 0; compare that with y_test.",
        )
    return wrong(
        f"{answer:.3f} is not the accuracy of the rule on the test days.",
        hint=f"((X_test[{column!r}] > 0) == y_test).mean(), on the test days only.",
    )


# --- Notebook 09: deep learning ------------------------------------------------------------


def parameter_count(answer: Any, layer_sizes: Sequence[int]) -> Feedback:
    """Check a hand count of the learned numbers in a dense network, e.g. sizes [64, 32, 10]."""
    require_answer("n_parameters", answer)
    sizes = list(layer_sizes)
    pairs = list(itertools.pairwise(sizes))
    weights = sum(n_in * n_out for n_in, n_out in pairs)
    biases = sum(n_out for _, n_out in pairs)
    expected = weights + biases
    layers = " + ".join(f"({n_in} x {n_out} + {n_out})" for n_in, n_out in pairs)
    if not _is_number(answer):
        return wrong(
            f"the answer should be a number, got {type(answer).__name__} {answer!r}.",
            hint="write the count as an integer, e.g. n_parameters = 100 + 20.",
        )
    if answer == expected:
        return correct(f"{layers} = {expected} numbers are learned.")
    if answer == weights:
        return wrong(
            f"{answer} counts the weights but not the biases.",
            hint="every unit of a Dense layer also learns one bias.",
        )
    first = pairs[0][0] * pairs[0][1] + pairs[0][1]
    if answer == first and len(pairs) > 1:
        return wrong(
            f"{answer} is the first layer alone.",
            hint="add the parameters of every Dense layer, the output layer included.",
        )
    if answer == sum(sizes):
        return wrong(
            f"{answer} counts the units, not the connections between them.",
            hint="a Dense layer with n inputs and m units learns n x m weights plus m biases.",
        )
    return wrong(
        f"{answer} is not the number of learned parameters.",
        hint="a Dense layer with n inputs and m units learns n x m weights plus m biases; "
        "compare with model.count_params().",
    )


def digits_network(model: Any, X_test: Any, y_test: Any, *, min_accuracy: float) -> Feedback:
    """Check a trained Keras network on the digits: 64 pixels in, 10 probabilities out."""
    require_answer("model", model)
    X_test = np.asarray(X_test, dtype="float32")
    y_test = np.asarray(y_test)
    if not callable(getattr(model, "predict", None)):
        return wrong(
            f"`model` should be a Keras model, got {type(model).__name__}.",
            hint="build it with keras.Sequential([...]), then compile and fit it.",
        )
    try:
        probabilities = np.asarray(model.predict(X_test, verbose=0))
    except Exception as error:  # any Keras error here means the shapes do not fit the digits
        return wrong(
            f"the network cannot read the digits: {type(error).__name__}.",
            hint=f"start the network with keras.Input(shape=({X_test.shape[1]},)): "
            f"one input per pixel.",
        )
    if probabilities.ndim != 2 or probabilities.shape[1] != 10:
        return wrong(
            f"the network outputs shape {probabilities.shape[1:]} per image; "
            f"it should give 10 numbers, one per digit.",
            hint='end with keras.layers.Dense(10, activation="softmax").',
        )
    if not np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-3):
        return wrong(
            "the 10 outputs of an image do not add up to 1, so they are not probabilities.",
            hint='use activation="softmax" on the last layer.',
        )
    accuracy = float((probabilities.argmax(axis=1) == y_test).mean())
    if accuracy < 0.2:
        return wrong(
            f"test accuracy is {accuracy:.2f}, no better than guessing: was the network trained?",
            hint="call model.compile(...) then model.fit(X_train, y_train, epochs=...).",
        )
    if accuracy < min_accuracy:
        return wrong(
            f"test accuracy is {accuracy:.2f}; the target is {min_accuracy:.2f}.",
            hint="train for more epochs, or add units to the hidden layer.",
        )
    return correct(f"test accuracy is {accuracy:.2f} (target {min_accuracy:.2f}).")


# --- Notebook 10: reinforcement learning ---------------------------------------------------


def discounted_return(answer: Any, rewards: Sequence[float], discount: float) -> Feedback:
    """Check a hand computation of r0 + discount * r1 + discount**2 * r2 + ..."""
    require_answer("value", answer)
    expected = sum(reward * discount**step for step, reward in enumerate(rewards))
    if not _is_number(answer):
        return wrong(
            f"the answer should be a number, got {type(answer).__name__} {answer!r}.",
            hint="write it as arithmetic, e.g. value = 0.9**2 * 10.",
        )
    if math.isclose(answer, expected, rel_tol=1e-6, abs_tol=1e-9):
        return correct(f"the return is {expected:.4g}.")
    if math.isclose(answer, sum(rewards), rel_tol=1e-6):
        return wrong(
            f"{answer:.4g} adds the rewards without discounting them.",
            hint="a reward that arrives k steps later is worth discount**k times as much.",
        )
    shifted = sum(reward * discount ** (step + 1) for step, reward in enumerate(rewards))
    if math.isclose(answer, shifted, rel_tol=1e-6):
        return wrong(
            f"{answer:.4g} discounts one step too many.",
            hint="the first reward is not discounted: its factor is discount**0 = 1.",
        )
    return wrong(
        f"{answer:.4g} is not the discounted return.",
        hint="add reward * discount**k over the steps k = 0, 1, 2, ...",
    )


def q_update(update: Callable[..., float]) -> Feedback:
    """Check a learner's ``update(q, reward, next_best, learning_rate, discount)`` function."""
    require_answer("q_update", update)
    if not callable(update):
        return wrong(
            f"`q_update` should be a function, got {type(update).__name__}.",
            hint="define it with def q_update(q, reward, next_best, learning_rate, discount):",
        )
    cases = [(0.0, 1.0, 0.0, 0.5, 0.9), (2.0, 0.0, 5.0, 0.1, 0.9), (1.0, -1.0, 3.0, 1.0, 0.5)]
    for q, reward, next_best, learning_rate, discount in cases:
        target = reward + discount * next_best
        expected = q + learning_rate * (target - q)
        try:
            got = update(q, reward, next_best, learning_rate, discount)
        except NotImplementedError:
            raise  # the starting code of the exercise: not answered yet
        except Exception as error:  # the learner's code may raise anything; report it kindly
            return wrong(
                f"q_update{(q, reward, next_best, learning_rate, discount)} raised "
                f"{type(error).__name__}: {error}",
                hint="the function takes five numbers and returns one number.",
            )
        if got is None:
            return wrong(
                "q_update returned None.",
                hint="end the function with `return` and the new Q value.",
            )
        if not _is_number(got):
            return wrong(
                f"q_update returned {type(got).__name__} {got!r}, not a number.",
                hint="return the new Q value as a single number.",
            )
        if math.isclose(got, expected, rel_tol=1e-6, abs_tol=1e-9):
            continue
        args = f"q={q}, reward={reward}, next_best={next_best}, lr={learning_rate}, "
        args += f"discount={discount}"
        if math.isclose(got, target, rel_tol=1e-6, abs_tol=1e-9):
            hint = "the new value moves only part of the way: q + learning_rate * (target - q)."
        elif math.isclose(got, q + learning_rate * (reward + next_best - q), abs_tol=1e-9):
            hint = "the future is discounted: target = reward + discount * next_best."
        elif math.isclose(got, learning_rate * (target - q), abs_tol=1e-9):
            hint = "this is the change; add it to the old value q."
        else:
            hint = "new q = q + learning_rate * (reward + discount * next_best - q)."
        return wrong(f"with {args} you return {got:.4g}, expected {expected:.4g}.", hint=hint)
    return correct("your update matches Q-learning's rule on every test case.")


def reaches_goal(agent: Any, env: Any) -> Feedback:
    """Check that a fitted agent's greedy policy walks from the start to the goal 'G'."""
    require_answer("agent", agent)
    if not hasattr(agent, "policy_"):
        return wrong(
            "the agent has not learned anything yet.",
            hint="call agent.fit(env) before checking it.",
        )
    path = env.rollout(agent.policy_)
    end = env.cell(path[-1])
    steps = len(path) - 1
    if end == "G":
        return correct(f"the greedy policy reaches the goal in {steps} steps.")
    if end == "c":
        return wrong(
            f"the greedy policy takes the coin after {steps} steps and never sees the goal.",
            hint="the agent exploits too early: raise epsilon (explore more) or n_episodes.",
        )
    return wrong(
        f"the greedy policy wanders for {steps} steps without ending the episode.",
        hint="train for more episodes so every state on the way learns a useful action.",
    )


# --- Notebook 11: ship it --------------------------------------------------------------------
# These checks read what serving.client gives: events (offset, type, run, agent, data) and the
# Answer of wait_for_answer (status, result, error).

_RUN_ENDINGS = ("run.completed", "run.cancelled", "run.failed", "run.interrupted")


def _deltas(events: Sequence[Any]) -> list[Any]:
    return [event for event in events if event.type == "delta"]


def _is_event_list(value: Any) -> bool:
    return isinstance(value, list) and all(
        hasattr(item, "offset") and hasattr(item, "type") for item in value
    )


def caught_up(missed: Any, seen: Sequence[Any]) -> Feedback:
    """Check the events read after resuming: with ``seen``, the whole run, each event once."""
    require_answer("missed", missed)
    follow_hint = "read the run's events with list(follow(again, ack.run))."
    if not _is_event_list(missed):
        return wrong(
            f"`missed` should be a list of events, got {type(missed).__name__}.",
            hint=follow_hint,
        )
    if not missed:
        return wrong("`missed` is empty: nothing was caught up.", hint=follow_hint)
    run = seen[0].run
    others = [event for event in missed if event.run != run]
    if others:
        return wrong(
            f"`missed` holds {len(others)} events that are not of this run (the first is a "
            f"{others[0].type!r}).",
            hint=f"keep only the events of run {run}: follow(again, ack.run) does.",
        )
    resume_hint = (
        "open the new client from last_offset, the offset of the last event you saw: "
        "server.join(laptop, device='tablet', start=last_offset)."
    )
    already_seen = {event.offset for event in seen}
    repeated = [event for event in missed if event.offset in already_seen]
    if repeated:
        return wrong(
            f"{len(repeated)} of these events had already been seen (the first is the "
            f"{repeated[0].type!r} event): the new client started before the last event you saw.",
            hint=resume_hint,
        )
    ending = missed[-1]
    if ending.type not in _RUN_ENDINGS:
        return wrong(
            f"your events stop before the run's end: the last one is a {ending.type!r}.",
            hint="read up to the event that ends the run: follow(again, ack.run) stops there.",
        )
    result = ending.data.get("result")
    if ending.type != "run.completed" or not isinstance(result, dict) or "text" not in result:
        return wrong(
            f"the run ended with {ending.type!r} and no explanation to compare with.",
            hint="run the exercise's cells again from the top, without stopping the run.",
        )
    text = "".join(event.data["text"] for event in _deltas([*seen, *missed]))
    if text != result["text"]:
        gap = len(result["text"]) - len(text)
        return wrong(
            f"{gap} characters of the answer are missing between what you saw and what you "
            "read: the new client started after the last event you saw (from 'new'?).",
            hint=resume_hint,
        )
    count = len(_deltas(missed))
    return correct(
        f"you caught up with the {count} deltas you missed, none twice: with the "
        f"{len(_deltas(seen))} you had seen, they make the whole answer."
    )


def shorter_explanation(answer: Any, unsteered: Any) -> Feedback:
    """Check that a steered predict run wrote a shorter explanation than ``unsteered``."""
    require_answer("answer", answer)
    if not all(hasattr(answer, name) for name in ("status", "result", "error")):
        return wrong(
            f"`answer` should be what wait_for_answer returns, got {type(answer).__name__}.",
            hint="after the steer: answer = laptop.wait_for_answer(ack.run).",
        )
    if answer.status == "cancelled":
        return wrong(
            "the run was stopped, not steered.",
            hint="cancel ends a run; steer(ack.run, length='short') changes it and lets it finish.",
        )
    if answer.status != "completed":
        return wrong(
            f"the run ended {answer.status}: {answer.error}.",
            hint="run the exercise's cells again, from the send.",
        )
    if not isinstance(answer.result, dict) or "text" not in answer.result:
        return wrong(
            "this answer has no explanation: it is not the predict run of the exercise.",
            hint="wait for the run the exercise started: laptop.wait_for_answer(ack.run).",
        )
    words = len(answer.result["text"].split())
    before = len(unsteered.result["text"].split())
    if words >= before:
        return wrong(
            f"the explanation has {words} words, no fewer than without a steer ({before}).",
            hint="send laptop.steer(ack.run, length='short') right after the send, while the "
            "explanation is being written: a steer applies from the next sentence.",
        )
    return correct(
        f"the steered explanation has {words} words instead of {before}: a steer changes a run "
        "while it is being written."
    )


def dissenting_member(answer: Any, events: Sequence[Any]) -> Feedback:
    """Check the name of the ensemble member whose prediction differs from the vote."""
    require_answer("dissenter", answer)
    predictions = {
        str(event.agent).removeprefix("model:"): event.data["prediction"]
        for event in events
        if event.type == "prediction" and event.agent
    }
    result = events[-1].data["result"]
    vote, votes = result["prediction"], result["votes"]
    members = ", ".join(sorted(predictions))
    if not isinstance(answer, str):
        return wrong(
            f"the answer should be a member's name, got {type(answer).__name__} {answer!r}.",
            hint=f"one of {members}, in quotes.",
        )
    name = answer.removeprefix("model:")
    if name not in predictions:
        return wrong(
            f"no member is called {answer!r}: the members are {members}.",
            hint="each member's prediction event names it in event.agent ('model:<name>').",
        )
    said = predictions[name]
    if said == vote:
        return wrong(
            f"{name} said {said}, like the ensemble's vote.",
            hint="compare each prediction event's data['prediction'] with the vote, "
            "events[-1].data['result']['prediction'].",
        )
    return correct(
        f"{name} said {said}, but the vote went to {vote}, {votes[str(vote)]} votes to "
        f"{votes[str(said)]}."
    )
