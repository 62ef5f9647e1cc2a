"""A plain-language explanation of one prediction, written token by token and steerable.

``ExplanationWriter`` turns the ``Evidence`` of a prediction (the features that pushed it most)
into sentences, and the sentences into tokens (words with their leading space, and punctuation)
that an agent streams like an AI chat answer: joined together, the tokens are the text.

It is a pure state machine, no I/O and no clock: ``next_token()`` gives the next token or None
when the answer is complete, and ``steer()`` changes the length (short, medium, long) or the
audience (beginner, expert) at any moment ("shorter" is the next length down: a page's button
knows the current length from the run's events). The sentence being
written is finished as it began; the next sentence follows the new setting, and what was
already said is never repeated.
"""

from __future__ import annotations

import enum
import re
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from course.evaluate import ProblemKind
from course.labels import readable, with_unit
from course.schema import FieldProblem
from serving.models.evidence import Contribution, Evidence, ScoreKind

__all__ = ["Audience", "ExplanationStyle", "ExplanationWriter", "Length", "SteerError", "tokenize"]


class Length(enum.StrEnum):
    SHORT = "short"
    MEDIUM = "medium"
    LONG = "long"


class Audience(enum.StrEnum):
    BEGINNER = "beginner"
    EXPERT = "expert"


# How many reasons (features) each length tells, at most.
REASONS = {Length.SHORT: 1, Length.MEDIUM: 3, Length.LONG: 6}


class SteerError(ValueError):
    """A steer command names an unknown parameter or an impossible value."""


@dataclass(frozen=True)
class ExplanationStyle:
    """The explanation's settings: how long, and for whom (the predict agent's steerable params;
    the session command that changes them is serving.sessions.commands.Steer)."""

    length: Length = Length.MEDIUM
    audience: Audience = Audience.BEGINNER

    def __post_init__(self) -> None:
        # Accept the plain strings a request carries: ExplanationStyle("short", "expert").
        object.__setattr__(self, "length", _choice(Length, "length", self.length))
        object.__setattr__(self, "audience", _choice(Audience, "audience", self.audience))

    def updated(self, changes: Mapping[str, Any]) -> ExplanationStyle:
        """These settings with ``changes`` applied; SteerError says what is wrong."""
        steer = self
        for key, value in changes.items():
            if key == "length":
                steer = replace(steer, length=_choice(Length, "length", value))
            elif key == "audience":
                steer = replace(steer, audience=_choice(Audience, "audience", value))
            else:
                raise SteerError(
                    f"unknown steer parameter {key!r}: the explanation accepts 'length' "
                    "(short, medium, long) and 'audience' (beginner, expert)"
                )
        return steer


def _choice(kind: type[enum.StrEnum], key: str, value: Any) -> Any:
    allowed = [member.value for member in kind]
    if isinstance(value, str) and value in allowed:
        return kind(value)
    raise SteerError(f"steer {key} must be one of {', '.join(allowed)}; got {value!r}")


class _Part(enum.Enum):
    """Where the writer is in the answer; parts come in this order."""

    HEADLINE = enum.auto()
    REASONS = enum.auto()
    WARNINGS = enum.auto()
    METHOD = enum.auto()
    CLOSING = enum.auto()
    DONE = enum.auto()


# A token: a word or number with its leading space, or one punctuation mark.
_TOKEN = re.compile(r"\s*(?:\w[\w'.%,-]*[\w%]|\w|[^\w\s])")

# Effects smaller than this are not worth a sentence: 1 percentage point, 1% agreement, or,
# for a predicted value (whose units are the target's), 1% of the largest effect.
_NEGLIGIBLE = 0.01


def tokenize(text: str) -> list[str]:
    """Split ``text`` into chat-style tokens; ``"".join(tokenize(text)) == text``."""
    return _TOKEN.findall(text)


