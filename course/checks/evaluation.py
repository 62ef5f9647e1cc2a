"""Checks for notebook 05: tune, then evaluate once."""

from __future__ import annotations

from typing import Any

import numpy as np

from course.checks._answers import expect_number
from course.checks._feedback import Feedback, correct, is_number, require_answer, wrong
from course.checks._guard import check, describe
from course.checks._quiz import Question, Quiz


@check
def confusion_cell(answer: Any, confusion: Any, *, true: Any, predicted: Any) -> Feedback:
    """Check a count read from a confusion matrix (rows: true class, columns: predicted)."""
    require_answer("count", answer)
    import pandas as pd

    expected = int(confusion.loc[true, predicted])
    if isinstance(answer, pd.DataFrame):
        return wrong(
            f"`count` is {describe(answer)}: the whole matrix, not one of its cells.",
            hint="pick one cell with .loc[row, column]: the row is the true species.",
            mistake="whole-matrix",
        )
    if isinstance(answer, pd.Series):
        return wrong(
            f"`count` is {describe(answer)}: a whole row or column of the matrix, not one cell.",
            hint="give .loc both labels, the row and the column: .loc[row, column].",
            mistake="whole-row-or-column",
        )
    if isinstance(answer, str) and answer.strip().isdigit():
        return wrong(
            f"`count` is the text {answer!r}; the answer is a number.",
            hint="write the number without quotes.",
            mistake="number-as-text",
        )
    if not is_number(answer):
        return wrong(
            f"the answer should be a number, but `count` is {describe(answer)}.",
            hint="read one cell of the confusion matrix.",
            mistake="not-a-number",
        )
    answer = expect_number("count", answer, what="a count of penguins")
    if answer != int(answer) or answer < 0:
        return wrong(
            f"{answer:g} cannot be a count: a cell of the matrix counts penguins, a whole "
            "number from 0 up.",
            hint="read the number written in one cell, not a share or a difference.",
            mistake="not-a-count",
        )
    answer = int(answer)
    if answer == expected:
        return correct(f"{expected} {true} penguins were predicted {predicted}.")
    # The mistakes a beginner makes, most specific first (several can give the same number).
    readings = [
        (
            "row-column-swapped",
            int(confusion.loc[predicted, true]),
            f"{answer} is the number of {predicted} penguins predicted {true}: row and column "
            "are swapped.",
            "rows are the true class, columns the predicted class.",
        ),
        (
            "diagonal-cell",
            int(confusion.loc[true, true]),
            f"{answer} is the number of {true} penguins predicted {true}, on the diagonal: "
            "those are the right answers, not the mistake asked about.",
            f"stay in the {true!r} row and move to the {predicted!r} column.",
        ),
        (
            "whole-row-sum",
            int(confusion.loc[true].sum()),
            f"{answer} is the number of {true} penguins in the table (the whole row).",
            f"only those predicted {predicted}: one cell of the {true!r} row.",
        ),
        (
            "whole-column-sum",
            int(confusion[predicted].sum()),
            f"{answer} is the number of penguins predicted {predicted}, of every species (the "
            "whole column).",
            f"only the true {true} ones: one cell of the {predicted!r} column.",
        ),
        (
            "whole-table-sum",
            int(confusion.to_numpy().sum()),
            f"{answer} is the number of penguins in the whole table.",
            f"read a single cell: row {true!r}, column {predicted!r}.",
        ),
    ]
    for mistake, value, message, hint in readings:
        if answer == value:  # each hint names the row or the column to read
            return wrong(message, hint=hint, hint_gives_answer=True, mistake=mistake)
    return wrong(
        f"{answer} is not the number of {true} penguins predicted {predicted}.",
        hint=f"row {true!r}, column {predicted!r}.",
        hint_gives_answer=True,
        mistake="wrong-cell",
    )


