"""Notebook 11's checks: the answers a beginner really gives, each with its own message, and
anything else with feedback, never a traceback (hypothesis)."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course import checks
from course.checks import Verdict
from serving.client import Ack, Answer, SessionClient
from serving.sessions import Event


def _event(position, kind, data=None, *, run="r-1", agent="predict"):
    return Event(f"{position:04d}", kind, "s" * 32, run, agent, None, 0.0, data or {})


WORDS = ["the", "model", "thinks", "it", "is", "a", "Chinstrap", "penguin"]


def _predict_run(words):
    """A predict run's events: message, run.started, prediction, one delta per word, ending."""
    tokens = [words[0], *(f" {word}" for word in words[1:])]
    events = [_event(1, "message"), _event(2, "run.started"), _event(3, "prediction")]
    events += [_event(4 + i, "delta", {"text": token}) for i, token in enumerate(tokens)]
    result = {"result": {"text": "".join(tokens)}}
    return [*events, _event(4 + len(tokens), "run.completed", result)]


RUN = _predict_run(WORDS)
SEEN, MISSED = RUN[:5], RUN[5:]


def _specific(feedback, says):
    """Not passed, with ``says`` in its message, a hint, and no safety-net error."""
    assert not feedback.passed, feedback
    assert says in feedback.message, feedback
    assert feedback.hint, feedback
    assert feedback.error == "", feedback  # recognised, not the generic fallback


# --- caught_up ---------------------------------------------------------------------------------

def test_caught_up_accepts_the_rest_of_the_run_once():
    feedback = checks.caught_up(MISSED, SEEN)
    assert feedback.passed
    assert (
        "the 6 deltas you missed" in feedback.message and "the 2 you had seen" in feedback.message
    )
    assert checks.caught_up(tuple(MISSED), SEEN).passed


def test_caught_up_names_the_mistake():
    other_run = _event(99, "presence.joined", run=None, agent=None)
    for missed, says in [
        ("6", "`missed` is the text '6', not a list of events"),
        (None, "`missed` is None, not a list of events"),
        ([], "is empty"),
        ([*RUN[5:8], other_run], "not of this run"),
        (RUN, "had already been seen (the first is the 'message' event)"),
        (RUN[5:-1], "stop before the run's end: the last one is a 'delta'"),
        (RUN[7:], "characters of the answer are missing"),
        ([*RUN[5:-1], _event(20, "run.cancelled")], "ended with 'run.cancelled'"),
    ]:
        _specific(checks.caught_up(missed, SEEN), says)
    feedback = checks.caught_up(..., SEEN)
    assert feedback.verdict is Verdict.NOT_ANSWERED and "`missed`" in feedback.message


@pytest.mark.parametrize(
    ("missed", "says"),
    [
        # missed = follow(again, ack.run): the generator, never read
        ((event for event in MISSED), "a promise of events that nobody has read yet"),
        # missed = again.next_event(): one event
        (MISSED[0], "`missed` is one event (a 'delta'), not a list of events"),
        # missed = again: the client itself
        (SessionClient.__new__(SessionClient), "`missed` is a client"),
        # missed = again.steer(...) or a send: an Ack
        (Ack("c-1", "0001", "r-1"), "the acknowledgement of a command"),
        # missed = again.wait_for_answer(ack.run): how the run ended
        (Answer("r-1", "completed"), "how a run ended (an Answer)"),
        # missed = [event.type for event in ...]: the types, not the events
        ([event.type for event in MISSED], "a list of str items (the first is the text 'delta')"),
        ([event.data for event in MISSED], "a list of dict items"),
        ([*MISSED[:2], 3, *MISSED[2:]], "holds the number 3 among its items"),
        (list(reversed(MISSED)), "not in the order of the log"),
        ([*MISSED[:-1], MISSED[1], MISSED[-1]], "more than once"),
        ([MISSED[1], MISSED[0], *MISSED[2:]], "not in the order of the log"),
    ],
)
def test_caught_up_recognises_what_a_beginner_puts_in_missed(missed, says):
    _specific(checks.caught_up(missed, SEEN), says)


