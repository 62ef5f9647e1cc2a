"""Checks for notebook 07: the regression track.

Both checks take the training rows, never the test rows: they verify that the learner's model
was fitted on ``X_train, y_train`` (a clone refitted there must give the same model), and judge
it by cross-validation on those rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from course.checks._feedback import Feedback, correct, is_number, require_answer, wrong
from course.checks._guard import check, describe
from course.checks._quiz import Question, Quiz
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
            mistake="fitted-on-array",
        )
    if set(used) != set(features):
        if set(used) == set(X_train.columns):
            mistake = "all-measurements"
            message = f"the model uses all {len(used)} measurements, not only {wanted}."
        else:
            mistake = "other-measurements"
            message = f"the model uses {used}, not {wanted}."
        return wrong(
            message, hint="fit it on X_train[two]: the columns named in `two`.",
            mistake=mistake,
        )
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
        hint_gives_answer=True,
        mistake="not-better-than-baseline",
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
    require_answer("model", model)  # the exercise fits the model first, then names
    require_answer("largest", answer)
    from sklearn.base import BaseEstimator

    if isinstance(answer, BaseEstimator) and not isinstance(model, BaseEstimator):
        return wrong(
            f"`largest` is {describe(answer)} and `model` is {describe(model)}: the two "
            "answers look swapped.",
            hint="the fitted pipeline goes in the first name of the exercise cell, the "
            "measurement's name (text) in the second.",
            mistake="answers-swapped",
        )
    if X_train is None:
        problem = _coefficients_problem(model)
        if problem is not None:
            return problem
    else:
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
                    mistake="wrong-alpha",
                )
        used = list(getattr(model, "feature_names_in_", X_train.columns))
        if len(used) != X_train.shape[1]:
            return wrong(
                f"the model uses {model.n_features_in_} of the {X_train.shape[1]} measurements.",
                hint="fit it on all the training measurements: .fit(X_train, y_train).",
                mistake="wrong-feature-count",
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
    problem = _not_a_name(answer, sizes)
    if problem is not None:
        return problem
    if answer == best:
        return correct(
            f"{best!r}: a change of one standard deviation moves the prediction by "
            f"{sizes[best]:+.1f}."
        )
    if answer not in sizes:
        return wrong(
            f"{answer!r} is not one of the model's inputs.", hint=f"pick one of {names}.",
            mistake="not-an-input",
        )
    most_positive = max(sizes, key=lambda name: sizes[name])
    if answer == most_positive and sizes[best] < 0:
        return wrong(
            f"{answer!r} has the largest positive coefficient, but a negative one is larger.",
            hint="compare sizes: abs(coefficient).",
            mistake="largest-positive",
        )
    if answer == min(sizes, key=lambda name: sizes[name]):
        return wrong(
            f"{answer!r} has the most negative coefficient ({sizes[answer]:+.1f}), the smallest "
            "signed number, not the largest in size.",
            hint="take the absolute values first, then the label of the largest.",
            mistake="most-negative",
        )
    if answer == min(sizes, key=lambda name: abs(sizes[name])):
        return wrong(
            f"{answer!r} has the smallest coefficient in size ({sizes[answer]:+.1f}).",
            hint="the largest in size is the maximum of the absolute values, not the minimum.",
            mistake="smallest-size",
        )
    if X_train is not None and answer == _linear_regression_favourite(X_train, y_train):
        return wrong(
            f"{answer!r} has the largest coefficient of the plain linear regression, but in the "
            f"Ridge its coefficient is {sizes[answer]:+.1f} and another input's is larger.",
            hint="read the coefficients of `model` itself (its last step), not those of the "
            "plain linear regression in the figure above.",
            mistake="plain-regression-largest",
        )
    return wrong(
        f"{answer!r} has a coefficient of {sizes[answer]:+.1f}; another input's is larger.",
        hint="sort the coefficients by their absolute value.",
        mistake="not-largest",
    )


def _fitted_regressor_problem(model: Any, fit_on: str) -> Feedback | None:
    """A message when ``model`` is not a fitted scikit-learn regressor, else None."""
    from sklearn.base import is_classifier, is_regressor
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    problem = _not_a_model(model)
    if problem is not None:
        return problem
    if is_classifier(model):
        return wrong(
            f"{type(model[-1] if hasattr(model, 'steps') else model).__name__} is a classifier: "
            "it would treat each progression score as a separate label, but the target is a "
            "quantity.",
            hint="use a regressor: LinearRegression or Ridge, not LogisticRegression.",
            mistake="classifier-not-regressor",
        )
    if not is_regressor(model):
        return wrong(
            f"{type(model).__name__} does not predict a quantity.",
            hint="end the pipeline with a regressor such as LinearRegression.",
            mistake="not-a-regressor",
        )
    try:
        check_is_fitted(model)
    except NotFittedError:
        return wrong(
            "the model is not fitted yet.", hint=f"call .fit({fit_on}) on it.",
            mistake="model-not-fitted",
        )
    return None


def _not_a_model(model: Any) -> Feedback | None:
    """A message when ``model`` is not a scikit-learn estimator object, else None."""
    from sklearn.base import BaseEstimator

    if isinstance(model, type):
        return wrong(
            f"`model` is the class {model.__name__} itself, not a model made from it.",
            hint=f"call it to make one, {model.__name__}(), inside make_pipeline(...), then "
            ".fit(...) the pipeline.",
            mistake="class-not-instance",
        )
    if isinstance(model, list | tuple) and any(isinstance(m, BaseEstimator) for m in model):
        return wrong(
            f"`model` is a {type(model).__name__} holding a model; the check needs the model "
            "itself.",
            hint="remove the brackets: one pipeline, made by make_pipeline(...).fit(...).",
            mistake="model-in-container",
        )
    if not isinstance(model, BaseEstimator):
        what = describe(model)
        if getattr(model, "ndim", None) == 1 and np.asarray(model).dtype.kind in "fiu":
            what += ": numbers the model gave (predictions or coefficients?)"
        return wrong(
            f"`model` is {what}, not a scikit-learn model.",
            hint="keep the fitted pipeline itself: make_pipeline(...).fit(...) returns it.",
            mistake="not-a-model",
        )
    return None


def _coefficients_problem(model: Any) -> Feedback | None:
    """A message when ``model`` is not a fitted model with coefficients, else None."""
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    problem = _not_a_model(model)
    if problem is not None:
        return problem
    try:
        check_is_fitted(model)
    except NotFittedError:
        return wrong(
            "`model` is not fitted yet.", hint="call .fit(X_train, y_train) on it.",
            mistake="model-not-fitted",
        )
    final = model.steps[-1][1] if hasattr(model, "steps") else model
    if not hasattr(final, "coef_"):
        return wrong(
            f"`model` ends with {type(final).__name__}, which has no coefficients.",
            hint="a linear model (LinearRegression, Ridge, LogisticRegression) has one weight "
            "per input: end the pipeline with one.",
            mistake="no-coefficients",
        )
    return None


def _not_a_name(answer: Any, sizes: dict[str, float]) -> Feedback | None:
    """A message when ``answer`` is not one input's name written as text, else None."""
    import pandas as pd
    from sklearn.base import BaseEstimator

    names = list(sizes)
    if isinstance(answer, str):
        if answer in sizes:
            return None
        spelled = [name for name in names if name.lower() == answer.strip().lower()]
        if spelled:
            return wrong(
                f"{answer!r} is not written as the column is named.",
                hint="names are exact: the same case, no spaces around, as in X_train.columns.",
                mistake="misspelled-name",
            )
        return None  # a name that is no input: the check's own message says so
    if isinstance(answer, BaseEstimator):
        return wrong(
            f"`largest` is {describe(answer)}: a model, not a measurement's name.",
            hint="`largest` is the name of one measurement, as text in quotes.",
            mistake="model-not-name",
        )
    if isinstance(answer, pd.Series) and answer.dtype.kind in "fiu" and len(answer) == 1:
        return wrong(
            "`largest` is a Series holding one coefficient; the question asks for its name.",
            hint="keep the label (the index) of that row, as text, not the row itself.",
            mistake="one-coefficient-series",
        )
    if isinstance(answer, pd.Series) and answer.dtype.kind in "fiu" and len(answer) > 1:
        return wrong(
            f"`largest` is the Series of {len(answer)} coefficients; the question asks for one "
            "name.",
            hint="of those, find the largest in size and keep its label (the index), not its "
            "value.",
            mistake="all-coefficients",
        )
    if isinstance(answer, pd.Series | pd.Index | np.ndarray | list | tuple):
        items = list(np.ravel(np.asarray(answer, dtype=object)))
        if len(items) == 1 and isinstance(items[0], str):
            return wrong(
                f"`largest` is a {type(answer).__name__} holding one name; give the name itself.",
                hint="the answer is text in quotes, not a list or a Series around it.",
                mistake="name-in-container",
            )
        return wrong(
            f"`largest` is {describe(answer)}; the question asks for one name.",
            hint="keep only the measurement whose coefficient is largest in size.",
            mistake="not-one-name",
        )
    if is_number(answer):
        number = float(answer)
        if any(np.isclose(abs(number), abs(size), atol=0.05) for size in sizes.values()):
            return wrong(
                f"`largest` is {number:g}: a coefficient's value; the question asks for the "
                "measurement's name.",
                hint="keep the label (the index) of the largest coefficient, not the "
                "coefficient itself.",
                mistake="coefficient-not-name",
            )
        if number.is_integer() and 0 <= number < len(names):
            return wrong(
                f"`largest` is {int(number)}: a position in the list of inputs (counting from "
                "0), not a name.",
                hint="a Series indexed by the column names gives the name directly: its label.",
                mistake="position-not-name",
            )
    return wrong(
        f"`largest` is {describe(answer)}, not a measurement's name.",
        hint="write the name of one column of X_train, as text in quotes.",
        mistake="not-a-name",
    )


