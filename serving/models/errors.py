"""Refusals of the models' HTTP endpoints (serving.models.http), one class each.

The convention of serving.errors: each class sets its ``code`` (UPPER_SNAKE) and HTTP
``status``; the endpoints raise them and answer with ``error.body()``. A 404 is
``<THING>_NOT_FOUND`` (``MODEL_NOT_FOUND``, ``RESULT_NOT_FOUND``, as ``SESSION_NOT_FOUND``), and
a body over a limit is ``PAYLOAD_TOO_LARGE``, as on a stream or a session command. The old
lower_snake codes are listed in docs/MODELS.md.

The model agents raise ModelNotFound too (a run names an unknown model): there it fails the run
(``run.failed`` with ``kind: "ModelNotFound"``) instead of answering a request.
"""

from __future__ import annotations

from typing import Any

from serving.errors import ServingError

__all__ = [
    "EmptyUpload",
    "InvalidJSON",
    "InvalidLabel",
    "InvalidRow",
    "ModelError",
    "ModelLogForbidden",
    "ModelLogUnauthorized",
    "ModelNotFound",
    "RecordNotFound",
    "RecordingOff",
    "ResultNotFound",
    "RowTooLarge",
    "TensorFlowMissing",
    "UploadTooLarge",
]


class ModelError(ServingError):
    """A request the models' endpoints refuse, with a message for the client."""

    code = "BAD_REQUEST"
    status = 400


class ModelNotFound(ModelError, LookupError):
    """No loaded model has this name (or this version); the message lists what exists (404)."""

    code = "MODEL_NOT_FOUND"
    status = 404


class TensorFlowMissing(ModelError):
    """A Keras model asked for on a server installed without TensorFlow (503): the message says
    how to add it (``make serve`` leaves it out). A prediction run fails with this ``kind``."""

    code = "TENSORFLOW_MISSING"
    status = 503


class ResultNotFound(ModelError):
    """No batch result at this address (404)."""

    code = "RESULT_NOT_FOUND"
    status = 404


class InvalidJSON(ModelError):
    """A row to validate that is not JSON (400)."""

    code = "INVALID_JSON"
    status = 400


class InvalidRow(ModelError):
    """A row that does not fit the model's card (422); ``problems`` lists one per field."""

    code = "INVALID_ROW"
    status = 422

    def __init__(self, message: str, problems: list[dict[str, str]]) -> None:
        super().__init__(message)
        self.problems = problems

    def body(self) -> dict[str, Any]:
        body = super().body()
        body["error"]["problems"] = self.problems
        return body


class RowTooLarge(ModelError):
    """A row to validate over MAX_ROW_BYTES (413)."""

    code = "PAYLOAD_TOO_LARGE"
    status = 413


class UploadTooLarge(ModelError):
    """An upload over MAX_UPLOAD_BYTES (413)."""

    code = "PAYLOAD_TOO_LARGE"
    status = 413


class ResultTooLarge(ModelError):
    """A batch result that would grow past MAX_RESULT_BYTES: the run fails and its partial
    file is removed (413)."""

    code = "PAYLOAD_TOO_LARGE"
    status = 413


class EmptyUpload(ModelError):
    """An upload with no body (400)."""

    code = "EMPTY_UPLOAD"
    status = 400


class RecordNotFound(ModelError):
    """A label names a prediction record this model's log does not hold (404): a wrong id,
    another model's, or one older than the log keeps."""

    code = "RECORD_NOT_FOUND"
    status = 404


class InvalidLabel(ModelError):
    """A label of the wrong kind for the model (422): a class the model does not know, or a
    non-number for a regression."""

    code = "INVALID_LABEL"
    status = 422


class RecordingOff(ModelError):
    """Labels, drift and metrics on a server started with SERVING_RECORD_PREDICTIONS=0 (409)."""

    code = "RECORDING_OFF"
    status = 409


class ModelLogUnauthorized(ModelError):
    """No valid token for a model's log (401), as on a stream."""

    code = "UNAUTHORIZED"
    status = 401


class ModelLogForbidden(ModelError):
    """A token that does not grant this on the model's log (403), as on a stream."""

    code = "FORBIDDEN"
    status = 403


class NothingToRollBack(ModelError):
    """A rollback with no earlier live version to go back to (409)."""

    code = "NOTHING_TO_ROLL_BACK"
    status = 409