def test_the_hints_of_caught_up_do_not_write_the_answer_line():
    for missed in (RUN, RUN[7:]):
        feedback = checks.caught_up(missed, SEEN)
        assert "start=last_offset" not in feedback.hint and not feedback.hint_gives_answer
        assert "last_offset" not in feedback.hint
    assert "list(follow(" not in checks.caught_up([], SEEN).hint


def test_caught_up_says_which_cell_to_run_again_when_seen_was_overwritten():
    for seen in (None, [], "8 events", [1, 2], MISSED[0]):
        _specific(checks.caught_up(MISSED, seen), "no longer what the exercise's first cell")


# --- shorter_explanation -------------------------------------------------------------------------

def _answer(status, text=None, error=None, run="r-2"):
    return Answer(run, status, None if text is None else {"text": text}, text or "", error)


UNSTEERED = _answer("completed", "one two three four five six", run="r-1")


def test_shorter_explanation_names_the_mistake():
    passed = checks.shorter_explanation(_answer("completed", "one two three"), UNSTEERED)
    assert passed and "3 words instead of 6" in passed.message
    for answer, says in [
        ("short", "not its text"),
        (_answer("cancelled", error="cancelled by laptop"), "stopped, not steered"),
        (_answer("failed", error="boom"), "the run ended failed: boom"),
        (_answer("completed"), "has no explanation"),
        (_answer("completed", "one two three four five six"), "no fewer than without a steer"),
    ]:
        _specific(checks.shorter_explanation(answer, UNSTEERED), says)
    feedback = checks.shorter_explanation(..., UNSTEERED)
    assert feedback.verdict is Verdict.NOT_ANSWERED and "`answer`" in feedback.message


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        # answer = laptop.steer(ack.run, length="short"): the steer's Ack, the run not waited for
        (Ack("c-9", "0042"), "the acknowledgement of a command (an Ack)"),
        # answer = laptop.wait_for_answer(ack.run).result["text"]
        ("one two three", "not its text"),
        ({"text": "one two three"}, "not the Answer of a run"),
        ([_event(1, "delta", {"text": "one"})], "holds events"),
        (_event(1, "run.completed"), "holds events"),
        (None, "`answer` is None, not the Answer of a run"),
        (3, "`answer` is the number 3"),
        # waited for the cell above's run instead of the exercise's
        (UNSTEERED, "is the long explanation of the cell above"),
    ],
)
def test_shorter_explanation_recognises_what_a_beginner_puts_in_answer(answer, says):
    _specific(checks.shorter_explanation(answer, UNSTEERED), says)


def test_waiting_before_steering_is_told_to_steer_first_without_the_answer_line():
    feedback = checks.shorter_explanation(_answer("completed", "one two three four five six"),
                                          UNSTEERED)
    assert "steer before you wait" in feedback.hint
    assert "length='short'" not in feedback.hint and 'length="short"' not in feedback.hint
    cancelled = checks.shorter_explanation(_answer("cancelled", error="by phone"), UNSTEERED)
    assert "short" not in cancelled.hint


def test_shorter_explanation_says_which_cell_to_run_again_when_unsteered_was_overwritten():
    for unsteered in (None, "long", _answer("completed"), [UNSTEERED]):
        _specific(checks.shorter_explanation(_answer("completed", "one"), unsteered),
                  "no longer the long explanation")


# --- dissenting_member ---------------------------------------------------------------------------

def _ensemble_run(members=None):
    members = members or {
        "penguin-classifier": "Adelie", "penguin-knn": "Chinstrap", "penguin-tree": "Adelie"
    }
    events = [
        _event(i, "prediction", {"prediction": said}, agent=f"model:{name}")
        for i, (name, said) in enumerate(members.items(), start=3)
    ]
    counts = {species: list(members.values()).count(species)
              for species in ("Adelie", "Chinstrap", "Gentoo")}
    vote = {"prediction": max(counts, key=counts.get), "votes": counts}
    return [*events, _event(9, "run.completed", {"result": vote}, agent="ensemble")]


