"""The model agents: what a session run does with the models of the registry.

``model_agents`` builds the four agents a server with models offers, next to the demo agents:
``predict`` (predict and explain one row), ``batch`` (score a table), ``ensemble`` (models as
sub-agents, then a vote) and ``retrain`` (a new version, with live progress).

The names below are imported on first use (serving.lazy), so importing one agent's module
does not load the other three.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from serving.lazy import lazy_exports

if TYPE_CHECKING:
    from serving.models.agents.ensemble import ensemble_agent
    from serving.models.agents.predict import predict_agent
    from serving.models.agents.requests import RequestError
    from serving.models.agents.retrain import retrain_agent
    from serving.models.agents.scoring import batch_agent
    from serving.models.live import LiveVersions
    from serving.models.records import PredictionRecorder
    from serving.models.registry import ModelRegistry
    from serving.models.results import Results
    from serving.models.uploads import Uploads
    from serving.sessions import Agent

__all__ = [
    "RequestError",
    "batch_agent",
    "ensemble_agent",
    "model_agents",
    "predict_agent",
    "retrain_agent",
]


def model_agents(
    registry: ModelRegistry,
    results: Results,
    uploads: Uploads,
    recorder: PredictionRecorder | None = None,
    live: LiveVersions | None = None,
) -> list[Agent]:
    """The model agents serving ``registry``; batch results and uploads go to the folders,
    every prediction to its model's log through ``recorder`` (serving.models.records); a
    retrained version waits for a promote in the control logs of ``live``
    (serving.models.live)."""
    from serving.models.agents.ensemble import ensemble_agent
    from serving.models.agents.predict import predict_agent
    from serving.models.agents.retrain import retrain_agent
    from serving.models.agents.scoring import batch_agent

    return [
        predict_agent(registry, recorder),
        batch_agent(registry, results, uploads, recorder),
        ensemble_agent(registry, recorder),
        retrain_agent(registry, live),
    ]


__getattr__, __dir__ = lazy_exports(
    globals(),
    {
        ".ensemble": ("ensemble_agent",),
        ".predict": ("predict_agent",),
        ".requests": ("RequestError",),
        ".retrain": ("retrain_agent",),
        ".scoring": ("batch_agent",),
    },
)
