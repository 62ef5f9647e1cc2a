"""Fixtures for the models tests: real artifacts, exported once per test session.

The penguin classifier comes from course.recipes (the model ``make serve`` starts with); a
k-nearest-neighbours penguin pipeline and a linear regressor on the diabetes data give the
registry, the ensemble and the explanations other kinds of models to work with.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path
from typing import Any

import pytest
from sklearn.linear_model import LinearRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures

from course import datasets, recipes
from course.evaluate import report
from course.export import export_model
from serving.models import ModelRegistry, ServedModel

PENGUIN = recipes.PENGUIN_MODEL_NAME


@pytest.fixture(scope="session")
def penguin_split():
    X_train, y_train, test_set = recipes.penguin_split()
    X_test, y_test = test_set.open()
    return X_train, X_test, y_train, y_test


@pytest.fixture(scope="session")
def shipped_models(tmp_path_factory, penguin_split) -> Path:
    """A models directory with three models, exported the way the notebooks export them."""
    models_dir = tmp_path_factory.mktemp("models")
    recipes.train_penguin_model(models_dir)
    X_train, X_test, y_train, y_test = penguin_split
    knn = recipes.penguin_pipeline(KNeighborsClassifier()).fit(X_train, y_train)
    export_model(
        knn,
        X_train,
        y_train,
        name="penguin-knn",
        models_dir=models_dir,
        metrics=report(knn, X_test, y_test).as_dict(),
    )
    diabetes = datasets.load("diabetes")
    X, y = diabetes.drop(columns="target"), diabetes["target"]
    export_model(LinearRegression().fit(X, y), X, y, name="diabetes-linear", models_dir=models_dir)
    return models_dir


@pytest.fixture
def models_dir(shipped_models, tmp_path) -> Path:
    """A private copy of the shipped models, free to tamper with."""
    copy = tmp_path / "models"
    shutil.copytree(shipped_models, copy)
    return copy


@pytest.fixture(scope="session")
def registry(shipped_models) -> ModelRegistry:
    return ModelRegistry.open(shipped_models)


@pytest.fixture(scope="session")
def uncompilable(registry) -> ServedModel:
    """The diabetes regressor behind a step serving.models.compiled does not reproduce."""
    linear = registry.latest("diabetes-linear")
    diabetes = datasets.load("diabetes")
    X, y = diabetes.drop(columns="target"), diabetes["target"]
    model = make_pipeline(PolynomialFeatures(), LinearRegression()).fit(X, y)
    return ServedModel(linear.path, linear.card, model)


@pytest.fixture(scope="session")
def penguin(registry) -> ServedModel:
    return registry.latest(PENGUIN)


@pytest.fixture(scope="session")
def penguin_rows(penguin_split) -> list[dict[str, Any]]:
    """The test birds as JSON-like request rows (missing measurements as None)."""
    X_test = penguin_split[1]
    return [
        {key: None if isinstance(v, float) and math.isnan(v) else v for key, v in row.items()}
        for row in X_test.to_dict("records")
    ]
