"""Checks for notebook 11: ship it.

They read what serving.client gives: events (offset, type, run, agent, data), the ``Ack`` of a
send or a steer, and the ``Answer`` of ``wait_for_answer`` (status, result, error). The answers
a beginner gives by mistake are objects of that same client, one step off: the generator that
``follow`` returns before ``list`` reads it, one event instead of a list, the client itself, the
``Ack`` of a steer instead of the run's answer, an event instead of the name in it, the species a
member said instead of the member. Each gets its own message, and the notebook's own variables
(``seen``, ``unsteered``, ``ensemble_events``) are checked too: a learner who overwrote one is
told which cell to run again.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Sequence
from typing import Any

from course.checks._feedback import Feedback, Mistake, correct, require_answer, wrong
from course.checks._guard import check, describe
from course.checks._quiz import Question, Quiz

_RUN_ENDINGS = ("run.completed", "run.cancelled", "run.failed", "run.interrupted")


def _is_event(value: Any) -> bool:
    from serving.sessions import Event

    return isinstance(value, Event)


def _deltas(events: Sequence[Any]) -> list[Any]:
    return [event for event in events if event.type == "delta"]


def _not_events(name: str, value: Any, *, how: str) -> Mistake | None:
    """Why ``value`` is not a list of events (a Mistake to raise), or None when it is one."""
    from serving.client import Ack, Answer, SessionClient

    if isinstance(value, list | tuple):
        strays = [item for item in value if not _is_event(item)]
        if not strays:
            return None
        stray = strays[0]
        if isinstance(stray, str | dict):
            return Mistake(wrong(
                f"`{name}` is a list of {type(stray).__name__} items (the first is "
                f"{describe(stray)}), not of events.",
                hint="keep the events themselves, as they come, not one of their fields.",
                mistake="list-of-other-items",
            ))
        return Mistake(wrong(
            f"`{name}` holds {describe(stray)} among its items: it should hold only events.",
            hint=how,
            mistake="stray-items",
        ))
    if _is_event(value):
        mistake = "one-event-not-list"
        message = f"`{name}` is one event (a {value.type!r}), not a list of events."
    elif inspect.isgenerator(value) or isinstance(value, Iterator):
        mistake = "generator-not-list"
        message = (
            f"`{name}` is {describe(value)}: a promise of events that nobody has read yet, "
            "not a list of them."
        )
        how = "put list(...) around it: list reads every event, up to the end of the run."
    elif isinstance(value, SessionClient):
        mistake = "client-not-events"
        message = f"`{name}` is a client (a device of the session), not the events it read."
    elif isinstance(value, Ack):
        mistake = "ack-not-events"
        message = f"`{name}` is the acknowledgement of a command (an Ack), not events."
    elif isinstance(value, Answer):
        mistake = "answer-not-events"
        message = f"`{name}` is how a run ended (an Answer), not the events that led there."
    else:
        mistake = "not-events"
        message = f"`{name}` is {describe(value)}, not a list of events."
    return Mistake(wrong(message, hint=how, mistake=mistake))


def _own(name: str, value: Any, cell: str) -> list[Any]:
    """The notebook's own list of events ``name``, or a Mistake saying which cell to run again."""
    if _not_events(name, value, how="") is None and value:
        return list(value)
    raise Mistake(wrong(
        f"`{name}` is {describe(value)}: no longer what {cell} made.",
        hint=f"run {cell} again, then your answer, then this check.",
        mistake="events-replaced",
    ))


