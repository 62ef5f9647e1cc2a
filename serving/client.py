"""The Python client of the session protocol: every event exactly once, across any drop.

Two clients with the same methods: AsyncSessionClient (asyncio) and SessionClient (blocking, for
notebooks and scripts; it runs an AsyncSessionClient on a background thread).

    from serving.client import SessionClient

    with SessionClient.create("http://127.0.0.1:8000", token=CREATE_TOKEN) as client:
        answer = client.ask("hello there")        # send, then wait for the run's ending
        print(answer.text)
        for event in client:                       # or iterate over every event of the session
            ...

The client keeps one WebSocket open and reconnects by itself (exponential backoff with
jitter), resuming from the offset of the last event it received, so the caller sees every
event once, in order, whatever happens to the network. Commands carry a fresh id and are
resent after a reconnect until their reply arrives; the server does a command once per id,
so a lost ack never doubles a message. While the server's store (Redis) is away, a command
refused with ``STORE_UNAVAILABLE`` is sent again after its ``retry_after``, a connection closed
with 4503 is reopened like any drop, and ``create`` retries a 503: an outage only delays.
See docs/PROTOCOL.md for the wire protocol. The client asks for compact deltas (v1.1: a
streamed token in about 66 bytes instead of 207, serving.sessions.compact) and rebuilds every
event whole, so its callers see the same Event objects; a server older than v1.1 refuses the
field, and the client subscribes again without it.

The client stands alone: it needs httpx, websockets and the pure serving.sessions.events (the
event envelope the server writes, one definition for both ends) and serving.sessions.compact
(the compact deltas' decoder), and ``import serving.client``
loads no FastAPI, Starlette, pydantic, uvicorn, scikit-learn or pandas, nor any server module
(tests/serving/test_client_imports.py). That import holds 366 modules instead of 574 and takes
147 ms of CPU instead of 441 (median of 11 fresh interpreters each, 2-core machine under load;
wall 391 ms instead of 1,071), most of it httpx (89 ms), asyncio and websockets.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Coroutine, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Self, TypeVar
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from serving.sessions.compact import COMPACT, DeltaDecoder
from serving.sessions.events import Event, EventType

__all__ = [
    "Ack",
    "Answer",
    "AsyncSessionClient",
    "Backoff",
    "CommandError",
    "SessionClient",
    "SessionClosed",
]

logger = logging.getLogger(__name__)
T = TypeVar("T")
_WORDS = ("start", "new")
STORE_UNAVAILABLE = "STORE_UNAVAILABLE"
"""The error of a command refused because the server's store (Redis) is away: it did nothing,
and the client sends it again after the reply's ``retry_after`` seconds (docs/PROTOCOL.md)."""
CREATE_ATTEMPTS = 30
"""``create`` retries a 503 (Redis away) this many times, each after its Retry-After."""


