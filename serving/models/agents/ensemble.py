"""The ensemble agent: several models answer as sub-agents; the orchestrator only votes.

Request: ``{"row": {...}, "models": ["penguin-classifier", "penguin-knn"]}`` (``models``
optional: every model whose card has exactly the row's features and the same kind of target).
Each member answers with its live version (serving.models.live); a member given as ``{"model":
"penguin-knn", "version": "1"}`` instead of a name answers with that version.
The row is checked against every member's card before any member runs, so one bad field fails
the run at once, naming the model and the field.

Each member is a sub-agent named ``model:<name>``: it publishes its own ``prediction`` event
straight into the session (the orchestrator relays nothing). The orchestrator waits for them
and writes only the vote, as the run's result (``method`` param: majority or
mean_probability; steering it before the members finish changes the vote).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from course.evaluate import ProblemKind
from course.schema import RowValidationError
from serving.models.agents.offload import model_work
from serving.models.agents.requests import RequestError, RequestReader
from serving.models.ensemble import Ballot, VoteMethod, vote
from serving.models.records import PredictionRecorder, record_one
from serving.models.registry import ModelNotFound, ModelRegistry
from serving.models.served import ServedModel
from serving.sessions import Agent, Param, RunContext

__all__ = ["ensemble_agent"]

EXAMPLE = '{"row": {...}, "models": ["penguin-classifier", "penguin-knn"]}'

PARAMS = {
    "method": Param(
        default=VoteMethod.MAJORITY.value,
        choices=tuple(method.value for method in VoteMethod),
        help="one vote per model, or the mean of their class probabilities",
    ),
}


def ensemble_agent(registry: ModelRegistry, recorder: PredictionRecorder | None = None) -> Agent:
    """The ``ensemble`` agent, voting over models of ``registry``; each member's prediction is
    recorded in its own model's log (serving.models.records)."""

    async def ensemble(request: Mapping[str, Any], run: RunContext) -> dict[str, Any]:
        reader = RequestReader("ensemble", request, {"models", "row"}, EXAMPLE)
        row = reader.get("row", dict, required=True)
        members = _members(registry, reader.get("models", list), row)
        cleaned = _validate_for_all(members, row)
        answers = await asyncio.gather(
            *(run.spawn(_member(served, cleaned[served.name], recorder)) for served in members)
        )
        regression = members[0].kind is ProblemKind.REGRESSION
        ballots = [
            Ballot(a["model"], a["prediction"], a.get("classes"), a.get("probabilities"))
            for a in answers
        ]
        result = vote(ballots, run.params["method"], regression=regression)
        return {
            **result.to_dict(),
            "members": [{"model": a["model"], "version": a["version"]} for a in answers],
        }

    return Agent(
        "ensemble",
        ensemble,
        params=PARAMS,
        description="Runs several models as sub-agents that publish their own predictions; "
        "the orchestrator only writes the vote.",
    )


def _member(
    served: ServedModel, clean: dict[str, Any], recorder: PredictionRecorder | None
) -> Agent:
    """A sub-agent that predicts ``clean`` with ``served`` and publishes it itself."""

    async def predict(request: Mapping[str, Any], run: RunContext) -> dict[str, Any]:
        answer = await model_work(served, lambda: served.predict_rows([clean]).row(0))
        record_id, record = record_one(recorder, served, "ensemble", run, clean, answer)
        answer = {"model": served.name, "version": served.version, **answer}
        if record_id:
            answer["record"] = record_id
        await run.prediction(answer)
        if recorder is not None and record_id is not None:
            await recorder.add(served.name, [record])
        return answer

    return Agent(f"model:{served.name}", predict)


def _members(
    registry: ModelRegistry, names: list[Any] | None, row: dict[str, Any]
) -> list[ServedModel]:
    if names is None:
        fitting = [served for served in registry if set(served.card.feature_names) == set(row)]
        if not fitting:
            raise RequestError(
                "no model has exactly the features of this row; name the members: "
                f"send {EXAMPLE} with models among {', '.join(registry.names())}"
            )
        names = [served.name for served in fitting]
    if not names:
        raise RequestError(f"'models' must be a list of model names: send {EXAMPLE}")
    wanted: dict[str, str | None] = {}
    for entry in names:
        name, version = _member_of(entry)
        wanted.setdefault(name, version)  # a model named twice: its first entry
    try:
        members = [registry.get(name, version) for name, version in wanted.items()]
    except ModelNotFound as error:
        raise RequestError(str(error)) from None
    kinds = {(served.kind, served.card.target_name) for served in members}
    if len(kinds) > 1 or members[0].kind is ProblemKind.CLUSTERING:
        described = ", ".join(f"{s.name} ({s.kind.value} of {s.card.target_name})" for s in members)
        raise RequestError(
            f"an ensemble needs models that predict the same target the same way; got {described}"
        )
    return members


def _member_of(entry: Any) -> tuple[str, str | None]:
    """A member's model and pinned version (None: the live one), from a name or an object."""
    if isinstance(entry, str):
        return entry, None
    if (
        isinstance(entry, dict)
        and isinstance(entry.get("model"), str)
        and set(entry) <= {"model", "version"}
        and isinstance(entry.get("version", ""), str)
    ):
        return entry["model"], entry.get("version")
    raise RequestError(
        'each of \'models\' is a model name, or {"model": name, "version": "1"} to pin '
        f"a version: send {EXAMPLE}"
    )


def _validate_for_all(members: list[ServedModel], row: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The row cleaned for each member; one RowValidationError naming model and field."""
    cleaned = {}
    problems = []
    for served in members:
        try:
            cleaned[served.name], _ = served.validate(row)
        except RowValidationError as error:
            problems += [
                type(problem)(f"{served.name}: {problem.field}", problem.problem, problem.expected)
                for problem in error.problems
            ]
    if problems:
        raise RowValidationError(problems)
    return cleaned
