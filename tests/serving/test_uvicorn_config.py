"""One uvicorn configuration: BackgroundServer serves as ``python -m serving`` does."""

from __future__ import annotations

import functools
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from serving import cli, launch
from serving.background import BackgroundServer
from serving.config import ServerConfig
from serving.uvicorn_config import KEEP_ALIVE_SECONDS, SHUTDOWN_GRACE_SECONDS


def _settings(config: uvicorn.Config) -> dict[str, Any]:
    """Everything a Config says, but the app and where it listens."""
    settings = {name: value for name, value in vars(config).items() if name not in ("app", "port")}
    http = settings["http"]
    settings["http"] = http.func if isinstance(http, functools.partial) else http
    return settings


def test_a_background_server_is_configured_as_the_command_serves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    served: list[uvicorn.Config] = []

    class Captured:  # ListeningServer, but it only keeps the config the command gives it
        def __init__(self, config: uvicorn.Config, on_listening: object = None) -> None:
            served.append(config)

        def run(self) -> None:
            pass

    monkeypatch.setattr(launch, "ListeningServer", Captured)
    argv = ["--store", "memory://", "--open", "--port", "8123", "--models", str(tmp_path)]
    assert cli.main(argv) == 0
    (command,) = served
    background = BackgroundServer(ServerConfig(store_url="memory://", open_access=True))
    config = background._server.config
    assert (command.port, config.port) == (8123, 0)  # a free port, unless one is given
    assert _settings(config) == _settings(command)
    assert config.timeout_keep_alive == KEEP_ALIVE_SECONDS > 5  # uvicorn's default: 5 s
    assert config.timeout_graceful_shutdown == SHUTDOWN_GRACE_SECONDS  # uvicorn's: none


@pytest.mark.slow
def test_stopping_with_a_live_reader_attached_takes_the_grace_period() -> None:
    server = BackgroundServer(ServerConfig(store_url="memory://", open_access=True))
    url = server.start()
    stream = f"{url}/v1/stream/live"
    httpx.put(stream, headers={"content-type": "text/plain"}).raise_for_status()
    attached = threading.Event()

    def read_live() -> None:
        with httpx.Client(timeout=60) as client:
            params = {"offset": "-1", "live": "sse"}
            try:
                with client.stream("GET", stream, params=params) as response:
                    attached.set()
                    for _ in response.iter_bytes():
                        pass
            except httpx.HTTPError:
                pass  # the server dropped the reader: it would reconnect elsewhere

    reader = threading.Thread(target=read_live, daemon=True)
    reader.start()
    assert attached.wait(10)
    started = time.monotonic()
    server.stop()
    took = time.monotonic() - started
    assert server._thread is not None and not server._thread.is_alive()
    assert SHUTDOWN_GRACE_SECONDS - 0.5 < took < SHUTDOWN_GRACE_SECONDS + 5  # not 20 s, then on
    reader.join(5)
    assert not reader.is_alive()
