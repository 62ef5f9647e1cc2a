"""Retention soak: weeks of a server's life in minutes, with an injected clock.

    python -m benchmarks.retention_soak                 # 21 days, TTL 3 days, 12 sessions/h
    python -m benchmarks.retention_soak --days 4 --ttl-hours 12 --rate 6

Sessions are created, used and abandoned at a steady rate: each simulated hour ``rate`` new
sessions each get a run of an agent that writes ``DELTAS`` deltas, an upload (``UPLOAD_BYTES``)
and a batch result (``RESULT_BYTES``); one upload in ten is left as an interrupted ``.part``
file. Nobody comes back to them. The clock jumps an hour at a time (no real waiting); after each
hour the retention sweep (serving.retention) runs, as the server's own task would.

It runs in this process, on the real sessions layer and store (SQLite in a temporary folder; a
real redis-server), with everything the server process holds (SessionService, Retention,
the ledger), so "server memory" is this process's RSS. Every simulated ``CHECK_HOURS`` it
records: live sessions, store size (SQLite file + WAL; Redis ``used_memory``), data folder
bytes and files, RSS; and checks, without reading (a read would renew the session), that every
session idle for less than the TTL is still there with the tail it had. At the end every
session within the window is read back in full and compared (event count and SHA-256) with
what was read right after it was written: ``lost`` must be 0.

The bound: a session lives its TTL plus at most one sweep, so about
``rate * (ttl_hours + 1)`` sessions are alive at any time, whatever the elapsed time; disk and
memory follow them. ``sweep_stall`` measures a single sweep of 10,000 expired sessions: the
longest the event loop waits meanwhile (a probe that sleeps 1 ms) and the store before/after.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.redis_server import RedisServer
from serving.models.results import Results
from serving.models.uploads import Uploads
from serving.retention import Retention
from serving.sessions import SessionService
from serving.sessions.agents import Agent, AgentRegistry
from serving.sessions.commands import Send
from serving.sessions.errors import SessionNotFound
from serving.sessions.events import EventType
from serving.sessions.runs import RunContext
from serving.sessions.session import PREFIX
from serving.sessions.settings import SessionSettings
from serving.streams import Store
from serving.streams.errors import StreamError
from serving.streams.offsets import Offset
from serving.streams.redis_store import RedisStore
from serving.streams.sqlite import SQLiteStore

RESULTS = Path(__file__).resolve().parent / "results" / "retention.md"
PLOT = RESULTS.with_suffix(".png")
HOUR = 3600.0
DELTAS = 20
UPLOAD_BYTES = 16 * 1024
RESULT_BYTES = 8 * 1024
CHECK_HOURS = 6
STORES = ("sqlite", "redis")


class Clock:
    """The injected clock: Unix seconds, moved by the soak only."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


async def _answer(request: Mapping[str, Any], run: RunContext) -> str:
    for index in range(DELTAS):
        await run.delta(f"token {index} of a streamed answer ")
    return "done"


SOAK_AGENT = Agent("soak", _answer)


@dataclass
class Written:
    """What a session held right after it was used."""

    events: int
    digest: str
    tail: Offset
    last_used: float


@dataclass
class Sample:
    day: float
    sessions: int
    store_mib: float
    data_mib: float
    data_files: int
    rss_mib: float
    channels: int = 0
    """Redis: the store's news channels some connection subscribes to (PUBSUB CHANNELS)."""


@dataclass
class SoakResult:
    store: str
    days: float
    ttl_hours: float
    rate: int
    created: int = 0
    expired: int = 0
    checked_live: int = 0
    lost: int = 0
    early: int = 0
    """Sessions still within the TTL that were missing or changed at a check (must be 0)."""
    late: int = 0
    """Sessions idle for more than the TTL plus a sweep that were still there (must be 0)."""
    bound_sessions: int = 0
    samples: list[Sample] = field(default_factory=list)
    seconds: float = 0.0


def rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _folder_bytes(folder: Path) -> tuple[int, int]:
    size = files = 0
    for root, _, names in os.walk(folder):
        for name in names:
            try:
                size += os.path.getsize(os.path.join(root, name))
                files += 1
            except FileNotFoundError:
                pass
    return size, files


