"""BackgroundServer: the real app on a free loopback port, stopped gracefully."""

from __future__ import annotations

import asyncio
import json

import httpx

from serving.background import BackgroundServer
from serving.config import ServerConfig
from serving.streams import MemoryStore
from serving.streams.offsets import ZERO


def test_serves_sessions_and_a_graceful_stop_interrupts_the_runs() -> None:
    store = MemoryStore()
    server = BackgroundServer(ServerConfig(store_url="memory://", open_access=True), store=store)
    url = server.start()
    try:
        assert url.startswith("http://127.0.0.1:") and not url.endswith(":0")
        created = httpx.post(f"{url}/v1/sessions").json()
        command = {"type": "send", "data": {"text": "a long answer"}, "params": {"speed": 0.5}}
        ack = httpx.post(f"{created['url']}/commands", json=command).json()
    finally:
        server.stop()
    result = asyncio.run(store.read(f"sessions/{created['id']}", ZERO, 1 << 20))
    events = json.loads(b"[" + b",".join(result.records) + b"]")
    assert (events[-1]["type"], events[-1]["run"]) == ("run.interrupted", ack["run"])
    assert "shut down" in events[-1]["data"]["reason"]
