"""Checks for notebook 02: prepare the data.

The preprocessor is judged by what it does (fitted on a clone, its output compared with the
course's), and each beginner's recipe that goes wrong (no imputer, scaler before imputer, the
measurements one-hot encoded, a model at the end) gets its own message.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from course.checks._answers import expect_table
from course.checks._feedback import Feedback, correct, require_answer, wrong
from course.checks._guard import check, describe
from course.checks._quiz import Question, Quiz

_MEASUREMENTS = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
_CATEGORIES = ["island", "sex"]
_UNSEEN_ISLAND = "Anvers"  # the island of Palmer Station: no penguin of the table comes from it


@check
def penguin_preprocessor(preprocessor: Any, X_train: Any) -> Feedback:
    """Check a preprocessor that fills, scales and one-hot encodes the penguin features.

    The check fits a clone on ``X_train`` and compares its output with the course's
    ``recipes.penguin_preprocessor()``; the learner's object itself stays unfitted.
    """
    require_answer("preprocessor", preprocessor)
    if isinstance(preprocessor, type):
        return wrong(
            f"`preprocessor` is the class {preprocessor.__name__}, not a transformer made from it.",
            hint=f"call the class to make one: {preprocessor.__name__}(...).",
            mistake="class-not-instance",
        )
    last = getattr(preprocessor, "steps", [(None, None)])[-1][1]
    if last is not None and hasattr(last, "predict") and not hasattr(last, "transform"):
        return wrong(
            f"`preprocessor` ends with a model ({type(last).__name__}): the exercise asks for "
            "the preparation alone, which the model is added to later.",
            hint="leave the model out: the answer is the ColumnTransformer itself.",
            mistake="ends-with-model",
        )
    if hasattr(preprocessor, "predict") and not hasattr(preprocessor, "transform"):
        return wrong(
            f"`preprocessor` is a model ({type(preprocessor).__name__}), not the preparation "
            "that comes before it.",
            hint="the answer fills, scales and encodes: ColumnTransformer([(name, transformer, "
            "columns), ...]).",
            mistake="model-not-preprocessor",
        )
    if not hasattr(preprocessor, "fit_transform"):
        return wrong(
            f"`preprocessor` should be a scikit-learn transformer, but it is "
            f"{describe(preprocessor)}.",
            hint="build it with ColumnTransformer([(name, transformer, columns), ...]).",
            mistake="not-a-transformer",
        )
    expect_table("X_train", X_train)
    absent = [column for column in _MEASUREMENTS + _CATEGORIES if column not in X_train.columns]
    if absent:
        return wrong(
            f"`X_train` has no column {absent[0]!r}: it is not the training table of the "
            "notebook any more.",
            hint="run the notebook's cells from the top again (Run > Run All Above), so that "
            "X_train is the table recipes.penguin_split() gives.",
            mistake="x-train-replaced",
        )
    from sklearn.base import clone
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    try:
        check_is_fitted(preprocessor)
    except NotFittedError:
        pass
    except TypeError:
        pass  # not an estimator scikit-learn can inspect: the fit below will tell
    else:
        return wrong(
            "`preprocessor` is already fitted: the exercise asks for the recipe, unfitted.",
            hint="leave out .fit(...): a preprocessor is fitted inside the model's pipeline, "
            "on the training rows of each fit (and of each cross-validation fold).",
            mistake="already-fitted",
        )
    try:
        out = _dense(clone(preprocessor).fit_transform(X_train))
    except Exception as error:  # the learner's transformer may raise anything; report it
        return wrong(
            f"fitting it on X_train raised {type(error).__name__}: {error}",
            hint="each entry is (name, transformer, list of column names); text columns need "
            "a OneHotEncoder, numbers a StandardScaler, and both a SimpleImputer first.",
            mistake="fit-raises",
        )
    if out.ndim != 2 or len(out) != len(X_train):
        return wrong(
            f"its output is {describe(out)}, not a table with one row per bird of X_train.",
            hint="build it with ColumnTransformer([(name, transformer, columns), ...]).",
            mistake="wrong-row-count",
        )
    if out.dtype == object:
        return wrong(
            "the output still holds text: a model needs numbers.",
            hint="encode island and sex with a OneHotEncoder.",
            mistake="text-not-encoded",
        )
    out = out.astype(float)
    if np.isnan(out).any():
        columns = sorted({int(c) for c in np.flatnonzero(np.isnan(out).any(axis=0))})
        return wrong(
            f"output columns {columns} still have missing values.",
            hint="put a SimpleImputer before the scaler and before the encoder.",
            mistake="gaps-not-filled",
        )
    steps = _steps_by_column(preprocessor)
    if steps is not None:
        mistake = _structural_mistake(steps, out.shape[1])
        if mistake is not None:
            return mistake
    n_expected = 4 + int(X_train["island"].nunique()) + int(X_train["sex"].nunique())
    if out.shape[1] != n_expected:
        return wrong(
            f"the output has {out.shape[1]} columns; expected {n_expected}: 4 measurements, "
            "one column per island and one per sex.",
            hint="list the four measurements for the numeric part and island and sex for the "
            "categorical part; the ColumnTransformer drops columns it is not given.",
            mistake="wrong-column-count",
        )
    binary = np.isin(out, (0.0, 1.0)).all(axis=0)
    numbers = out[:, ~binary]
    if numbers.shape[1] != 4:
        return wrong(
            f"{numbers.shape[1]} output columns are measurements, expected 4.",
            hint="one-hot encode only island and sex; scale the four measurements.",
            mistake="wrong-measurement-count",
        )
    if not (
        np.allclose(numbers.mean(axis=0), 0, atol=1e-6)
        and np.allclose(numbers.std(axis=0), 1, atol=1e-6)
    ):
        return wrong(
            "the measurements are not scaled: their means and spreads differ "
            f"(means {np.round(numbers.mean(axis=0), 1).tolist()}).",
            hint="add a StandardScaler after the imputer of the numeric columns.",
            mistake="not-scaled",
        )
    if steps is not None:
        strategies = {
            getattr(step, "strategy", None)
            for column in _MEASUREMENTS
            for step in steps.get(column, [])
            if _is(step, "Imputer")
        }
        if strategies - {"median"}:
            used = ", ".join(sorted(str(s) for s in strategies - {"median"}))
            return wrong(
                f"the measurements' gaps are filled with the {used}, but the exercise asks for "
                "the median (one giant penguin would not move it).",
                hint='SimpleImputer(strategy="median") for the numeric part.',
                mistake="not-median",
            )
    unseen = X_train.head(1).assign(island=_UNSEEN_ISLAND)
    try:
        clone(preprocessor).fit(X_train).transform(unseen)
    except Exception as error:  # an encoder that refuses a new category raises ValueError
        return wrong(
            f"a new bird from an island the encoder never saw ({_UNSEEN_ISLAND}) makes it fail "
            f"({type(error).__name__}).",
            hint='OneHotEncoder(handle_unknown="ignore"): an unknown island becomes all zeros.',
            mistake="unseen-category-fails",
        )
    from course import recipes

    expected = _dense(recipes.penguin_preprocessor().fit_transform(X_train)).astype(float)
    if not _same_columns(out, expected):
        return wrong(
            "the output has the right shape but not the right values: some step differs from "
            "the statement.",
            hint='median then StandardScaler for the measurements; most_frequent then '
            'OneHotEncoder(handle_unknown="ignore") for island and sex.',
            mistake="wrong-values",
        )
    return correct(
        f"{out.shape[1]} numeric columns with no missing values: 4 scaled measurements and "
        f"{out.shape[1] - 4} one-hot columns."
    )


def _dense(out: Any) -> np.ndarray:
    return np.asarray(out.toarray() if hasattr(out, "toarray") else out)


def _is(step: Any, kind: str) -> bool:
    return type(step).__name__.endswith(kind)


def _steps_by_column(preprocessor: Any) -> dict[str, list[Any]] | None:
    """For a ColumnTransformer: the steps each input column goes through, in order."""
    entries = getattr(preprocessor, "transformers", None)
    if not isinstance(entries, list):
        return None
    steps: dict[str, list[Any]] = {}
    for entry in entries:
        if not (isinstance(entry, tuple) and len(entry) == 3):
            return None
        _, transformer, columns = entry
        columns = [columns] if isinstance(columns, str) else columns
        if transformer == "drop":
            continue
        chain = [step for _, step in transformer.steps] if hasattr(transformer, "steps") else [
            transformer
        ]
        for column in columns if isinstance(columns, list | tuple) else []:
            steps.setdefault(column, []).extend(chain)
    return steps


def _structural_mistake(steps: dict[str, list[Any]], n_columns: int) -> Feedback | None:
    """The mistakes a beginner makes in the two parts, each named."""
    encoded = [c for c in _MEASUREMENTS if any(_is(s, "OneHotEncoder") for s in steps.get(c, []))]
    if encoded:
        return wrong(
            f"the measurements {encoded} are one-hot encoded: every distinct value becomes its "
            f"own 0/1 column ({n_columns} columns in all), and the model no longer knows that "
            "45 mm lies between 44 and 46.",
            hint="one-hot encode only island and sex; fill and scale the four measurements.",
            mistake="measurements-one-hot",
        )
    if not any(column in steps for column in _CATEGORIES):
        return wrong(
            "island and sex are missing from the output: the categorical part is not there, and "
            "a ColumnTransformer drops every column it is not given.",
            hint='add ("categorical", make_pipeline(SimpleImputer(strategy="most_frequent"), '
            'OneHotEncoder(handle_unknown="ignore")), categories).',
            hint_gives_answer=True,
            mistake="categories-dropped",
        )
    for column in _MEASUREMENTS:
        chain = steps.get(column, [])
        kinds = ["imputer" if _is(s, "Imputer") else "scaler" if _is(s, "Scaler") else "" for s in
                 chain]
        if "imputer" in kinds and "scaler" in kinds and kinds.index("scaler") < kinds.index(
            "imputer"
        ):
            return wrong(
                "the numeric part scales before it fills the gaps: the scaler skips the gaps, "
                "then the imputer fills them with a median of scaled values, and the filled "
                "birds end up off the scale of the others.",
                hint="fill first, then scale: make_pipeline(SimpleImputer(strategy=\"median\"), "
                "StandardScaler()).",
                hint_gives_answer=True,
                mistake="scale-before-impute",
            )
    unfilled = [c for c in _CATEGORIES if c in steps and not any(_is(s, "Imputer") for s in
                                                                  steps[c])]
    if unfilled:
        return wrong(
            f"{' and '.join(unfilled)} are encoded without filling their gaps first: the encoder "
            "turns 'missing' into a category of its own (an extra column such as sex_nan).",
            hint='SimpleImputer(strategy="most_frequent") before the OneHotEncoder.',
            mistake="encode-before-impute",
        )
    return None


def _same_columns(out: np.ndarray, expected: np.ndarray) -> bool:
    """Same columns, in any order (the two parts may come in either order)."""
    if out.shape != expected.shape:
        return False
    remaining = list(range(out.shape[1]))
    for column in expected.T:
        match = next((i for i in remaining if np.allclose(out[:, i], column, atol=1e-6)), None)
        if match is None:
            return False
        remaining.remove(match)
    return True


_LEAKY = {"a", "c"}
_OPTIONS = {
    "a": "the scaler learns its mean and spread from all 344 birds before the split: the test "
    "birds helped prepare the training rows.",
    "b": "the pipeline is refitted inside every fold, on the 4 training folds only: the scored "
    "fold never shapes the medians or the scaling.",
    "c": "the imputer learns its medians from every training row before cross_val_score cuts "
    "them into folds: each scored fold helped fill the rows the model trains on (the noise "
    "demo's mistake, with medians instead of chosen columns).",
    "d": "the scaler learns from the training rows only; the test rows are only transformed, "
    "at the evaluation step.",
}


@check
def leaky_option(answer: Any) -> Feedback:
    """Check which of the four recipes of notebook 02's exercise 2 leak: (a) and (c)."""
    require_answer("leaky", answer)
    letters = _letters(answer)
    unknown = sorted(letters - set(_OPTIONS))
    if unknown or not letters:
        return wrong(
            f"{answer!r} is not a set of options.",
            hint='answer with the letters of the recipes that leak, e.g. "b" or "bd".',
            mistake="not-a-set",
        )
    safe = sorted(letters - _LEAKY)
    if safe:
        return wrong(
            f"option {safe[0]} is safe: {_OPTIONS[safe[0]]}",
            hint="a recipe leaks when a fit sees rows that are later used to score.",
            mistake="safe-option-chosen",
        )
    if letters == _LEAKY:
        return correct(f"(a) {_OPTIONS['a']} (c) {_OPTIONS['c']}")
    missed = sorted(_LEAKY - letters)[0]
    found = sorted(letters)[0]
    where = {
        "a": "in (a), which birds does the scaler see before split_and_seal cuts off the test "
        "set?",
        "c": "in (c), which rows does the imputer learn its medians from, and which rows does "
        "cross_val_score later score?",
    }
    return wrong(
        f"({found}) leaks, but it is not the only one: look again at ({missed}).",
        hint=where[missed],
        mistake="leak-missed",
    )