@check
def caught_up(missed: Any, seen: Sequence[Any]) -> Feedback:
    """Check the events read after resuming: with ``seen``, the whole run, each event once."""
    require_answer("missed", missed)
    follow_how = "follow(client, run) gives a run's events up to its end; collect them in a list."
    mistake = _not_events("missed", missed, how=follow_how)
    if mistake is not None:
        raise mistake
    missed = list(missed)
    seen = _own("seen", seen, "the exercise's first cell (the tablet's question)")
    if not missed:
        return wrong(
            "`missed` is empty: nothing was caught up.", hint=follow_how,
            mistake="nothing-caught-up",
        )
    run = seen[0].run
    others = [event for event in missed if event.run != run]
    if others:
        return wrong(
            f"`missed` holds {len(others)} events that are not of this run (the first is a "
            f"{others[0].type!r}).",
            hint="keep only the events of the tablet's run, the one its ack names: follow "
            "filters them for you.",
            mistake="other-run-events",
        )
    resume_hint = (
        "the new client must start right after the last event the tablet saw: server.join "
        "takes a `start`, and you noted that event's offset."
    )
    already_seen = {event.offset for event in seen}
    repeated = [event for event in missed if event.offset in already_seen]
    if repeated:
        return wrong(
            f"{len(repeated)} of these events had already been seen (the first is the "
            f"{repeated[0].type!r} event): the new client started before the last event you saw.",
            hint=resume_hint,
            mistake="started-too-early",
        )
    offsets = [event.offset for event in missed]
    if len(set(offsets)) != len(offsets):
        twice = next(offset for offset in offsets if offsets.count(offset) > 1)
        return wrong(
            f"`missed` holds the event at offset {twice} more than once.",
            hint="read the run once, with one client: each event arrives once.",
            mistake="repeated-event",
        )
    if offsets != sorted(offsets):
        return wrong(
            "the events in `missed` are not in the order of the log: their offsets do not "
            "increase.",
            hint="keep the events in the order they arrive; do not sort or reverse them.",
            mistake="out-of-order",
        )
    ending = missed[-1]
    if ending.type not in _RUN_ENDINGS:
        return wrong(
            f"your events stop before the run's end: the last one is a {ending.type!r}.",
            hint="read up to the event that ends the run: follow stops right after it.",
            mistake="stopped-before-end",
        )
    result = ending.data.get("result")
    if ending.type != "run.completed" or not isinstance(result, dict) or "text" not in result:
        return wrong(
            f"the run ended with {ending.type!r} and no explanation to compare with.",
            hint="run the exercise's cells again from the top, without stopping the run.",
            mistake="no-explanation",
        )
    text = "".join(event.data["text"] for event in _deltas([*seen, *missed]))
    if text != result["text"]:
        gap = len(result["text"]) - len(text)
        return wrong(
            f"{gap} characters of the answer are missing between what you saw and what you "
            "read: the new client started after the last event you saw (from 'new'?).",
            hint=resume_hint,
            mistake="started-too-late",
        )
    count = len(_deltas(missed))
    return correct(
        f"you caught up with the {count} deltas you missed, none twice: with the "
        f"{len(_deltas(seen))} you had seen, they make the whole answer."
    )


def _explanation(answer: Any) -> str | None:
    result = getattr(answer, "result", None)
    text = result.get("text") if isinstance(result, dict) else None
    return text if isinstance(text, str) else None


