"""What the check tests share: the penguins and the course's split and model."""

import pytest

from course import datasets, recipes


@pytest.fixture(scope="module")
def penguins():
    return datasets.load("penguins")


@pytest.fixture(scope="module")
def split():
    return recipes.penguin_split()


@pytest.fixture(scope="module")
def fitted(split):
    X_train, _, y_train, _ = split
    return recipes.penguin_pipeline().fit(X_train, y_train)
