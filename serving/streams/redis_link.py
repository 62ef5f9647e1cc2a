"""Connections to Redis: one for every request of a process, pipelined automatically.

redis-py's asyncio client spends about 200 µs of CPU per command on a 2.5 GHz core (pool
checkout, a timeout context per read, observability hooks), ten times the cost of the round
trip itself, and that, not Redis, bounded the Redis store's appends per second. Here commands
issued during one event-loop turn go out in one write (auto-pipelining: the round trip is
shared, as a group commit shares an fsync), and Redis answers them in order, so the replies
resolve the callers' futures in order. Each command stays a command of its own (a script still
runs atomically by itself); only the trips are shared. A caller gets its reply once Redis has
sent it, never before, so an acknowledged write is one Redis applied.

While replies to earlier writes are still due, new commands wait for them (Nagle's algorithm:
at most LINGER_SECONDS, 2 ms), so the commits of many paced streams, each decided on a turn of
its own, share a write, Redis's read and reply, and the news it pushes (issue 21,
docs/SCALING.md). A caller that waits for each reply before its next command never waits: a
first version that held every write for 2 ms after the previous one cut sequential appends
from 1,710 to 453 a second (benchmarks/redis_bench.py).

RESP is packed and parsed by hiredis (C). Replies that are errors become redis-py's exception
classes (``redis.exceptions``), so callers handle one family of errors whichever client spoke.

- A lost connection fails every command in flight with ConnectionError (the caller cannot
  know whether Redis applied it: the Redis store checks, serving.streams.redis_store) and the
  next command opens a new connection.
- A Redis that stops answering for ``timeout`` seconds is treated as lost (TimeoutError).
- Scripts are sent by digest (EVALSHA); one Redis does not know (restarted, flushed) is sent
  whole once (EVAL), which also caches it again.

Blocking commands do not belong on a RedisLink: one slow reply would hold up every reply
queued behind it. Pub/sub has a connection of its own, a Subscriber (used by redis_watch).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import enum
import hashlib
import logging
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import parse_qs, unquote, urlsplit

import hiredis
from redis.exceptions import (
    AuthenticationError,
    BusyLoadingError,
    NoScriptError,
    ReadOnlyError,
    ResponseError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 10.0
"""Seconds without a reply, while replies are due, before the connection is given up."""
DEFAULT_CONNECT_TIMEOUT = 2.0
LINGER_SECONDS = 0.002
"""A busy connection's writes wait at most this long for company (see ``_Protocol``)."""

_SSL_OPTIONS = ("ssl_ca_certs", "ssl_cert_reqs", "ssl_check_hostname")
_OPTIONS = ("socket_timeout", "socket_connect_timeout", *_SSL_OPTIONS)


def _pack(command: tuple[str | bytes | int | float, ...]) -> bytes:
    """``hiredis.pack_command``, typed: hiredis 3.5's stub declares a one-item tuple (``Tuple[X]``
    for ``Tuple[X, ...]``) and no return type."""
    packed: bytes = hiredis.pack_command(command)  # type: ignore[arg-type]  # the stub, above
    return packed


@dataclass(frozen=True, slots=True)
class Script:
    """A Lua script and its SHA1 digest (what EVALSHA names it by)."""

    body: str
    sha: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sha", hashlib.sha1(self.body.encode()).hexdigest())


@dataclass(frozen=True, slots=True)
class Address:
    """Where Redis listens and how to log in: what a ``redis://`` URL says."""

    host: str = "127.0.0.1"
    port: int = 6379
    unix_path: str | None = None
    db: int = 0
    username: str | None = None
    password: str | None = None
    tls: ssl.SSLContext | None = None

    def __str__(self) -> str:
        return self.unix_path or f"{self.host}:{self.port}"


class _State(enum.Enum):
    IDLE = "idle"
    """No connection: the next command opens one."""
    CONNECTING = "connecting"
    OPEN = "open"
    CLOSED = "closed"
    """aclose() was called: commands fail."""


