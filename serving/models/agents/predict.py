"""The predict-and-explain agent: one row in, the prediction at once, then its explanation.

Request: ``{"model": "penguin-classifier", "row": {...}}`` (``version`` optional; ``model``
may be left out when the server holds one model). The row is checked against the model card
first (a bad row fails the run with every problem named; values far outside the training range
are warnings). Then:

1. one ``prediction`` event: the prediction, the class probabilities, the warnings;
2. ``delta`` events: the explanation, token by token, paced at ``speed`` tokens per second;
3. ``run.completed`` with the prediction, the whole text and the evidence behind it.

Steerable while it writes: ``length`` (short, medium, long) and ``audience`` (beginner,
expert) apply from the next sentence; ``speed`` at once. Stop ends it within one token.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from weakref import WeakKeyDictionary

from serving.models.agents.offload import model_work
from serving.models.agents.requests import RequestReader
from serving.models.evidence import Explainer
from serving.models.explanation import Audience, ExplanationStyle, ExplanationWriter, Length
from serving.models.http import problem_to_dict
from serving.models.records import PredictionRecorder, record_one
from serving.models.registry import ModelRegistry
from serving.models.served import ServedModel
from serving.sessions import Agent, Param, RunContext

__all__ = ["predict_agent"]

EXAMPLE = '{"model": "penguin-classifier", "row": {"island": "Dream", ...}}'

PARAMS = {
    "length": Param(
        default=Length.MEDIUM.value,
        choices=tuple(length.value for length in Length),
        help="how much the explanation tells",
    ),
    "audience": Param(
        default=Audience.BEGINNER.value,
        choices=tuple(audience.value for audience in Audience),
        help="plain words, or feature names and numbers",
    ),
    "speed": Param(default=40.0, minimum=0.1, maximum=1_000_000.0, help="tokens per second"),
}


def predict_agent(registry: ModelRegistry, recorder: PredictionRecorder | None = None) -> Agent:
    """The ``predict`` agent, answering with the models of ``registry``; each prediction is
    recorded in the model's log by ``recorder`` (serving.models.records)."""
    # One Explainer per loaded model version, made on first use (it holds typical values).
    explainers: WeakKeyDictionary[ServedModel, Explainer] = WeakKeyDictionary()

    def explainer_of(served: ServedModel) -> Explainer:
        if served not in explainers:
            explainers[served] = Explainer(served)
        return explainers[served]

    async def predict(request: Mapping[str, Any], run: RunContext) -> dict[str, Any]:
        reader = RequestReader("predict", request, {"model", "version", "row"}, EXAMPLE)
        served = reader.model(registry)
        row = reader.get("row", dict, required=True)
        clean, warnings = served.validate(row)  # RowValidationError names every bad field
        answer = await model_work(served, lambda: served.predict_rows([clean]).row(0))
        record_id, record = record_one(recorder, served, "predict", run, clean, answer)
        await run.prediction(
            {
                "model": served.name,
                "version": served.version,
                **answer,
                **({"record": record_id} if record_id else {}),
                "warnings": [problem_to_dict(warning) for warning in warnings],
            }
        )
        await run.written()  # the prediction first: the explanation's work must not delay it
        if recorder is not None and record_id is not None:  # then its record, in the log
            await recorder.add(served.name, [record])
        evidence = await model_work(served, lambda: explainer_of(served).explain(clean))
        writer = ExplanationWriter(evidence, warnings=warnings, steer=_steer_of(run.params))
        tokens: list[str] = []
        for token in writer:
            if run.cancelled.is_set():
                break
            tokens.append(token)
            await run.delta(token)
            await _pause(run)
            writer.steer({key: run.params[key] for key in ("length", "audience")})
        return {
            "model": served.name,
            "version": served.version,
            "prediction": answer["prediction"],
            "text": "".join(tokens),
            "evidence": evidence.to_dict(),
        }

    return Agent(
        "predict",
        predict,
        params=PARAMS,
        description="Predicts one row with a model of the registry, then explains the "
        "prediction token by token (steer length and audience while it writes).",
    )


def _steer_of(params: Mapping[str, Any]) -> ExplanationStyle:
    return ExplanationStyle(length=params["length"], audience=params["audience"])


async def _pause(run: RunContext) -> None:
    """Wait one token's time at the current speed (a steer or a cancel wakes it early)."""
    await run.sleep(1.0 / float(run.params["speed"]))