@asynccontextmanager
async def open_soak_store(kind: str, folder: Path, clock: Clock) -> AsyncIterator[Store]:
    if kind == "sqlite":
        sqlite = SQLiteStore(folder / "streams.db", clock=clock)
        try:
            yield sqlite
        finally:
            await sqlite.aclose()
        return
    with RedisServer() as server:
        redis = RedisStore.from_url(f"{server.url}?prefix=soak:", clock=clock)
        try:
            yield redis
        finally:
            await redis.aclose()


async def store_bytes(store: Store) -> int:
    if isinstance(store, SQLiteStore):
        return sum(
            os.path.getsize(name)
            for name in (str(store.path), f"{store.path}-wal")
            if os.path.exists(name)
        )
    assert isinstance(store, RedisStore)
    info = await store._link.call("INFO", "memory")
    text = info.decode() if isinstance(info, bytes) else str(info)
    for line in text.splitlines():
        if line.startswith("used_memory:"):
            return int(line.split(":")[1])
    return 0


async def store_channels(store: Store) -> int:
    """Redis pub/sub channels of the store's prefix still subscribed (0 for SQLite): each holds
    about 250 bytes of Redis memory, so they must follow the live streams, not the churn."""
    if not isinstance(store, RedisStore):
        return 0
    found = await store._link.call("PUBSUB", "CHANNELS", f"{store.prefix}news:*")
    return len(found)


async def _read_all(service: SessionService, session_id: str) -> tuple[int, str]:
    session = await service.open(session_id)
    digest = hashlib.sha256()
    count = 0
    async for batch in session.log.scan():
        for event in batch.events:
            digest.update(event)
            count += 1
    return count, digest.hexdigest()