@check
def shorter_explanation(answer: Any, unsteered: Any) -> Feedback:
    """Check that a steered predict run wrote a shorter explanation than ``unsteered``."""
    from serving.client import Ack, Answer

    require_answer("answer", answer)
    wait_hint = (
        "after the steer, wait for the run to end: the client has a method that returns how "
        "a run ended, given its name (ack.run)."
    )
    if not isinstance(answer, Answer):
        if isinstance(answer, Ack):
            mistake = "ack-not-answer"
            message = (
                "`answer` is the acknowledgement of a command (an Ack): the server took your "
                "steer, but the run was still being written."
            )
        elif isinstance(answer, str):
            mistake = "text-not-answer"
            message = (
                f"`answer` is {describe(answer)}: the check needs the whole Answer (how the run "
                "ended, and its result), not its text."
            )
        elif _is_event(answer) or (
            isinstance(answer, list | tuple) and answer and all(_is_event(e) for e in answer)
        ):
            mistake = "events-not-answer"
            message = "`answer` holds events: the check needs the run's Answer, how it ended."
        else:
            mistake = "not-an-answer"
            message = f"`answer` is {describe(answer)}, not the Answer of a run."
        return wrong(message, hint=wait_hint, mistake=mistake)
    before = _explanation(unsteered)
    if not isinstance(unsteered, Answer) or before is None:
        return wrong(
            f"`unsteered` is {describe(unsteered)}: no longer the long explanation of the cell "
            "above the exercise.",
            hint="run that cell again (long, not steered), then the exercise's cell, then this.",
            mistake="unsteered-replaced",
        )
    if answer is unsteered or answer.run == unsteered.run:
        return wrong(
            "`answer` is the long explanation of the cell above the exercise, not of the run "
            "the exercise's cell started.",
            hint="wait for the run the exercise's cell sent: its name is in `ack.run`.",
            mistake="unsteered-answer",
        )
    if answer.status == "cancelled":
        return wrong(
            "the run was stopped, not steered.",
            hint="cancel ends a run; steer changes one of its parameters and lets it finish.",
            mistake="stopped-not-steered",
        )
    if answer.status != "completed":
        return wrong(
            f"the run ended {answer.status}: {answer.error}.",
            hint="run the exercise's cells again, from the send.",
            mistake="run-failed",
        )
    text = _explanation(answer)
    if text is None:
        return wrong(
            "this answer has no explanation: it is not the predict run of the exercise.",
            hint="wait for the run the exercise's cell sent: its name is in `ack.run`.",
            mistake="not-the-predict-run",
        )
    words = len(text.split())
    if words >= len(before.split()):
        return wrong(
            f"the explanation has {words} words, no fewer than without a steer "
            f"({len(before.split())}).",
            hint="steer before you wait: waiting returns only once the run has ended, and a "
            "steer then changes nothing. The predict agent's parameter is `length`, and it "
            "applies from the next sentence.",
            mistake="not-shorter",
        )
    return correct(
        f"the steered explanation has {words} words instead of {len(before.split())}: a steer "
        "changes a run while it is being written."
    )


def _ensemble(events: Any) -> tuple[dict[str, Any], Any, dict[str, Any]]:
    """(member -> prediction, the vote, the votes) of an ensemble run's events, or a Mistake."""
    run_again = Mistake(wrong(
        f"`events` is {describe(events)}: not the events of the ensemble's run on the "
        "doubtful bird.",
        hint="run the cell that asks the ensemble about doubtful_bird again, then this check.",
        mistake="events-replaced",
    ))
    if _not_events("events", events, how="") is not None or not events:
        raise run_again
    predictions = {
        str(event.agent).removeprefix("model:"): event.data.get("prediction")
        for event in events
        if event.type == "prediction" and event.agent
    }
    result = events[-1].data.get("result")
    if not predictions or not isinstance(result, dict) or not isinstance(
        result.get("votes"), dict
    ):
        raise run_again
    return predictions, result.get("prediction"), result["votes"]


@check
def dissenting_member(answer: Any, events: Sequence[Any]) -> Feedback:
    """Check the name of the ensemble member whose prediction differs from the vote."""
    require_answer("dissenter", answer)
    predictions, vote, votes = _ensemble(events)
    members = ", ".join(sorted(predictions))
    if all(said == vote for said in predictions.values()):
        return wrong(
            f"in `events`, every member said {vote}: these are the events of a bird the "
            "members agree on.",
            hint="run the cell that asks the ensemble about doubtful_bird again, then this check.",
            mistake="agreeing-bird-events",
        )
    name_hint = "each member's prediction event names it in event.agent ('model:<name>')."
    if _is_event(answer):
        return wrong(
            f"`dissenter` is a whole event (a {answer.type!r}), not a member's name.",
            hint="the name is one field of the event: " + name_hint,
            mistake="event-not-name",
        )
    if isinstance(answer, list | tuple | set | dict):
        return wrong(
            f"`dissenter` is {describe(answer)}: the check wants one name, as text.",
            hint=f"one member differs from the vote here; its name is one of {members}.",
            mistake="not-one-name",
        )
    if not isinstance(answer, str):
        return wrong(
            f"`dissenter` is {describe(answer)}, not a member's name.",
            hint=f"one of {members}, in quotes.",
            mistake="not-a-name",
        )
    name = answer.strip().lower().removeprefix("model:")
    if name not in predictions:
        if name == "ensemble":
            mistake = "ensemble-not-member"
            message = (
                "the ensemble is the orchestrator that counts the votes, not one of the members "
                f"that vote ({members})."
            )
        elif name in {str(species).lower() for species in votes}:
            mistake = "species-not-member"
            message = (
                f"{answer!r} is a species, what a member said: the check wants the name of the "
                f"member ({members})."
            )
        else:
            mistake = "unknown-member"
            message = f"no member is called {answer!r}: the members are {members}."
        return wrong(message, hint=name_hint, mistake=mistake)
    said = predictions[name]
    if said == vote:
        return wrong(
            f"{name} said {said}, like the ensemble's vote.",
            hint="compare each prediction event's data['prediction'] with the vote, "
            "events[-1].data['result']['prediction'].",
            mistake="member-agrees",
        )
    return correct(
        f"{name} said {said}, but the vote went to {vote}, {votes.get(str(vote))} votes to "
        f"{votes.get(str(said))}."
    )


