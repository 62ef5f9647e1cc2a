import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from course.evaluate import ProblemKind
from course.schema import FieldProblem
from serving.models import (
    Audience,
    Contribution,
    Evidence,
    ExplanationStyle,
    ExplanationWriter,
    Length,
    ScoreKind,
    SteerError,
)
from serving.models.explanation import tokenize

FEATURES = ["bill_depth_mm", "island", "flipper_length_mm", "sex", "body_mass_g", "bill_length_mm"]


def penguin_evidence(effects=(0.31, 0.12, -0.06, 0.03, 0.02, 0.015)) -> Evidence:
    values = {
        "bill_depth_mm": (13.5, 17.07),
        "island": ("Biscoe", None),
        "flipper_length_mm": (217.0, 200.9),
        "sex": ("female", None),
        "body_mass_g": (None, 4183.5),
        "bill_length_mm": (46.5, 43.85),
    }
    contributions = tuple(
        Contribution(name, values[name][0], values[name][1], effect)
        for name, effect in zip(FEATURES, effects, strict=True)
    )
    return Evidence(
        ProblemKind.CLASSIFICATION, "species", "Gentoo", 0.934, ScoreKind.PROBABILITY, contributions
    )


def text_of(writer: ExplanationWriter) -> str:
    return "".join(writer)


LABELS = {
    "bill_depth_mm": "bill depth",
    "island": "island",
    "flipper_length_mm": "flipper length",
    "sex": "sex",
    "body_mass_g": "body mass",
    "bill_length_mm": "bill length",
}


def reasons_told(text: str) -> list[str]:
    return [name for name in FEATURES if LABELS[name] in text]


def assert_no_column_names(text: str) -> None:
    assert "_" not in text, text


def test_the_tokens_are_words_with_their_space_and_punctuation():
    assert tokenize("It is Gentoo (93% sure): 4,183 g, p = 0.934.") == [
        "It",
        " is",
        " Gentoo",
        " (",
        "93%",
        " sure",
        ")",
        ":",
        " 4,183",
        " g",
        ",",
        " p",
        " =",
        " 0.934",
        ".",
    ]


@given(st.text().map(str.rstrip))
def test_joined_tokens_give_back_the_text(text):
    assert "".join(tokenize(text)) == text


def test_a_beginner_hears_the_answer_its_certainty_and_the_strongest_reasons():
    text = text_of(ExplanationWriter(penguin_evidence()))
    assert text.startswith(
        "The model thinks the species is Gentoo, and it is very sure: 93% probability."
    )
    assert (
        "The strongest reason is the bill depth of 13.5 mm, lower than the average of 17.1 mm"
        in text
    )
    assert "raised the chance of Gentoo by 31 percentage points" in text
    assert "the island being Biscoe (rather than another island)" in text
    # The reasons for the answer come first; flipper length (-6 points) argued against it.
    assert reasons_told(text) == ["bill_depth_mm", "island", "sex"]
    assert text.endswith("so it can be wrong.")
    assert_no_column_names(text)


def test_a_reason_against_the_answer_is_never_its_strongest_reason():
    # The strongest effect argued against Gentoo: it is told last, as a reason against.
    evidence = penguin_evidence(effects=(-0.4, 0.12, 0.06, 0.03, 0.02, 0.015))
    short = text_of(ExplanationWriter(evidence, steer=ExplanationStyle(length="short")))
    assert "The strongest reason is the island being Biscoe" in short
    assert "bill depth" not in short

    text = text_of(ExplanationWriter(evidence, steer=ExplanationStyle(length="long")))
    assert text.index("island being Biscoe") < text.index("bill depth")
    assert (
        "On the other side, there is the bill depth of 13.5 mm, lower than the average of "
        "17.1 mm; it lowered the chance of Gentoo by 40 percentage points." in text
    )
    assert "strongest reason is the bill depth" not in text

    # Only reasons against: none of them is called the strongest reason.
    against = penguin_evidence(effects=(-0.4, -0.12, 0.0, 0.0, 0.0, 0.0))
    text = text_of(ExplanationWriter(against))
    assert "strongest" not in text and "Also against it is the island being Biscoe" in text


def test_an_expert_gets_names_numbers_and_the_method():
    expert = ExplanationStyle(length="long", audience="expert")
    text = text_of(ExplanationWriter(penguin_evidence(), steer=expert))
    assert text.startswith("Predicted species: Gentoo (p = 0.934).")
    assert (
        "bill depth (mm) = 13.5 (training mean 17.1): +31.0 percentage points for Gentoo." in text
    )
    assert "flipper length (mm) = 217 (training mean 201): -6.0 percentage points" in text
    assert "Method: local perturbation" in text
    assert "Remember" not in text


@pytest.mark.parametrize(("length", "told"), [("short", 1), ("medium", 3), ("long", 6)])
def test_the_length_sets_how_many_reasons_are_told(length, told):
    text = text_of(ExplanationWriter(penguin_evidence(), steer=ExplanationStyle(length=length)))
    assert len(reasons_told(text)) == told


def test_negligible_effects_are_not_told():
    evidence = penguin_evidence(effects=(0.2, 0.05, 0.004, -0.003, 0.0, 0.0))
    text = text_of(ExplanationWriter(evidence, steer=ExplanationStyle(length="long")))
    assert reasons_told(text) == ["bill_depth_mm", "island"]


def test_when_no_feature_matters_alone_it_says_so():
    evidence = penguin_evidence(effects=(0.004, 0.003, 0.0, 0.0, 0.0, 0.0))
    text = text_of(ExplanationWriter(evidence))
    assert "No single feature changed the answer much on its own." in text


