"""The course server started from a notebook: one line to start, one to stop.

    server = NotebookServer(models_dir).start()
    laptop = server.new_session(device="laptop")          # a SessionClient on a new session
    ack = laptop.send({"model": "penguin-classifier", "row": bird}, agent="predict")
    for event in follow(laptop, ack.run):                 # the run's events, as they arrive
        ...
    phone = server.join(laptop, device="phone")            # a second device, same session
    server.network.cut()                                   # every connection drops
    server.stop()

It is the same application ``make serve`` runs (serving.app.create_app, through
BackgroundServer), serving the models of ``models_dir``, with tokens, on a free port of
127.0.0.1. Its log is a fresh SQLite file, in a temporary folder unless ``data_dir`` names one,
so every run of a notebook starts from an empty session store. Every client reaches it through
``server.network``, a Relay: unplugging that shows what a dropped connection does.
"""

from __future__ import annotations

import atexit
import logging
import os
import secrets
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Self
from urllib.parse import urlencode

import httpx

from serving.background import BackgroundServer
from serving.client import Backoff, SessionClient
from serving.config import ServerConfig
from serving.model_log import ModelLog
from serving.models import ModelRegistry
from serving.relay import Relay
from serving.sessions import Event
from serving.tokens import TokenSigner

__all__ = ["NotebookServer", "follow"]

NOTEBOOK_BACKOFF = Backoff(initial=0.05, maximum=0.5)
"""The server is on this computer: after a drop, try again soon and often."""
QUIET_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")
"""uvicorn logs to stderr from the notebook's own process; a notebook shows errors only."""