ENSEMBLE = _ensemble_run()


def test_dissenting_member_accepts_the_name_with_or_without_its_prefix():
    for answer in ("penguin-knn", "model:penguin-knn", " Penguin-KNN "):
        feedback = checks.dissenting_member(answer, ENSEMBLE)
        assert feedback.passed
        assert (
            feedback.message
            == "penguin-knn said Chinstrap, but the vote went to Adelie, 2 votes to 1."
        )


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        ("penguin-tree", "penguin-tree said Adelie, like the ensemble's vote"),
        ("knn", "no member is called 'knn': the members are penguin-classifier, penguin-knn"),
        (2, "`dissenter` is the number 2, not a member's name"),
        (None, "`dissenter` is None"),
        # dissenter = "Chinstrap": what the member said, not who said it
        ("Chinstrap", "'Chinstrap' is a species, what a member said"),
        # dissenter = "ensemble": the orchestrator's agent name
        ("ensemble", "the orchestrator that counts the votes"),
        # dissenter = next(event for event in ...): the event, not its name
        (ENSEMBLE[1], "a whole event (a 'prediction'), not a member's name"),
        (["penguin-knn"], "the check wants one name, as text"),
        ({"penguin-knn": "Chinstrap"}, "the check wants one name, as text"),
    ],
)
def test_dissenting_member_names_the_mistake(answer, says):
    _specific(checks.dissenting_member(answer, ENSEMBLE), says)


def test_dissenting_member_unanswered_and_overwritten_events():
    feedback = checks.dissenting_member(..., ENSEMBLE)
    assert feedback.verdict is Verdict.NOT_ANSWERED and "`dissenter`" in feedback.message
    for events in (None, [], "events", [1], _predict_run(WORDS), ENSEMBLE[0]):
        _specific(checks.dissenting_member("penguin-knn", events),
                  "not the events of the ensemble's run")
    agreeing = _ensemble_run({"a": "Gentoo", "b": "Gentoo", "c": "Gentoo"})
    _specific(checks.dissenting_member("a", agreeing), "every member said Gentoo")


# --- malformed answers in every position (hypothesis) -------------------------------------------

MALFORMED = st.one_of(
    st.none(),
    st.integers(),
    st.floats(allow_nan=True),
    st.just(math.nan),
    st.text(max_size=8),
    st.lists(st.one_of(st.integers(), st.text(max_size=3)), max_size=4),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=3),
    st.just(Ack("c-1", None)),
    st.just(Answer("r-9", "failed", error="boom")),
    st.sampled_from([*RUN, *ENSEMBLE]),  # one real event, in the wrong place
    st.just(RUN), st.just(ENSEMBLE), st.just(UNSTEERED),  # right objects, wrong positions
    st.lists(st.sampled_from([*RUN, *ENSEMBLE]), max_size=6),
)


@settings(max_examples=30, deadline=None)
@given(missed=MALFORMED, seen=st.one_of(st.just(SEEN), MALFORMED))
def test_caught_up_answers_anything_with_feedback(missed, seen):
    feedback = checks.caught_up(missed, seen)
    assert isinstance(feedback, checks.Feedback) and not feedback.passed
    assert feedback.error == ""


@settings(max_examples=30, deadline=None)
@given(answer=MALFORMED, unsteered=st.one_of(st.just(UNSTEERED), MALFORMED))
def test_shorter_explanation_answers_anything_with_feedback(answer, unsteered):
    feedback = checks.shorter_explanation(answer, unsteered)
    assert isinstance(feedback, checks.Feedback) and not feedback.passed
    assert feedback.error == ""


@settings(max_examples=30, deadline=None)
@given(answer=MALFORMED, events=st.one_of(st.just(ENSEMBLE), MALFORMED))
def test_dissenting_member_answers_anything_with_feedback(answer, events):
    feedback = checks.dissenting_member(answer, events)
    assert isinstance(feedback, checks.Feedback) and not feedback.passed
    assert feedback.error == ""


# --- the quiz --------------------------------------------------------------------------------