class ExplanationWriter:
    """Writes the explanation of ``evidence`` one token at a time.

    ``warnings`` are the validation warnings of the row (values far outside the training
    range); they are always told, whatever the length.
    """

    def __init__(
        self,
        evidence: Evidence,
        *,
        warnings: Sequence[FieldProblem] = (),
        steer: ExplanationStyle | None = None,
    ) -> None:
        self.evidence = evidence
        self.warnings = list(warnings)
        self.settings = steer or ExplanationStyle()
        self._part = _Part.HEADLINE
        self._reasons_told = 0
        self._warnings_told = 0
        self._pending: deque[str] = deque()
        self._sentences = 0
        self._reasons = _worth_telling(evidence)

    @property
    def done(self) -> bool:
        return not self._pending and self._part is _Part.DONE

    def steer(self, changes: Mapping[str, Any]) -> ExplanationStyle:
        """Apply ``changes`` from the next sentence on; returns the new settings."""
        self.settings = self.settings.updated(changes)
        return self.settings

    def next_token(self) -> str | None:
        """The next token, or None when the explanation is complete."""
        while not self._pending:
            sentence = self._next_sentence()
            if sentence is None:
                return None
            prefix = " " if self._sentences else ""
            self._sentences += 1
            self._pending.extend(tokenize(prefix + sentence))
        return self._pending.popleft()

    def __iter__(self) -> Iterator[str]:
        while (token := self.next_token()) is not None:
            yield token

    def _next_sentence(self) -> str | None:
        """Plan the next sentence under the current settings, moving through the parts."""
        while self._part is not _Part.DONE:
            part = self._part
            if part is _Part.HEADLINE:
                self._part = _Part.REASONS
                return self._headline()
            if part is _Part.REASONS:
                limit = min(REASONS[self.settings.length], len(self._reasons))
                if self._reasons_told < limit:
                    self._reasons_told += 1
                    return self._reason(self._reasons_told - 1)
                self._part = _Part.WARNINGS
                if not self._reasons and self.evidence.contributions:
                    return self._no_reason()
            elif part is _Part.WARNINGS:
                if self._warnings_told < len(self.warnings):
                    self._warnings_told += 1
                    return self._warning(self.warnings[self._warnings_told - 1])
                self._part = _Part.METHOD
            elif part is _Part.METHOD:
                self._part = _Part.CLOSING
                if self.settings.length is Length.LONG or (
                    self._expert and self.settings.length is Length.MEDIUM
                ):
                    return self._method()
            elif part is _Part.CLOSING:
                self._part = _Part.DONE
                if not self._expert and self.settings.length is not Length.SHORT:
                    return (
                        "Remember that a model only knows the patterns in its training data, "
                        "so it can be wrong."
                    )
        return None

    @property
    def _expert(self) -> bool:
        return self.settings.audience is Audience.EXPERT

    def _target(self) -> str:
        """The target in words: the card's label ("body mass"), never a column name."""
        evidence = self.evidence
        if evidence.target_label:
            return evidence.target_label
        return _words(evidence.target_name) if evidence.target_name else "answer"

    def _outcome(self) -> str:
        """The predicted class as a phrase: "Gentoo", or "rain tomorrow" / "no rain tomorrow"
        for a yes-or-no target (never "the rain tomorrow is true")."""
        prediction = self.evidence.prediction
        if isinstance(prediction, bool):
            return self._target() if prediction else f"no {self._target()}"
        return _value(prediction)

    def _amount(self, value: float) -> str:
        """A value of the target with its unit: "4,180 g"."""
        return _with_unit(_number(value), self.evidence.target_unit, self._target())

    def _headline(self) -> str:
        evidence = self.evidence
        label = _value(evidence.prediction)
        if evidence.kind is ProblemKind.CLUSTERING:
            if self._expert:
                return f"Assigned cluster: {label}."
            return f"The model puts this row in group {label}."
        if evidence.kind is ProblemKind.REGRESSION:
            amount = self._amount(evidence.prediction)
            if self._expert:
                return f"Predicted {self._target()}: {amount}."
            return f"The model predicts that the {self._target()} is about {amount}."
        yes_no = isinstance(evidence.prediction, bool)
        if yes_no and not self._expert:
            answer = "yes" if evidence.prediction else "no"
            opening = f"The model says {answer} to {self._target()}"
        else:
            opening = f"The model thinks the {self._target()} is {label}"
        if evidence.probability is None:
            if self._expert:
                return f"Predicted {self._target()}: {label} (no class probabilities)."
            return f"{opening}."
        p = evidence.probability
        if self._expert:
            return f"Predicted {self._target()}: {label} (p = {p:.3f})."
        return f"{opening}, and it is {_sureness(p)}: {_percent(p)} probability."

    def _reason(self, index: int) -> str:
        c = self._reasons[index]
        if self._expert:
            name = _title(c)
            return f"{name} = {_value(c.value)}{self._expert_reference(c)}: {self._effect(c)}."
        if self.evidence.score_kind is ScoreKind.PROBABILITY and c.effect < 0:
            # Reasons against come after every reason for (see _worth_telling): never "the
            # strongest reason" for an answer it argued against.
            against = [r for r in self._reasons[:index] if r.effect < 0]
            opening = "On the other side, there is" if not against else "Also against it is"
            return f"{opening} {self._described(c)}; {self._effect(c)}."
        opening = ("The strongest reason is", "The next is", "Then comes")[min(index, 2)]
        return f"{opening} {self._described(c)}; {self._effect(c)}."

    def _expert_reference(self, c: Contribution) -> str:
        if c.typical is not None:
            return f" (training mean {_number(c.typical)})"
        return " (vs. its other values)"

    def _described(self, c: Contribution) -> str:
        """A beginner's description of the feature's value and how it compares."""
        feature, unit = _label(c)
        if c.value is None:
            return f"the {feature}, which was missing (the model filled it in)"
        if c.typical is None:
            if isinstance(c.value, bool):
                return f"the {feature} being {'true' if c.value else 'false'}"
            return f"the {feature} being {_value(c.value)} (rather than another {feature})"
        shown = _with_unit(_number(c.value), unit, feature)
        average = _with_unit(_number(c.typical), unit, feature)
        if shown == average:
            return f"the {feature} of {shown}, right at the average"
        side = "higher" if c.value > c.typical else "lower"
        return f"the {feature} of {shown}, {side} than the average of {average}"

    def _effect(self, c: Contribution) -> str:
        evidence = self.evidence
        label = self._outcome()
        if evidence.score_kind is ScoreKind.PROBABILITY:
            points = f"{abs(c.effect) * 100:.1f}" if self._expert else _points(c.effect)
            if self._expert:
                return f"{'+' if c.effect >= 0 else '-'}{points} percentage points for {label}"
            verb = "raised" if c.effect >= 0 else "lowered"
            unit = "point" if points == "1" else "points"
            return f"it {verb} the chance of {label} by {points} percentage {unit}"
        if evidence.score_kind is ScoreKind.VALUE:
            amount = self._amount(abs(c.effect))
            if self._expert:
                return f"{'+' if c.effect >= 0 else '-'}{amount} on the prediction"
            direction = "up" if c.effect >= 0 else "down"
            return f"it pushed the predicted {self._target()} {direction} by {amount}"
        share = _percent(c.effect)
        if self._expert:
            return f"a typical value changes the answer in {share} of cases"
        return f"replacing it with a typical value would change the answer {share} of the time"

    def _no_reason(self) -> str:
        if self._expert:
            return "No single feature moves the prediction by more than 1 point on its own."
        return "No single feature changed the answer much on its own."

    def _warning(self, warning: FieldProblem) -> str:
        named = {c.feature: c for c in self.evidence.contributions}
        c = named.get(warning.field)
        field = _title(c) if c is not None else _words(warning.field)
        return f"Careful with the {field}: {warning.problem}."

    def _method(self) -> str:
        if self._expert:
            unit = {
                ScoreKind.PROBABILITY: "probability of the predicted class",
                ScoreKind.VALUE: "predicted value",
                ScoreKind.AGREEMENT: "share of typical values that change the answer",
            }[self.evidence.score_kind]
            return (
                "Method: local perturbation, each feature replaced in turn by its training mean "
                f"or by each of its other values; effects in {unit}, which need not add up "
                "when features interact."
            )
        return (
            "To find these reasons, the model answered again with each feature set to a "
            "typical value, one at a time, and the change in its answer was measured."
        )


