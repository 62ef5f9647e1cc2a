"""Checks for notebook 05: evaluate and tune."""

from __future__ import annotations

from typing import Any

import numpy as np

from course.checks._feedback import Feedback, correct, is_number, require_answer, wrong


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
