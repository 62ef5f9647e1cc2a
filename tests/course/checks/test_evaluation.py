
import pandas as pd
import pytest
from sklearn.model_selection import GridSearchCV
from sklearn.tree import DecisionTreeClassifier

from course import checks, recipes

CONFUSION = pd.DataFrame(
    [[30, 6, 2], [1, 16, 0], [0, 0, 31]],
    index=pd.Index(["Adelie", "Chinstrap", "Gentoo"], name="true"),
    columns=pd.Index(["Adelie", "Chinstrap", "Gentoo"], name="predicted"),
)


@pytest.mark.parametrize(
    ("answer", "passed", "says"),
    [
        (6, True, "6 Adelie penguins were predicted Chinstrap"),
        (1, False, "swapped"),
        (38, False, "number of Adelie penguins"),
        (3, False, "not the number"),
        ("6", False, "should be a number"),
    ],
)
def test_confusion_cell_names_the_mistake(answer, passed, says):
    feedback = checks.confusion_cell(answer, CONFUSION, true="Adelie", predicted="Chinstrap")
    assert feedback.passed is passed
    assert says in feedback.message


def tree_search(grid, cv=5):
    return GridSearchCV(
        recipes.penguin_pipeline(DecisionTreeClassifier(random_state=0)), grid, cv=cv
    )


def test_grid_search_accepts_a_search_on_the_training_rows(split):
    X_train, _, y_train, _ = split
    search = tree_search({"classify__max_depth": range(1, 6)}).fit(X_train, y_train)
    feedback = checks.grid_search(search, X_train, param="classify__max_depth")
    assert feedback.passed
    assert f"is {search.best_params_['classify__max_depth']}" in feedback.message


@pytest.mark.parametrize(
    ("grid", "cv", "fit_on", "says"),
    [
        ({"classify__max_depth": range(1, 6)}, 5, None, "has not run yet"),
        ({"classify__min_samples_leaf": [1, 2, 3]}, 5, "train", "does not search"),
        ({"classify__max_depth": [2, 3]}, 5, "train", "only 2 values"),
        ({"classify__max_depth": range(1, 6)}, 3, "train", "3-fold"),
        ({"classify__max_depth": range(1, 6)}, 5, "all", "fitted on 344 rows, but X_train has 258"),
    ],
)
def test_grid_search_names_the_mistake(split, grid, cv, fit_on, says):
    X_train, X_test, y_train, y_test = split
    search = tree_search(grid, cv)
    if fit_on == "train":
        search.fit(X_train, y_train)
    elif fit_on == "all":
        search.fit(pd.concat([X_train, X_test]), pd.concat([y_train, y_test]))
    feedback = checks.grid_search(search, X_train, param="classify__max_depth")
    assert not feedback.passed
    assert says in feedback.message


def test_grid_search_refuses_something_else(split):
    feedback = checks.grid_search(DecisionTreeClassifier(), split[0], param="max_depth")
    assert "should be a GridSearchCV" in feedback.message