class CommandError(Exception):
    """The server refused a command; ``code`` is the protocol's error code."""

    def __init__(self, code: str, message: str, command_id: str | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.command_id = command_id


class SessionClosed(Exception):
    """The client is closed, or the server refused it for good (``code`` 44xx: a bad token,
    an unknown session...): reconnecting would not help."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class Ack:
    """A command was done: ``offset`` of the event it wrote, ``run`` the run a send started."""

    id: str
    offset: str | None
    run: str | None = None


@dataclass(frozen=True, slots=True)
class Answer:
    """How a run ended, and what it said."""

    run: str
    status: str
    """``completed``, ``cancelled``, ``failed`` or ``interrupted``."""
    result: Any = None
    """The agent's return value (completed runs)."""
    text: str = ""
    """The run agent's streamed deltas, joined (what this client saw of them)."""
    error: str | None = None
    """Why it failed or was interrupted; who cancelled it."""


@dataclass(frozen=True, slots=True)
class Backoff:
    """Reconnect delays: ``initial`` seconds, doubling up to ``maximum``, with jitter."""

    initial: float = 0.05
    maximum: float = 2.0

    def delays(self) -> Iterator[float]:
        delay = self.initial
        while True:
            yield delay * random.uniform(0.5, 1.0)
            delay = min(delay * 2, self.maximum)


@dataclass
class _Run:
    """What the client knows of one run, for ``wait_for_answer``."""

    agent: str | None = None
    texts: list[str] = field(default_factory=list)
    ending: asyncio.Future[Event] | None = None


def _parse_session_url(url: str) -> tuple[str, str, str | None]:
    """``http(s)://HOST/v1/sessions/<id>[?access_token=...]`` or its ws URL -> (base, id, token)."""
    parts = urlsplit(url)
    segments = parts.path.rstrip("/").split("/")
    if segments[-1] == "ws":
        segments = segments[:-1]
    if len(segments) < 4 or segments[-3:-1] != ["v1", "sessions"]:
        raise ValueError(
            f"not a session URL: {url!r}; expected http://HOST/v1/sessions/<id> (the 'url' or "
            "'watch_url' returned when the session was created)"
        )
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    if scheme not in ("http", "https"):
        raise ValueError(f"unsupported scheme {parts.scheme!r} in {url!r}; use http or https")
    base = f"{scheme}://{parts.netloc}{'/'.join(segments[:-3])}"
    tokens = parse_qs(parts.query).get("access_token")
    return base, segments[-1], tokens[0] if tokens else None


class AsyncSessionClient:
    """One session, followed over a self-healing WebSocket."""

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        device: str | None = None,
        start: str = "start",
        backoff: Backoff = Backoff(),
        open_timeout: float = 10.0,
    ) -> None:
        """``url`` is the session's URL (its ``watch_url`` works too, token included);
        ``start`` is where the events begin: ``start``, ``new`` or an offset."""
        self.base_url, self.session, url_token = _parse_session_url(url)
        self.token = token or url_token
        self.device = device or f"py-{secrets.token_hex(4)}"
        self.backoff = backoff
        self.open_timeout = open_timeout
        self.created: dict[str, Any] | None = None
        """The server's answer when this client created the session (tokens, watch_url...)."""
        self.reconnects = 0
        """How many times the connection was re-established."""
        self._position = start
        self._events: asyncio.Queue[Event] = asyncio.Queue()
        self._pending: OrderedDict[str, tuple[str, asyncio.Future[Ack]]] = OrderedDict()
        self._runs: dict[str, _Run] = {}
        self._subscribe_id = ""
        self._subscribed = asyncio.Event()
        # Compact deltas (PROTOCOL.md v1.1) until a server refuses them (an older one).
        self._compact = True
        self._deltas = DeltaDecoder()
        self._ws: ClientConnection | None = None
        # Where commands go out: the connection once its subscribe is sent. The server handles
        # frames in order, so a command need not wait for the subscription's reply.
        self._commands_ws: ClientConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._failure: SessionClosed | None = None
        self._next: asyncio.Future[Event] | None = None

    # --- lifecycle ---------------------------------------------------------------------------

    @classmethod
    async def create(cls, server: str, *, token: str | None = None, **options: Any) -> Self:
        """Create a session on ``server`` (``token`` needs the ``create`` scope unless the
        server is open) and connect to it with its ``control`` token."""
        headers = {"authorization": f"Bearer {token}"} if token else {}
        async with httpx.AsyncClient() as http:
            url = f"{server.rstrip('/')}/v1/sessions"
            response = await http.post(url, headers=headers)
            for _ in range(CREATE_ATTEMPTS):  # 503: the store (Redis) is away for a moment
                if response.status_code != 503:
                    break
                await asyncio.sleep(_retry_after(response))
                response = await http.post(url, headers=headers)
        if response.status_code != 201:
            raise CommandError(*_http_error(response))
        created = response.json()
        tokens = created["tokens"]
        client = cls(created["url"], token=tokens["control"] if tokens else None, **options)
        client.created = created
        return await client.connect()

    async def connect(self) -> Self:
        """Open the connection and wait until the subscription is acknowledged."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"session {self.session}")
        waiter = asyncio.ensure_future(self._subscribed.wait())
        await asyncio.wait({waiter, self._task}, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        self._raise_if_failed()
        return self

    async def close(self) -> None:
        if self._failure is None:
            self._fail(SessionClosed("the client was closed"))
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._next is not None:  # a wait that timed out: nobody will read its event
            self._next.cancel()
            await asyncio.gather(self._next, return_exceptions=True)
            self._next = None
        if self._ws is not None:
            await self._ws.close()

    async def __aenter__(self) -> Self:
        return await self.connect()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def position(self) -> str:
        """The offset of the last event received (or the subscription's start)."""
        return self._position

    # --- commands ----------------------------------------------------------------------------

    async def send(
        self,
        data: Mapping[str, Any],
        *,
        agent: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> Ack:
        """Send a message (it starts a run; ``Ack.run`` is its id)."""
        command: dict[str, Any] = {"type": "send", "data": dict(data)}
        if agent is not None:
            command["agent"] = agent
        if params:
            command["params"] = dict(params)
        return await self._command(command)

    async def cancel(self, run: str) -> Ack:
        return await self._command({"type": "cancel", "run": run})

    async def steer(self, run: str, **params: Any) -> Ack:
        return await self._command({"type": "steer", "run": run, "params": params})

    async def ask(self, text: str, **options: Any) -> Answer:
        """Send ``{"text": text}`` and wait for the run's answer."""
        ack = await self.send({"text": text}, **options)
        assert ack.run is not None
        return await self.wait_for_answer(ack.run)

    async def _command(self, command: dict[str, Any]) -> Ack:
        self._raise_if_failed()
        command_id = secrets.token_hex(8)
        command["id"] = command_id
        payload = json.dumps(command)
        future: asyncio.Future[Ack] = asyncio.get_running_loop().create_future()
        self._pending[command_id] = (payload, future)
        if self._commands_ws is not None:
            with contextlib.suppress(ConnectionClosed):  # if so, resent after the reconnect
                await self._commands_ws.send(payload)
        try:
            return await future
        finally:
            self._pending.pop(command_id, None)

    # --- events ------------------------------------------------------------------------------

    async def next_event(self) -> Event:
        """The next event of the session (waits for it)."""
        assert self._task is not None, "connect() first"
        while True:
            if self._next is None:
                if not self._events.empty():
                    return self._events.get_nowait()
                self._raise_if_failed()
                # Kept until it is read: a caller that stops waiting (a timeout) leaves the
                # event it takes to the next call, instead of losing it.
                self._next = asyncio.ensure_future(self._events.get())
            getter = self._next
            either: set[asyncio.Future[Any]] = {getter, self._task}
            await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
            if not getter.done():  # the connection task has ended: the client is closed
                getter.cancel()
                self._next = None
                self._raise_if_failed()
                self._task.result()  # its exception, if it crashed
                raise SessionClosed("the connection has ended")
            if self._next is getter:
                self._next = None
                return getter.result()
            # another caller, woken by the same event, has taken it: wait for the next one

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Event]:
        while True:
            try:
                yield await self.next_event()
            except SessionClosed:
                if self._failure is not None and self._failure.code is None:
                    return  # closed by the caller: the iteration just ends
                raise

    async def wait_for_answer(self, run: str) -> Answer:
        """Wait until ``run`` ends; its ending, result and streamed text."""
        record = self._run_record(run)
        assert record.ending is not None
        waiter = asyncio.ensure_future(asyncio.shield(record.ending))
        assert self._task is not None, "connect() first"
        either: set[asyncio.Future[Any]] = {waiter, self._task}
        await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        if not waiter.done():
            waiter.cancel()
            self._raise_if_failed()
        ending = waiter.result()
        status = ending.type.removeprefix("run.")
        data = ending.data
        error = data.get("error") or data.get("reason")
        if ending.type == EventType.RUN_CANCELLED:
            error = f"cancelled by {ending.device}"
        return Answer(run, status, data.get("result"), "".join(record.texts), error)

    def _run_record(self, run: str) -> _Run:
        record = self._runs.get(run)
        if record is None:
            record = self._runs[run] = _Run(ending=asyncio.get_running_loop().create_future())
        return record

    # --- the connection ----------------------------------------------------------------------

    def _auth_headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token}"} if self.token else {}

    def _ws_url(self) -> str:
        query = {"device": self.device}  # the token goes in a header, never in the URL
        base = "ws" + self.base_url.removeprefix("http")
        return f"{base}/v1/sessions/{self.session}/ws?{urlencode(query)}"

    async def _run(self) -> None:
        delays = self.backoff.delays()
        while True:
            try:
                async with connect(
                    self._ws_url(),
                    additional_headers=self._auth_headers(),
                    open_timeout=self.open_timeout,
                    max_size=None,
                ) as ws:
                    self._ws = ws
                    await self._resume(ws)
                    delays = self.backoff.delays()
                    async for frame in ws:
                        self._receive(frame)
                    closed = ws.close_code
            except ConnectionClosed as error:
                closed = error.rcvd.code if error.rcvd is not None else None
            except InvalidStatus as error:  # refused before the WebSocket opened
                status = error.response.status_code
                closed = 4000 + status if 400 <= status < 500 and status != 429 else None
            except (OSError, TimeoutError, InvalidHandshake) as error:
                logger.debug("session %s: cannot connect: %r", self.session, error)
                closed = None
            finally:
                self._ws = self._commands_ws = None
                self._subscribed.clear()
            if closed is not None and 4400 <= closed < 4500:
                reason = f"the server refused the connection (close code {closed})"
                self._fail(SessionClosed(reason, closed))
                return
            if self._failure is not None:
                return
            await asyncio.sleep(next(delays))
            self.reconnects += 1

    async def _resume(self, ws: ClientConnection) -> None:
        """Subscribe from the last event received, then resend every unanswered command."""
        await self._subscribe(ws)
        # From here on, new commands go out at once; the ones already waiting are resent now
        # (one sent twice is answered once: the server remembers command ids).
        self._commands_ws = ws
        for payload, _ in list(self._pending.values()):
            await ws.send(payload)

    async def _subscribe(self, ws: ClientConnection) -> None:
        self._subscribe_id = "sub-" + secrets.token_hex(4)
        self._deltas = DeltaDecoder()  # a new subscription: the first delta comes in full
        subscribe = {"type": "subscribe", "id": self._subscribe_id, "from": self._position}
        if self._compact:
            subscribe["deltas"] = COMPACT
        await ws.send(json.dumps(subscribe))

    def _receive(self, frame: str | bytes) -> None:
        for item in json.loads(frame):
            if "session" in item:
                self._deltas.event(item)
                self._receive_event(item)
            elif "d" in item:
                self._receive_event(self._deltas.item(item))
            elif item.get("id") == self._subscribe_id:
                self._subscription_reply(item)
            else:
                self._command_reply(item)

    def _receive_event(self, item: dict[str, Any]) -> None:
        offset = item["offset"]
        if self._position not in _WORDS and offset <= self._position:
            return  # already delivered before a reconnect
        self._position = offset
        event = Event.from_dict(item)
        if event.run is not None:
            record = self._run_record(event.run)
            if event.type == EventType.RUN_STARTED:
                record.agent = event.agent
            elif event.type == EventType.DELTA and record.agent in (None, event.agent):
                record.texts.append(str(event.data.get("text", "")))
            elif event.ends_run and record.ending is not None and not record.ending.done():
                record.ending.set_result(event)
        self._events.put_nowait(event)

    def _subscription_reply(self, item: dict[str, Any]) -> None:
        refused = item["type"] == "error" and item.get("code") == "INVALID_COMMAND"
        if refused and self._compact and "deltas" in item.get("message", ""):
            # A server older than v1.1 refuses the field: subscribe again, every event in full.
            self._compact = False
            ws = self._commands_ws
            if ws is not None:
                task = asyncio.ensure_future(self._subscribe(ws))
                task.add_done_callback(lambda done: done.cancelled() or done.exception())
            return
        if item["type"] == "error":
            self._fail(SessionClosed(f"cannot resume: {item['message']}", 4400))
            return
        if self._position in _WORDS:
            self._position = item["offset"]
        self._subscribed.set()

    def _command_reply(self, item: dict[str, Any]) -> None:
        pending = self._pending.get(item.get("id") or "")
        if pending is None or pending[1].done():
            return  # a duplicate reply to a resent command
        future = pending[1]
        if item["type"] == "error" and item.get("code") == STORE_UNAVAILABLE:
            # Redis is away: the command did nothing; send it again later (same id).
            delay = float(item.get("retry_after") or 1)
            asyncio.get_running_loop().call_later(delay, self._resend, item["id"])
            return
        if item["type"] == "ack":
            future.set_result(Ack(item["id"], item["offset"], item.get("run")))
        else:
            future.set_exception(CommandError(item["code"], item["message"], item["id"]))

    def _resend(self, command_id: str) -> None:
        pending = self._pending.get(command_id)
        ws = self._commands_ws
        if pending is None or pending[1].done() or ws is None:
            return  # answered, or a reconnect resends it
        task = asyncio.ensure_future(ws.send(pending[0]))
        task.add_done_callback(lambda done: done.cancelled() or done.exception())

    def _fail(self, failure: SessionClosed) -> None:
        self._failure = failure
        for _, future in self._pending.values():
            if not future.done():
                future.set_exception(failure)
        for record in self._runs.values():
            if record.ending is not None and not record.ending.done():
                record.ending.set_exception(failure)
                record.ending.exception()  # retrieved: nobody may be waiting

    def _raise_if_failed(self) -> None:
        if self._failure is not None:
            raise self._failure


