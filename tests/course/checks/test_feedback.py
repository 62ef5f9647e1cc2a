
import pytest

from course import checks
from course.rl import GridWorld


def test_feedback_reads_as_a_verdict_with_a_hint():
    good = checks.correct("well done.")
    bad = checks.wrong("off by one.", hint="count the biases.")
    assert good and not bad
    assert repr(good) == "✅ Correct: well done."
    assert repr(bad) == "❌ Not yet: off by one.\n💡 Hint: count the biases."


def test_a_placeholder_answer_raises_a_clear_not_implemented_error():
    with pytest.raises(NotImplementedError, match=r"`n_parameters` is still `\.\.\.`"):
        checks.parameter_count(..., layer_sizes=[64, 32, 10])
    for check, args in [
        (checks.discounted_return, ([1.0], 0.9)),
        (checks.q_update, ()),
        (checks.reaches_goal, (GridWorld(),)),
    ]:
        with pytest.raises(NotImplementedError, match="run this check again"):
            check(..., *args)


def test_every_new_check_treats_the_placeholder_as_not_answered(penguins, split, fitted):
    X_train, X_test, y_train, y_test = split
    calls = [
        lambda: checks.problem_kind(..., penguins, "species"),
        lambda: checks.missing_values(..., penguins, "sex"),
        lambda: checks.penguin_features(..., penguins),
        lambda: checks.penguin_preprocessor(..., X_train),
        lambda: checks.leaky_option(...),
        lambda: checks.strongest_correlation(..., penguins, "body_mass_g"),
        lambda: checks.class_share(..., penguins["species"], "Adelie"),
        lambda: checks.stratified_split(..., y_train, ..., X_train, y_train, test_size=0.25,
                                        random_state=0),
        lambda: checks.confusion_cell(..., None, true="Adelie", predicted="Gentoo"),
        lambda: checks.grid_search(..., X_train, param="classify__max_depth"),
        lambda: checks.class_probability(..., fitted, X_test.head(1), "Adelie"),
        lambda: checks.valid_request(..., None),
        lambda: checks.largest_coefficient(..., fitted),
        lambda: checks.best_k(..., None),
        lambda: checks.clusters_match(..., penguins["species"], X=penguins,
                                      features=["bill_depth_mm"], n_clusters=3, min_agreement=0.5),
        lambda: checks.time_ordered_split(..., ..., ...),
        lambda: checks.model_ready_features(..., penguins, target="species"),
        lambda: checks.persistence_accuracy(..., X_test, y_test),
    ]
    for call in calls:
        with pytest.raises(NotImplementedError, match=r"is still `\.\.\.`"):
            call()
