"""BackgroundServer: the server in a thread of this process (notebooks, tests, benchmarks).

    with BackgroundServer(ServerConfig(store_url="memory://", open_access=True)) as server:
        client = SessionClient.create(server.url)

It is the same app ``python -m serving`` runs (create_app), served by uvicorn on 127.0.0.1 and
a free port unless the config names one.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Self

import uvicorn

from serving.app import create_app
from serving.config import ServerConfig
from serving.sessions import AgentRegistry
from serving.streams import Store
from serving.uvicorn_config import uvicorn_config

if TYPE_CHECKING:
    from serving.models import ModelRegistry


class BackgroundServer:
    def __init__(
        self,
        config: ServerConfig,
        *,
        store: Store | None = None,
        agents: AgentRegistry | None = None,
        models: ModelRegistry | None = None,
        port: int | None = None,
    ) -> None:
        """``port`` defaults to a free one (0); ``config.port`` is not used."""
        app = create_app(config, store, agents, models)
        self.app = app
        self._server = uvicorn.Server(uvicorn_config(app, config, port=port or 0))
        self._thread: threading.Thread | None = None
        self.url = ""

    def start(self, timeout: float = 20.0) -> str:
        """Start serving; return the base URL (``http://127.0.0.1:PORT``)."""
        self._thread = threading.Thread(target=self._server.run, name="server", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the server stopped while starting; see the log above")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the server did not start within {timeout} s")
            time.sleep(0.01)
        host, port = self._server.servers[0].sockets[0].getsockname()[:2]
        self.url = f"http://{host}:{port}"
        return self.url

    def stop(self, timeout: float = 20.0) -> None:
        """Stop gracefully: runs are interrupted and written, like on Ctrl-C."""
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