QUIZ = Quiz((
    Question(
        answer="c",
        why="the log keeps every event with its offset, so a client that reconnects asks for "
        "everything after the last offset it read: each event arrives once, none is lost, "
        "whatever happened to the connection.",
        wrong={
            "a": "starting the answer again would repeat the tokens already shown, and costs a "
            "second run: the server never restarts a run because a client dropped.",
            "b": "the run does not depend on any connection: it kept writing into the log "
            "while the phone was away, so there is nothing to lose.",
            "d": "'new' starts at what happens from now on: everything written while the "
            "phone was away would be skipped.",
        },
    ),
    Question(
        answer="a",
        why="a cancel is a command written into the log: the run ends with run.cancelled, and "
        "every device sees who stopped it.",
        wrong={
            "b": "closing a tab only closes that device's connection: the run goes on in the "
            "server, and the other devices still see it (that is what makes resume work).",
            "c": "cutting the network drops connections, not runs: the run keeps writing, and "
            "every client catches up when the network is back.",
        },
    ),
    Question(
        answer="d",
        why="a steer changes a run's parameters while it runs (from the next sentence, for "
        "length): the run finishes, shorter, and the steer is in the log for every device.",
        wrong={
            "a": "a cancel ends the run: no shorter explanation, just a stopped one.",
            "b": "a new run starts from nothing and costs a second answer; steering keeps what "
            "is already written.",
            "c": "a steer after the run ended changes nothing: wait_for_answer returns only "
            "when the explanation is complete.",
        },
    ),
    Question(
        answer="b",
        why="export_model writes the new version into a hidden folder and renames it when "
        "complete; the server watches its folder and serves the highest version within a "
        "couple of seconds, without a restart.",
        wrong={
            "a": "no restart is needed: the server watches the folder it serves and picks up "
            "a model (or a new version) while it runs.",
            "c": "the server never serves half a model: export_model renames the folder only "
            "once every file is written, and the server checks the checksum in its card.",
        },
    ),
    Question(
        answer="a",
        why="127.0.0.1 always means 'this computer': in Colab the server runs on Google's "
        "machine, and your browser's 127.0.0.1 is your own computer, where nothing listens. "
        "The Python client runs next to the server, so it works.",
        wrong={
            "b": "the tokens are in the link, after #, and they are valid: the page is not "
            "refused, it is never reached.",
            "c": "the server is still running (the Python cells still get answers): the link "
            "points at the wrong computer.",
        },
    ),
    Question(
        answer="c",
        why="when members disagree, the vote hides a doubt: look at each member's "
        "prediction and probabilities before trusting the answer.",
        wrong={
            "a": "a 2-to-1 vote is a split, not a consensus: the ensemble is less sure here than "
            "on a bird where all three agree.",
            "b": "the dissenter is not wrong by definition: on a doubtful bird, the minority "
            "can be right. Removing it only hides the doubt.",
        },
    ),
))
