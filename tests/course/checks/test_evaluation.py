import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from course import checks, recipes
from course.checks._feedback import is_number

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
        ("6", False, "is the text '6'; the answer is a number"),
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
    assert "is a DecisionTreeClassifier, a model rather than a search" in feedback.message
    assert "keep the GridSearchCV itself" in feedback.hint


def test_grid_search_needs_the_training_labels(split):
    feedback = checks.grid_search(knn_search(), split[0], param=KNN)
    assert not feedback and "pass X_train, y_train" in feedback.error


# --- malformed answers: specific feedback, never the safety net ------------------------------

@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (CONFUSION, "the whole matrix, not one of its cells"),
        (CONFUSION.loc["Adelie"], "a whole row or column"),  # .loc["Adelie"] without a column
        (float("nan"), "`count` is nan, not a count of penguins"),
        (6.5, "cannot be a count"),
        (-6, "cannot be a count"),
        ("six", "`count` is the text 'six'"),
        (None, "`count` is None"),
        ([6], "a list of 1 item"),
    ],
)
def test_confusion_cell_names_malformed_answers(answer, says):
    feedback = checks.confusion_cell(answer, CONFUSION, true="Adelie", predicted="Chinstrap")
    assert not feedback.passed
    assert says in feedback.message, feedback
    assert feedback.error == ""


def test_confusion_cell_accepts_numpy_and_float_counts():
    for answer in (np.int64(6), 6.0, np.float64(6)):
        assert checks.confusion_cell(answer, CONFUSION, true="Adelie", predicted="Chinstrap")


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda search: search.best_estimator_, "a model rather than a search"),
        (lambda search: search.best_params_, "a result of the search (`.best_params_`?)"),
        (lambda search: search.best_score_, "scores, not the search"),
        (lambda search: search.cv_results_["mean_test_score"], "scores, not the search"),
        (lambda search: None, "`search` should be a GridSearchCV, but it is None"),
        (lambda search: knn_search({KNN: 5}), "the single value 5"),
        (lambda search: knn_search({KNN: "1, 3, 5"}), "the single value '1, 3, 5'"),
        (lambda search: knn_search({KNN: [None, *ODD]}), "adds None"),
        (lambda search: knn_search(["classify__n_neighbors"]), "not a dict from a setting"),
    ],
)
def test_grid_search_names_malformed_answers(split, make, says):
    X_train, _, y_train, _ = split
    search = knn_search({KNN: [1, 3]}).fit(X_train, y_train)
    feedback = check_knn(make(search), split)
    assert not feedback.passed
    assert says in feedback.message, feedback
    assert feedback.error == ""


MALFORMED = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-1000, 1000),
    st.floats(allow_nan=True),
    st.text(max_size=10),
    st.lists(st.integers(), max_size=4),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=3),
    st.builds(lambda n: np.full(n, np.nan), st.integers(0, 5)),
    st.builds(lambda n: pd.DataFrame({"a": [np.nan] * n}), st.integers(0, 5)),
    st.builds(lambda n: pd.Series([np.nan] * n, dtype=float), st.integers(0, 5)),
    st.just(KNeighborsClassifier()),
    st.just(CONFUSION),
)
GRIDS = st.one_of(
    MALFORMED,
    st.dictionaries(st.sampled_from([KNN, "n_neighbors", "classify__weights"]),
                    st.one_of(st.integers(), st.text(max_size=3), st.lists(
                        st.one_of(st.integers(-3, 20), st.none(), st.text(max_size=2)),
                        max_size=4,
                    )),
                    max_size=2),
)


@settings(max_examples=30, deadline=None)
@given(MALFORMED)
def test_confusion_cell_answers_anything_with_feedback(answer):
    feedback = checks.confusion_cell(answer, CONFUSION, true="Adelie", predicted="Chinstrap")
    assert isinstance(feedback, checks.Feedback)
    assert feedback.passed is (is_number(answer) and answer == 6)
    assert feedback.error == "", feedback


@settings(max_examples=30, deadline=None)
@given(st.one_of(MALFORMED, st.builds(knn_search, GRIDS)))
def test_grid_search_answers_anything_with_feedback(split, search):
    feedback = check_knn(search, split)  # unfitted searches: nothing is trained here
    assert isinstance(feedback, checks.Feedback) and not feedback.passed
    assert feedback.error == "", feedback