class RedisLink:
    """``await link.call("GET", key)``, ``await link.run(script, *args)``; one connection."""

    def __init__(
        self,
        address: Address,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    ) -> None:
        self.address = address
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self._state = _State.IDLE
        self._protocol: _Protocol | None = None
        self._connecting: asyncio.Future[_Protocol] | None = None

    @classmethod
    def from_url(cls, url: str) -> RedisLink:
        """``redis://[[user]:password@]host[:port][/db]``, ``rediss://`` (TLS), ``unix://path``.

        Query options: ``socket_timeout``, ``socket_connect_timeout`` (seconds), and for TLS
        ``ssl_ca_certs`` (a CA file), ``ssl_cert_reqs`` (``required`` or ``none``),
        ``ssl_check_hostname``.
        """
        options = parse_redis_url(url)
        scheme = options.pop("scheme")
        unknown = set(options) - {"host", "port", "path", "db", "username", "password", *_OPTIONS}
        if unknown:
            raise ValueError(
                f"Redis URL option(s) {', '.join(sorted(unknown))} not supported; the Redis "
                f"connection accepts {', '.join(_OPTIONS)}"
            )
        tls = None
        if scheme == "rediss":
            tls = _tls_context(options)
        elif any(name in options for name in _SSL_OPTIONS):
            raise ValueError("ssl_* options need a rediss:// URL (TLS)")
        address = Address(
            host=options.get("host") or "127.0.0.1",
            port=int(options.get("port") or 6379),
            unix_path=options.get("path") if scheme == "unix" else None,
            db=int(options.get("db") or 0),
            username=options.get("username"),
            password=options.get("password"),
            tls=tls,
        )
        return cls(
            address,
            timeout=float(options.get("socket_timeout") or DEFAULT_TIMEOUT),
            connect_timeout=float(options.get("socket_connect_timeout") or DEFAULT_CONNECT_TIMEOUT),
        )

    async def call(self, *args: str | bytes | int | float) -> Any:
        """Send one command (in the next write, with the others of this turn); its reply."""
        protocol = self._protocol
        if protocol is None:
            protocol = await self._connect()
        return await protocol.send(_pack(args))

    async def run(self, script: Script, *args: str | bytes | int | float) -> Any:
        """Run a script (no keys declared: the store's scripts name their keys from ARGV)."""
        try:
            return await self.call("EVALSHA", script.sha, 0, *args)
        except NoScriptError:  # not run: send it whole, which also caches it again
            return await self.call("EVAL", script.body, 0, *args)

    async def aclose(self) -> None:
        self._state = _State.CLOSED
        if self._protocol is not None:
            self._protocol.abort(RedisConnectionError("the Redis link was closed"))
            self._protocol = None

    # --- connecting ------------------------------------------------------------------------

    async def _connect(self) -> _Protocol:
        if self._state is _State.CLOSED:
            raise RedisConnectionError("the Redis link was closed")
        if self._connecting is None:
            self._state = _State.CONNECTING
            self._connecting = asyncio.ensure_future(
                _open(self.address, self.timeout, self.connect_timeout)
            )
            self._connecting.add_done_callback(self._opened)
        return await asyncio.shield(self._connecting)

    def _opened(self, attempt: asyncio.Future[_Protocol]) -> None:
        self._connecting = None
        if attempt.cancelled() or attempt.exception() is not None:
            if self._state is _State.CONNECTING:
                self._state = _State.IDLE
            return
        protocol = attempt.result()
        if self._state is _State.CLOSED:
            protocol.abort(RedisConnectionError("the Redis link was closed"))
            return
        if protocol.failed:  # lost as soon as it opened: the next command connects again
            self._state = _State.IDLE
            return
        self._state = _State.OPEN
        self._protocol = protocol
        protocol.on_lost = self._lost

    def _lost(self, protocol: _Protocol, error: Exception) -> None:
        if self._protocol is protocol:
            self._protocol = None
            if self._state is _State.OPEN:
                self._state = _State.IDLE


class Subscriber:
    """A connection in pub/sub mode: Redis pushes the messages of the channels subscribed to.

    ``on_message(channel, data)`` gets every message, ``on_subscribed(channel)`` each
    subscription Redis confirms, ``on_lost(error)`` a dropped connection: the subscriptions go
    with it, and ``connect()`` restores them all. Parsing a message costs a few microseconds
    (redis-py's PubSub.get_message: about 60 µs), and every process gets one per append.
    """

    def __init__(
        self,
        address: Address,
        *,
        on_message: Callable[[str, bytes], None],
        on_subscribed: Callable[[str], None],
        on_lost: Callable[[Exception], None],
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    ) -> None:
        self.address = address
        self.channels: set[str] = set()
        self._on_message = on_message
        self._on_subscribed = on_subscribed
        self._on_lost = on_lost
        self._connect_timeout = connect_timeout
        self._protocol: _Protocol | None = None

    @property
    def connected(self) -> bool:
        return self._protocol is not None

    async def connect(self) -> None:
        """Open the connection (raises redis ConnectionError) and subscribe to every channel."""
        protocol = await _open(self.address, DEFAULT_TIMEOUT, self._connect_timeout)
        if protocol.failed:
            raise RedisConnectionError("lost the connection to Redis as it opened")
        protocol.on_push = self._pushed
        protocol.on_lost = self._lost
        self._protocol = protocol
        if self.channels:
            protocol.write(_pack(("SUBSCRIBE", *self.channels)))

    def subscribe(self, channel: str) -> None:
        """Subscribe now if connected, else when ``connect()`` is next called."""
        self.channels.add(channel)
        if self._protocol is not None:
            self._protocol.write(_pack(("SUBSCRIBE", channel)))

    def unsubscribe(self, *channels: str) -> None:
        self.channels.difference_update(channels)
        if self._protocol is not None and channels:
            self._protocol.write(_pack(("UNSUBSCRIBE", *channels)))

    def close(self) -> None:
        protocol, self._protocol = self._protocol, None
        if protocol is not None:
            protocol.abort(RedisConnectionError("the subscriber was closed"))

    def _pushed(self, push: Any) -> None:
        if isinstance(push, list) and len(push) == 3:
            kind, channel, data = push
            if kind == b"message":
                self._on_message(channel.decode(), data)
            elif kind == b"subscribe":
                self._on_subscribed(channel.decode())
        elif isinstance(push, hiredis.ReplyError):
            logger.warning("Redis refused a subscription: %s", push)

    def _lost(self, protocol: _Protocol, error: Exception) -> None:
        if protocol is self._protocol:
            self._protocol = None
            self._on_lost(error)