async def _use_one(
    service: SessionService, uploads: Uploads, results: Results, clock: Clock, index: int
) -> tuple[str, Written]:
    created = await service.create(None)
    session = await service.open(created.id)
    ack = await service.execute(session, Send(data={"text": "hello"}, agent="soak"), "laptop")
    run = session.runs.get(ack["run"])
    if run is not None:
        await run.finished()
    await session.log.flushed()
    now = clock()
    if index % 10 == 9:  # an upload interrupted by a crash: its .part stays behind
        partial = uploads.begin(created.id)
        partial.write(b"r" * UPLOAD_BYTES)
        partial._file.close()
        paths = list((uploads.folder / created.id).iterdir())
    else:
        upload_id = uploads.save(created.id, b"a,b\n" + b"1,2\n" * (UPLOAD_BYTES // 4))
        paths = [uploads.folder / created.id / f"{upload_id}.csv"]
    writer = results.create(["row", "prediction"])
    writer.write(b"0,Adelie\n" * (RESULT_BYTES // 9), RESULT_BYTES // 9)
    paths.append(writer.commit())
    for path in (*paths, uploads.folder / created.id):
        os.utime(path, (now, now))  # written "now", on the simulated clock
    events, digest = await _read_all(service, created.id)
    meta = await service.store.head(PREFIX + created.id)
    return created.id, Written(events, digest, meta.tail, now)


async def _check(
    service: SessionService, written: dict[str, Written], now: float, ttl: float, result: SoakResult
) -> None:
    """Without renewing anything (head only): within the TTL, there with its tail; past the
    TTL and a sweep, gone."""
    for session_id, what in list(written.items()):
        idle = now - what.last_used
        try:
            meta = await service.store.head(PREFIX + session_id)
        except StreamError:
            meta = None
        if idle < ttl and (meta is None or meta.tail != what.tail):
            result.early += 1
        elif idle >= ttl + HOUR and meta is not None:
            result.late += 1
        if meta is None and idle >= ttl:
            del written[session_id]
            result.expired += 1


async def soak(
    store_kind: str = "sqlite",
    *,
    days: float = 21.0,
    ttl_hours: float = 72.0,
    rate: int = 12,
    folder: Path | None = None,
) -> SoakResult:
    """One store's soak; see the module docstring."""
    started = time.perf_counter()
    result = SoakResult(store_kind, days, ttl_hours, rate)
    result.bound_sessions = int(rate * (ttl_hours + 1))
    temporary = None
    if folder is None:
        temporary = tempfile.mkdtemp(prefix=f"retention-soak-{store_kind}-")
        folder = Path(temporary)
    clock = Clock()
    ttl = ttl_hours * HOUR
    data = folder / "data"
    uploads, results = Uploads(data / "uploads"), Results(data / "results")
    try:
        async with open_soak_store(store_kind, folder, clock) as store:
            service = SessionService(
                store,
                agents=AgentRegistry([SOAK_AGENT]),
                signer=None,
                open_access=True,
                settings=SessionSettings(default_agent="soak", session_ttl_seconds=ttl),
                clock=clock,
            )
            await service.start()
            retention = Retention(
                store,
                ttl_seconds=ttl,
                data_dir=data,
                clock=clock,
                active=service.in_use,
                on_expired=service.expired,
                after_sweep=service.ledger.compact,
            )
            written: dict[str, Written] = {}
            hours = int(days * 24)
            for hour in range(hours):
                used = await asyncio.gather(
                    *(
                        _use_one(service, uploads, results, clock, result.created + index)
                        for index in range(rate)
                    )
                )
                written.update(used)
                result.created += rate
                clock.now += HOUR
                await retention.collect()
                if (hour + 1) % CHECK_HOURS == 0:
                    await _check(service, written, clock(), ttl, result)
                    data_bytes, data_files = _folder_bytes(data)
                    live = [p for p in await store.paths(PREFIX) if len(p) == len(PREFIX) + 32]
                    result.samples.append(
                        Sample(
                            day=(hour + 1) / 24,
                            sessions=len(live),
                            store_mib=await store_bytes(store) / 2**20,
                            data_mib=data_bytes / 2**20,
                            data_files=data_files,
                            rss_mib=rss_mib(),
                            channels=await store_channels(store),
                        )
                    )
            for session_id, what in written.items():  # read back every live session in full
                if clock() - what.last_used >= ttl:
                    continue
                try:
                    if await _read_all(service, session_id) != (what.events, what.digest):
                        result.lost += 1
                except SessionNotFound:
                    result.lost += 1
                result.checked_live += 1
            await service.stop()
    finally:
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)
    result.seconds = time.perf_counter() - started
    return result


# --- one big sweep: the event loop's longest stall ------------------------------------------


@dataclass
class StallResult:
    store: str
    sessions: int
    sweep_seconds: float
    longest_stall_ms: float
    store_mib_before: float
    store_mib_after: float


async def sweep_stall(store_kind: str = "sqlite", sessions: int = 10_000) -> StallResult:
    """``sessions`` sessions with one run each, all expired, swept at once."""
    temporary = Path(tempfile.mkdtemp(prefix=f"retention-stall-{store_kind}-"))
    clock = Clock()
    try:
        async with open_soak_store(store_kind, temporary, clock) as store:
            service = SessionService(
                store,
                agents=AgentRegistry([SOAK_AGENT]),
                signer=None,
                open_access=True,
                settings=SessionSettings(default_agent="soak"),
                clock=clock,
            )
            for start in range(0, sessions, 250):
                await asyncio.gather(
                    *(_one_event(service) for _ in range(min(250, sessions - start)))
                )
            before = await store_bytes(store)
            clock.now += 2 * HOUR
            retention = Retention(store, ttl_seconds=HOUR, clock=clock)
            longest = 0.0
            done = asyncio.Event()

            async def probe() -> None:
                nonlocal longest
                while not done.is_set():
                    mark = time.perf_counter()
                    await asyncio.sleep(0.001)
                    longest = max(longest, time.perf_counter() - mark - 0.001)

            watcher = asyncio.create_task(probe())
            await asyncio.sleep(0.01)
            mark = time.perf_counter()
            collected = await retention.collect()
            elapsed = time.perf_counter() - mark
            done.set()
            await watcher
            assert len(collected.sessions) == sessions, collected.summary()
            after = await store_bytes(store)
            await service.stop()
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
    return StallResult(store_kind, sessions, elapsed, longest * 1000, before / 2**20, after / 2**20)


async def _one_event(service: SessionService) -> None:
    created = await service.create(None)
    session = await service.open(created.id)
    await session.log.append(EventType.MESSAGE, device="laptop", data={"text": "x" * 200})
    service._forget_if_idle(session)


# --- the report -----------------------------------------------------------------------------


def levelled(result: SoakResult) -> tuple[int, int]:
    """(most sessions alive in the second half, the bound): the first must not pass the second."""
    half = [s.sessions for s in result.samples if s.day > result.days / 2]
    return max(half, default=0), result.bound_sessions


def plot(results: list[SoakResult], path: Path = PLOT) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 4, figsize=(16, 4))
    for result in results:
        days = [s.day for s in result.samples]
        axes[0].plot(days, [s.sessions for s in result.samples], label=result.store)
        label = "SQLite file + WAL" if result.store == "sqlite" else "Redis used_memory"
        axes[1].plot(days, [s.store_mib for s in result.samples], label=label)
        axes[2].plot(days, [s.data_mib for s in result.samples], label=result.store)
        axes[3].plot(days, [s.rss_mib for s in result.samples], label=result.store)
    first = results[0]
    axes[0].axhline(first.bound_sessions, color="grey", linestyle="--", label="rate x (TTL + 1 h)")
    titles = ("live sessions", "store (MiB)", "data/ uploads + results (MiB)", "server RSS (MiB)")
    for axis, title in zip(axes, titles, strict=True):
        axis.set_title(title)
        axis.set_xlabel("simulated day")
        axis.axvline(first.ttl_hours / 24, color="lightgrey", linestyle=":")
        axis.legend(fontsize=8)
        axis.set_ylim(bottom=0)
    figure.suptitle(
        f"Retention soak: {first.rate} sessions/hour, TTL {first.ttl_hours:g} h, "
        f"{first.days:g} simulated days (dotted: one TTL)"
    )
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)


NOTES = """
How to read it: a session lives its TTL after its last use, so after one TTL (the dotted line)
as many sessions expire each hour as are created, and everything that follows them stays
flat: the live sessions sit under *rate x (TTL + 1 h)*, the data folder holds the same files
(an upload or a `.part`, and a result, per live session), the SQLite file keeps its size (the
freed pages go back to the file system at each sweep: the small teeth are the WAL between
checkpoints), and the process's RSS stops growing (it first grows with the allocator's pools;
the SQLite run's still gained 3 MiB, 1.5 %, from day 6 to day 42: not looked into yet).
Redis `used_memory` levels off too: what moves in it is the ledger's log, which grows
between compactions (about 0.1 MiB, the teeth). It used to creep (9.9 -> 10.4 MiB from day 6
to day 21, about 120 bytes per expired session, with the keys flat at 833). Redis's own
introspection between phases of a 6-day run (TTL 1 day, 12 per hour) put the bytes outside
the keyspace: `MEMORY USAGE` of every key (logs, metadata, paths, the deadlines index), the
main hash table (41 KiB), the scripts cache (6.5 KiB: EVALSHA, no script text varies) and the
AOF and replication buffers were all flat, but `PUBSUB CHANNELS` listed a news channel for
every session ever created (1,728, of which 276 alive). A process subscribes to a session's
channel while a reader waits on it (a run's control follower does) and let the subscription
go after 30 s of *real* time with no waiter; the soak lives an hour in 0.2 s, so channels
piled up until a linger tick dropped a batch (the fall at day 14.5 of the 21-day run). Each
held about 250 bytes (the channel in Redis's table and in the connection's: 252 bytes a
channel fitted, `used_memory` 4.46 -> 4.80 MiB over those 6 days). A live server's linger
bounds them by the sessions read in the last minute, but a deleted or expired stream's
channel is of no use: serving/streams/redis_watch.py now unsubscribes it as soon as no reader
waits on it (tests/serving/streams/test_redis_watch.py), so the channels follow the live
sessions (276 in that run, at every check) and `used_memory` stays within 4.43-4.52 MiB from
day 2 to day 6. The table's *news channels* row is the most subscribed from two TTLs on; it
stays under the live sessions' bound.
Nothing within the TTL was lost: every session still within it
at the end was read back in full and matched what was read right after it was written, and
at every check (without reading, which would renew) each one was there with its tail.
"""


def _command(result: SoakResult) -> str:
    """The runner's command line that gives ``result``'s parameters."""
    options = [
        f"--{name} {value:g}"
        for name, value, default in (
            ("days", result.days, 21.0),
            ("ttl-hours", result.ttl_hours, 72.0),
            ("rate", result.rate, 12),
        )
        if value != default
    ]
    return " ".join(["python -m benchmarks.retention_soak", *options])


def after_one_ttl(result: SoakResult) -> list[Sample]:
    """The samples from two TTLs on (one TTL to fill, one more for the sweeps to follow)."""
    return [s for s in result.samples if s.day >= 2 * result.ttl_hours / 24]


def markdown(results: list[SoakResult], stalls: list[StallResult]) -> str:
    lines = [
        "# Retention: bounded under a long soak",
        "",
        f"`{_command(results[0])}` (the module docstring says how; "
        "tests/benchmarks/test_retention_soak.py runs a short one).",
        "",
        f"![curves]({PLOT.name})",
        "",
        "| measure | " + " | ".join(r.store for r in results) + " |",
        "|---|" + "---|" * len(results),
    ]

    def row(name: str, values: list[str]) -> None:
        lines.append(f"| {name} | " + " | ".join(values) + " |")

    def at(result: SoakResult, day: float) -> Sample:
        return min(result.samples, key=lambda s: abs(s.day - day))

    row(
        "simulated days / TTL / rate",
        [f"{r.days:g} d / {r.ttl_hours:g} h / {r.rate} per h" for r in results],
    )
    row("sessions created / expired", [f"{r.created:,} / {r.expired:,}" for r in results])
    row(
        "live sessions, most in 2nd half (bound)",
        [f"{levelled(r)[0]} ({levelled(r)[1]})" for r in results],
    )
    for day in (results[0].ttl_hours / 24 * 2, results[0].days / 2, results[0].days):
        row(
            f"day {day:g}: store MiB / data MiB / files / RSS MiB",
            [
                f"{at(r, day).store_mib:.1f} / {at(r, day).data_mib:.1f} / "
                f"{at(r, day).data_files} / {at(r, day).rss_mib:.0f}"
                for r in results
            ],
        )
    row(
        "from day 2 x TTL: store MiB least - most",
        [
            f"{min(s.store_mib for s in after_one_ttl(r)):.2f} - "
            f"{max(s.store_mib for s in after_one_ttl(r)):.2f}"
            for r in results
        ],
    )
    row(
        "from day 2 x TTL: Redis news channels subscribed, most",
        [
            f"{max(s.channels for s in after_one_ttl(r)):,}" if r.store == "redis" else "-"
            for r in results
        ],
    )
    row("live sessions read back in full at the end", [f"{r.checked_live:,}" for r in results])
    row("events lost (must be 0)", [str(r.lost) for r in results])
    row("expired early / kept too long (must be 0)", [f"{r.early} / {r.late}" for r in results])
    row("wall time", [f"{r.seconds:.0f} s" for r in results])
    if stalls:
        lines += [
            "",
            "One sweep of many expired sessions (each with one event):",
            "",
            "| store | sessions | sweep | longest event-loop stall | store before → after |",
            "|---|---|---|---|---|",
        ]
        for stall in stalls:
            lines.append(
                f"| {stall.store} | {stall.sessions:,} | {stall.sweep_seconds:.1f} s | "
                f"{stall.longest_stall_ms:.1f} ms | {stall.store_mib_before:.1f} MiB → "
                f"{stall.store_mib_after:.1f} MiB |"
            )
    return "\n".join(lines) + "\n" + NOTES


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.retention_soak")
    parser.add_argument("--days", type=float, default=21.0)
    parser.add_argument("--ttl-hours", type=float, default=72.0)
    parser.add_argument("--rate", type=int, default=12, help="sessions per simulated hour")
    parser.add_argument("--stall-sessions", type=int, default=10_000)
    parser.add_argument("--stores", default=",".join(STORES))
    parser.add_argument("--write", action="store_true", help=f"write {RESULTS.name} and the PNG")
    args = parser.parse_args(argv)
    results, stalls = [], []
    for kind in args.stores.split(","):
        result = asyncio.run(soak(kind, days=args.days, ttl_hours=args.ttl_hours, rate=args.rate))
        print(asdict(result) | {"samples": len(result.samples)}, flush=True)
        results.append(result)
        if args.stall_sessions:
            stall = asyncio.run(sweep_stall(kind, args.stall_sessions))
            print(asdict(stall), flush=True)
            stalls.append(stall)
    text = markdown(results, stalls)
    print(text)
    if args.write:
        plot(results)
        RESULTS.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
