"""What the check tests share: the penguins and the course's split and model."""

import pytest

from course import datasets, recipes


@pytest.fixture(scope="module")
def penguins():
    return datasets.load("penguins")


@pytest.fixture(scope="module")
def split():
    X_train, y_train, test_set = recipes.penguin_split()
    X_test, y_test = test_set.open()
    return X_train, X_test, y_train, y_test


@pytest.fixture(scope="module")
def fitted(split):
    X_train, _, y_train, _ = split
    return recipes.penguin_pipeline().fit(X_train, y_train)