async def _open(address: Address, timeout: float, connect_timeout: float) -> _Protocol:
    """A connection to ``address``, logged in and on its database."""
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(connect_timeout):
            if address.unix_path is not None:
                _, protocol = await loop.create_unix_connection(
                    lambda: _Protocol(timeout), address.unix_path, ssl=address.tls
                )
            else:
                _, protocol = await loop.create_connection(
                    lambda: _Protocol(timeout),
                    address.host,
                    address.port,
                    ssl=address.tls,
                    server_hostname=address.host if address.tls else None,
                )
    except (OSError, TimeoutError) as error:
        raise RedisConnectionError(f"cannot connect to Redis at {address}: {error}") from None
    hello = []
    if address.password is not None:
        login = [address.username] if address.username else []
        hello.append(protocol.send(_pack(("AUTH", *login, address.password))))
    if address.db:
        hello.append(protocol.send(_pack(("SELECT", address.db))))
    try:
        await asyncio.gather(*hello)
    except BaseException:
        protocol.abort(RedisConnectionError("the Redis handshake failed"))
        raise
    return protocol


class _Protocol(asyncio.Protocol):
    """The connection: requests written in batches, replies matched to them in order.

    Replies that arrive when none is due are pushes (pub/sub): they go to ``on_push``.
    """

    def __init__(self, timeout: float) -> None:
        self._timeout = timeout
        self._reader = hiredis.Reader()
        self._replies: collections.deque[asyncio.Future[Any]] = collections.deque()
        self._outgoing: list[bytes] = []
        self._transport: asyncio.Transport | None = None
        self._loop = asyncio.get_running_loop()
        self._progress = 0.0
        """When a reply last arrived, or replies became due."""
        self._unanswered = 0
        """Commands written whose replies have not come back yet."""
        self._unwritten = 0
        """Commands in ``_outgoing`` that will have replies."""
        self._watchdog: asyncio.TimerHandle | None = None
        self._error: Exception | None = None
        self.on_lost: Callable[[_Protocol, Exception], None] | None = None
        self.on_push: Callable[[Any], None] | None = None

    @property
    def failed(self) -> bool:
        """The connection was lost or aborted: it takes no more commands."""
        return self._error is not None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's are not subclasses

    def send(self, packed: bytes) -> asyncio.Future[Any]:
        if self._error is not None:
            raise self._error
        reply = self._loop.create_future()
        if not self._replies:
            self._progress = self._loop.time()
            if self._watchdog is None:
                self._watchdog = self._loop.call_later(self._timeout, self._check)
        self._replies.append(reply)
        if not self._outgoing:
            self._schedule_flush()
        self._outgoing.append(packed)
        self._unwritten += 1
        return reply

    def write(self, packed: bytes) -> None:
        """Send a command whose replies come as pushes (SUBSCRIBE, UNSUBSCRIBE)."""
        if self._error is None:
            if not self._outgoing:
                self._schedule_flush()
            self._outgoing.append(packed)

    def _schedule_flush(self) -> None:
        """Write at the end of this event-loop turn, unless replies to earlier writes are still
        due: then, as in Nagle's algorithm, when they have all come back, or LINGER_SECONDS
        from now at the latest. So the commits of many paced streams, each decided on a turn
        of its own, share one write and one reply, while a lone caller waiting for each reply
        before its next command (nothing else due) pays no delay at all."""
        if self._unanswered:
            self._loop.call_later(LINGER_SECONDS, self._flush)
        else:
            self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        if self._outgoing and self._transport is not None and self._error is None:
            self._transport.write(b"".join(self._outgoing))
            self._unanswered += self._unwritten
        self._outgoing = []
        self._unwritten = 0

    def data_received(self, data: bytes) -> None:
        self._reader.feed(data)
        self._progress = self._loop.time()
        try:
            while (reply := self._reader.gets()) is not False:
                if not self._replies and self.on_push is not None:
                    self.on_push(reply)
                    continue
                future = self._replies.popleft()
                self._unanswered -= 1
                if not self._unanswered and self._outgoing:
                    self._flush()  # what waited for these replies goes out now
                if future.done():  # its caller gave up (cancelled): the reply is dropped
                    continue
                if isinstance(reply, hiredis.ReplyError):
                    future.set_exception(_error_of(str(reply)))
                else:
                    future.set_result(reply)
        except (hiredis.ProtocolError, IndexError) as error:
            self.abort(RedisConnectionError(f"Redis sent something unexpected ({error})"))

    def connection_lost(self, exc: Exception | None) -> None:
        reason = f": {exc}" if exc else ""
        self._fail(RedisConnectionError(f"lost the connection to Redis{reason}"))

    def abort(self, error: Exception) -> None:
        self._fail(error)
        if self._transport is not None:
            self._transport.abort()

    def _check(self) -> None:
        """The watchdog: replies are due and none came for ``timeout`` seconds."""
        self._watchdog = None
        if not self._replies:
            return
        silent = self._loop.time() - self._progress
        if silent >= self._timeout:
            self.abort(RedisTimeoutError(f"Redis did not answer for {self._timeout:g} s"))
        else:
            self._watchdog = self._loop.call_later(self._timeout - silent, self._check)

    def _fail(self, error: Exception) -> None:
        if self._error is None:
            self._error = error
            if self.on_lost is not None:
                self.on_lost(self, error)
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        self._outgoing = []
        while self._replies:
            future = self._replies.popleft()
            if not future.done():
                future.set_exception(error)