def _pipeline_problem(model: Any, final_name: str, recipe: str) -> Feedback | None:
    """A message when ``model`` is not ``scaler -> final_name``, else None."""
    steps = [step for _, step in model.steps] if hasattr(model, "steps") else [model]
    final = steps[-1]
    if type(final).__name__ != final_name:
        return wrong(
            f"the model ends with {type(final).__name__}, the exercise asks for {final_name}.",
            hint=f"build {recipe}.",
            mistake="wrong-final-step",
        )
    if not any(type(step).__name__.endswith("Scaler") for step in steps[:-1]):
        return wrong(
            f"the {final_name} gets the raw measurements: the inputs are not scaled, so the "
            "coefficients are in mixed units (years, mm Hg, mg/dL) and cannot be compared.",
            hint=f"put a StandardScaler before the {final_name} in make_pipeline(...).",
            mistake="not-scaled",
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
        mistake="fitted-on-other-rows",
    )


def _linear_regression_favourite(X_train: Any, y_train: Any) -> str:
    """The input with the largest coefficient (in size) of a scaled plain linear regression."""
    from sklearn.linear_model import LinearRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    linear = make_pipeline(StandardScaler(), LinearRegression()).fit(X_train, y_train)
    return str(X_train.columns[int(np.abs(linear[-1].coef_).argmax())])


