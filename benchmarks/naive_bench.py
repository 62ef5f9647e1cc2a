"""The cost of durability: our predict agent over a session against the naive SSE baseline.

    python -m benchmarks.naive_bench [--trials 100]

Both servers run the course's penguin model in their own process on 127.0.0.1: ours
(``python -m serving --open --models DIR``, SQLite store: every event is logged durably before
it is sent) and benchmarks/naive_sse.py (one plain SSE response, nothing stored). For each
trial, interleaved, the client measures the time from sending the request to the
``prediction`` event, and to the end of the explanation (ours at 1,000,000 tokens/s, the naive
server does not pace). Ratios are ours/naive: how much slower durability makes an answer.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import connect

from benchmarks.models_bench import model_server
from benchmarks.servers import RunningServer, free_port
from course import recipes

RESULTS = Path(__file__).resolve().parent / "results" / "naive.md"


class NaiveServer:
    """benchmarks/naive_sse.py in its own process."""

    def __init__(self, models_dir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [
                *(sys.executable, "-m", "benchmarks.naive_sse"),
                *("--models", str(models_dir), "--port", str(self.port)),
            ]
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                httpx.get(self.url + "/", timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.1)
        self.process.kill()
        raise RuntimeError("the naive server did not start within 120 s")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


async def naive_trial(client: httpx.AsyncClient) -> tuple[float, float]:
    start = time.perf_counter()
    first = 0.0
    async with client.stream("POST", "/predict", json=recipes.PENGUIN_EXAMPLE) as response:
        async for line in response.aiter_lines():
            if line == "event: prediction":
                first = time.perf_counter() - start
            elif line == "event: done":
                break
    return first, time.perf_counter() - start


async def ours_trial(ws: Any, n: int) -> tuple[float, float]:
    command = {
        "type": "send",
        "id": f"t{n}",
        "agent": "predict",
        "data": {"model": recipes.PENGUIN_MODEL_NAME, "row": recipes.PENGUIN_EXAMPLE},
        "params": {"speed": 1_000_000},
    }
    start = time.perf_counter()
    await ws.send(json.dumps(command))
    first, run = 0.0, None
    while True:
        for item in json.loads(await asyncio.wait_for(ws.recv(), 60)):
            if item.get("type") == "ack" and item.get("id") == f"t{n}":
                run = item["run"]
            elif item.get("type") == "error":
                raise RuntimeError(f"our server refused the request: {item}")
            elif item.get("run") == run and run is not None:
                if item["type"] == "prediction":
                    first = time.perf_counter() - start
                elif item["type"].startswith("run.") and item["type"] != "run.started":
                    return first, time.perf_counter() - start


async def measure(ours_url: str, naive_url: str, trials: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {
        key: [] for key in ("ours_first", "ours_all", "naive_first", "naive_all")
    }
    async with httpx.AsyncClient(base_url=ours_url) as http:
        session = (await http.post("/v1/sessions")).json()
    ws_url = ours_url.replace("http://", "ws://") + f"/v1/sessions/{session['id']}/ws"
    async with connect(ws_url, max_size=None) as ws, httpx.AsyncClient(base_url=naive_url) as naive:
        await ws.send(json.dumps({"type": "subscribe", "id": "sub", "from": "new"}))
        for n in range(trials + 3):  # the first three warm both up
            first, whole = await ours_trial(ws, n)
            naive_first, naive_whole = await naive_trial(naive)
            if n >= 3:
                times["ours_first"].append(first)
                times["ours_all"].append(whole)
                times["naive_first"].append(naive_first)
                times["naive_all"].append(naive_whole)
    return times


def run(trials: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="naive-bench-") as folder:
        models_dir = Path(folder)
        recipes.train_penguin_model(models_dir)
        naive = NaiveServer(models_dir)
        try:
            with RunningServer(
                model_server("ours-sqlite", models_dir), startup_timeout=120
            ) as ours:
                times = asyncio.run(measure(ours.url, naive.url, trials))
        finally:
            naive.stop()
    medians = {key: statistics.median(values) * 1000 for key, values in times.items()}
    medians["ratio_first"] = medians["ours_first"] / medians["naive_first"]
    medians["ratio_all"] = medians["ours_all"] / medians["naive_all"]
    medians["trials"] = trials
    return medians


def markdown(result: dict[str, float]) -> str:
    return (
        "# The cost of durability: predict over a session vs one plain SSE response\n\n"
        f"`python -m benchmarks.naive_bench` ({result['trials']:.0f} interleaved trials, "
        "medians; ours on SQLite).\n\n"
        "| measure | ours (durable session) | naive SSE | ours / naive |\n|---|---|---|---|\n"
        f"| request to prediction | {result['ours_first']:.1f} ms | {result['naive_first']:.1f} ms"
        f" | {result['ratio_first']:.2f}x |\n"
        f"| request to whole explanation | {result['ours_all']:.1f} ms | "
        f"{result['naive_all']:.1f} ms | {result['ratio_all']:.2f}x |\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="ours vs the naive SSE baseline")
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    text = markdown(run(args.trials))
    args.output.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