def _worth_telling(evidence: Evidence) -> list[Contribution]:
    """The reasons to tell, in the order to tell them.

    Strongest first; for a classifier, every reason *for* the answer comes before any reason
    against it, so "the strongest reason" is never one that lowered the chance of the answer
    (issue 15 found "the sex being female; it lowered the chance of Adelie" told first).
    """
    threshold = _NEGLIGIBLE
    if evidence.score_kind is ScoreKind.VALUE:
        threshold *= max((abs(c.effect) for c in evidence.contributions), default=0.0)
    told = [c for c in evidence.contributions if abs(c.effect) >= threshold and c.effect != 0]
    if evidence.score_kind is ScoreKind.PROBABILITY:
        told.sort(key=lambda c: c.effect < 0)  # stable: strongest first within each side
    return told


def _words(name: str) -> str:
    return name.replace("_", " ")


def _label(c: Contribution) -> tuple[str, str]:
    """The feature's label and unit: the card's, else made readable from its name."""
    if c.label:
        return c.label, c.unit
    return readable(c.feature)


def _title(c: Contribution) -> str:
    label, unit = _label(c)
    return with_unit(label, unit)


def _with_unit(number: str, unit: str | None, label: str) -> str:
    """``"13.5 mm"``: a short unit follows the number; a long one ("ink count (0-16)") or one
    the label already says ("year" for the year) is left out."""
    if not unit or " " in unit or len(unit) > 6 or unit in label.split():
        return number
    return f"{number}{unit}" if unit in ("%", "°C") else f"{number} {unit}"


def _number(value: float) -> str:
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _number(value)
    return str(value)


def _percent(share: float) -> str:
    # Never round a probability to a certainty (or to an impossibility) in front of a beginner.
    if 0.995 <= share < 1:
        return "over 99%"
    if 0 < share < 0.005:
        return "under 1%"
    return f"{share * 100:.0f}%"


def _points(effect: float) -> str:
    points = abs(effect) * 100
    return "less than 1" if points < 0.5 else f"{points:.0f}"


def _sureness(probability: float) -> str:
    if probability >= 0.9:
        return "very sure"
    if probability >= 0.7:
        return "fairly sure"
    if probability >= 0.5:
        return "somewhat sure"
    return "unsure"
