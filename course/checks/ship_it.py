"""Checks for notebook 11: ship it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from course.checks._feedback import Feedback, correct, require_answer, wrong
from course.checks._guard import check

# These checks read what serving.client gives: events (offset, type, run, agent, data) and the
# Answer of wait_for_answer (status, result, error).

_RUN_ENDINGS = ("run.completed", "run.cancelled", "run.failed", "run.interrupted")


def _deltas(events: Sequence[Any]) -> list[Any]:
    return [event for event in events if event.type == "delta"]


def _is_event_list(value: Any) -> bool:
    return isinstance(value, list) and all(
        hasattr(item, "offset") and hasattr(item, "type") for item in value
    )


@check
def caught_up(missed: Any, seen: Sequence[Any]) -> Feedback:
    """Check the events read after resuming: with ``seen``, the whole run, each event once."""
    require_answer("missed", missed)
    follow_hint = "read the run's events with list(follow(again, ack.run))."
    if not _is_event_list(missed):
        return wrong(
            f"`missed` should be a list of events, got {type(missed).__name__}.",
            hint=follow_hint,
        )
    if not missed:
        return wrong("`missed` is empty: nothing was caught up.", hint=follow_hint)
    run = seen[0].run
    others = [event for event in missed if event.run != run]
    if others:
        return wrong(
            f"`missed` holds {len(others)} events that are not of this run (the first is a "
            f"{others[0].type!r}).",
            hint=f"keep only the events of run {run}: follow(again, ack.run) does.",
        )
    resume_hint = (
        "open the new client from last_offset, the offset of the last event you saw: "
        "server.join(laptop, device='tablet', start=last_offset)."
    )
    already_seen = {event.offset for event in seen}
    repeated = [event for event in missed if event.offset in already_seen]
    if repeated:
        return wrong(
            f"{len(repeated)} of these events had already been seen (the first is the "
            f"{repeated[0].type!r} event): the new client started before the last event you saw.",
            hint=resume_hint,
        )
    ending = missed[-1]
    if ending.type not in _RUN_ENDINGS:
        return wrong(
            f"your events stop before the run's end: the last one is a {ending.type!r}.",
            hint="read up to the event that ends the run: follow(again, ack.run) stops there.",
        )
    result = ending.data.get("result")
    if ending.type != "run.completed" or not isinstance(result, dict) or "text" not in result:
        return wrong(
            f"the run ended with {ending.type!r} and no explanation to compare with.",
            hint="run the exercise's cells again from the top, without stopping the run.",
        )
    text = "".join(event.data["text"] for event in _deltas([*seen, *missed]))
    if text != result["text"]:
        gap = len(result["text"]) - len(text)
        return wrong(
            f"{gap} characters of the answer are missing between what you saw and what you "
            "read: the new client started after the last event you saw (from 'new'?).",
            hint=resume_hint,
        )
    count = len(_deltas(missed))
    return correct(
        f"you caught up with the {count} deltas you missed, none twice: with the "
        f"{len(_deltas(seen))} you had seen, they make the whole answer."
    )


@check
def shorter_explanation(answer: Any, unsteered: Any) -> Feedback:
    """Check that a steered predict run wrote a shorter explanation than ``unsteered``."""
    require_answer("answer", answer)
    if not all(hasattr(answer, name) for name in ("status", "result", "error")):
        return wrong(
            f"`answer` should be what wait_for_answer returns, got {type(answer).__name__}.",
            hint="after the steer: answer = laptop.wait_for_answer(ack.run).",
        )
    if answer.status == "cancelled":
        return wrong(
            "the run was stopped, not steered.",
            hint="cancel ends a run; steer(ack.run, length='short') changes it and lets it finish.",
        )
    if answer.status != "completed":
        return wrong(
            f"the run ended {answer.status}: {answer.error}.",
            hint="run the exercise's cells again, from the send.",
        )
    if not isinstance(answer.result, dict) or "text" not in answer.result:
        return wrong(
            "this answer has no explanation: it is not the predict run of the exercise.",
            hint="wait for the run the exercise started: laptop.wait_for_answer(ack.run).",
        )
    words = len(answer.result["text"].split())
    before = len(unsteered.result["text"].split())
    if words >= before:
        return wrong(
            f"the explanation has {words} words, no fewer than without a steer ({before}).",
            hint="send laptop.steer(ack.run, length='short') right after the send, while the "
            "explanation is being written: a steer applies from the next sentence.",
        )
    return correct(
        f"the steered explanation has {words} words instead of {before}: a steer changes a run "
        "while it is being written."
    )


@check
def dissenting_member(answer: Any, events: Sequence[Any]) -> Feedback:
    """Check the name of the ensemble member whose prediction differs from the vote."""
    require_answer("dissenter", answer)
    predictions = {
        str(event.agent).removeprefix("model:"): event.data["prediction"]
        for event in events
        if event.type == "prediction" and event.agent
    }
    result = events[-1].data["result"]
    vote, votes = result["prediction"], result["votes"]
    members = ", ".join(sorted(predictions))
    if not isinstance(answer, str):
        return wrong(
            f"the answer should be a member's name, got {type(answer).__name__} {answer!r}.",
            hint=f"one of {members}, in quotes.",
        )
    name = answer.removeprefix("model:")
    if name not in predictions:
        return wrong(
            f"no member is called {answer!r}: the members are {members}.",
            hint="each member's prediction event names it in event.agent ('model:<name>').",
        )
    said = predictions[name]
    if said == vote:
        return wrong(
            f"{name} said {said}, like the ensemble's vote.",
            hint="compare each prediction event's data['prediction'] with the vote, "
            "events[-1].data['result']['prediction'].",
        )
    return correct(
        f"{name} said {said}, but the vote went to {vote}, {votes[str(vote)]} votes to "
        f"{votes[str(said)]}."
    )
