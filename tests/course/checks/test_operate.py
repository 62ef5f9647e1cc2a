"""Notebook 13's checks: the right answer, the plausible wrong ones, and anything else."""

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from course import checks
from course.checks import Verdict
from course.drift import DriftReport, LiveMetrics, psi

TRAINING = [0.105, 0.105, 0.105, 0.086, 0.109, 0.097, 0.093, 0.101, 0.101, 0.098]
RECENT = [0.0, 0.0, 0.0, 0.01, 0.015, 0.115, 0.195, 0.16, 0.165, 0.34]
RIGHT = psi(TRAINING, RECENT)


def _floored(floor=1e-4, log=math.log, difference=True, ratio=True):
    total = 0.0
    for t, r in zip(TRAINING, RECENT, strict=True):
        t, r = max(t, floor), max(r, floor)
        total += (r - t if difference else 1.0) * (log(r / t) if ratio else 1.0)
    return total


def _specific(feedback, says):
    assert not feedback.passed, feedback
    assert feedback.error == "", feedback.error
    assert says in feedback.message + " " + feedback.hint, feedback


def test_psi_by_hand_accepts_the_reports_psi():
    feedback = checks.psi_by_hand(RIGHT, TRAINING, RECENT)
    assert feedback.passed, feedback
    assert "the PSI is 2.9" in feedback.message and "large shift" in feedback.message


def test_psi_by_hand_names_each_slip():
    _specific(checks.psi_by_hand(math.inf, TRAINING, RECENT), "floor of 0.0001")
    _specific(checks.psi_by_hand(100 * RIGHT, TRAINING, RECENT), "percentages")
    _specific(checks.psi_by_hand(_floored(log=math.log10), TRAINING, RECENT), "base-10")
    _specific(checks.psi_by_hand(_floored(ratio=False), TRAINING, RECENT), "differences alone")
    _specific(checks.psi_by_hand(0.0, TRAINING, RECENT), "differences alone")
    _specific(checks.psi_by_hand(_floored(difference=False), TRAINING, RECENT), "logs of the")
    _specific(checks.psi_by_hand(_floored(floor=1e-6), TRAINING, RECENT), "does not floor")
    _specific(checks.psi_by_hand(-1.5, TRAINING, RECENT), "negative")
    _specific(checks.psi_by_hand(1.0, TRAINING, RECENT), "not the PSI of these shares")
    _specific(checks.psi_by_hand("2.98", TRAINING, RECENT), "not a number")


def test_psi_by_hand_unanswered_and_overwritten_shares():
    feedback = checks.psi_by_hand(..., TRAINING, RECENT)
    assert feedback.verdict is Verdict.NOT_ANSWERED and "`psi_value`" in feedback.message
    _specific(checks.psi_by_hand(RIGHT, None, RECENT), "run the exercise's first cell again")
    _specific(checks.psi_by_hand(RIGHT, TRAINING, RECENT[:4]), "not the same feature")


TRUTH = ["Adelie"] * 6 + ["Gentoo"] * 4
PREDICTED = ["Adelie"] * 5 + ["Chinstrap"] + ["Gentoo"] * 4


def _live(labelled, accuracy, kind="classification"):
    metrics = {"accuracy": accuracy, "macro_f1": accuracy} if labelled else {
        "accuracy": None, "macro_f1": None}
    return LiveMetrics("penguin-classifier", kind, labelled, 50, metrics)


def test_late_labels_accepts_the_metrics_of_the_batch():
    feedback = checks.late_labels(_live(10, 0.9), TRUTH, PREDICTED)
    assert feedback.passed, feedback
    assert "live accuracy is 0.900" in feedback.message


def test_late_labels_names_each_slip():
    _specific(checks.late_labels(_live(210, 0.95), TRUTH, PREDICTED), "window=10")
    _specific(checks.late_labels(_live(7, 0.9), TRUTH, PREDICTED), "only 7 labelled")
    _specific(checks.late_labels(_live(0, None), TRUTH, PREDICTED), "labels were not sent")
    _specific(checks.late_labels(_live(10, 1.0), TRUTH, PREDICTED), "model's own predictions")
    _specific(checks.late_labels(_live(10, 0.7), TRUTH, PREDICTED), "another bird's record")
    _specific(checks.late_labels(DriftReport("m", "1", 10), TRUTH, PREDICTED), "drift report")
    _specific(checks.late_labels(0.9, TRUTH, PREDICTED), "whole LiveMetrics")
    _specific(checks.late_labels(_live(10, 0.9).to_dict(), TRUTH, PREDICTED), "not its dict")