class NotebookServer:
    """The course server on a thread of this process, serving the models of ``models_dir``."""

    def __init__(
        self,
        models_dir: str | os.PathLike[str],
        *,
        data_dir: str | os.PathLike[str] | None = None,
        timeout: float = 30.0,
    ) -> None:
        """``data_dir`` keeps the session log (SQLite) and batch results; a temporary folder,
        deleted by ``stop``, when None. ``timeout`` bounds each call of the clients it makes."""
        self.models_dir = Path(models_dir)
        self.data_dir = None if data_dir is None else Path(data_dir)
        self.timeout = timeout
        self.registry: ModelRegistry | None = None
        """The models being served (after ``start``)."""
        self.network: Relay | None = None
        """What stands between the clients and the server (after ``start``): ``cut()`` it."""
        self._server: BackgroundServer | None = None
        self._temporary: tempfile.TemporaryDirectory[str] | None = None
        self._create_token = ""
        self._models_token = ""
        self._operate_token = ""
        self._clients: list[SessionClient] = []

    @property
    def url(self) -> str:
        """Where clients and browsers reach the server (through ``network``)."""
        return self._started().url

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> Self:
        """Load the models, start the server and its network; return the server."""
        if self._server is not None:
            raise RuntimeError("this server is already running; stop() it before starting again")
        registry = ModelRegistry.open(self.models_dir)
        if not len(registry):
            raise ValueError(
                f"{self.models_dir} holds no exported model: export one first, for example "
                "course.recipes.train_penguin_model(models_dir)"
            )
        if self.data_dir is None:
            self._temporary = tempfile.TemporaryDirectory(prefix="course-server-")
            data_dir = Path(self._temporary.name)
        else:
            data_dir = self.data_dir
        secret = secrets.token_bytes(32)
        config = ServerConfig(
            store_url=f"sqlite:///{data_dir / 'streams.db'}", secret=secret, data_dir=data_dir
        )
        server = BackgroundServer(config, models=registry)
        for name in QUIET_LOGGERS:  # after BackgroundServer: uvicorn sets its levels there
            logging.getLogger(name).setLevel(logging.ERROR)
        server.start()
        self.registry = registry
        self._server = server
        self.network = Relay(server.url).start()
        self._create_token = TokenSigner(secret).mint("sessions/*", ["create"])
        self._models_token = TokenSigner(secret).mint("models/*", ["read", "write"])
        self._operate_token = TokenSigner(secret).mint("models/*", ["operate"])
        atexit.register(self.stop)
        return self

    def models_token(self) -> str:
        """A token to read the models' prediction logs and send late labels (``read`` and
        ``write`` on ``models/*``: course.monitor, serving.model_log)."""
        self._started()
        return self._models_token

    def versions(self, model: str) -> dict[str, Any]:
        """``{"live": "1", "latest": "2", "versions": ["1", "2"]}`` of ``model``: the version
        that answers requests naming none (live), the newest, every version served."""
        with self._model_log(self._models_token) as log:
            return log.versions(model)

    def live_version(self, model: str) -> str:
        """The version of ``model`` that answers requests naming no version."""
        return str(self.versions(model)["live"])

    def promote(self, model: str, version: str | int) -> dict[str, Any]:
        """Make ``version`` of ``model`` live: every new request naming no version gets it (a
        run already going finishes on its own version). The notebook runs this server, so it
        is the operator (the ``operate`` scope; docs/MODELS.md). Returns the control record:
        ``record["previous"]`` was live before. A version the server does not serve raises
        ModelLogError MODEL_NOT_FOUND, naming the versions it has."""
        with self._model_log(self._operate_token) as log:
            return log.promote(model, version)

    def rollback(self, model: str) -> dict[str, Any]:
        """Make the version of ``model`` that was live before the current one live again (a
        model never promoted: the version before the newest); returns the control record
        (``record["version"]`` is live now). ModelLogError NOTHING_TO_ROLL_BACK when no earlier
        version was live: promote one by name."""
        with self._model_log(self._operate_token) as log:
            return log.rollback(model)

    def _model_log(self, token: str) -> ModelLog:
        self._started()
        return ModelLog(self.url, token=token, timeout=self.timeout)

    def new_session(self, device: str = "notebook") -> SessionClient:
        """Create a session and connect to it as ``device``, with every right (control)."""
        self._started()
        client = SessionClient.create(
            self.url,
            token=self._create_token,
            device=device,
            timeout=self.timeout,
            backoff=NOTEBOOK_BACKOFF,
        )
        self._clients.append(client)
        return client

    def join(self, client: SessionClient, device: str, *, start: str = "start") -> SessionClient:
        """Connect ``device`` to the session of ``client`` (made by ``new_session``).

        ``start`` is where its events begin: ``"start"`` (the whole history), ``"new"`` (only
        what happens from now on) or the offset of the last event it already has.
        """
        self._started()
        created = _created_by(client)
        if not isinstance(start, str):
            raise TypeError(
                f"start must be 'start', 'new' or an offset (a string: event.offset), got "
                f"{type(start).__name__}"
            )
        joined = SessionClient(
            created["url"],
            token=created["tokens"]["control"],
            device=device,
            start=start,
            timeout=self.timeout,
            backoff=NOTEBOOK_BACKOFF,
        )
        self._clients.append(joined)
        return joined

    def operator(self, client: SessionClient, device: str = "operator") -> SessionClient:
        """Connect ``device`` to the session of ``client`` as the operator: it may also send to
        ``retrain``, which replaces the model every session is served. That needs the
        ``operate`` scope, which a session's own tokens never carry (docs/PROTOCOL.md); the
        notebook runs this server, so it is the operator and may ask for it here."""
        self._started()
        assert self._server is not None and self._server.app.state.signer is not None
        created = _created_by(client)
        token = self._server.app.state.signer.mint(
            f"sessions/{created['id']}", ["read", "write", "control", "operate"]
        )
        operator = SessionClient(
            created["url"], token=token, device=device, timeout=self.timeout,
            backoff=NOTEBOOK_BACKOFF,
        )  # fmt: skip
        self._clients.append(operator)
        return operator

    def page_link(self, client: SessionClient) -> str:
        """The web page, opened on the session of ``client``, with the right to act in it.

        The tokens travel after ``#``, a part of an address browsers never send to a server.
        """
        created = _created_by(client)
        tokens = created["tokens"]
        fragment = urlencode(
            {"session": created["id"], "read": tokens["read"], "control": tokens["control"]}
        )
        return f"{self.url}/#{fragment}"

    def models(self) -> list[str]:
        """The names of the models the server serves now, as any client or the web page
        sees them (``GET /v1/models``)."""
        self._started()
        headers = {"authorization": f"Bearer {self._models_token}"}  # the catalog needs read
        answer = httpx.get(f"{self.url}/v1/models", headers=headers, timeout=self.timeout)
        answer.raise_for_status()
        return [model["name"] for model in answer.json()["models"]]

    def wait_for_model(self, name: str, *, timeout: float = 10.0) -> list[str]:
        """Wait until the server serves ``name`` (a model exported into its folder while it
        runs appears within about 2 s); the models served then."""
        deadline = time.monotonic() + timeout
        while name not in (served := self.models()):
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"the server still serves only {served} after {timeout:g} s: was "
                    f"{name!r} exported into {self.models_dir}? The terminal (or the "
                    "notebook's log) says why a model folder is refused."
                )
            time.sleep(0.1)
        return served

    def stop(self) -> None:
        """Close its clients, stop the server (runs still going are interrupted, as on Ctrl-C)
        and the network, and delete the temporary folder. Safe to call twice."""
        for client in self._clients:
            client.close()
        self._clients.clear()
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self.network is not None:
            self.network.stop()
        if self._temporary is not None:
            self._temporary.cleanup()
            self._temporary = None
        atexit.unregister(self.stop)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _started(self) -> Relay:
        if self._server is None or self.network is None:
            raise RuntimeError("the server is not running: start it with server.start()")
        return self.network


def follow(client: SessionClient, run: str, *, timeout: float = 10.0) -> Iterator[Event]:
    """The events of ``run``, in order, as they arrive, up to the one that ends the run.

    Other events the client receives meanwhile (other runs, devices joining) are passed over.
    Waits at most ``timeout`` seconds for each event.
    """
    while True:
        try:
            event = client.next_event(timeout)
        except TimeoutError:
            raise TimeoutError(
                f"nothing arrived for {timeout:g} s while following run {run}. If the run "
                "ended before this client's starting point, the client will never see it: "
                "start from an earlier offset (or 'start'). If it is just slow, pass a longer "
                "timeout."
            ) from None
        if event.run != run:
            continue
        yield event
        if event.ends_run:
            return


def _created_by(client: SessionClient) -> dict[str, Any]:
    if client.created is None:
        raise ValueError(
            "this client joined an existing session, so it does not hold the session's tokens: "
            "pass the client that new_session() returned"
        )
    return client.created
