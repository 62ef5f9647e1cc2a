"""Which version of a model is live: promote and roll back, written into a durable log.

The registry serves every exported version of a model side by side; one of them is *live*, the
one a request that names no version gets. Which one is decided by the model's control log, the
JSON stream ``models/<name>/control`` (readable like any stream, ``read`` on it; written only
by the server, as ``models/<name>/predictions``). Each record is a whole state, not a delta:

    {"kind": "promote", "id": "control-5e2b9c0d1a7f", "model": "penguin-classifier",
     "version": "2", "previous": "1", "history": ["1", "2"], "time": 1733361000.1,
     "by": "operator", "reason": null}

``history`` is the versions made live, oldest first, the live one last (at most HISTORY
long). The last record of the log is the state: nothing to fold, so a log that Redis trims
(``max_records``) or a process that starts late reads the same state from one record, and of
two operators who press at once the one whose record is later wins, everywhere alike.
``rollback`` goes to the version before the live one in ``history`` (``NOTHING_TO_ROLL_BACK``
when there is none) and drops the live one from it, so a second rollback goes one further; a
model never promoted counts its versions as its history (each went live when exported).

A model whose log is empty (never promoted) has no pin: its newest version is live, so a
version exported from a notebook is served at once, as before versions had a log. The first
promote pins; from then on a new export waits for a promote. ``retrain`` pins the version it
started from before it exports (unless asked ``"promote": true``): see
serving.models.agents.retrain for why.

Every server process follows every model's control log (``LiveVersions.run``: one task per
model, blocked in ``store.wait`` until the log grows, so a promote written by one process
reaches the others as soon as the store tells them: Redis pub/sub, in-process for the memory
and SQLite stores). The process that wrote the command applies it before it answers, so its
own next request is already served by the new version. A run resolves its version once, when
it starts (RequestReader.model), so a run already under way finishes on the version it started
with, whatever is promoted meanwhile.

The pure part (``promote_state``, ``rollback_state``, ``live_of``) decides; the rest reads and
appends.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from serving.models.errors import NothingToRollBack
from serving.sessions.events import dumps
from serving.streams.errors import OffsetTrimmed, StoreUnavailable, StreamNotFound
from serving.streams.offsets import ZERO, Offset
from serving.streams.store import AppendRequest, CreateRequest, Store

__all__ = [
    "HISTORY",
    "LiveVersions",
    "NothingToRollBack",
    "control_stream",
    "live_of",
    "promote_state",
    "rollback_state",
]

logger = logging.getLogger(__name__)

HISTORY = 20
"""Live versions a control record remembers: how far rollbacks can go back."""
WAIT_SECONDS = 30.0
"""A follower's wait for news of one log; it then reads again (a missed notification costs at
most this)."""
RETRY_SECONDS = 0.5
JSON = "application/json"


def control_stream(model: str) -> str:
    """The stream of a model's promote and rollback records."""
    return f"models/{model}/control"


# --- the pure core ----------------------------------------------------------------------------


@dataclass(frozen=True)
class LiveState:
    """A model's live history from its last control record: oldest first, live last; empty
    when the model was never promoted (its newest version is live)."""

    history: tuple[str, ...] = ()

    @property
    def pinned(self) -> str | None:
        return self.history[-1] if self.history else None


def promote_state(state: LiveState, version: str, current: str) -> LiveState:
    """The state after promoting ``version``; ``current`` is the version live now (the newest,
    when nothing is pinned), remembered so a rollback can return to it."""
    history = list(state.history) or [current]
    history = [v for v in history if v != version] + [version]
    return LiveState(tuple(history[-HISTORY:]))


def rollback_state(state: LiveState, model: str, loaded: Sequence[str] = ()) -> LiveState:
    """The state after a rollback: the version before the live one becomes live.

    A model never promoted went live version by version as each was exported: its history is
    then ``loaded`` (oldest first, the newest live), so a rollback goes to the version before
    the newest, as whoever exported it expects."""
    history = state.history or tuple(loaded)
    if len(history) < 2:
        raise NothingToRollBack(
            f"model {model} has no earlier live version to roll back to (version "
            f"{history[-1] if history else '?'} is the first that was live): promote a version "
            "by name instead, e.g. promote(model, '1')"
        )
    return LiveState(history[:-1])


def live_of(history: Sequence[str], loaded: Sequence[str]) -> str | None:
    """The live version among ``loaded`` (oldest first): the latest of ``history`` this
    process has loaded (a version promoted elsewhere and not yet loaded here, or deleted, is
    passed over), else None (the newest loaded is live)."""
    for version in reversed(history):
        if version in loaded:
            return version
    return None


