"""Checks for notebook 13: operate it.

The first exercise computes a population stability index by hand from a drift report's shares
(course.drift.psi is the reference); the mistakes a beginner makes are the formula's parts left
out: no floor on an empty bin (an infinite PSI), the difference without the log (always 0, the
shares of both sum to 1), the log without the difference, a base-10 log, percentages instead of
shares. The second sends late labels and reads the live metrics of one week: the answer is a
course.drift.LiveMetrics, and the mistakes are a window that mixes in other weeks, labels not
(all) sent, the model's own predictions sent as the truth, and the wrong object (a drift
report, the accuracy alone, the metrics' dict). The third rolls back a version a colleague
promoted and asks about one bird: the answer is the run's result, and the check reads the
version that answered it (every result names it) next to the version live when the check runs;
the mistakes are no roll back at all, a request that pins version 1 while version 2 stays live
for everyone else, a bird sent before the roll back, and the roll back's control record (or the
version's name) instead of an answer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from course.checks._answers import expect_number
from course.checks._feedback import Feedback, Mistake, correct, is_number, require_answer, wrong
from course.checks._guard import check, describe
from course.checks._quiz import Question, Quiz

__all__ = ["QUIZ", "late_labels", "psi_by_hand", "rolled_back"]

FLOOR = 1e-4
"""The floor course.drift puts under every share (an empty bin would divide by zero)."""


def _shares(name: str, value: Any) -> list[float]:
    """The notebook's own list of shares, or a Mistake saying which cell to run again."""
    if (
        isinstance(value, list | tuple)
        and value
        and all(is_number(v) and math.isfinite(float(v)) for v in value)
    ):
        return [float(v) for v in value]
    raise Mistake(wrong(
        f"`{name}` is {describe(value)}: no longer the shares of the drift report's feature.",
        hint="run the exercise's first cell again (it reads `feature` from the report), then "
        "your answer, then this check.",
        mistake="shares-replaced",
    ))


def _psi(training: Sequence[float], recent: Sequence[float], *, floor: float = FLOOR,
         log: Any = math.log, difference: bool = True, ratio: bool = True) -> float:
    total = 0.0
    for t, r in zip(training, recent, strict=True):
        t, r = max(t, floor), max(r, floor)
        total += (r - t if difference else 1.0) * (log(r / t) if ratio else 1.0)
    return total