def _notebook_week5():
    """Exercise 2's 40 birds as notebook 13 builds them (bills 6 mm longer: the old
    calipers), their truth, and version 1's predictions (the live one after the roll back)."""
    from course import recipes

    X_train, y_train, _ = recipes.penguin_split()
    picks = X_train.sample(40, random_state=5).index
    week5 = X_train.loc[picks].reset_index(drop=True)
    week5 = week5.assign(bill_length_mm=week5["bill_length_mm"] + 6)
    version1 = recipes.penguin_pipeline().fit(X_train, y_train)
    return list(y_train.loc[picks]), [str(p) for p in version1.predict(week5)]


def test_late_labels_refuses_the_models_own_predictions_on_the_notebooks_birds():
    truth, predicted = _notebook_week5()
    right = sum(t == p for t, p in zip(truth, predicted, strict=True)) / len(truth)
    assert right < 0.95, f"version 1 gets {right:.3f} of the 40 birds: too few mistakes"
    assert checks.late_labels(_live(40, right), truth, predicted).passed
    # the model's own predictions sent as the labels: it agrees with itself, accuracy 1.0
    _specific(checks.late_labels(_live(40, 1.0), truth, predicted), "model's own predictions")


def test_late_labels_unanswered_and_overwritten_batch():
    feedback = checks.late_labels(..., TRUTH, PREDICTED)
    assert feedback.verdict is Verdict.NOT_ANSWERED and "`live`" in feedback.message
    _specific(checks.late_labels(_live(10, 0.9), TRUTH, PREDICTED[:3]), "first cell")


def _result(version):
    """A predict run's result, as laptop.wait_for_answer(ack.run).result gives it."""
    return {"model": "penguin-classifier", "version": version, "prediction": "Adelie",
            "text": "...", "evidence": {}}


def test_rolled_back_accepts_a_bird_answered_by_the_version_live_again():
    feedback = checks.rolled_back(_result("1"), "1", "2")
    assert feedback.passed, feedback
    assert "version 1 answered" in feedback.message


def test_rolled_back_names_each_slip():
    _specific(checks.rolled_back(_result("2"), "2", "2"), "nothing was rolled back")
    _specific(checks.rolled_back(_result("1"), "2", "2"), "every other request")
    _specific(checks.rolled_back(_result("2"), "1", "2"), "before the roll back")
    _specific(checks.rolled_back(_result("3"), "1", "2"), "pinned it")
    record = {"kind": "rollback", "model": "penguin-classifier", "version": "1",
              "previous": "2", "history": ["1"]}
    _specific(checks.rolled_back(record, "1", "2"), "control record")
    _specific(checks.rolled_back("1", "1", "2"), "a version you typed")
    _specific(checks.rolled_back(1, "1", "2"), "a version you typed")
    _specific(checks.rolled_back({"version": "1"}, "1", "2"), "not the result of a prediction")


def test_rolled_back_unanswered_and_a_broken_check_cell():
    feedback = checks.rolled_back(..., "1", "2")
    assert feedback.verdict is Verdict.NOT_ANSWERED and "`answer`" in feedback.message
    _specific(checks.rolled_back(_result("1"), None, "2"), "as it was written")


MALFORMED = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.lists(st.one_of(st.floats(allow_nan=True), st.text(max_size=3)), max_size=4),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=3),
    st.just(DriftReport("m", "1", 0, reason="no prediction recorded yet")),
    st.builds(_live, st.integers(0, 300), st.floats(0, 0.89)),
    st.just(_live(5, 0.5, kind="regression")),
)


@settings(max_examples=40, deadline=None)
@given(answer=MALFORMED, training=st.one_of(st.just(TRAINING), MALFORMED))
def test_psi_by_hand_answers_anything_with_feedback(answer, training):
    feedback = checks.psi_by_hand(answer, training, RECENT)
    assert isinstance(feedback, checks.Feedback) and not feedback.passed
    assert feedback.error == "", feedback


@settings(max_examples=40, deadline=None)
@given(answer=MALFORMED, truth=st.one_of(st.just(TRUTH), MALFORMED))
def test_late_labels_answers_anything_with_feedback(answer, truth):
    feedback = checks.late_labels(answer, truth, PREDICTED)
    assert isinstance(feedback, checks.Feedback) and not feedback.passed
    assert feedback.error == "", feedback


@settings(max_examples=40, deadline=None)
@given(answer=st.one_of(MALFORMED, st.builds(_result, st.sampled_from(["2", "", None]))),
       live=st.one_of(st.just("1"), MALFORMED))
def test_rolled_back_answers_anything_with_feedback(answer, live):
    feedback = checks.rolled_back(answer, live, "2")
    assert isinstance(feedback, checks.Feedback) and not feedback.passed
    assert feedback.error == "", feedback
