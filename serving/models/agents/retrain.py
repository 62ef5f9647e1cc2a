"""The retrain agent: retrain a model on a dataset with live progress, register a new version.

Request: ``{"model": "penguin-classifier", "dataset": "penguins", "folds": 5}`` (``folds``
2 to 10, default 5). Each cross-validation fold, then the final fit on all training rows,
ends with a ``progress`` event carrying the metric (``"fold 2 of 5: accuracy 0.981 (best so far
1.000)"``). At the end the model is exported with ``course.export`` as the model's next version
(card, metrics on the held-out test rows) and loaded into the registry; ``run.completed``
names the new version.

The new version waits for a promote (``POST /v1/models/<name>/promote``; serving.models.live):
the version live before the retraining stays live, pinned in the model's control log before
the export so no process serves the new one even for a moment. Why: a retrained model has only
been scored on its own held-out rows, and everyone's requests are at stake; the operator looks
at its card's metrics (and, pinning it by version, at its live metrics) and promotes it, or
not. ``"promote": true`` in the request makes it live at once (a pipeline that trusts its own
tests).

Stopping early, from any device: steer ``finish`` to ``now``. The fold in progress is
abandoned, and the best fold model so far is registered (its card's metrics say how it did on
the test rows); the result says ``"complete": false``. A cancel, by contrast, abandons the
retraining and registers nothing (the run ends within the protocol's 100 ms; exporting a model
takes longer than that).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping
from typing import Any

from course.export import export_model
from serving.models.agents.requests import RequestError, RequestReader
from serving.models.live import LiveVersions, promote_state
from serving.models.registry import ModelRegistry
from serving.models.retrain import Retrainer, RetrainStep, retrain_data
from serving.sessions import Agent, Param, RunContext, Scope

__all__ = ["retrain_agent"]

EXAMPLE = '{"model": "penguin-classifier", "dataset": "penguins", "folds": 5, "promote": false}'
MAX_FOLDS = 10

PARAMS = {
    "finish": Param(
        default="all-folds",
        choices=("all-folds", "now"),
        help="'now' stops after the folds done so far and registers the best model",
    ),
}

_STOPPED = object()


def retrain_agent(registry: ModelRegistry, live: LiveVersions | None = None) -> Agent:
    """The ``retrain`` agent, registering new versions into ``registry``; they wait for a
    promote in the control logs of ``live`` (without ``live``: live at once, the newest)."""
    exporting = asyncio.Lock()  # one export at a time: each takes the next version number

    async def retrain(request: Mapping[str, Any], run: RunContext) -> dict[str, Any]:
        reader = RequestReader(
            "retrain", request, {"model", "version", "dataset", "folds", "promote"}, EXAMPLE
        )
        served = reader.model(registry)
        dataset = reader.get("dataset", str, required=True)
        folds = reader.get("folds", int, default=5)
        promote = reader.get("promote", bool, default=False)
        if not 2 <= folds <= MAX_FOLDS:
            raise RequestError(f"'folds' must be between 2 and {MAX_FOLDS}, got {folds}")
        X, y = await asyncio.to_thread(retrain_data, served.card, dataset)
        retrainer = Retrainer(served.model, folds=folds)
        steps = retrainer.steps(X, y)
        await run.progress(
            0,
            folds + 1,
            note=f"retraining {served.name} version {served.version} on {dataset}: "
            f"{folds} folds, then a final fit on all training rows",
        )
        while True:
            step = await _next_step(steps, run)
            if step is None or step is _STOPPED:
                break
            assert isinstance(step, RetrainStep)
            await run.progress(step.step, step.total, note=step.describe())
        if run.cancelled.is_set():
            return {"model": served.name, "registered": None}
        if getattr(retrainer, "best_", None) is None:
            return {
                "model": served.name,
                "registered": None,
                "note": "stopped before the first fold finished: there is no model to keep",
            }
        result = await asyncio.to_thread(retrainer.result)
        description = (
            f"{served.card.description} Retrained on the dataset {dataset!r} from version "
            f"{served.version} ({folds}-fold cross-validation"
            + ("" if result.complete else f", stopped early: best of {result.steps_done} folds")
            + ")."
        ).strip()
        async with exporting:
            live_before = registry.live(served.name).version
            if live is not None and not registry.pinned(served.name):
                # before the export: no process may serve the new version unpromoted
                await live.command(
                    served.name,
                    "promote",
                    lambda state: promote_state(state, live_before, live_before),
                    current=live_before,
                    by="retrain",
                    reason=f"retrain keeps version {live_before} live until a promote",
                )
            path = await asyncio.to_thread(
                export_model,
                result.model,
                result.X_fit,
                result.y_fit,
                name=served.name,
                models_dir=registry.models_dir,
                metrics=result.metrics,
                description=description,
                target_name=served.card.target_name,
            )
            # rescan, not reload: a folder refused elsewhere in models/ must not fail this run.
            await asyncio.to_thread(registry.rescan, settle=False)
            if live is not None and promote:
                await live.command(
                    served.name,
                    "promote",
                    lambda state: promote_state(state, path.name, live_before),
                    current=live_before,
                    by="retrain",
                    reason="retrain was asked to promote the new version",
                )
        return {
            "model": served.name,
            "registered": path.name,
            "previous_version": served.version,
            "live": registry.live(served.name).version,
            "complete": result.complete,
            "steps_done": result.steps_done,
            "metrics": result.metrics,
        }

    return Agent(
        "retrain",
        retrain,
        params=PARAMS,
        description="Retrains a model on a shipped dataset fold by fold with live progress; "
        "registers the result as a new version (steer finish=now to keep the best so far).",
        # The new version is served to every session (and every process sharing models/):
        # an operator's act, which a session's own write token must not do.
        scope=Scope.OPERATE,
    )


async def _next_step(steps: Iterator[RetrainStep], run: RunContext) -> object:
    """The next step, None when there are no more, or _STOPPED on finish=now or a cancel.

    A step runs in a thread; it cannot be interrupted, so on a stop it is left to finish on
    its own and its result is ignored.
    """
    task = asyncio.ensure_future(asyncio.to_thread(next, steps, None))
    while not task.done():
        if run.cancelled.is_set() or run.params["finish"] == "now":
            task.add_done_callback(_ignore_outcome)
            return _STOPPED
        woken = asyncio.ensure_future(run.sleep(3600))  # a steer or a cancel wakes it
        await asyncio.wait({task, woken}, return_when=asyncio.FIRST_COMPLETED)
        woken.cancel()
    return task.result()


def _ignore_outcome(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()  # retrieved, so an abandoned step's error is not reported as lost