@check
def psi_by_hand(answer: Any, training: Sequence[float], recent: Sequence[float]) -> Feedback:
    """Check a population stability index computed from a feature's ``training`` and
    ``recent`` shares (same bins), each share floored at 0.0001 as course.drift does."""
    require_answer("psi_value", answer)
    training = _shares("training", training)
    recent = _shares("recent", recent)
    if len(training) != len(recent):
        raise Mistake(wrong(
            f"`training` has {len(training)} bins and `recent` {len(recent)}: they are not the "
            "same feature's shares.",
            hint="run the exercise's first cell again, then your answer, then this check.",
            mistake="bin-counts-differ",
        ))
    floor_hint = (
        "an empty bin has a share of 0, and the log of 0 is minus infinity: put a floor of "
        "0.0001 under every share first, max(share, 0.0001), as the drift report does."
    )
    if is_number(answer) and math.isinf(float(answer)):
        return wrong(
            f"`psi_value` is {float(answer)}: a bin divided by zero.", hint=floor_hint,
            mistake="division-by-zero",
        )
    value = expect_number("psi_value", answer, what="a number (the PSI)")
    expected = _psi(training, recent)

    def close(other: float) -> bool:
        return math.isclose(value, other, rel_tol=1e-3, abs_tol=1e-4)

    if close(expected):
        return correct(
            f"the PSI is {expected:.3f}: {_reading(expected)}. Each bin adds (recent - "
            "training) * ln(recent / training), never a negative amount, so bins that moved "
            "either way add up."
        )
    formula = "sum over the bins of (recent - training) * ln(recent / training)"
    if close(100 * expected):
        return wrong(
            f"{value:.4g} is 100 times the PSI: the shares were percentages.",
            hint="use the shares as the report gives them, fractions that add up to 1 "
            "(0.105, not 10.5).",
            mistake="percentages-not-shares",
        )
    if close(_psi(training, recent, log=math.log10)):
        return wrong(
            f"{value:.4g} uses the base-10 logarithm.",
            hint="the PSI uses the natural logarithm: math.log (or numpy.log), not log10.",
            mistake="base-10-log",
        )
    if close(_psi(training, recent, ratio=False)) or abs(value) < 1e-9 < abs(expected):
        return wrong(
            f"{value:.4g} adds the differences alone: both sets of shares add up to 1, so "
            "their differences always sum to about 0.",
            hint=f"multiply each difference by the log of the ratio: {formula}.",
            mistake="differences-only",
        )
    if close(_psi(training, recent, difference=False)):
        return wrong(
            f"{value:.4g} adds the logs of the ratios alone: a bin that shrank and one that "
            "grew then cancel out.",
            hint=f"multiply each log by the difference of the shares: {formula}.",
            mistake="log-ratios-only",
        )
    if close(_psi(training, recent, floor=1e-6)) or close(_psi(training, recent, floor=1e-3)):
        return wrong(
            f"{value:.4g} does not floor the empty bins at 0.0001.", hint=floor_hint,
            mistake="empty-bins-not-floored",
        )
    if value < 0:
        return wrong(
            f"{value:.4g} is negative: every bin adds (recent - training) * ln(recent / "
            "training), which is never negative (both factors have the same sign).",
            hint="check the order inside the log: recent over training, the same order as "
            "in the difference.",
            mistake="negative-psi",
        )
    return wrong(
        f"{value:.4g} is not the PSI of these shares.",
        hint=f"{formula}, each share floored at 0.0001; print the bins one by one to compare.",
        mistake="wrong-psi",
    )


def _reading(value: float) -> str:
    from course.drift import verdict

    return {
        "no change": "under 0.1, no change worth a look",
        "moderate shift": "between 0.1 and 0.25, a moderate shift: look at the feature",
        "large shift": "0.25 or more, a large shift: the inputs are no longer like training",
    }[verdict(value)]


