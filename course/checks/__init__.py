"""Instant feedback on the notebooks' exercises: one module per notebook, one import here.

Each check takes the learner's answer and returns a ``Feedback``, which a notebook shows as a
box titled "Correct", "Not yet" (what is wrong, and a hint) or "Not answered yet" (the answer
is still ``...``). ``@check`` guarantees a check never shows a traceback, whatever it is given.
``hint("04.1")`` and ``solution("04.1")`` help on demand; ``quiz("04", quiz_answers)`` marks
the notebook's concept quiz.

Writing a new check: decorate it with ``@check``, take the answer first, call
``require_answer``, compare with the expected value, and return ``correct(...)`` or
``wrong(..., hint=...)`` with a message for each common mistake (see docs/notebooks.md). Checks
import scikit-learn, pandas and the course modules they need inside the function, so that
importing this module stays fast.
"""

from course.checks._feedback import Feedback, Verdict, correct, require_answer, wrong
from course.checks._guard import check
from course.checks._help import hint, solution
from course.checks._mistakes import mistake_ids
from course.checks._quiz import quiz
from course.checks.build import measurements_model, stratified_split
from course.checks.capstone import (
    model_ready_features,
    opened_once,
    persistence_accuracy,
    time_ordered_split,
    time_series_model,
)
from course.checks.deep_learning import digits_network, parameter_count
from course.checks.evaluation import confusion_cell, grid_search
from course.checks.explore import class_share, strongest_correlation
from course.checks.landscape import problem_kind
from course.checks.objective import missing_values, penguin_features
from course.checks.operate import late_labels, psi_by_hand, rolled_back
from course.checks.predict import class_probability, valid_request
from course.checks.prepare import leaky_option, penguin_preprocessor
from course.checks.regression import largest_coefficient, linear_on_features
from course.checks.reinforcement import discounted_return, q_update, reaches_goal
from course.checks.ship_it import caught_up, dissenting_member, shorter_explanation
from course.checks.unsupervised import best_k, clusters_match

__all__ = [
    "Feedback",
    "Verdict",
    "best_k",
    "caught_up",
    "check",
    "class_probability",
    "class_share",
    "clusters_match",
    "confusion_cell",
    "correct",
    "digits_network",
    "discounted_return",
    "dissenting_member",
    "grid_search",
    "hint",
    "largest_coefficient",
    "late_labels",
    "leaky_option",
    "linear_on_features",
    "measurements_model",
    "missing_values",
    "mistake_ids",
    "model_ready_features",
    "opened_once",
    "parameter_count",
    "penguin_features",
    "penguin_preprocessor",
    "persistence_accuracy",
    "problem_kind",
    "psi_by_hand",
    "q_update",
    "quiz",
    "reaches_goal",
    "require_answer",
    "rolled_back",
    "shorter_explanation",
    "solution",
    "stratified_split",
    "strongest_correlation",
    "time_ordered_split",
    "time_series_model",
    "valid_request",
    "wrong",
]
