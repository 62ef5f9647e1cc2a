
import pytest

from course import checks


@pytest.mark.parametrize(
    ("target", "answer", "passed", "says"),
    [
        ("species", "classification", True, "3 classes"),
        ("species", "Multiclass classification", True, "multiclass classification:"),
        ("species", "binary classification", False, "with 3 classes it is multiclass"),
        ("species", "regression", False, "holds labels (Adelie, Gentoo, Chinstrap)"),
        ("species", "clustering", False, "there is a target, 'species'"),
        ("body_mass_g", "regression", True, "a quantity"),
        ("body_mass_g", "classification", False, "a quantity on a scale (2700 to 6300)"),
        (None, "clustering", True, "find groups"),
        (None, "regression", False, "there is no target column"),
        ("species", "classify", False, "is not a kind of problem"),
        ("species", 3, False, "should be a word"),
        # Exercise 1 of notebook 00: body mass, and the answers a beginner really gives.
        ("body_mass_g", " Regression", True, "regression:"),
        ("body_mass_g", "clustering", False, "there is a target, 'body_mass_g'"),
        ("body_mass_g", "multiclass classification", False, "a quantity on a scale"),
        ("body_mass_g", "supervised", False, "a way of learning (notebook 00, section 3)"),
        ("body_mass_g", "linear regression", False, "is an algorithm"),
        ("body_mass_g", "logistic regression", False, "used for classification"),
        (None, "unsupervised learning", False, "unsupervised problems are clustering"),
        (None, "k-means", False, "is an algorithm"),
        ("species", "reinforcement learning", False, "learned from rewards"),
    ],
)
def test_problem_kind_names_the_mistake(penguins, target, answer, passed, says):
    frame = penguins if target else penguins.drop(columns="species")
    feedback = checks.problem_kind(answer, frame, target)
    assert feedback.passed is passed
    assert says in feedback.message
    assert passed or feedback.hint