def _retry_after(response: httpx.Response) -> float:
    value = response.headers.get("retry-after", "")
    return min(float(value), 30.0) if value.isdigit() else 1.0


def _http_error(response: httpx.Response) -> tuple[str, str]:
    try:
        error = response.json()["error"]
        return error["code"], error["message"]
    except (ValueError, KeyError, TypeError):
        return f"HTTP_{response.status_code}", response.text  # a proxy's page, not the server's


class SessionClient:
    """The blocking client: AsyncSessionClient's methods, for notebooks and scripts.

    Every call waits at most ``timeout`` seconds (TimeoutError after that).
    """

    def __init__(self, url: str, *, timeout: float = 60.0, **options: Any) -> None:
        self.timeout = timeout
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="session-client", daemon=True
        )
        self._thread.start()
        try:
            self._client: AsyncSessionClient = self._call(self._make(url, options))
            self._call(self._client.connect())
        except BaseException:
            self._stop_loop()
            raise

    @staticmethod
    async def _make(url: str, options: dict[str, Any]) -> AsyncSessionClient:
        return AsyncSessionClient(url, **options)

    @classmethod
    def create(
        cls, server: str, *, token: str | None = None, timeout: float = 60.0, **options: Any
    ) -> SessionClient:
        """Create a session on ``server`` and connect to it with its ``control`` token."""
        headers = {"authorization": f"Bearer {token}"} if token else {}
        url = f"{server.rstrip('/')}/v1/sessions"
        response = httpx.post(url, headers=headers, timeout=timeout)
        for _ in range(CREATE_ATTEMPTS):  # 503: the store (Redis) is away for a moment
            if response.status_code != 503:
                break
            time.sleep(_retry_after(response))
            response = httpx.post(url, headers=headers, timeout=timeout)
        if response.status_code != 201:
            raise CommandError(*_http_error(response))
        created = response.json()
        tokens = created["tokens"]
        client = cls(
            created["url"],
            timeout=timeout,
            token=tokens["control"] if tokens else None,
            **options,
        )
        client._client.created = created
        return client

    def _call(self, work: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        future = asyncio.run_coroutine_threadsafe(work, self._loop)
        try:
            return future.result(self.timeout if timeout is None else timeout)
        except TimeoutError:
            future.cancel()
            raise

    @property
    def session(self) -> str:
        return self._client.session

    @property
    def device(self) -> str:
        return self._client.device

    @property
    def created(self) -> dict[str, Any] | None:
        return self._client.created

    @property
    def position(self) -> str:
        return self._client.position

    @property
    def reconnects(self) -> int:
        return self._client.reconnects

    def send(self, data: Mapping[str, Any], **options: Any) -> Ack:
        return self._call(self._client.send(data, **options))

    def cancel(self, run: str) -> Ack:
        return self._call(self._client.cancel(run))

    def steer(self, run: str, **params: Any) -> Ack:
        return self._call(self._client.steer(run, **params))

    def ask(self, text: str, **options: Any) -> Answer:
        return self._call(self._client.ask(text, **options))

    def wait_for_answer(self, run: str, timeout: float | None = None) -> Answer:
        return self._call(self._client.wait_for_answer(run), timeout)

    def next_event(self, timeout: float | None = None) -> Event:
        return self._call(self._client.next_event(), timeout)

    def __iter__(self) -> Iterator[Event]:
        """Every event, waiting for the next one (at most ``timeout`` seconds each)."""
        while True:
            try:
                yield self.next_event()
            except SessionClosed as closed:
                if closed.code is None:
                    return
                raise

    def close(self) -> None:
        if self._loop.is_running():
            self._call(self._client.close())
        self._stop_loop()

    def _stop_loop(self) -> None:
        if self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
        if not self._loop.is_running() and not self._loop.is_closed():
            self._loop.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
