"""What can stop ``serving`` from starting, said in one line with the fix.

A learner's first failures are not bugs: the port is taken (a second ``make serve``), Redis is
not running, another server holds the SQLite file. Before this module, each one ended in
uvicorn's lifespan traceback (37 lines for an unreachable Redis, ending in a hint about the
port) or in a store message that never named the ``--store`` flag. The server now checks what
it can before it starts, in the order it would fail: the port (a bind, released at once), then
the store (a Redis PING through the store's own connection code, so the same URL options, TLS
and password apply). Each check returns the line to print, or None; serving.cli prints it and
exits with status 1. A check costs a bind (microseconds) and, for Redis only, one round trip.

The checks leave a gap (another program may take the port between the check and uvicorn's
bind); uvicorn's own message covers it, followed by serving.cli's one-line summary.

``quiet_tensorflow`` silences TensorFlow's C++ start-up log (oneDNN and CPU-feature notices,
about 5 lines at the first Keras prediction) in the server, as the notebooks do, unless the
user set the variables.
"""

from __future__ import annotations

import asyncio
import errno
import os
import socket
from collections.abc import MutableMapping
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

__all__ = [
    "QUIET_TENSORFLOW",
    "port_problem",
    "quiet_tensorflow",
    "redis_problem",
    "shown_url",
    "store_in_use",
]

QUIET_TENSORFLOW = {"TF_CPP_MIN_LOG_LEVEL": "2", "TF_ENABLE_ONEDNN_OPTS": "0"}
"""What the server sets when the user has not: no C++ info logs, no oneDNN notice (DESIGN.md)."""


def quiet_tensorflow(environ: MutableMapping[str, str] = os.environ) -> None:
    """Set QUIET_TENSORFLOW's variables that ``environ`` lacks; effective only before
    TensorFlow is imported (it reads them once)."""
    for name, value in QUIET_TENSORFLOW.items():
        environ.setdefault(name, value)


def _bind_error(host: str, port: int) -> OSError | None:
    """The error binding ``host:port`` would raise now (as uvicorn binds: SO_REUSEADDR, every
    address the name resolves to), or None."""
    for family, kind, proto, _, address in socket.getaddrinfo(
        host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    ):
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address)
            except OSError as error:
                return error
    return None


def _next_free_port(host: str, port: int, tries: int = 20) -> int | None:
    for candidate in range(port + 1, min(port + 1 + tries, 65536)):
        try:
            if _bind_error(host, candidate) is None:
                return candidate
        except OSError:
            return None
    return None


def port_problem(host: str, port: int) -> str | None:
    """Why the server could not listen on ``host:port`` (one line with the fix), or None."""
    if port == 0:  # any free port: the system picks one that is free
        return None
    try:
        error = _bind_error(host, port)
    except socket.gaierror:
        return (
            f"{host!r} is not a host name this computer can resolve: use --host 127.0.0.1 "
            "(this computer only) or --host 0.0.0.0 (other devices too)"
        )
    if error is None:
        return None
    if error.errno == errno.EADDRINUSE:
        free = _next_free_port(host, port)
        other = free if free is not None else port + 1
        return (
            f"port {port} is taken (another server is running there, perhaps this one): "
            f"stop it, or use another port: make serve PORT={other} (or serving --port {other})"
        )
    if error.errno == errno.EACCES:
        return (
            f"port {port} needs administrator rights: use a port from 1024 up, e.g. "
            "make serve PORT=8000"
        )
    if error.errno == errno.EADDRNOTAVAIL:
        return (
            f"{host} is not an address of this computer: use --host 127.0.0.1 (this computer "
            "only) or --host 0.0.0.0 (other devices too)"
        )
    return f"cannot listen on {host}:{port} ({error.strerror or error}): try another --port"


def shown_url(url: str) -> str:
    """``url`` with its password, if any, replaced by ``***``: fit to print."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{user}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def redis_problem(url: str) -> str | None:
    """Why the Redis store at ``url`` cannot be used now (one line with the fix), or None.

    Sends one PING through serving.streams.redis_link, the store's own connection."""
    from redis.exceptions import AuthenticationError, RedisError
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    from serving.streams.redis_link import RedisLink
    from serving.streams.redis_store import split_store_url

    try:
        link = RedisLink.from_url(split_store_url(url)[1])
    except ValueError as error:
        return f"the --store URL {shown_url(url)} is not one the Redis store reads: {error}"

    async def ping() -> None:
        try:
            async with asyncio.timeout(link.connect_timeout + link.timeout):
                await link.call("PING")
        finally:
            await link.aclose()

    try:
        asyncio.run(ping())
    except AuthenticationError as error:  # a ConnectionError to redis-py; not to a learner
        return _refused(url, error)
    except (RedisConnectionError, RedisTimeoutError, TimeoutError, OSError) as error:
        return _unreachable(
            url, link.address.host, link.address.port, link.address.unix_path, error
        )
    except RedisError as error:  # it answered, with an error: a password, a user, a database
        return _refused(url, error)
    return None


def _refused(url: str, error: BaseException) -> str:
    reason = " ".join(str(error).split()) or type(error).__name__
    return (
        f"Redis at {shown_url(url)} refused the connection ({reason}): check the user, "
        "password and database number in the --store URL (redis://user:password@host:port/0)"
    )


def _unreachable(
    url: str, host: str, port: int, unix_path: str | None, error: BaseException
) -> str:
    reason = _reason(error)
    if unix_path is not None:
        start = f"start it with: redis-server --port 0 --unixsocket {unix_path}"
    elif host in ("127.0.0.1", "localhost", "::1"):
        start = f"start it with: redis-server --port {port}"
    else:
        start = f"check that Redis runs on {host}, port {port}, and that this computer reaches it"
    return (
        f"cannot reach Redis at {shown_url(url)} ({reason}): {start}; or run make serve "
        "without --store redis://... to keep the streams in SQLite (data/streams.db)"
    )


def _reason(error: BaseException) -> str:
    if isinstance(error, TimeoutError) or "Timeout" in type(error).__name__:
        return "no answer in time"
    text = str(error)
    if "Errno 111" in text or "Connect call failed" in text or "Connection refused" in text:
        return "connection refused: nothing listens there"
    for known in ("No such file or directory", "Name or service not known"):
        if known in text:
            return known.lower()
    return " ".join(text.split()) or type(error).__name__


def store_in_use(path: Path) -> str:
    """The line for a SQLite file another server process holds."""
    return (
        f"{path} is already used by another server: stop it, or use another store with "
        "--store sqlite:///other.db"
    )
