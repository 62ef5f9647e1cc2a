"""The compiled model gives the pipeline's own answers, or declines (None) and the pipeline
answers instead."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, PolynomialFeatures, StandardScaler

from course import datasets, recipes
from serving.models.compiled import compile_model

NUMERIC = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]


def request_rows(X: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as the server holds them after validation: missing values as None."""
    return [
        {key: None if isinstance(v, float) and math.isnan(v) else v for key, v in row.items()}
        for row in X.to_dict("records")
    ]


def assert_same_answers(model: Any, X: pd.DataFrame) -> None:
    compiled = compile_model(model)
    assert compiled is not None
    labels, probabilities = compiled.predict(request_rows(X))
    if labels.dtype.kind == "f":  # a regressor: the same arithmetic, maybe in another order
        np.testing.assert_allclose(labels, model.predict(X), rtol=1e-12)
    else:
        assert labels.tolist() == model.predict(X).tolist()
    if hasattr(model, "predict_proba"):
        assert probabilities is not None
        np.testing.assert_allclose(probabilities, model.predict_proba(X), rtol=0, atol=1e-12)
    else:
        assert probabilities is None


@pytest.fixture(scope="module")
def split():
    X_train, y_train, test_set = recipes.penguin_split()
    X_test, y_test = test_set.open()
    return X_train, X_test, y_train, y_test


def test_the_course_penguin_pipeline_on_every_test_row(split):
    X_train, X_test, y_train, _ = split
    assert X_test.isna().any().any(), "the test rows should include missing values"
    model = recipes.penguin_pipeline().fit(X_train, y_train)
    assert_same_answers(model, X_test)


def test_one_row_at_a_time_gives_the_same_as_the_whole_batch(split):
    X_train, X_test, y_train, _ = split
    compiled = compile_model(recipes.penguin_pipeline().fit(X_train, y_train))
    rows = request_rows(X_test)
    labels, probabilities = compiled.predict(rows)
    for index, row in enumerate(rows[:20]):
        one_label, one_probabilities = compiled.predict([row])
        assert one_label[0] == labels[index]
        np.testing.assert_allclose(one_probabilities[0], probabilities[index], atol=1e-12)


def test_a_binary_logistic_regression(split):
    X_train, X_test, y_train, _ = split
    y_binary = (y_train == "Gentoo").map({True: "gentoo", False: "other"})
    model = recipes.penguin_pipeline().fit(X_train, y_binary)
    assert_same_answers(model, X_test)


def test_another_final_estimator_is_called_on_the_transformed_rows(split):
    X_train, X_test, y_train, _ = split
    model = recipes.penguin_pipeline(RandomForestClassifier(n_estimators=10, random_state=0))
    assert_same_answers(model.fit(X_train, y_train), X_test)


def test_passthrough_drop_and_a_plain_scaler_pipeline(split):
    X_train, X_test, y_train, _ = split
    columns = ColumnTransformer(
        [
            ("numbers", SimpleImputer(strategy="mean"), NUMERIC[:2]),
            ("kept", "passthrough", ["body_mass_g"]),
            ("islands", OneHotEncoder(handle_unknown="ignore"), ["island"]),
        ],
        remainder="drop",
    )
    complete = X_train.dropna()
    model = make_pipeline(columns, StandardScaler(), LogisticRegression(max_iter=1000))
    model.fit(complete, y_train.loc[complete.index])
    assert_same_answers(model, X_test.dropna())


def test_a_bare_linear_regression():
    diabetes = datasets.load("diabetes")
    X, y = diabetes.drop(columns="target"), diabetes["target"]
    assert_same_answers(LinearRegression().fit(X, y), X)


def test_an_unknown_category_is_all_zeros_as_the_encoder_ignores_it(split):
    X_train, X_test, y_train, _ = split
    model = recipes.penguin_pipeline().fit(X_train, y_train)
    rows = request_rows(X_test.head(1))
    rows[0]["island"] = "Atlantis"
    _, probabilities = compile_model(model).predict(rows)
    frame = X_test.head(1).astype({"island": object})
    frame["island"] = "Atlantis"
    np.testing.assert_allclose(probabilities, model.predict_proba(frame), atol=1e-12)


def test_an_unknown_step_is_declined(split):
    X = split[0][NUMERIC].fillna(0)
    model = make_pipeline(PolynomialFeatures(), LinearRegression()).fit(X, X["body_mass_g"])
    assert compile_model(model) is None


def test_an_imputer_option_it_does_not_reproduce_is_declined(split):
    X = split[0][NUMERIC]
    model = make_pipeline(SimpleImputer(add_indicator=True), LinearRegression())
    assert compile_model(model.fit(X, X["body_mass_g"].fillna(4000))) is None


def test_an_estimator_that_reads_the_frame_itself_is_declined(split):
    X_train, _, y_train, _ = split
    model = RandomForestClassifier(n_estimators=5).fit(X_train[NUMERIC].fillna(0), y_train)
    assert compile_model(model) is None


def test_a_model_fitted_on_a_bare_array_is_declined(split):
    X_train = split[0]
    model = LinearRegression().fit(
        X_train[NUMERIC[:3]].fillna(0).to_numpy(), X_train["body_mass_g"].fillna(0)
    )
    assert compile_model(model) is None


def test_a_checked_table_gets_the_pipelines_answers(split):
    """Tables come with categories as pandas Categoricals (serving.models.tables), missing
    values included; their codes give the same one-hot rows as the values themselves."""
    X_train, X_test, y_train, _ = split
    model = recipes.penguin_pipeline().fit(X_train, y_train)
    categories = {name: sorted(X_train[name].dropna().unique()) for name in ("island", "sex")}
    table = X_test.astype({name: pd.CategoricalDtype(c) for name, c in categories.items()})
    assert table["sex"].isna().any(), "a missing category should be imputed"
    compiled = compile_model(model)
    labels, probabilities = compiled.predict_frame(table)
    assert labels.tolist() == model.predict(X_test).tolist()
    np.testing.assert_allclose(probabilities, model.predict_proba(X_test), rtol=0, atol=1e-12)
    only_labels, none = compiled.predict_frame(table, probabilities=False)
    assert only_labels.tolist() == labels.tolist() and none is None
