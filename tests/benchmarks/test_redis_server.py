"""RedisServer: a real redis-server on a free port that can be crashed and restarted."""

from __future__ import annotations

import socket

import pytest

from benchmarks.redis_server import RedisServer, redis_server_path

pytestmark = pytest.mark.skipif(
    redis_server_path() is None,
    reason="redis-server is not installed (apt-get install redis-server)",
)


def command(port: int, *words: str) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        parts = [b"*%d\r\n" % len(words)]
        parts += [b"$%d\r\n%s\r\n" % (len(word), word.encode()) for word in words]
        connection.sendall(b"".join(parts))
        return connection.recv(256)


def test_append_only_data_survives_a_crash() -> None:
    with RedisServer(appendonly=True) as redis:
        assert command(redis.port, "SET", "k", "kept") == b"+OK\r\n"
        redis.restart()
        assert command(redis.port, "GET", "k") == b"$4\r\nkept\r\n"


def test_without_append_only_a_crash_forgets_everything() -> None:
    with RedisServer() as redis:
        command(redis.port, "SET", "k", "lost")
        redis.restart()
        assert command(redis.port, "GET", "k") == b"$-1\r\n"


def test_stop_frees_the_port_and_the_folder() -> None:
    redis = RedisServer()
    redis.stop()
    assert not redis.directory.exists()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", redis.port), timeout=1)
