
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from course import checks, datasets, recipes


@pytest.mark.parametrize(
    ("how", "passed", "says"),
    [
        ({"stratify": True}, True, "275 training and 69 test rows"),
        ({"stratify": False, "random_state": 3}, False, "not stratified"),
        ({"stratify": True, "test_size": 0.25}, False, "test set has 86 rows"),
        ({"stratify": True, "swap": True}, False, "test set has 275 rows"),
    ],
)
def test_stratified_split_names_the_mistake(penguins, how, passed, says):
    y = penguins["species"]
    y_train, y_test = train_test_split(
        y,
        test_size=how.get("test_size", 0.2),
        stratify=y if how["stratify"] else None,
        random_state=how.get("random_state", 0),
    )
    if how.get("swap"):
        y_train, y_test = y_test, y_train
    feedback = checks.stratified_split(y_train, y_test, y, test_size=0.2)
    assert feedback.passed is passed, feedback
    assert says in feedback.message
    if how.get("swap"):
        assert "in that order" in feedback.hint


def test_stratified_split_catches_rows_used_twice(penguins):
    y = penguins["species"]
    feedback = checks.stratified_split(y.iloc[:275], y.iloc[270:339], y, test_size=0.2)
    assert "in both" in feedback.message


def in_training_order(split):
    X_train, X_test, y_train, y_test = split
    return X_train, y_train, X_test, y_test


def test_beats_baseline_accepts_a_real_classifier(split, fitted):
    feedback = checks.beats_baseline(fitted, *in_training_order(split))
    assert feedback.passed
    assert "against 0.442 for the baseline" in feedback.message


@pytest.mark.parametrize(
    ("model", "says"),
    [
        (recipes.penguin_pipeline(DummyClassifier()), "a baseline itself"),
        (recipes.penguin_pipeline(), "not fitted yet"),
        (make_pipeline(StandardScaler(), LinearRegression()), "the model is a regressor"),
        ("forest", "should be a scikit-learn model"),
    ],
)
def test_beats_baseline_names_the_mistake(split, model, says):
    feedback = checks.beats_baseline(model, *in_training_order(split))
    assert not feedback.passed
    assert says in feedback.message


def test_beats_baseline_reports_a_model_that_cannot_read_the_rows(split):
    X_train, X_test, y_train, y_test = split
    model = KNeighborsClassifier().fit(X_train[["bill_length_mm"]].fillna(40), y_train)
    feedback = checks.beats_baseline(model, X_train, y_train, X_test, y_test)
    assert "cannot predict X_test: ValueError" in feedback.message


def test_beats_baseline_compares_a_regressor_by_its_error():
    diabetes = datasets.load("diabetes")
    X, y = diabetes.drop(columns="target"), diabetes["target"]
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    ridge = make_pipeline(StandardScaler(), Ridge()).fit(X_train, y_train)
    assert checks.beats_baseline(ridge, X_train, y_train, X_test, y_test).passed
    weak = make_pipeline(StandardScaler(), Ridge()).fit(X_train[["sex"]], y_train)
    feedback = checks.beats_baseline(weak, X_train[["sex"]], y_train, X_test[["sex"]], y_test)
    assert "not clearly better" in feedback.message
    tree = DecisionTreeClassifier().fit(X_train, y_train > 150)
    feedback = checks.beats_baseline(tree, X_train, y_train, X_test, y_test)
    assert "the target is a quantity, but the model is a classifier" in feedback.message
