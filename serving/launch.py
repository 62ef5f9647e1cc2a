"""What ``make serve`` adds around the server: the default model, and the page's address.

``python -m serving --train-default-model`` (what ``make serve`` runs) first makes sure the
course's default model is exported in the models folder, training it through
course.recipes.train_penguin_model, the code notebook 06 uses, only when no version of it is
there: the first start trains (seconds), every later one starts at once. Then the server says
where the page is, and only once it really listens, so the address it prints always answers.
"""

from __future__ import annotations

import ipaddress
import socket
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import uvicorn

from serving.web import is_loopback_host

__all__ = ["ListeningServer", "ensure_default_model", "page_url"]


def ensure_default_model(models_dir: Path) -> Path | None:
    """Train and export the default model into ``models_dir`` unless a version is there.

    Returns the new artifact folder, or None when there was nothing to do. (scikit-learn is
    imported either way: the server needs it next, to load the models.)
    """
    from course.recipes import PENGUIN_MODEL_NAME, train_penguin_model

    if any((models_dir / PENGUIN_MODEL_NAME).glob("*/card.json")):
        return None
    print(
        f"No {PENGUIN_MODEL_NAME} in {models_dir} yet: training the course's default model "
        "(penguin species, course.recipes.train_penguin_model), once...",
        file=sys.stderr,
        flush=True,
    )
    started = time.monotonic()
    folder = train_penguin_model(models_dir)
    print(
        f"Trained and exported {folder} in {time.monotonic() - started:.1f} s.",
        file=sys.stderr,
        flush=True,
    )
    return folder


def page_url(host: str, port: int) -> str:
    """The page's address for a browser on this computer."""
    if host in ("", "0.0.0.0", "::"):  # every interface: this computer's browser uses loopback
        host = "127.0.0.1"
    try:
        if ipaddress.ip_address(host).version == 6:
            host = f"[{host}]"
    except ValueError:
        pass  # a name, such as localhost
    return f"http://{host}:{port}/"


class ListeningServer(uvicorn.Server):
    """uvicorn's server, printing the page's address once the socket really listens.

    ``on_listening(port)``, if given, runs then too, on the server's loop (``--lan`` creates
    the session it shares there, and prints its link and QR code).
    """

    def __init__(
        self, config: uvicorn.Config, on_listening: Callable[[int], Awaitable[Any]] | None = None
    ) -> None:
        super().__init__(config)
        self.on_listening = on_listening

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)  # exits the process if the port cannot be had
        if not self.started:
            return
        port = self.servers[0].sockets[0].getsockname()[1]  # the real one, also for --port 0
        print(f"The page: {page_url(self.config.host, port)}  (Ctrl-C stops)", flush=True)
        if not is_loopback_host(self.config.host):
            print(
                f"Listening on {self.config.host}: other devices can reach the server. Only a "
                "browser on this computer can start a session; others join with a link shared "
                "from the page.",
                file=sys.stderr,
                flush=True,
            )
        if self.on_listening is not None:
            await self.on_listening(port)
