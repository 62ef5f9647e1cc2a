"""Checks for notebook 05: tune, then evaluate once."""

from __future__ import annotations

from typing import Any

import numpy as np

from course.checks._feedback import Feedback, correct, is_number, require_answer, wrong
from course.checks._guard import check


@check
def confusion_cell(answer: Any, confusion: Any, *, true: Any, predicted: Any) -> Feedback:
    """Check a count read from a confusion matrix (rows: true class, columns: predicted)."""
    require_answer("count", answer)
    expected = int(confusion.loc[true, predicted])
    if not is_number(answer):
        return wrong(
            f"the answer should be a number, got {type(answer).__name__} {answer!r}.",
            hint="read one cell of the confusion matrix.",
        )
    if answer == expected:
        return correct(f"{expected} {true} penguins were predicted {predicted}.")
    # The mistakes a beginner makes, most specific first (several can give the same number).
    readings = [
        (
            int(confusion.loc[predicted, true]),
            f"{answer} is the number of {predicted} penguins predicted {true}: row and column "
            "are swapped.",
            "rows are the true class, columns the predicted class.",
        ),
        (
            int(confusion.loc[true, true]),
            f"{answer} is the number of {true} penguins predicted {true}, on the diagonal: "
            "those are the right answers, not the mistake asked about.",
            f"stay in the {true!r} row and move to the {predicted!r} column.",
        ),
        (
            int(confusion.loc[true].sum()),
            f"{answer} is the number of {true} penguins in the table (the whole row).",
            f"only those predicted {predicted}: one cell of the {true!r} row.",
        ),
        (
            int(confusion[predicted].sum()),
            f"{answer} is the number of penguins predicted {predicted}, of every species (the "
            "whole column).",
            f"only the true {true} ones: one cell of the {predicted!r} column.",
        ),
        (
            int(confusion.to_numpy().sum()),
            f"{answer} is the number of penguins in the whole table.",
            f"read a single cell: row {true!r}, column {predicted!r}.",
        ),
    ]
    for value, message, hint in readings:
        if answer == value:
            return wrong(message, hint=hint)
    return wrong(
        f"{answer} is not the number of {true} penguins predicted {predicted}.",
        hint=f"row {true!r}, column {predicted!r}.",
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
        return wrong(
            f"`search` should be a GridSearchCV, got {type(search).__name__}.",
            hint=f"GridSearchCV(model, {{{param!r}: [values]}}, cv={cv}).",
        )
    estimator = search.estimator
    final = estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator
    if model is not None and type(final).__name__ != model:
        return wrong(
            f"the search tunes a {type(final).__name__}, but the exercise asks for a {model}.",
            hint=f"put {model}() in the course's pipeline: recipes.penguin_pipeline({model}()).",
        )
    if model is not None and not hasattr(estimator, "steps"):
        return wrong(
            f"the search tunes a bare {model}, outside the course's pipeline: nothing fills in "
            "the missing values or scales the measurements, so the distances between birds "
            "are mostly body mass in grams.",
            hint=f"search the pipeline, recipes.penguin_pipeline({model}()), with the key "
            f"{param!r}.",
        )
    grids = search.param_grid if isinstance(search.param_grid, list) else [search.param_grid]
    tried = [value for grid in grids for value in grid.get(param, [])]
    if not tried:
        names = sorted({name for grid in grids for name in grid})
        hint = (
            f"use the key {param!r}: the pipeline step's name, two underscores, the parameter's "
            "name."
        )
        return wrong(f"the grid does not search {param!r} (it searches {names}).", hint=hint)
    problem = _grid_values_problem(tried, values, param)
    if problem is not None:
        return problem
    chosen = search.scoring
    if chosen is not None and chosen != scoring:
        return wrong(
            f"the search ranks the values by {chosen!r}, but the exercise asks for {scoring}.",
            hint=f"leave scoring out (a classifier's default is accuracy) or pass "
            f"scoring={scoring!r}.",
        )
    if not hasattr(search, "cv_results_"):
        return wrong("the search has not run yet.", hint="call search.fit(X_train, y_train).")
    if search.n_splits_ != cv:
        return wrong(
            f"the search uses {search.n_splits_}-fold cross-validation, expected {cv}.",
            hint=f"pass cv={cv} to GridSearchCV.",
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
            )
        return None
    expected = sorted(values)
    found = sorted(tried)
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
        )
    if seen is not None and seen < len(X_train):
        return wrong(
            f"the search was fitted on only {seen} rows, but X_train has {len(X_train)}: the "
            "test rows, or a part of the training rows? Choosing on the test rows spends them.",
            hint="call search.fit(X_train, y_train): the test set stays sealed for the end.",
        )
    again = clone(search).fit(X_train, y_train)
    if not np.allclose(
        again.cv_results_["mean_test_score"], search.cv_results_["mean_test_score"]
    ):
        return wrong(
            "the search's cross-validated scores differ from the same search fitted on "
            "X_train, y_train: it was fitted on other rows (or other labels).",
            hint="call search.fit(X_train, y_train), with the training rows of this notebook.",
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
