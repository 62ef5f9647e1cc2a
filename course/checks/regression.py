"""Checks for notebook 07: the regression track.

Both checks take the training rows, never the test rows: they verify that the learner's model
was fitted on ``X_train, y_train`` (a clone refitted there must give the same model), and judge
it by cross-validation on those rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from course.checks._feedback import Feedback, correct, require_answer, wrong
from course.checks._guard import check
from course.checks._refit import Refit, refit_verdict


@check
def linear_on_features(model: Any, X_train: Any, y_train: Any, *, features: list[str]) -> Feedback:
    """Check a fitted pipeline ``scaler -> LinearRegression`` on ``features`` of ``X_train``.

    ``X_train`` is the whole training table (every column), so that a model fitted on other
    columns can be named. The verdict compares the model's cross-validated mean absolute error
    on the training rows with the baseline's (always the training mean), with their spread.
    """
    require_answer("model", model)
    problem = _fitted_regressor_problem(model, "X_train[two], y_train")
    if problem is not None:
        return problem
    used = list(getattr(model, "feature_names_in_", []))
    wanted = " and ".join(repr(name) for name in features)
    if not used:
        return wrong(
            f"the model was fitted on {model.n_features_in_} unnamed column(s) (a NumPy array), "
            "so nobody can tell which measurements it uses.",
            hint="fit it on the table with its column names: .fit(X_train[two], y_train).",
        )
    if set(used) != set(features):
        if set(used) == set(X_train.columns):
            message = f"the model uses all {len(used)} measurements, not only {wanted}."
        else:
            message = f"the model uses {used}, not {wanted}."
        return wrong(message, hint="fit it on X_train[two]: the columns named in `two`.")
    structure = _pipeline_problem(model, "LinearRegression", "make_pipeline(StandardScaler(), "
                                  "LinearRegression())")
    if structure is not None:
        return structure
    rows = _refit_problem(model, X_train[used], y_train, "X_train[two], y_train")
    if rows is not None:
        return rows
    from sklearn.base import clone
    from sklearn.dummy import DummyRegressor
    from sklearn.model_selection import cross_val_score

    def cv_mae(estimator: Any, X: Any) -> np.ndarray:
        scores = cross_val_score(estimator, X, y_train, cv=5, scoring="neg_mean_absolute_error")
        return -np.asarray(scores)

    errors = cv_mae(clone(model), X_train[used])
    base = cv_mae(DummyRegressor(strategy="mean"), X_train[used])
    reached = (
        f"cross-validated on the training patients, its mean absolute error is "
        f"{errors.mean():.1f} ± {errors.std():.1f} against {base.mean():.1f} ± {base.std():.1f} "
        "for the baseline"
    )
    if errors.mean() + errors.std() < base.mean() - base.std():
        return correct(f"{reached}: clearly better, with {len(features)} measurements only.")
    return wrong(
        f"{reached}: not clearly better.",
        hint=f"fit make_pipeline(StandardScaler(), LinearRegression()) on {wanted}.",
    )


@check
def largest_coefficient(
    answer: Any,
    model: Any,
    X_train: Any = None,
    y_train: Any = None,
    *,
    alpha: float | None = None,
) -> Feedback:
    """Check which input has the largest coefficient (in size) in a fitted linear pipeline.

    Given the training rows (and ``alpha``), it first checks the model itself: scaled inputs
    then ``Ridge(alpha=alpha)``, fitted on ``X_train, y_train``.
    """
    require_answer("largest", answer)
    require_answer("model", model)
    if X_train is not None:
        problem = _fitted_regressor_problem(model, "X_train, y_train")
        if problem is not None:
            return problem
        if alpha is not None:
            recipe = f"make_pipeline(StandardScaler(), Ridge(alpha={alpha:g}))"
            problem = _pipeline_problem(model, "Ridge", recipe)
            if problem is not None:
                return problem
            given = model.steps[-1][1].alpha
            if not np.isclose(given, alpha):
                return wrong(
                    f"the Ridge has alpha={given:g}, the exercise asks for alpha={alpha:g}.",
                    hint=f"alpha sets how hard Ridge shrinks the weights: use {recipe}.",
                )
        used = list(getattr(model, "feature_names_in_", X_train.columns))
        if len(used) != X_train.shape[1]:
            return wrong(
                f"the model uses {model.n_features_in_} of the {X_train.shape[1]} measurements.",
                hint="fit it on all the training measurements: .fit(X_train, y_train).",
            )
        problem = _refit_problem(model, X_train[used], y_train, "X_train, y_train")
        if problem is not None:
            return problem
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
    if answer == min(sizes, key=lambda name: sizes[name]):
        return wrong(
            f"{answer!r} has the most negative coefficient ({sizes[answer]:+.1f}), the smallest "
            "signed number, not the largest in size.",
            hint="take the absolute value first: .abs().idxmax().",
        )
    if answer == min(sizes, key=lambda name: abs(sizes[name])):
        return wrong(
            f"{answer!r} has the smallest coefficient in size ({sizes[answer]:+.1f}).",
            hint="the largest in size is .abs().idxmax(), not .abs().idxmin().",
        )
    if X_train is not None and answer == _linear_regression_favourite(X_train, y_train):
        return wrong(
            f"{answer!r} has the largest coefficient of the plain linear regression, but in the "
            f"Ridge its coefficient is {sizes[answer]:+.1f} and another input's is larger.",
            hint="read the coefficients of `ridge` itself: ridge[-1].coef_.",
        )
    return wrong(
        f"{answer!r} has a coefficient of {sizes[answer]:+.1f}; another input's is larger.",
        hint="sort the coefficients by their absolute value.",
    )


def _fitted_regressor_problem(model: Any, fit_on: str) -> Feedback | None:
    """A message when ``model`` is not a fitted scikit-learn regressor, else None."""
    from sklearn.base import is_classifier, is_regressor
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    if not hasattr(model, "predict") or not hasattr(model, "get_params"):
        return wrong(
            f"expected a scikit-learn model, got {type(model).__name__}.",
            hint="build it with make_pipeline(...), then call .fit(...) on it.",
        )
    if is_classifier(model):
        return wrong(
            f"{type(model[-1] if hasattr(model, 'steps') else model).__name__} is a classifier: "
            "it would treat each progression score as a separate label, but the target is a "
            "quantity.",
            hint="use a regressor: LinearRegression or Ridge, not LogisticRegression.",
        )
    if not is_regressor(model):
        return wrong(
            f"{type(model).__name__} does not predict a quantity.",
            hint="end the pipeline with a regressor such as LinearRegression.",
        )
    try:
        check_is_fitted(model)
    except NotFittedError:
        return wrong("the model is not fitted yet.", hint=f"call .fit({fit_on}) on it.")
    return None


def _pipeline_problem(model: Any, final_name: str, recipe: str) -> Feedback | None:
    """A message when ``model`` is not ``scaler -> final_name``, else None."""
    steps = [step for _, step in model.steps] if hasattr(model, "steps") else [model]
    final = steps[-1]
    if type(final).__name__ != final_name:
        return wrong(
            f"the model ends with {type(final).__name__}, the exercise asks for {final_name}.",
            hint=f"build {recipe}.",
        )
    if not any(type(step).__name__.endswith("Scaler") for step in steps[:-1]):
        return wrong(
            f"the {final_name} gets the raw measurements: the inputs are not scaled, so the "
            "coefficients are in mixed units (years, mm Hg, mg/dL) and cannot be compared.",
            hint=f"put a StandardScaler in front: {recipe}.",
        )
    return None


def _refit_problem(model: Any, X_train: Any, y_train: Any, fit_on: str) -> Feedback | None:
    """A message when ``model`` was not fitted on exactly ``X_train, y_train``, else None."""
    if refit_verdict(model, X_train, y_train) is Refit.SAME:
        return None
    return wrong(
        "the model was not fitted on the training patients: the same pipeline fitted on "
        f"{fit_on} predicts differently. Fitted on the test rows, or on all the rows?",
        hint=f"call .fit({fit_on}): the test patients stay sealed until the evaluation step.",
    )


def _linear_regression_favourite(X_train: Any, y_train: Any) -> str:
    """The input with the largest coefficient (in size) of a scaled plain linear regression."""
    from sklearn.linear_model import LinearRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    linear = make_pipeline(StandardScaler(), LinearRegression()).fit(X_train, y_train)
    return str(X_train.columns[int(np.abs(linear[-1].coef_).argmax())])