@check
def late_labels(answer: Any, truth: Sequence[Any], predicted: Sequence[Any]) -> Feedback:
    """Check the live metrics read after sending the true species of one batch of birds:
    a LiveMetrics over exactly that batch (``truth`` and the model's ``predicted`` species)."""
    from course.drift import DriftReport, LiveMetrics

    require_answer("live", answer)
    usable = all(isinstance(v, list | tuple) for v in (truth, predicted))
    truth, predicted = (list(truth), list(predicted)) if usable else ([], [])
    if not truth or len(truth) != len(predicted):
        raise Mistake(wrong(
            "`truth` and `predicted` are no longer the exercise's birds and predictions.",
            hint="run the exercise's first cell again (it asks about the birds), then your "
            "answer, then this check.",
            mistake="exercise-data-replaced",
        ))
    n = len(truth)
    expected = sum(t == p for t, p in zip(truth, predicted, strict=True)) / n
    read_hint = (
        f"after the labels, read the metrics of the last {n} labelled predictions: "
        f"monitor.metrics(server, MODEL, window={n})."
    )
    if not isinstance(answer, LiveMetrics):
        if isinstance(answer, DriftReport):
            mistake = "drift-report-not-metrics"
            message = (
                "`live` is a drift report: it compares the inputs with training, and needs no "
                "label. The labels are what the live metrics score."
            )
        elif is_number(answer):
            mistake = "number-not-metrics"
            message = (
                f"`live` is a number ({answer!r}): the check wants the whole LiveMetrics, "
                "which also says how many labelled predictions it counted."
            )
        elif isinstance(answer, dict):
            mistake = "dict-not-metrics"
            message = (
                f"`live` is {describe(answer)}: the check wants the LiveMetrics itself, not "
                "its dict."
            )
        else:
            mistake = "not-metrics"
            message = f"`live` is {describe(answer)}, not live metrics."
        return wrong(message, hint=read_hint, mistake=mistake)
    found = answer.metrics.get("accuracy") if isinstance(answer.metrics, dict) else None
    if answer.kind != "classification" or not is_number(found):
        if answer.labelled == 0:
            return wrong(
                "no labelled prediction yet: the labels were not sent before the metrics "
                "were read.",
                hint="send each bird's true species with log.label(MODEL, record id, "
                "species), the record ids being the run's record_prefix, a dot, and the row.",
                mistake="labels-not-sent",
            )
        return wrong(
            f"these metrics are of a {answer.kind}, not of the penguin classifier.",
            hint=read_hint,
            mistake="wrong-model-metrics",
        )
    accuracy = float(found)  # type: ignore[arg-type]  # is_number said so
    if answer.labelled < n:
        return wrong(
            f"only {answer.labelled} labelled predictions are counted, not the {n} birds.",
            hint="send a label for every bird of the batch (rows 0 to "
            f"{n - 1}), then read the metrics again.",
            mistake="too-few-labelled",
        )
    if answer.labelled > n:
        return wrong(
            f"these metrics count {answer.labelled} labelled predictions: earlier weeks are "
            f"mixed with the {n} birds of the exercise.",
            hint=f"pass window={n}: the live metrics of the last {n} labelled predictions.",
            mistake="window-mixes-weeks",
        )
    if math.isclose(accuracy, expected, abs_tol=1e-9):
        return correct(
            f"on the {n} birds, live accuracy is {expected:.3f}, measured on the truth that "
            "arrived after the predictions."
        )
    if math.isclose(accuracy, 1.0) and expected < 1.0:
        return wrong(
            "live accuracy is 1.000: the labels sent were the model's own predictions, so it "
            "agrees with itself.",
            hint="a label is the truth, which the model did not see: `truth`, row by row.",
            mistake="predictions-as-labels",
        )
    return wrong(
        f"live accuracy is {accuracy:.3f}, not what the {n} birds' truth gives: a label "
        "went to another bird's record.",
        hint="row i of the batch has the record id f\"{prefix}.{i}\": send truth[i] to it.",
        mistake="label-to-wrong-record",
    )


@check
def rolled_back(answer: Any, live: Any, bad: Any) -> Feedback:
    """Check the result of a prediction asked after rolling ``bad`` back: answered by the
    version ``live`` now (``server.live_version(MODEL)`` when the check runs), not ``bad``."""
    require_answer("answer", answer)
    if not all(isinstance(v, str) and v for v in (live, bad)):
        raise Mistake(wrong(
            "the check needs the live version and the version to roll back, as text: "
            f"got {describe(live)} and {describe(bad)}.",
            hint="run the check cell as it was written: checks.rolled_back(answer, "
            "server.live_version(MODEL), \"2\").",
            mistake="versions-not-text",
        ))
    send_hint = (
        "send the bird with laptop.send({\"model\": MODEL, \"row\": bird}, "
        "agent=\"predict\") and keep laptop.wait_for_answer(ack.run).result in `answer`."
    )
    if isinstance(answer, dict) and answer.get("kind") in ("promote", "rollback"):
        return wrong(
            "`answer` is a control record: it says which version is live, not which version "
            "answered a bird.",
            hint=f"after the roll back, ask about the bird: {send_hint}",
            mistake="control-record",
        )
    version = answer.get("version") if isinstance(answer, dict) else None
    if not isinstance(version, str) or "prediction" not in answer:
        if isinstance(answer, str | int) and not isinstance(answer, bool):
            mistake = "typed-version"
            message = (
                f"`answer` is {answer!r}: the check wants the run's result, which names the "
                "version that really answered, not a version you typed or read."
            )
        else:
            mistake = "not-a-run-result"
            message = f"`answer` is {describe(answer)}, not the result of a prediction run."
        return wrong(message, hint=send_hint, mistake=mistake)
    if live == bad:
        if version == bad:
            return wrong(
                f"version {bad} answered, and it is still live: nothing was rolled back.",
                hint="call server.rollback(MODEL) first, then ask about the bird.",
                mistake="not-rolled-back",
            )
        return wrong(
            f"version {version} answered because the request named it (\"version\" in its "
            f"data): every other request, from every session, still gets version {bad}.",
            hint="a pin changes one request; a roll back changes what everyone gets: call "
            "server.rollback(MODEL), then send the bird without \"version\".",
            mistake="request-pinned-version",
        )
    if version == bad:
        return wrong(
            f"version {bad} answered, though version {live} is live now: the bird was sent "
            f"before the roll back (or its request pinned version {bad}).",
            hint="roll back first, then send the bird, naming no version.",
            mistake="sent-before-roll-back",
        )
    if version != live:
        return wrong(
            f"version {version} answered, not the live version {live}: the request pinned it.",
            hint="send the bird naming no version: the live one answers it.",
            mistake="pinned-old-version",
        )
    return correct(
        f"version {version} answered: the roll back made it live again, for every session, "
        f"and version {bad} stays served for a request that names it."
    )


