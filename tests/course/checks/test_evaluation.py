import pandas as pd
import pytest
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
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
        (1, False, "swapped"),  # row Chinstrap, column Adelie: the transposed cell
        (30, False, "on the diagonal"),  # Adelie predicted Adelie
        (38, False, "Adelie penguins in the table (the whole row)"),
        (22, False, "predicted Chinstrap, of every species (the whole column)"),
        (86, False, "in the whole table"),
        (3, False, "not the number"),
        ("6", False, "should be a number"),
    ],
)
def test_confusion_cell_names_the_mistake(answer, passed, says):
    feedback = checks.confusion_cell(answer, CONFUSION, true="Adelie", predicted="Chinstrap")
    assert feedback.passed is passed
    assert says in feedback.message


ODD = list(range(1, 16, 2))
KNN = "classify__n_neighbors"


def knn_search(grid=None, cv=5, estimator=None, **options):
    return GridSearchCV(
        estimator or recipes.penguin_pipeline(KNeighborsClassifier()),
        {KNN: ODD} if grid is None else grid,
        cv=cv,
        **options,
    )


def check_knn(search, split):
    X_train, _, y_train, _ = split
    return checks.grid_search(
        search, X_train, y_train, param=KNN, values=ODD, model="KNeighborsClassifier"
    )


def test_grid_search_accepts_the_exercise_answer(split):
    X_train, _, y_train, _ = split
    search = knn_search().fit(X_train, y_train)
    feedback = check_knn(search, split)
    assert feedback.passed, feedback
    assert f"is {search.best_params_[KNN]}" in feedback.message
    assert "within one standard deviation" in feedback.message


def test_grid_search_accepts_the_values_in_any_order_and_explicit_accuracy(split):
    X_train, _, y_train, _ = split
    search = knn_search({KNN: ODD[::-1]}, scoring="accuracy").fit(X_train, y_train)
    assert check_knn(search, split).passed


@pytest.mark.parametrize(
    ("search", "fit_on", "says"),
    [
        (knn_search(), None, "has not run yet"),
        (knn_search(cv=3), "train", "3-fold"),
        (knn_search({"classify__weights": ["uniform", "distance"]}), "train", "does not search"),
        (knn_search({"n_neighbors": ODD}, estimator=KNeighborsClassifier()), None,
         "outside the course's pipeline"),
        (knn_search({KNN: list(range(2, 17, 2))}), "train", "even values"),
        (knn_search({KNN: list(range(1, 16))}), "train", "even values"),
        (knn_search({KNN: list(range(1, 11, 2))}), "train", "misses 11, 13, 15"),
        (knn_search({KNN: list(range(1, 21, 2))}), "train", "adds 17, 19"),
        (knn_search(scoring="f1_macro"), "train", "ranks the values by 'f1_macro'"),
        (knn_search({"classify__max_depth": [1, 2, 3]},
                    estimator=recipes.penguin_pipeline(DecisionTreeClassifier(random_state=0))),
         "train", "tunes a DecisionTreeClassifier"),
        (knn_search(), "all", "fitted on 344 rows, but X_train has 258"),
        (knn_search(), "test", "fitted on only 86 rows"),
        (knn_search(), "other_train", "fitted on other rows"),
        (knn_search(), "shuffled_labels", "fitted on other rows (or other labels)"),
    ],
)
def test_grid_search_names_the_mistake(split, search, fit_on, says):
    X_train, X_test, y_train, y_test = split
    if fit_on == "train":
        search.fit(X_train, y_train)
    elif fit_on == "all":
        search.fit(pd.concat([X_train, X_test]), pd.concat([y_train, y_test]))
    elif fit_on == "test":
        search.fit(X_test, y_test)
    elif fit_on == "other_train":  # as many rows as X_train, but another split's
        everything_x = pd.concat([X_train, X_test])
        everything_y = pd.concat([y_train, y_test])
        search.fit(everything_x.iloc[-len(X_train):], everything_y.iloc[-len(X_train):])
    elif fit_on == "shuffled_labels":
        search.fit(X_train, y_train.sample(frac=1, random_state=0).to_numpy())
    feedback = check_knn(search, split)
    assert not feedback.passed
    assert says in feedback.message, feedback


def test_grid_search_without_asked_values_wants_a_range(split):
    X_train, _, y_train, _ = split
    search = GridSearchCV(
        recipes.penguin_pipeline(DecisionTreeClassifier(random_state=0)),
        {"classify__max_depth": [2, 3]},
        cv=5,
    ).fit(X_train, y_train)
    feedback = checks.grid_search(search, X_train, y_train, param="classify__max_depth")
    assert "only 2 values" in feedback.message


def test_grid_search_needs_a_pipeline_step_name(split):
    search = knn_search(
        {"kneighborsclassifier__n_neighbors": ODD},
        estimator=make_pipeline(StandardScaler(), KNeighborsClassifier()),
    )
    feedback = check_knn(search, split)
    assert "does not search 'classify__n_neighbors'" in feedback.message
    assert "two underscores" in feedback.hint


def test_grid_search_refuses_something_else(split):
    X_train, _, y_train, _ = split
    feedback = checks.grid_search(DecisionTreeClassifier(), X_train, y_train, param="max_depth")
    assert "should be a GridSearchCV" in feedback.message


def test_grid_search_needs_the_training_labels(split):
    feedback = checks.grid_search(knn_search(), split[0], param=KNN)
    assert not feedback and "pass X_train, y_train" in feedback.error