QUIZ = Quiz((
    Question(
        answer="b",
        why="R² compares the model's squared errors with those of always predicting the "
        "average: 0 means no better than that baseline, 1 a perfect fit, below 0 worse than "
        "the average.",
        wrong={
            "a": "a perfect fit has R² = 1 (no error left to explain); 0 is the other end.",
            "c": "R² is not a share of exact hits: a regression is almost never exactly right, "
            "and R² measures how much of the variation the model explains.",
            "d": "an R² of 0 is a real, if useless, model: the training mean scores exactly 0 "
            "by construction. Its MAE is not 0; no model of real data has an MAE of 0.",
        },
    ),
    Question(
        answer="d",
        why="the means differ by about 1 point, less than the spread across folds: another "
        "draw of patients could swap them. A tie goes to the simpler model, whose weights can "
        "be read.",
        wrong={
            "a": "a smaller spread says the forest's score moves less between folds, not that "
            "it is better; both are within each other's error bars.",
            "b": "a lower mean by less than the spread is not evidence: on other patients the "
            "order could flip. The choice is right, the reason is not.",
            "c": "the test set is opened once, after the choice: choosing with it would make "
            "it part of the training, and its score an optimistic one.",
        },
    ),
    Question(
        answer="a",
        why="s1 and s2 measure nearly the same thing, so the model can raise one weight and "
        "lower the other with almost the same predictions: their signs and sizes one by one "
        "mean little. Ridge shares the weight between them.",
        wrong={
            "b": "a negative weight on correlated inputs is not a medical finding: it balances "
            "the positive weight on s2, and the pair together is what the model uses.",
            "c": "compared one by one, weights of strongly correlated inputs are unreliable: "
            "with Ridge, s1 shrinks to -7 while bmi stays near +28.",
            "d": "scaling puts every input in standard deviations, which is what makes weights "
            "comparable at all; it does not cause the s1/s2 tug of war.",
        },
    ),
    Question(
        answer="c",
        why="RMSE squares the errors before averaging, so one 2-hour miss counts as much as "
        "many small ones: it is the metric that punishes big misses.",
        wrong={
            "a": "MAE counts every minute of error the same, however it is spread: a few very "
            "late deliveries weigh no more than many slightly late ones.",
            "b": "R² says how much of the variation the model explains, as a share; it does not "
            "single out the big misses customers remember.",
            "d": "accuracy counts exact hits of a label: a delivery time is a quantity, so it is "
            "a regression, measured by errors in minutes.",
        },
    ),
    Question(
        answer="b",
        why="the 111 test patients were among the rows the model learned from, so the score "
        "measures memory as well as skill: it is optimistic, not the honest estimate the "
        "model card needs. Fit on the training rows, score the sealed test rows once.",
        wrong={
            "a": "more training data helps the model, but then those rows cannot also judge "
            "it: a model scored on rows it learned from looks better than it is.",
            "c": "stratifying keeps class shares equal in both parts; a progression score is a "
            "quantity, and the problem here is test rows in training, not the split's balance.",
            "d": "changing the metric does not help: any score computed on rows the model "
            "learned from is optimistic.",
        },
    ),
))
"""Notebook 07's quiz: its questions are in the notebook's last markdown cell."""