@check
def grid_search(
    search: Any,
    X_train: Any,
    y_train: Any = None,
    *,
    param: str,
    values: Any = None,
    cv: int = 5,
    scoring: str = "accuracy",
    model: str | None = None,
) -> Feedback:
    """Check a fitted GridSearchCV over ``param`` with ``cv`` folds, on the training rows only.

    ``values`` are the values the exercise asks for (any order), ``model`` the class name of
    the estimator to tune, ``scoring`` the metric. The search is judged on the training rows
    only: a clone of it is fitted on ``X_train, y_train`` and must give the same
    cross-validated scores (so a search fitted on other rows, or the test rows, is refused).
    """
    require_answer("search", search)
    if y_train is None:
        raise TypeError("grid_search needs the training labels: pass X_train, y_train.")
    if not hasattr(search, "param_grid"):
        return _not_a_search(search, param, cv)
    if not isinstance(search.param_grid, dict | list) or not all(
        isinstance(grid, dict) for grid in
        (search.param_grid if isinstance(search.param_grid, list) else [search.param_grid])
    ):
        return wrong(
            f"the search's grid is {describe(search.param_grid)}, not a dict from a "
            "setting's name to the values to try.",
            hint=f"pass a dict as the second argument: GridSearchCV(model, {{{param!r}: "
            "[values]}, ...).",
            mistake="grid-not-a-dict",
        )
    estimator = search.estimator
    final = estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator
    if model is not None and type(final).__name__ != model:
        return wrong(
            f"the search tunes a {type(final).__name__}, but the exercise asks for a {model}.",
            hint=f"put {model}() in the course's pipeline: recipes.penguin_pipeline({model}()).",
            mistake="wrong-model",
        )
    if model is not None and not hasattr(estimator, "steps"):
        return wrong(
            f"the search tunes a bare {model}, outside the course's pipeline: nothing fills in "
            "the missing values or scales the measurements, so the distances between birds "
            "are mostly body mass in grams.",
            hint=f"search the pipeline, recipes.penguin_pipeline({model}()), with the key "
            f"{param!r}.",
            hint_gives_answer=True,
            mistake="bare-model",
        )
    grids = search.param_grid if isinstance(search.param_grid, list) else [search.param_grid]
    listed = [grid.get(param, []) for grid in grids]
    single = [values for values in listed if isinstance(values, str) or not _is_sequence(values)]
    if single:
        return wrong(
            f"the grid gives {param!r} the single value {single[0]!r}, not a list of values "
            "to try.",
            hint="put the values in a list (or a range): the search tries each of them.",
            mistake="single-value",
        )
    tried = [value for values in listed for value in values]
    if not tried:
        names = sorted({name for grid in grids for name in grid})
        hint = (
            f"use the key {param!r}: the pipeline step's name, two underscores, the parameter's "
            "name."
        )
        return wrong(
            f"the grid does not search {param!r} (it searches {names}).", hint=hint,
            mistake="wrong-setting",
        )
    problem = _grid_values_problem(tried, values, param)
    if problem is not None:
        return problem
    chosen = search.scoring
    if chosen is not None and chosen != scoring:
        return wrong(
            f"the search ranks the values by {chosen!r}, but the exercise asks for {scoring}.",
            hint=f"leave scoring out (a classifier's default is accuracy) or pass "
            f"scoring={scoring!r}.",
            mistake="wrong-scoring",
        )
    if not hasattr(search, "cv_results_"):
        return wrong(
            "the search has not run yet.", hint="call search.fit(X_train, y_train).",
            mistake="search-not-fitted",
        )
    if search.n_splits_ != cv:
        return wrong(
            f"the search uses {search.n_splits_}-fold cross-validation, expected {cv}.",
            hint=f"pass cv={cv} to GridSearchCV.",
            mistake="wrong-fold-count",
        )
    problem = _rows_problem(search, X_train, y_train)
    if problem is not None:
        return problem
    means = np.asarray(search.cv_results_["mean_test_score"])
    spreads = np.asarray(search.cv_results_["std_test_score"])
    best = int(np.argmax(means))
    ties = int(np.sum(means >= means[best] - spreads[best]))
    return correct(
        f"the best {param} is {search.best_params_[param]!r}, with a cross-validated accuracy "
        f"of {means[best]:.3f} ± {spreads[best]:.3f}; {ties} of the {len(means)} values score "
        "within one standard deviation of it."
    )


