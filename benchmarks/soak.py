"""Load and soak: many WebSocket clients across many sessions for a while, with messages,
cancels and dropped connections mixed in; then check that nothing was lost or repeated.

    python -m benchmarks.soak                      # 500 clients, 100 sessions, 60 s
    python -m benchmarks.soak --clients 20 --sessions 4 --seconds 5

One server (``python -m serving``, SQLite store) on a free loopback port; clients run in a few
worker processes (one Python process cannot drive 500 sockets and their JSON on 2 cores).
Every client subscribes from the start of its session's log and resumes from its last offset
after each drop. At the end each client's stream of offsets is compared with the log itself:

- lost: events of the log (up to where the client got) that the client never received;
- duplicated: events received twice (an offset not after the last one);
- errors: error replies other than the expected refusals (busy, run_not_active), unexpected
  close codes, exceptions;
- latency: server write time (the event's ``ts``) to client receipt, for live ``delta``
  events only (not for history replayed after a drop);
- memory: the server process's RSS at the start, the middle and the end.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import random
import statistics
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import websockets

from benchmarks.servers import SERVERS, RunningServer

RESULTS = Path(__file__).resolve().parent / "results" / "soak.md"
EXPECTED_REFUSALS = {"BUSY", "RUN_NOT_ACTIVE"}
WORDS = ("the", "penguin", "model", "answers", "every", "question", "with", "a", "streamed", "text")


@dataclass
class ClientReport:
    session: str
    position: str = ""
    received: int = 0
    digest: str = ""
    duplicated: int = 0
    errors: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    sent: int = 0
    cancels: int = 0
    drops: int = 0


class SoakClient:
    """One device following one session, acting now and then, dropping now and then."""

    def __init__(self, ws_url: str, session: str, seed: int) -> None:
        self.url = ws_url
        self.report = ClientReport(session)
        self.rng = random.Random(seed)
        self.position = "start"
        self.hash = hashlib.sha256()
        self.active_runs: set[str] = set()
        self.connected_at = 0.0

    async def run(self, stop_at: float) -> ClientReport:
        while time.time() < stop_at:
            try:
                await self._connection(stop_at)
            except (OSError, websockets.ConnectionClosed) as error:
                code = getattr(getattr(error, "rcvd", None), "code", None)
                if code not in (None, 1000, 1001, 1006, 1012):
                    self.report.errors.append(f"closed {code}: {error}")
                await asyncio.sleep(0.2)
        self.report.position = "" if self.position == "start" else self.position
        self.report.digest = self.hash.hexdigest()
        return self.report

    async def _connection(self, stop_at: float) -> None:
        async with websockets.connect(self.url, max_size=None, open_timeout=30) as ws:
            self.connected_at = time.time()
            await ws.send(json.dumps({"type": "subscribe", "id": "sub", "from": self.position}))
            reader = asyncio.create_task(self._read(ws))
            try:
                drop = await self._act(ws, stop_at)
            finally:
                if not drop:  # let the last live events arrive before leaving
                    await asyncio.sleep(1.0)
                reader.cancel()
                await asyncio.gather(reader, return_exceptions=True)

    async def _act(self, ws: Any, stop_at: float) -> bool:
        """Act until the end or a drop; True when the connection was dropped on purpose."""
        while time.time() < stop_at:
            await asyncio.sleep(self.rng.uniform(0.5, 3.0))
            if time.time() >= stop_at:
                break
            roll = self.rng.random()
            if roll < 0.3:
                words = " ".join(self.rng.choices(WORDS, k=12))
                await ws.send(
                    json.dumps(
                        {
                            "type": "send",
                            "id": f"m{self.rng.getrandbits(48)}",
                            "data": {"text": words},
                            "params": {"speed": 40},
                        }
                    )
                )
                self.report.sent += 1
            elif roll < 0.4 and self.active_runs:
                run = self.rng.choice(sorted(self.active_runs))
                cancel = {"type": "cancel", "id": f"c{self.rng.getrandbits(48)}", "run": run}
                await ws.send(json.dumps(cancel))
                self.report.cancels += 1
            elif roll < 0.5:
                self.report.drops += 1
                await ws.close()
                return True
        return False

    async def _read(self, ws: Any) -> None:
        async for frame in ws:
            now = time.time()
            for item in json.loads(frame):
                if "session" not in item:
                    self._reply(item)
                    continue
                offset = item["offset"]
                if self.position != "start" and offset <= self.position:
                    self.report.duplicated += 1
                    continue
                self.position = offset
                self.report.received += 1
                self.hash.update(offset.encode())
                kind = item["type"]
                if kind == "run.started":
                    self.active_runs.add(item["run"])
                elif kind.startswith("run."):
                    self.active_runs.discard(item["run"])
                elif kind == "delta" and item["ts"] >= self.connected_at:
                    self.report.latencies_ms.append((now - item["ts"]) * 1000)

    def _reply(self, item: dict[str, Any]) -> None:
        if item["type"] == "ack" and item.get("id") == "sub" and self.position == "start":
            if item["offset"] != "0000000000000000_0000000000000000":
                self.position = item["offset"]
        elif item["type"] == "error" and item.get("code") not in EXPECTED_REFUSALS:
            self.report.errors.append(f"{item.get('code')}: {item.get('message')}")


def run_worker(base_ws: str, assignments: list[tuple[str, int]], stop_at: float) -> list[dict]:
    """One worker process: its share of the clients, until ``stop_at`` (wall clock)."""

    async def main() -> list[ClientReport]:
        clients = [
            SoakClient(f"{base_ws}/v1/sessions/{session}/ws?device=c{seed}", session, seed)
            for session, seed in assignments
        ]
        return await asyncio.gather(*(client.run(stop_at) for client in clients))

    return [asdict(report) for report in asyncio.run(main())]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


async def _log_offsets(base_ws: str, session: str, until: str) -> list[str]:
    """The offsets of the session's log, from the start up to ``until``, read once."""
    offsets: list[str] = []
    if not until:
        return offsets
    async with websockets.connect(f"{base_ws}/v1/sessions/{session}/ws", max_size=None) as ws:
        await ws.send(json.dumps({"type": "subscribe", "id": "check", "from": "start"}))
        while not offsets or offsets[-1] < until:
            for item in json.loads(await ws.recv()):
                if "session" in item:
                    offsets.append(item["offset"])
    return offsets


