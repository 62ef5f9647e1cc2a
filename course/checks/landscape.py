"""Checks for notebook 00 (the landscape) and the capstone: what kind of problem is it?"""

from __future__ import annotations

from typing import Any

from course.checks._feedback import Feedback, correct, require_answer, wrong
from course.checks._guard import check

_KIND_WORDS = {
    "regression": "regression",
    "classification": "classification",
    "binary classification": "classification",
    "multiclass classification": "classification",
    "clustering": "clustering",
}
_LEARNING_WORDS = {
    "supervised": "regression or classification",
    "supervised learning": "regression or classification",
    "unsupervised": "clustering",
    "unsupervised learning": "clustering",
    "reinforcement": "learned from rewards, not one of these three kinds",
    "reinforcement learning": "learned from rewards, not one of these three kinds",
}
_ALGORITHM_WORDS = {
    "linear regression": "regression",
    "logistic regression": "classification",
    "decision tree": "classification or regression",
    "random forest": "classification or regression",
    "gradient boosting": "classification or regression",
    "k nearest neighbours": "classification or regression",
    "k nearest neighbors": "classification or regression",
    "knn": "classification or regression",
    "svm": "classification or regression",
    "naive bayes": "classification",
    "k means": "clustering",
    "kmeans": "clustering",
    "neural network": "classification or regression",
    "q learning": "reinforcement learning",
}


@check
def problem_kind(answer: Any, frame: Any, target: Any = None) -> Feedback:
    """Check a problem kind ("regression", "classification", "clustering") for a target."""
    require_answer("kind", answer)
    from course.advisor import LearningTask, classify_problem

    report = classify_problem(frame, target)
    expected = report.kind
    family = "classification" if expected.is_classification else expected.value
    words = ", ".join(repr(word) for word in ("regression", "classification", "clustering"))
    if not isinstance(answer, str):
        return wrong(
            f"the answer should be a word, got {type(answer).__name__} {answer!r}.",
            hint=f"answer with one of {words}, in quotes.",
        )
    text = " ".join(str(answer).lower().replace("-", " ").split())
    if text in _LEARNING_WORDS:
        return wrong(
            f"{answer!r} names a way of learning (notebook 00, section 3), not a kind of problem: "
            f"{text.split()[0]} problems are {_LEARNING_WORDS[text]}.",
            hint=f"say what the answer looks like: answer with one of {words}.",
        )
    if text in _ALGORITHM_WORDS:
        return wrong(
            f"{answer!r} is an algorithm, a way to solve a problem, not the kind of problem "
            f"(it is used for {_ALGORITHM_WORDS[text]}).",
            hint=f"first say what the answer looks like: one of {words}; then pick an algorithm.",
        )
    if text not in _KIND_WORDS:
        return wrong(f"{answer!r} is not a kind of problem.", hint=f"answer with one of {words}.")
    given = _KIND_WORDS[text]
    if given == family:
        if text != "classification" and text != expected.value:
            classes = len(report.class_counts or {})
            return wrong(
                f"it is classification, but with {classes} classes it is {expected.value}.",
                hint="binary means exactly two classes; multiclass means three or more.",
            )
        return correct(f"{expected.value}: {report.reason}")
    if family == "clustering":
        return wrong(
            f"there is no target column, so there is nothing to predict ({given} needs one).",
            hint="without a target, the task is to find groups of similar rows.",
        )
    if given == "clustering":
        return wrong(
            f"there is a target, {target!r}, with a value for the rows: learning to predict it "
            "is supervised learning, not clustering.",
            hint="clustering is for data without answers; ask what the target's values look like.",
        )
    if expected is LearningTask.REGRESSION:
        low, high = report.target_range or (float("nan"), float("nan"))
        return wrong(
            f"{target!r} is a quantity on a scale ({low:g} to {high:g}), not a label from a "
            "short list.",
            hint="classification predicts one of a few labels; a measured amount is regression.",
        )
    labels = ", ".join(str(label) for label in (report.class_counts or {}))
    return wrong(
        f"{target!r} holds labels ({labels}), not quantities.",
        hint="regression predicts an amount; a label from a fixed list is classification.",
    )