QUIZ = Quiz((
    Question(
        answer="b",
        why="drift says the inputs changed, not that the answers got worse: the model may "
        "handle heavier birds well. Only labels tell how good the answers are, so keep "
        "watching the live metrics as the truth arrives.",
        wrong={
            "a": "a shift in the inputs is not an error in the answers: the live accuracy did "
            "not move, and retraining now would change a model that still works.",
            "c": "the model does not stop being right because its inputs moved; and a new "
            "version needs labelled data to learn from, which is not here yet.",
        },
    ),
    Question(
        answer="c",
        why="a PSI under 0.1 is the noise of a sample: a different week of the same "
        "birds scores about as much. Nothing to do.",
        wrong={
            "a": "0.1 and 0.25 are the usual marks of a moderate and a large shift: 0.04 is "
            "below both, the size of sampling noise.",
            "b": "a PSI is never negative and 0 is rare: two samples of the same birds never "
            "have exactly the same shares.",
            "d": "the PSI compares inputs with training, so it says nothing about accuracy; "
            "and 0.04 is small.",
        },
    ),
    Question(
        answer="a",
        why="the truth of a loan is known when it is repaid or not, months later: today's "
        "live metrics score the predictions of long ago, so drift is the early warning.",
        wrong={
            "b": "the server records every label the moment it is sent: the delay is in the "
            "world, waiting for the outcome, not in the software.",
            "c": "the model never knows the truth (that is why it predicts); the labels come "
            "from the world, once the outcome is known.",
        },
    ),
    Question(
        answer="b",
        why="rolling back puts the version that worked live again in seconds, for every "
        "session; then you find the cause offline and ship the fix as a new version, "
        "tested before it is promoted.",
        wrong={
            "a": "a model changed in place has no version: nobody can tell which model gave "
            "which answer, and the fix goes live untested.",
            "c": "an hour of data is little, and while you retrain every request is answered "
            "by the version that is failing.",
            "d": "a restart serves the same live version again: nothing changes.",
        },
    ),
    Question(
        answer="d",
        why="the drift came from the instrument, not from the birds: fix the measurement and "
        "the inputs look like training again. A model retrained on the faulty measurements "
        "learns the fault, and is worse once the calipers are right.",
        wrong={
            "a": "retraining on the faulty measurements teaches the model the fault: once the "
            "calipers are fixed, it is worse than the model you had.",
            "b": "the drift report is right: the measurements did change. Hiding the feature "
            "hides the problem, it does not fix it.",
            "c": "the bill length is one of the model's best clues: without it the model is "
            "worse on every bird, faulty or not.",
        },
    ),
))