def control_record(
    *, kind: str, model: str, state: LiveState, previous: str, by: str | None, reason: str | None
) -> dict[str, Any]:
    return {
        "kind": kind,
        "id": f"control-{secrets.token_hex(6)}",
        "model": model,
        "version": state.pinned,
        "previous": previous,
        "history": list(state.history),
        "time": round(time.time(), 3),
        "by": by,
        "reason": reason,
    }


def state_of(record: Any) -> LiveState | None:
    """The state a control record holds, None for anything else (a record of another kind)."""
    if not isinstance(record, dict) or record.get("kind") not in ("promote", "rollback"):
        return None
    history = record.get("history")
    if not isinstance(history, list) or not all(isinstance(v, str) for v in history):
        return None
    return LiveState(tuple(history[-HISTORY:]))


# --- reading and writing the logs -------------------------------------------------------------


class LiveVersions:
    """Every model's live history, as this process has read it from the control logs; the
    commands that append to them. ``on_change(name, history)`` is called on every new state
    (the registry's ``set_live``)."""

    def __init__(self, store: Store, on_change: Callable[[str, tuple[str, ...]], None]) -> None:
        self.store = store
        self.on_change = on_change
        self._states: dict[str, LiveState] = {}
        self._read_to: dict[str, Offset] = {}
        self._created: set[str] = set()
        self._followers: dict[str, asyncio.Task[None]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.records_read = 0
        """Control records this process has read (tests count them)."""

    def state(self, name: str) -> LiveState:
        return self._states.get(name, LiveState())

    async def catch_up(self, name: str) -> LiveState:
        """Read model ``name``'s control log from where this process stopped; its state."""
        lock = self._locks.setdefault(name, asyncio.Lock())
        async with lock:
            path = control_stream(name)
            if name not in self._created:
                await self.store.create(path, CreateRequest(content_type=JSON))
                self._created.add(name)
            while True:
                try:
                    result = await self.store.read(path, self._read_to.get(name, ZERO), 1 << 20)
                except OffsetTrimmed as trimmed:
                    self._read_to[name] = trimmed.earliest
                    continue
                except StreamNotFound:  # deleted meanwhile (expiry): made again next time
                    self._created.discard(name)
                    return self.state(name)
                for raw in result.records:
                    for record in json.loads(b"[" + raw + b"]"):
                        self.records_read += 1
                        state = state_of(record)
                        if state is not None:
                            self._apply(name, state)
                self._read_to[name] = result.next_offset
                if result.up_to_date:
                    return self.state(name)

    def _apply(self, name: str, state: LiveState) -> None:
        if self._states.get(name) != state:
            self._states[name] = state
            self.on_change(name, state.history)

    async def command(
        self,
        name: str,
        kind: str,
        change: Callable[[LiveState], LiveState],
        *,
        current: str,
        by: str | None = None,
        reason: str | None = None,
    ) -> dict[str, Any]:
        """Append the state ``change`` makes of the latest one (read first: another process
        may have written since), apply it here, and return the record written."""
        state = await self.catch_up(name)
        new = change(state)
        record = control_record(
            kind=kind, model=name, state=new, previous=current, by=by, reason=reason
        )
        await self.store.append(
            control_stream(name), AppendRequest(data=dumps(record), content_type=JSON)
        )
        await self.catch_up(name)  # reads its own record back: applied before the answer
        return record

    # --- following, while the server runs -----------------------------------------------------

    async def run(self, names: Callable[[], Sequence[str]], every: float = 1.0) -> None:
        """Read every model's log once (a process that starts serves the live version from its
        first request), then follow each model's log, and those of models that appear."""
        for name in names():
            try:
                await self.catch_up(name)
            except StoreUnavailable:
                logger.warning(
                    "the store is unavailable: %s's live version is read when it is back", name
                )
            except Exception:  # its follower (below) tries again
                logger.exception("model %s: reading its control log failed; retrying", name)
        while True:
            self.follow(names())
            await asyncio.sleep(every)

    def follow(self, names: Sequence[str]) -> None:
        """Follow the logs of ``names`` not followed yet (the models watcher's names)."""
        for name in names:
            if name not in self._followers:
                self._followers[name] = asyncio.create_task(self._follow(name))

    async def _follow(self, name: str) -> None:
        path = control_stream(name)
        while True:
            try:
                await self.catch_up(name)
                await self.store.wait(path, self._read_to.get(name, ZERO), WAIT_SECONDS)
            except asyncio.CancelledError:
                raise
            except StoreUnavailable:  # Redis away: the state known stays until it is back
                await asyncio.sleep(RETRY_SECONDS)
            except Exception:
                logger.exception("model %s: reading its control log failed; retrying", name)
                await asyncio.sleep(RETRY_SECONDS * 4)

    async def stop(self) -> None:
        followers, self._followers = list(self._followers.values()), {}
        for task in followers:
            task.cancel()
        for task in followers:
            with contextlib.suppress(asyncio.CancelledError):
                await task