def _grid_values_problem(tried: list[Any], values: Any, param: str) -> Feedback | None:
    if values is None:
        if len(tried) < 3:
            return wrong(
                f"the grid tries only {len(tried)} values of {param!r}.",
                hint="try a range of values, e.g. list(range(1, 11)).",
                mistake="too-few-values",
            )
        return None
    expected = sorted(values, key=_order)
    found = sorted(tried, key=_order)
    if found == expected:
        return None
    odd_asked = all(is_number(v) and int(v) % 2 == 1 for v in expected)
    step = ", 2" if odd_asked else ""
    wanted = f"list(range({expected[0]}, {expected[-1] + 1}{step}))"
    evens = [v for v in found if is_number(v) and int(v) % 2 == 0]
    if odd_asked and evens:
        return wrong(
            f"the grid tries even values of {param!r} ({', '.join(map(str, evens))}): the "
            "exercise asks for odd ones, so that a vote between two species cannot tie.",
            hint=f"the odd numbers from {expected[0]} to {expected[-1]}: {wanted}.",
            hint_gives_answer=True,
            mistake="even-values",
        )
    missing = [v for v in expected if v not in found]
    extra = [v for v in found if v not in expected]
    details = []
    if missing:
        details.append(f"misses {', '.join(map(str, missing))}")
    if extra:
        details.append(f"adds {', '.join(map(str, extra))}")
    return wrong(
        f"the grid tries {found}: it {' and '.join(details)}.",
        hint=f"search exactly {expected}: {wanted}.",
        hint_gives_answer=True,
        mistake="wrong-values",
    )


def _order(value: Any) -> tuple[int, Any]:
    """A sort key for grid values of mixed kinds: numbers first, in order, then the rest."""
    return (0, value) if is_number(value) else (1, repr(value))


def _is_sequence(values: Any) -> bool:
    from collections.abc import Iterable

    return isinstance(values, Iterable) and not isinstance(values, dict)


def _not_a_search(search: Any, param: str, cv: int) -> Feedback:
    """What a learner put in `search` instead of a GridSearchCV, named."""
    import pandas as pd
    from sklearn.base import BaseEstimator

    how = f"GridSearchCV(model, {{{param!r}: [values]}}, cv={cv}).fit(X_train, y_train)"
    if isinstance(search, BaseEstimator):
        return wrong(
            f"`search` is a {type(search).__name__}, a model rather than a search over its "
            "settings: `.best_estimator_` of a search, or the pipeline before it was searched?",
            hint=f"keep the GridSearchCV itself in `search`: {how}.",
            mistake="model-not-search",
        )
    if isinstance(search, dict):
        return wrong(
            f"`search` is {describe(search)}: a result of the search (`.best_params_`?), not "
            "the search itself.",
            hint=f"keep the GridSearchCV itself in `search`: {how}; the check reads its "
            "results.",
            mistake="search-result-not-search",
        )
    if is_number(search) or isinstance(search, np.ndarray | pd.DataFrame | pd.Series):
        return wrong(
            f"`search` is {describe(search)}: scores, not the search that computed them.",
            hint=f"keep the GridSearchCV itself in `search`: {how}.",
            mistake="scores-not-search",
        )
    return wrong(
        f"`search` should be a GridSearchCV, but it is {describe(search)}.",
        hint=f"{how}.",
        mistake="not-a-search",
    )