def verify(base_ws: str, reports: list[dict]) -> tuple[int, int]:
    """(events lost, log events checked): each client's offsets against the log."""
    lost = checked = 0
    by_session: dict[str, list[dict]] = {}
    for report in reports:
        by_session.setdefault(report["session"], []).append(report)

    async def check() -> None:
        nonlocal lost, checked
        for session, clients in by_session.items():
            furthest = max(client["position"] for client in clients)
            log = await _log_offsets(base_ws, session, furthest)
            checked += len(log)
            for client in clients:
                prefix = [o for o in log if o <= client["position"]] if client["position"] else []
                digest = hashlib.sha256("".join(prefix).encode()).hexdigest()
                if digest != client["digest"]:
                    lost += max(len(prefix) - client["received"], 1)

    asyncio.run(check())
    return lost, checked


def soak(clients: int, sessions: int, seconds: float, workers: int) -> dict[str, Any]:
    with RunningServer(SERVERS["ours-sqlite"]) as server:
        base_ws = server.url.replace("http://", "ws://")
        with httpx.Client(base_url=server.url, timeout=30) as http:
            ids = [http.post("/v1/sessions").json()["id"] for _ in range(sessions)]
        memory = {"start": rss_mib(server.pid)}
        stop_at = time.time() + seconds
        threading.Timer(
            seconds / 2, lambda: memory.setdefault("middle", rss_mib(server.pid))
        ).start()
        shares: list[list[tuple[str, int]]] = [[] for _ in range(workers)]
        for n in range(clients):
            shares[n % workers].append((ids[n % sessions], n))
        with ProcessPoolExecutor(workers) as pool:
            futures = [pool.submit(run_worker, base_ws, share, stop_at) for share in shares]
            reports = [report for future in futures for report in future.result()]
        memory["end"] = rss_mib(server.pid)
        lost, checked = verify(base_ws, reports)
    latencies = sorted(ms for report in reports for ms in report["latencies_ms"])
    return {
        "clients": clients,
        "sessions": sessions,
        "seconds": seconds,
        "workers": workers,
        "errors": sum(len(report["errors"]) for report in reports),
        "error_samples": [e for report in reports for e in report["errors"]][:5],
        "lost": lost,
        "duplicated": sum(report["duplicated"] for report in reports),
        "events_delivered": sum(report["received"] for report in reports),
        "log_events": checked,
        "messages": sum(report["sent"] for report in reports),
        "cancels": sum(report["cancels"] for report in reports),
        "drops": sum(report["drops"] for report in reports),
        "latency_p50_ms": statistics.median(latencies) if latencies else None,
        "latency_p99_ms": latencies[int(len(latencies) * 0.99) - 1] if latencies else None,
        "latency_samples": len(latencies),
        "rss_mib": memory,
    }


def markdown(result: dict[str, Any]) -> str:
    rss = result["rss_mib"]
    p50, p99 = result["latency_p50_ms"], result["latency_p99_ms"]
    rows = [
        (
            "clients / sessions / seconds",
            f"{result['clients']} / {result['sessions']} / "
            f"{result['seconds']:g} ({result['workers']} client processes)",
        ),
        (
            "messages sent / cancels / drops",
            f"{result['messages']} / {result['cancels']} / {result['drops']}",
        ),
        (
            "events delivered (log events checked)",
            f"{result['events_delivered']} ({result['log_events']})",
        ),
        ("errors (must be 0)", str(result["errors"])),
        ("events lost (must be 0)", str(result["lost"])),
        ("events duplicated (must be 0)", str(result["duplicated"])),
        ("delivery latency p50 / p99", f"{p50:.1f} ms / {p99:.1f} ms" if p50 else "n/a"),
        (
            "server RSS start / middle / end",
            " / ".join(
                f"{rss.get(key, float('nan')):.0f} MiB" for key in ("start", "middle", "end")
            ),
        ),
    ]
    table = "\n".join(f"| {name} | {value} |" for name, value in rows)
    return (
        "# Soak: concurrent WebSocket clients on one server (SQLite)\n\n"
        "`python -m benchmarks.soak` (see its docstring for what each figure means).\n\n"
        f"| measure | value |\n|---|---|\n{table}\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=4, help="client processes")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    result = soak(args.clients, args.sessions, args.seconds, args.workers)
    text = markdown(result)
    args.output.write_text(text)
    print(text)
    print(json.dumps({k: v for k, v in result.items() if k != "error_samples"}))
    for sample in result["error_samples"]:
        print("error:", sample)
    healthy = result["errors"] == 0 and result["lost"] == 0 and result["duplicated"] == 0
    return 0 if healthy else 1


if __name__ == "__main__":
    raise SystemExit(main())