def _error_of(message: str) -> Exception:
    """A Redis error reply as the redis-py exception a caller expects."""
    code = message.split(" ", 1)[0]
    if code == "NOSCRIPT":
        return NoScriptError(message)
    if code == "LOADING":
        return BusyLoadingError(message)
    if code == "READONLY":
        return ReadOnlyError(message)
    if code in ("NOAUTH", "WRONGPASS"):
        return AuthenticationError(message)
    return ResponseError(message)


def _tls_context(options: dict[str, Any]) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=options.get("ssl_ca_certs"))
    requirement = str(options.get("ssl_cert_reqs") or "required").lower()
    if requirement not in ("required", "none"):
        raise ValueError(f"ssl_cert_reqs must be 'required' or 'none', not {requirement!r}")
    check_hostname = options.get("ssl_check_hostname")
    if requirement == "none":
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif check_hostname is not None:
        context.check_hostname = bool(check_hostname)
    return context


_URL_VALUES: dict[str, Callable[[str], Any]] = {
    "db": int,
    "socket_timeout": float,
    "socket_connect_timeout": float,
    "ssl_check_hostname": lambda text: text.upper() not in ("0", "F", "FALSE", "N", "NO", "OFF"),
}


def parse_redis_url(url: str) -> dict[str, Any]:
    """What a Redis URL says, read as redis-py's ``redis.asyncio.connection.parse_url`` reads
    it (an undocumented function, hence this copy; tests/serving/streams/test_redis_url.py
    compares the two), with ``scheme`` (``redis``, ``rediss`` or ``unix``) in place of its
    connection class. Query values come as given, except the numbers and the flag above."""
    if not url.lower().startswith(("redis://", "rediss://", "unix://")):
        raise ValueError(
            f"a Redis URL starts with redis://, rediss:// (TLS) or unix://, not {url[:12]!r}..."
        )
    parts = urlsplit(url)
    options: dict[str, Any] = {"scheme": parts.scheme}
    for name, values in parse_qs(parts.query).items():
        value = values[0]
        try:
            options[name] = _URL_VALUES[name](value) if name in _URL_VALUES else value
        except ValueError:
            raise ValueError(f"Redis URL option {name}={value!r} is not a valid value") from None
    if parts.username:
        options["username"] = unquote(parts.username)
    if parts.password:
        options["password"] = unquote(parts.password)
    if parts.scheme == "unix":
        if parts.path:
            options["path"] = unquote(parts.path)
        return options
    if parts.hostname:
        options["host"] = unquote(parts.hostname)
    if parts.port:  # redis-py 5 drops a port of 0 and later releases keep it: both mean 6379
        options["port"] = parts.port
    if parts.path and "db" not in options:
        with contextlib.suppress(ValueError):  # a path that is no number names no database
            options["db"] = int(unquote(parts.path).replace("/", ""))
    return options