def _rows_problem(search: Any, X_train: Any, y_train: Any) -> Feedback | None:
    """Refuse a search fitted on other rows than the training rows."""
    from sklearn.base import clone

    seen = _rows_seen(getattr(search, "best_estimator_", None))
    if seen is not None and seen > len(X_train):
        return wrong(
            f"the search was fitted on {seen} rows, but X_train has {len(X_train)}: tuning on "
            "the test rows too makes the final test score too good to be true.",
            hint="call search.fit(X_train, y_train); keep the test set sealed until the end.",
            mistake="tuned-on-test-rows",
        )
    if seen is not None and seen < len(X_train):
        return wrong(
            f"the search was fitted on only {seen} rows, but X_train has {len(X_train)}: the "
            "test rows, or a part of the training rows? Choosing on the test rows spends them.",
            hint="call search.fit(X_train, y_train): the test set stays sealed for the end.",
            mistake="tuned-on-too-few-rows",
        )
    again = clone(search).fit(X_train, y_train)
    if not np.allclose(
        again.cv_results_["mean_test_score"], search.cv_results_["mean_test_score"]
    ):
        return wrong(
            "the search's cross-validated scores differ from the same search fitted on "
            "X_train, y_train: it was fitted on other rows (or other labels).",
            hint="call search.fit(X_train, y_train), with the training rows of this notebook.",
            mistake="tuned-on-other-rows",
        )
    return None


def _rows_seen(model: Any) -> int | None:
    """How many rows a fitted model (or the last step of a pipeline) was trained on, if known."""
    if model is None:
        return None
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


QUIZ = Quiz((
    Question(
        answer="d",
        why="recall for malignant counts the cancers found out of all the cancers: the metric "
        "that falls when one is missed. False alarms cost a second exam, so they matter less "
        "here.",
        wrong={
            "a": "accuracy counts both mistakes alike, and with 37% malignant a model can "
            "score well while missing many cancers (0.63 for one that finds none).",
            "b": "precision for benign is about the patients *called* benign; a model that "
            "calls almost everyone malignant maximises it. It does not measure how many "
            "cancers are missed directly.",
            "c": "the training rows' accuracy rewards memorising and is the wrong metric too. "
            "Tune with cross-validated recall for malignant.",
        },
    ),
    Question(
        answer="c",
        why="0.949 lies within one standard deviation of 0.965: the two depths tie, so the "
        "simpler tree (two questions per bird) wins. That is the one-standard-deviation rule.",
        wrong={
            "a": "the difference, 0.016, is smaller than the fold-to-fold wobble (±0.023): "
            "which depth has the highest mean depends on how the birds fell into the folds.",
            "b": "a deeper tree is not safer: it asks more questions per bird and memorises "
            "more. Among tied settings, keep the simplest.",
        },
    ),
    Question(
        answer="b",
        why="the test score is the honest estimate for new data, disappointing or not: report "
        "it with its interval. Going back to tune on it would fit the test birds too, and then "
        "nothing measures new data any more.",
        wrong={
            "a": "tuning until the test set agrees fits the test set: the 0.99 you would reach "
            "would be as optimistic as a training score.",
            "c": "cross-validation chose the model, so its best score is slightly optimistic; "
            "the test set is the one estimate no choice has touched. Report it.",
            "d": "re-splitting until the scores agree is choosing the test set that flatters "
            "the model: the same leak as tuning on it.",
        },
    ),
    Question(
        answer="a",
        why="with a tiny C the SVM accepts every mistake for the smoothest boundary and ends up "
        "answering the majority class: its accuracy is the benign share, 0.63, and its recall "
        "for malignant 0. Accuracy alone hid that.",
        wrong={
            "b": "0.63 is exactly what answering \"benign\" to everyone scores, since 63% of "
            "patients are benign: the baseline, not a coin, is the comparison, and recall 0 "
            "says it finds no cancer.",
            "c": "it raises no false alarm because it raises no alarm at all: a recall of 0 "
            "means every cancer is missed, the worst outcome for screening.",
        },
    ),
    Question(
        answer="c",
        why="a test set is a sample: with 86 birds one bird moves accuracy by 1.2 points, and "
        "the 95% interval, about 0.94 to 1.00, is where the true accuracy on new birds "
        "plausibly lies.",
        wrong={
            "a": "0.988 is this sample's score; a different 86 birds would give another. The "
            "interval says how far it may be from the true accuracy.",
            "b": "86 birds say something, just not to the third decimal: the interval rules "
            "out, for example, an accuracy of 0.90.",
        },
    ),
))
