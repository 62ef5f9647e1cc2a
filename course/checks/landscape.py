"""Checks for notebook 00 (the landscape) and the capstone: what kind of problem is it?

The answer is a word, so the mistakes are words too: a way of learning ("supervised") or an
algorithm ("linear regression") given for a kind of problem, each named as such.
"""

from __future__ import annotations

from typing import Any

from course.checks._answers import expect_table
from course.checks._feedback import Feedback, correct, require_answer, wrong
from course.checks._guard import check, describe
from course.checks._quiz import Question, Quiz

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

    words = ", ".join(repr(word) for word in ("regression", "classification", "clustering"))
    if not isinstance(answer, str):
        return wrong(
            f"the answer should be a word, but `kind` is {describe(answer)}.",
            hint=f"answer with one of {words}, in quotes.",
            mistake="not-a-word",
        )
    expect_table("frame", frame)
    if target is not None and target not in frame.columns:
        return wrong(
            f"the table has no column {target!r} to predict.",
            hint="put the check cell back as the notebook gave it: it names the target.",
            mistake="no-such-column",
        )
    report = classify_problem(frame, target)
    expected = report.kind
    family = "classification" if expected.is_classification else expected.value
    text = " ".join(str(answer).lower().replace("-", " ").split())
    if text in _LEARNING_WORDS:
        return wrong(
            f"{answer!r} names a way of learning (notebook 00, section 3), not a kind of problem: "
            f"{text.split()[0]} problems are {_LEARNING_WORDS[text]}.",
            hint=f"say what the answer looks like: answer with one of {words}.",
            mistake="learning-way-not-problem",
        )
    if text in _ALGORITHM_WORDS:
        return wrong(
            f"{answer!r} is an algorithm, a way to solve a problem, not the kind of problem "
            f"(it is used for {_ALGORITHM_WORDS[text]}).",
            hint=f"first say what the answer looks like: one of {words}; then pick an algorithm.",
            mistake="algorithm-not-problem",
        )
    if text not in _KIND_WORDS:
        return wrong(
            f"{answer!r} is not a kind of problem.", hint=f"answer with one of {words}.",
            mistake="not-a-problem-kind",
        )
    given = _KIND_WORDS[text]
    if given == family:
        if text != "classification" and text != expected.value:
            classes = len(report.class_counts or {})
            return wrong(
                f"it is classification, but with {classes} classes it is {expected.value}.",
                hint="binary means exactly two classes; multiclass means three or more.",
                mistake="binary-multiclass-confused",
            )
        return correct(f"{expected.value}: {report.reason}")
    if family == "clustering":
        return wrong(
            f"there is no target column, so there is nothing to predict ({given} needs one).",
            hint="without a target, the task is to find groups of similar rows.",
            mistake="no-target",
        )
    if given == "clustering":
        return wrong(
            f"there is a target, {target!r}, with a value for the rows: learning to predict it "
            "is supervised learning, not clustering.",
            hint="clustering is for data without answers; ask what the target's values look like.",
            mistake="target-ignored",
        )
    if expected is LearningTask.REGRESSION:
        low, high = report.target_range or (float("nan"), float("nan"))
        return wrong(
            f"{target!r} is a quantity on a scale ({low:g} to {high:g}), not a label from a "
            "short list.",
            hint="classification predicts one of a few labels; a measured amount is regression.",
            mistake="quantity-as-labels",
        )
    labels = ", ".join(str(label) for label in (report.class_counts or {}))
    return wrong(
        f"{target!r} holds labels ({labels}), not quantities.",
        hint="regression predicts an amount; a label from a fixed list is classification.",
        mistake="labels-as-quantity",
    )


QUIZ = Quiz((
    Question(
        answer="b",
        why="the answer is one of two labels (repaid or not), learned from past loans whose "
        "outcome is known: supervised, binary classification.",
        wrong={
            "a": "regression predicts a quantity on a scale; \"repaid or not\" is one of two "
            "labels, even if a model gives a probability on the way.",
            "c": "clustering is for data without answers; here every past loan has its outcome, "
            "which is exactly what a model can learn to predict.",
            "d": "reinforcement learning learns actions from rewards, with no examples; here "
            "the bank has thousands of examples with the right answer.",
        },
    ),
    Question(
        answer="c",
        why="no customer has a \"right group\" to learn from: finding groups of similar rows "
        "without a target is clustering (K-means, notebook 08).",
        wrong={
            "a": "classification needs a label for every training row; nobody has labelled "
            "these customers, and the groups are not known in advance.",
            "b": "regression predicts a quantity for each row from examples with the answer; "
            "there is no answer column here at all.",
        },
    ),
    Question(
        answer="a",
        why="filter B learned its rule from emails whose answer (spam or not) was given: "
        "that is supervised machine learning; the word list is a rule written by hand.",
        wrong={
            "b": "a list of banned words is a rule a programmer wrote, classic programming "
            "(AI in the broad sense, but nothing is learned from data).",
            "c": "a program is not machine learning because it runs on a computer or is fast; "
            "it is machine learning when its rule is learned from examples.",
            "d": "one of them learns from examples with answers: the filter trained on the "
            "10,000 marked emails.",
        },
    ),
    Question(
        answer="d",
        why="when every decision must be explained, start with a model a person can read: a "
        "small decision tree (a flow chart) or a logistic regression and its weights.",
        wrong={
            "a": "a neural network may be accurate, but it is the hardest to explain, and 500 "
            "rows is far too few for it to shine.",
            "b": "K-means finds groups without answers; here each patient has a known outcome "
            "to predict.",
            "c": "a large random forest votes with hundreds of trees: accurate, but no doctor "
            "can follow its reasons for one patient.",
        },
    ),
    Question(
        answer="b",
        why="the score was measured on the very birds the tree learned from, so it says how "
        "well it remembers them, not how it does on birds it never saw: notebook 04 seals "
        "test birds away to measure that.",
        wrong={
            "a": "a score on the birds a model learned from is too good to be true: it can be "
            "right on them by memory and still wrong on new birds.",
            "c": "the score is a real measurement, but of the wrong thing: nothing says the "
            "new birds will do worse or better until it is measured on birds it never saw.",
        },
    ),
))
"""Notebook 00's quiz: its questions are in the notebook's last markdown cell."""
