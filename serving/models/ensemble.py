"""The vote of an ensemble: several models' answers for one row combined into one.

Two ways to vote, both standard (scikit-learn's VotingClassifier calls them hard and soft):

- ``majority``: each model has one vote, for its predicted class; ties go to the class with the
  higher mean probability, then to the class named first by the members (no coin tosses).
- ``mean_probability``: the class probabilities are averaged (a class a model does not know
  counts as probability 0 for it), and the most probable class wins.

Regressors' predictions are averaged. Pure functions, no I/O: the ensemble agent gathers the
members' answers (each member publishes its own) and writes only this vote.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Ballot", "Vote", "VoteMethod", "vote"]


class VoteMethod(enum.StrEnum):
    MAJORITY = "majority"
    MEAN_PROBABILITY = "mean_probability"


@dataclass(frozen=True)
class Ballot:
    """One member's answer: its name, prediction and (optionally) class probabilities."""

    model: str
    prediction: Any
    classes: Sequence[Any] | None = None
    probabilities: Sequence[float] | None = None


@dataclass(frozen=True)
class Vote:
    """The ensemble's answer and how it was reached."""

    prediction: Any
    method: VoteMethod
    votes: dict[str, int] | None
    """Votes per class (majority); None for regressors."""
    classes: list[Any] | None
    probabilities: list[float] | None
    """Mean probability per class of ``classes`` (None if no member gave probabilities)."""
    agreement: float | None
    """Share of members whose own prediction is the ensemble's (1.0 = unanimous); None for
    regressors."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "prediction": self.prediction,
            "method": self.method.value,
            "votes": self.votes,
            "classes": self.classes,
            "probabilities": self.probabilities,
            "agreement": self.agreement,
        }


def vote(
    ballots: Sequence[Ballot],
    method: VoteMethod | str = VoteMethod.MAJORITY,
    *,
    regression: bool = False,
) -> Vote:
    """Combine ``ballots`` (at least one) by ``method``; regressors (``regression=True``) are
    averaged whatever the method."""
    if not ballots:
        raise ValueError("an ensemble needs at least one member's answer to vote")
    try:
        method = VoteMethod(method)
    except ValueError:
        allowed = ", ".join(m.value for m in VoteMethod)
        raise ValueError(f"unknown vote method {method!r}: use one of {allowed}") from None
    if regression:
        mean = sum(float(b.prediction) for b in ballots) / len(ballots)
        return Vote(mean, method, None, None, None, None)
    classes = _classes(ballots)
    probabilities = _mean_probabilities(ballots, classes)
    counts = {label: 0 for label in classes}
    for ballot in ballots:
        counts[ballot.prediction] += 1
    if method is VoteMethod.MEAN_PROBABILITY:
        if probabilities is None:
            raise ValueError(
                "mean_probability needs class probabilities, and no member gives them: "
                "use the majority vote"
            )
        winner = classes[max(range(len(classes)), key=lambda i: (probabilities[i], -i))]
    else:

        def strength(i: int) -> tuple[int, float, int]:
            mean = probabilities[i] if probabilities is not None else 0.0
            return counts[classes[i]], mean, -i

        winner = classes[max(range(len(classes)), key=strength)]
    agreement = counts[winner] / len(ballots)
    votes = {str(label): count for label, count in counts.items()}
    return Vote(winner, method, votes, classes, probabilities, agreement)


def _classes(ballots: Sequence[Ballot]) -> list[Any]:
    """Every class any member knows or predicts, in the order they are first named."""
    seen: dict[Any, None] = {}
    for ballot in ballots:
        for label in ballot.classes or ():
            seen.setdefault(label, None)
        seen.setdefault(ballot.prediction, None)
    return list(seen)


def _mean_probabilities(ballots: Sequence[Ballot], classes: list[Any]) -> list[float] | None:
    """Mean probability of each class over the members that give probabilities."""
    givers = [b for b in ballots if b.probabilities is not None and b.classes is not None]
    if not givers:
        return None
    totals = dict.fromkeys(classes, 0.0)
    for ballot in givers:
        for label, p in zip(ballot.classes or (), ballot.probabilities or (), strict=True):
            totals[label] += float(p)
    return [totals[label] / len(givers) for label in classes]
