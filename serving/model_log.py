"""The Python client of a model's flight recorder: its records, late labels, drift, metrics.

    from serving.model_log import ModelLog

    log = ModelLog("http://127.0.0.1:8000", token=TOKEN)    # read (and write, for labels)
    records = log.records("penguin-classifier")              # every record, oldest first
    log.label("penguin-classifier", record_id, "Gentoo")     # the truth, later
    log.drift("penguin-classifier")                          # computed by the server
    log.promote("penguin-classifier", "2")                   # an operate token: goes live
    log.rollback("penguin-classifier")                       # back to the one before

The records are the Durable Streams stream ``models/<name>/predictions``, read here with plain
catch-up GETs (``offset=-1``, then each answer's Stream-Next-Offset until Stream-Up-To-Date);
``follow`` long-polls for new ones. The token must grant ``read`` on ``models/<name>/
predictions`` (``serving token --scope read,write --stream 'models/*'``; a NotebookServer
gives one, ``server.models_token()``); on an open server none is needed. Like
serving.client it stands alone: httpx, no server module.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx

__all__ = ["ModelLog", "ModelLogError"]


class ModelLogError(Exception):
    """A refusal of the server: ``code`` (UPPER_SNAKE, docs/MODELS.md), ``status``, message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code} ({status}): {message}")
        self.status = status
        self.code = code
        self.message = message


class ModelLog:
    """A model server's prediction logs, over HTTP."""

    def __init__(self, url: str, *, token: str | None = None, timeout: float = 30.0) -> None:
        headers = {} if token is None else {"authorization": f"Bearer {token}"}
        self.url = url.rstrip("/")
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ModelLog:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def stream_url(self, model: str) -> str:
        return f"/v1/stream/models/{model}/predictions"

    def read(self, model: str, offset: str = "-1") -> tuple[list[dict[str, Any]], str]:
        """The records of ``model`` after ``offset`` (all of them from ``-1``), and the offset
        to read on from. A model that has predicted nothing yet has no records."""
        records: list[dict[str, Any]] = []
        while True:
            response = self._http.get(self.stream_url(model), params={"offset": offset})
            if response.status_code == 404 and _code(response) == "NOT_FOUND":
                return records, offset
            _check(response)
            if response.status_code == 200:
                records += json.loads(response.content)
            offset = response.headers["stream-next-offset"]
            if response.headers.get("stream-up-to-date") == "true" or response.status_code == 204:
                return records, offset

    def records(self, model: str) -> list[dict[str, Any]]:
        """Every record ``model``'s log holds, oldest first (predictions and labels)."""
        return self.read(model)[0]

    def follow(self, model: str, offset: str = "-1") -> Iterator[dict[str, Any]]:
        """The records of ``model`` from ``offset`` on, then each new one as it arrives
        (long-poll); stop iterating to stop."""
        records, offset = self.read(model, offset)
        yield from records
        while True:
            response = self._http.get(
                self.stream_url(model), params={"offset": offset, "live": "long-poll"}
            )
            if response.status_code == 404:
                records, offset = self.read(model, offset)
                yield from records
                continue
            _check(response)
            if response.status_code == 200:
                yield from json.loads(response.content)
            offset = response.headers["stream-next-offset"]

    def label(self, model: str, record: str, label: Any) -> dict[str, Any]:
        """Send the true outcome of the prediction ``record``; the label record as stored.
        ModelLogError: RECORD_NOT_FOUND (404) for an unknown id, INVALID_LABEL (422) for a
        label the model cannot predict."""
        response = self._http.post(
            f"/v1/models/{model}/labels", json={"record": record, "label": label}
        )
        _check(response)
        answer: dict[str, Any] = response.json()
        return answer

    def card(self, model: str, version: str | None = None) -> dict[str, Any]:
        """The card of ``version`` (the latest when None)."""
        path = f"/v1/models/{model}" + ("" if version is None else f"/{version}")
        response = self._http.get(path)
        _check(response)
        data: dict[str, Any] = response.json()
        return data if version is not None else data["card"]

    def drift(self, model: str, *, window: int = 1000) -> dict[str, Any]:
        """The server's drift report over the last ``window`` predictions (course.drift)."""
        return self._get(f"/v1/models/{model}/drift", window)

    def metrics(self, model: str, *, window: int = 1000) -> dict[str, Any]:
        """The server's live metrics over the last ``window`` labelled predictions."""
        return self._get(f"/v1/models/{model}/metrics", window)

    # --- versions: which one is live (docs/MODELS.md, "Versions, promote, roll back") ----------

    def versions(self, model: str) -> dict[str, Any]:
        """``{"live": "1", "latest": "2", "versions": ["1", "2"]}``: the version that answers
        requests naming none, the newest, and every version served."""
        response = self._http.get(f"/v1/models/{model}")
        _check(response)
        data = response.json()
        return {key: data[key] for key in ("live", "latest", "versions")}

    def live_version(self, model: str) -> str:
        """The version that answers the requests naming none."""
        return str(self.versions(model)["live"])

    def promote(self, model: str, version: str | int) -> dict[str, Any]:
        """Make ``version`` live for every new request (runs under way keep theirs); the
        control record written. Needs a token granting ``operate`` on ``models/<model>/
        control`` (``serving token --scope operate --stream 'models/*'``). ModelLogError:
        FORBIDDEN (403) without it, MODEL_NOT_FOUND (404) for a version the server lacks."""
        response = self._http.post(f"/v1/models/{model}/promote", json={"version": str(version)})
        _check(response)
        record: dict[str, Any] = response.json()
        return record

    def rollback(self, model: str) -> dict[str, Any]:
        """Make the version live before the current one live again; the control record
        written. ModelLogError NOTHING_TO_ROLL_BACK (409) when no earlier one was live."""
        response = self._http.post(f"/v1/models/{model}/rollback")
        _check(response)
        record: dict[str, Any] = response.json()
        return record

    def _get(self, path: str, window: int) -> dict[str, Any]:
        response = self._http.get(path, params={"window": window})
        _check(response)
        data: dict[str, Any] = response.json()
        return data


def _code(response: httpx.Response) -> str:
    try:
        return str(response.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return ""


def _check(response: httpx.Response) -> None:
    if response.status_code < 400:
        return
    try:
        error = response.json()["error"]
        code, message = str(error["code"]), str(error["message"])
    except (ValueError, KeyError, TypeError):
        code, message = "HTTP_ERROR", response.text[:200]
    raise ModelLogError(response.status_code, code, message)
