

from course import checks
from course.checks import Verdict


def _event(position, kind, data=None, *, run="r-1", agent="predict"):
    from serving.sessions import Event

    return Event(f"{position:04d}", kind, "s" * 32, run, agent, None, 0.0, data or {})


WORDS = ["the", "model", "thinks", "it", "is", "a", "Chinstrap", "penguin"]


def _predict_run(words):
    """A predict run's events: message, run.started, prediction, one delta per word, ending."""
    tokens = [words[0], *(f" {word}" for word in words[1:])]
    events = [_event(1, "message"), _event(2, "run.started"), _event(3, "prediction")]
    events += [_event(4 + i, "delta", {"text": token}) for i, token in enumerate(tokens)]
    result = {"result": {"text": "".join(tokens)}}
    return [*events, _event(4 + len(tokens), "run.completed", result)]


def test_caught_up_accepts_the_rest_of_the_run_once():
    run = _predict_run(WORDS)
    seen, missed = run[:5], run[5:]
    feedback = checks.caught_up(missed, seen)
    assert feedback.passed
    assert (
        "the 6 deltas you missed" in feedback.message and "the 2 you had seen" in feedback.message
    )


def test_caught_up_names_the_mistake():
    run = _predict_run(WORDS)
    seen = run[:5]
    other_run = _event(99, "presence.joined", run=None, agent=None)
    for missed, says in [
        ("6", "should be a list of events"),
        ([], "is empty"),
        ([*run[5:8], other_run], "not of this run"),
        (run, "had already been seen (the first is the 'message' event)"),
        (run[5:-1], "stop before the run's end: the last one is a 'delta'"),
        (run[7:], "characters of the answer are missing"),
        ([*run[5:-1], _event(20, "run.cancelled")], "ended with 'run.cancelled'"),
    ]:
        feedback = checks.caught_up(missed, seen)
        assert not feedback.passed, missed
        assert says in feedback.message
        assert feedback.hint
    feedback = checks.caught_up(..., seen)
    assert feedback.verdict is Verdict.NOT_ANSWERED and "`missed`" in feedback.message


def _answer(status, text=None, error=None):
    from serving.client import Answer

    return Answer("r-1", status, None if text is None else {"text": text}, text or "", error)


def test_shorter_explanation_names_the_mistake():
    unsteered = _answer("completed", "one two three four five six")
    passed = checks.shorter_explanation(_answer("completed", "one two three"), unsteered)
    assert passed and "3 words instead of 6" in passed.message
    for answer, says in [
        ("short", "should be what wait_for_answer returns"),
        (_answer("cancelled", error="cancelled by laptop"), "stopped, not steered"),
        (_answer("failed", error="boom"), "the run ended failed: boom"),
        (_answer("completed"), "has no explanation"),
        (_answer("completed", "one two three four five six"), "no fewer than without a steer"),
    ]:
        feedback = checks.shorter_explanation(answer, unsteered)
        assert not feedback.passed
        assert says in feedback.message
        assert feedback.hint
    feedback = checks.shorter_explanation(..., unsteered)
    assert feedback.verdict is Verdict.NOT_ANSWERED and "`answer`" in feedback.message


def _ensemble_run():
    members = {"penguin-classifier": "Adelie", "penguin-knn": "Chinstrap", "penguin-tree": "Adelie"}
    events = [
        _event(i, "prediction", {"prediction": said}, agent=f"model:{name}")
        for i, (name, said) in enumerate(members.items(), start=3)
    ]
    vote = {"prediction": "Adelie", "votes": {"Adelie": 2, "Chinstrap": 1, "Gentoo": 0}}
    return [*events, _event(9, "run.completed", {"result": vote}, agent="ensemble")]


def test_dissenting_member_accepts_the_name_with_or_without_its_prefix():
    for answer in ("penguin-knn", "model:penguin-knn"):
        feedback = checks.dissenting_member(answer, _ensemble_run())
        assert feedback.passed
        assert (
            feedback.message
            == "penguin-knn said Chinstrap, but the vote went to Adelie, 2 votes to 1."
        )


def test_dissenting_member_names_the_mistake():
    for answer, says in [
        ("penguin-tree", "penguin-tree said Adelie, like the ensemble's vote"),
        ("knn", "no member is called 'knn': the members are penguin-classifier, penguin-knn"),
        (2, "should be a member's name"),
    ]:
        feedback = checks.dissenting_member(answer, _ensemble_run())
        assert not feedback.passed
        assert says in feedback.message
        assert feedback.hint
    feedback = checks.dissenting_member(..., _ensemble_run())
    assert feedback.verdict is Verdict.NOT_ANSWERED and "`dissenter`" in feedback.message