def _letters(answer: Any) -> set[str]:
    if isinstance(answer, str):
        text = answer.lower().replace(" and ", ",")
        return {char for char in text if char not in " ,()[]{}'\"+&"}
    if isinstance(answer, list | tuple | set | frozenset):
        return {str(item).strip().lower().strip("()") for item in answer}
    return {str(answer)}


QUIZ = Quiz((
    Question(
        answer="d",
        why="distances add up the differences column by column: a 300 g gap in mass dwarfs a "
        "3 mm gap in bill depth, so \"nearest\" means \"nearest in mass\". StandardScaler puts "
        "every column on the same footing (76% -> 98% in section 3).",
        wrong={
            "a": "the model only sees numbers, not units: 4,200 (grams) and 18 (mm) are compared "
            "as they are, and the big numbers win.",
            "b": "scaling changes what \"near\" means, not the speed: the distances take as long "
            "to compute either way.",
            "c": "the opposite: bill depth varies by a few mm, body mass by hundreds of grams, so "
            "the mass decides.",
        },
    ),
    Question(
        answer="b",
        why="numbers 0, 1, 2 tell the model Torgersen is \"twice\" Dream and that Dream lies "
        "between the other two; one-hot encoding gives each island its own 0/1 column, with no "
        "order.",
        wrong={
            "a": "the model multiplies the code by a weight, so it treats 2 as more than 1: an "
            "order and distances that islands do not have.",
            "c": "the size of the numbers is not the problem (a scaler would fix that); the "
            "invented order is.",
        },
    ),
    Question(
        answer="a",
        why="the scaler learned its mean and spread from the test birds too, before the split: "
        "they helped prepare the rows the model learns from, so the test score is not a fair "
        "look at unseen birds. Split first, then fit inside a pipeline.",
        wrong={
            "b": "scaling learns something (a mean, a spread) from the rows it is fitted on: "
            "fitted on all 344 birds, it carries information from the test rows.",
            "c": "the score is not lower: if anything it is too good, because the test birds "
            "shaped the preparation.",
        },
    ),
    Question(
        answer="c",
        why="by default OneHotEncoder refuses a category it did not see in fit and raises an "
        "error, so the new bird gets no answer at all; handle_unknown=\"ignore\" gives it zeros "
        "in every island column instead.",
        wrong={
            "a": "zeros everywhere is what handle_unknown=\"ignore\" does; the default is to "
            "raise an error.",
            "b": "a pipeline never drops a row it is asked to predict: it answers or it raises.",
        },
    ),
    Question(
        answer="b",
        why="the 20 genes were chosen by looking at every patient, including those each fold "
        "later scores: among 20,000 genes some fit these 100 patients by chance, so the 90% "
        "is inflated. Put the selection inside the pipeline, refitted in each fold.",
        wrong={
            "a": "cross-validation is only honest if every step that learns is inside it; here "
            "the selection happened outside, on all the rows.",
            "c": "100 rows is enough for 5-fold cross-validation; the problem is what happened "
            "before it.",
        },
    ),
    Question(
        answer="a",
        why="the median is the middle value, so one absurd 60,000 g entry barely moves it; the "
        "mean would be dragged up and every filled bird would get an absurd mass.",
        wrong={
            "b": "the mean adds up every value, the absurd one too: 60,000 g would pull it up "
            "and the gaps would be filled with a mass no penguin has.",
            "c": "0 g is no penguin's mass: filling with zero makes the filled birds the "
            "strangest of all.",
        },
    ),
))
"""Notebook 02's quiz: its questions are in the notebook's last markdown cell."""
