"""Watching a served model from a notebook: drift, live metrics and late labels, read from the
server's flight recorder (its prediction log, serving.models.records).

    from course import monitor

    report = monitor.drift(server, "penguin-classifier")     # a table in the notebook
    monitor.label(server, "penguin-classifier", record_id, "Gentoo")
    monitor.metrics(server, "penguin-classifier")             # accuracy and macro F1

``server`` is a running NotebookServer (serving.notebook: it hands its own token) or the
address of a server, with ``token`` granting ``read`` (and ``write``, for labels) on
``models/*``. The records are read here, with the Durable Streams API (serving.model_log), and
the report is computed here by course.drift: the same code the server's ``/drift`` endpoint
and the page's drift view run.
"""

from __future__ import annotations

from typing import Any

from course.drift import DriftReport, LiveMetrics, drift_report, live_metrics

__all__ = ["drift", "label", "metrics", "records"]


def _log(server: Any, token: str | None) -> Any:
    from serving.model_log import ModelLog

    if isinstance(server, str):
        return ModelLog(server, token=token)
    return ModelLog(server.url, token=token or server.models_token())


def records(server: Any, model: str, *, token: str | None = None) -> list[dict[str, Any]]:
    """Every record of ``model``'s log: predictions and labels, oldest first."""
    with _log(server, token) as log:
        found: list[dict[str, Any]] = log.records(model)
        return found


def drift(
    server: Any, model: str, *, window: int | None = 1000, token: str | None = None
) -> DriftReport:
    """The drift of ``model``'s last ``window`` predictions (all when None) against the card of
    the version that made the latest of them."""
    with _log(server, token) as log:
        found = log.records(model)
        predictions = [r for r in found if r.get("kind") == "prediction"]
        version = predictions[-1]["version"] if predictions else None
        card = log.card(model, version)
    mine = [r for r in predictions if r.get("version") == card.get("version")]
    return drift_report(card, mine, window=window)


def metrics(
    server: Any, model: str, *, window: int | None = None, token: str | None = None
) -> LiveMetrics:
    """Accuracy and macro F1 (a classifier) or MAE and RMSE (a regression) of ``model`` over
    its last ``window`` labelled predictions (all when None)."""
    with _log(server, token) as log:
        found = log.records(model)
        card = log.card(model)
    regression = card.get("problem_kind") == "regression"
    return live_metrics(found, model=model, regression=regression, window=window)


def label(
    server: Any, model: str, record: str, value: Any, *, token: str | None = None
) -> dict[str, Any]:
    """Send the true outcome ``value`` of the prediction ``record`` (its id, in the prediction
    event's ``record``); the label record as the server stored it."""
    with _log(server, token) as log:
        answer: dict[str, Any] = log.label(model, record, value)
        return answer