def test_a_missing_value_is_called_missing():
    evidence = penguin_evidence(effects=(0.0, 0.0, 0.0, 0.0, 0.4, 0.0))
    text = text_of(ExplanationWriter(evidence, steer=ExplanationStyle(length="short")))
    assert "the body mass, which was missing (the model filled it in)" in text


def test_warnings_are_always_told_even_in_short():
    warning = FieldProblem(
        "body_mass_g", "12000 is far outside the range seen in training (2700 to 6300)", "..."
    )
    writer = ExplanationWriter(
        penguin_evidence(), warnings=[warning], steer=ExplanationStyle("short")
    )
    assert "Careful with the body mass (g): 12000 is far outside the range" in text_of(writer)


def test_steering_shorter_mid_sentence_finishes_the_sentence_then_wraps_up():
    writer = ExplanationWriter(penguin_evidence(), steer=ExplanationStyle(length="long"))
    tokens = [writer.next_token() for _ in range(20)]  # inside the first reason
    writer.steer({"length": "short"})
    text = "".join(tokens) + text_of(writer)
    assert reasons_told(text) == ["bill_depth_mm"]
    assert "by 31 percentage points." in text  # the sentence that was under way is complete
    assert writer.done


def test_steering_longer_continues_without_repeating():
    writer = ExplanationWriter(penguin_evidence(), steer=ExplanationStyle(length="short"))
    first = []
    while not "".join(first).endswith("points."):
        first.append(writer.next_token())
    writer.steer({"length": "medium"})
    writer.steer({"length": "long"})
    text = "".join(first) + text_of(writer)
    assert reasons_told(text) == FEATURES
    assert text.count("percentage point") == len(FEATURES)  # one sentence per reason


def test_steering_the_audience_mid_sentence_keeps_the_sentence_in_its_first_style():
    writer = ExplanationWriter(penguin_evidence())
    tokens = [writer.next_token() for _ in range(3)]
    assert writer.steer({"audience": "expert"}) == ExplanationStyle(Length.MEDIUM, Audience.EXPERT)
    text = "".join(tokens) + text_of(writer)
    first, rest = text.split(". ", 1)
    assert first == "The model thinks the species is Gentoo, and it is very sure: 93% probability"
    assert rest.startswith("bill depth (mm) = 13.5")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"speed": 3}, "unknown steer parameter 'speed': the explanation accepts 'length'"),
        ({"length": "shorter"}, "steer length must be one of short, medium, long; got 'shorter'"),
        ({"audience": 7}, "steer audience must be one of beginner, expert; got 7"),
    ],
)
def test_a_bad_steer_says_what_is_accepted(changes, message):
    writer = ExplanationWriter(penguin_evidence())
    with pytest.raises(SteerError, match=re.escape(message)):
        writer.steer(changes)
    assert writer.settings == ExplanationStyle()


def test_regression_and_clusters_have_their_own_headlines():
    contributions = (Contribution("bmi", 31.0, 26.4, 42.0),)
    regression = Evidence(
        ProblemKind.REGRESSION, "target", 210.4, None, ScoreKind.VALUE, contributions
    )
    text = text_of(ExplanationWriter(regression, steer=ExplanationStyle("short")))
    assert text.startswith("The model predicts that the target is about 210.")
    assert "it pushed the predicted target up by 42" in text
    cluster = Evidence(ProblemKind.CLUSTERING, None, 2, None, ScoreKind.AGREEMENT, ())
    assert text_of(ExplanationWriter(cluster, steer=ExplanationStyle("short"))).startswith(
        "The model puts this row in group 2."
    )


def test_a_beginner_never_sees_a_certainty_rounded_to_100_percent():
    evidence = penguin_evidence()
    sure = Evidence(**{**evidence.__dict__, "probability": 0.9987})
    assert "over 99% probability" in text_of(
        ExplanationWriter(sure, steer=ExplanationStyle("short"))
    )


def test_labels_and_units_come_from_the_card():
    contributions = (Contribution("body_mass_g", 5000, 4183.5, 180.0, "body mass", "g"),)
    regression = Evidence(
        ProblemKind.REGRESSION,
        "flipper_length_mm",
        214.25,
        None,
        ScoreKind.VALUE,
        contributions,
        target_label="flipper length",
        target_unit="mm",
    )
    text = text_of(ExplanationWriter(regression, steer=ExplanationStyle("short")))
    assert text.startswith("The model predicts that the flipper length is about 214 mm.")
    assert "the body mass of 5,000 g, higher than the average of 4,184 g" in text
    assert "it pushed the predicted flipper length up by 180 mm" in text
    assert_no_column_names(text)


def test_a_yes_or_no_answer_reads_as_yes_or_no():
    contributions = (Contribution("precipitation", 12.0, 3.0, 0.2, "precipitation", "mm"),)
    rain = Evidence(
        ProblemKind.CLASSIFICATION,
        "rain_tomorrow",
        True,
        0.78,
        ScoreKind.PROBABILITY,
        contributions,
        target_label="rain tomorrow",
        target_unit="",
    )
    text = text_of(ExplanationWriter(rain, steer=ExplanationStyle("short")))
    assert text.startswith("The model says yes to rain tomorrow, and it is fairly sure: 78%")
    assert "it raised the chance of rain tomorrow by 20 percentage points" in text
    dry = Evidence(**{**rain.__dict__, "prediction": False})
    assert "raised the chance of no rain tomorrow" in text_of(ExplanationWriter(dry))
    assert "is true" not in text and "is false" not in text_of(ExplanationWriter(dry))
