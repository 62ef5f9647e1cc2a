"""Models: the artifacts the notebooks export, served safely, validated, explained and voted.

The public surface: the registry of loaded models, one loaded model, the explanation (evidence
and the steerable token writer), batch scoring of tables, the ensemble vote, retraining, and
the HTTP routes. The agents that run these in sessions live in serving.models.agents.

The names below are imported on first use (serving.lazy): importing serving.models.compiled
or serving.models.csvlines loads neither the HTTP routes nor the server.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from serving.lazy import lazy_exports

if TYPE_CHECKING:
    from serving.models.batch import ScoredChunk, score_table
    from serving.models.ensemble import Ballot, Vote, VoteMethod, vote
    from serving.models.evidence import Contribution, Evidence, Explainer, ScoreKind
    from serving.models.explanation import (
        Audience,
        ExplanationStyle,
        ExplanationWriter,
        Length,
        SteerError,
    )
    from serving.models.http import add_model_routes
    from serving.models.mount import mount_models
    from serving.models.registry import ModelNotFound, ModelRegistry, RegistryError
    from serving.models.results import Results, ResultWriter
    from serving.models.retrain import (
        Retrainer,
        RetrainError,
        RetrainResult,
        RetrainStep,
        retrain_data,
    )
    from serving.models.served import Predictions, ServedModel
    from serving.models.tables import TableCheck, TableError, check_table

__all__ = [
    "Audience",
    "Ballot",
    "Contribution",
    "Evidence",
    "Explainer",
    "ExplanationStyle",
    "ExplanationWriter",
    "Length",
    "ModelNotFound",
    "ModelRegistry",
    "Predictions",
    "RegistryError",
    "ResultWriter",
    "Results",
    "RetrainError",
    "RetrainResult",
    "RetrainStep",
    "Retrainer",
    "ScoreKind",
    "ScoredChunk",
    "ServedModel",
    "SteerError",
    "TableCheck",
    "TableError",
    "Vote",
    "VoteMethod",
    "add_model_routes",
    "check_table",
    "mount_models",
    "retrain_data",
    "score_table",
    "vote",
]

__getattr__, __dir__ = lazy_exports(
    globals(),
    {
        ".batch": ("ScoredChunk", "score_table"),
        ".ensemble": ("Ballot", "Vote", "VoteMethod", "vote"),
        ".evidence": ("Contribution", "Evidence", "Explainer", "ScoreKind"),
        ".explanation": (
            "Audience",
            "ExplanationWriter",
            "Length",
            "ExplanationStyle",
            "SteerError",
        ),
        ".http": ("add_model_routes",),
        ".mount": ("mount_models",),
        ".registry": ("ModelNotFound", "ModelRegistry", "RegistryError"),
        ".results": ("Results", "ResultWriter"),
        ".retrain": ("Retrainer", "RetrainError", "RetrainResult", "RetrainStep", "retrain_data"),
        ".served": ("Predictions", "ServedModel"),
        ".tables": ("TableCheck", "TableError", "check_table"),
    },
)
