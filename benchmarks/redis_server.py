"""A throwaway redis-server on a free loopback port, for the benchmarks and the tests.

It runs as a child process (never daemonized) in its own temporary folder, so stopping it or
killing it (SIGKILL, to test a crash) is exact and leaves nothing behind. With ``appendonly``
it persists every write to its append-only file as production should (docs/SCALING.md), and
``restart()`` brings it back on the same port with the same data.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from benchmarks.servers import free_port

STARTUP_TIMEOUT = 20.0


class RedisServerError(RuntimeError):
    """redis-server is missing or did not start; the message says what to do."""


def redis_server_path() -> str | None:
    return shutil.which("redis-server")


class RedisServer:
    """``with RedisServer() as redis: ... redis.url ...``; killed and cleaned up on exit."""

    def __init__(self, *, appendonly: bool = False, appendfsync: str = "everysec") -> None:
        executable = redis_server_path()
        if executable is None:
            raise RedisServerError(
                "redis-server is not installed: apt-get install redis-server (Debian/Ubuntu) "
                "or brew install redis"
            )
        self._executable = executable
        self.appendonly = appendonly
        self.appendfsync = appendfsync
        self.port = free_port()
        self._folder = tempfile.TemporaryDirectory(prefix="redis-")
        self.directory = Path(self._folder.name)
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start (or start again) on this port and folder; return once it answers PING."""
        command = [
            self._executable,
            *("--port", str(self.port), "--bind", "127.0.0.1"),
            *("--dir", str(self.directory), "--save", ""),
            *("--appendonly", "yes" if self.appendonly else "no"),
            *("--appendfsync", self.appendfsync),
            *("--maxmemory-policy", "noeviction", "--loglevel", "warning"),
        ]
        log = (self.directory / "redis.log").open("ab")
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self._wait_until_ready()

    def cpu_seconds(self) -> float:
        """CPU time redis-server used so far, as Redis itself counts it (``INFO cpu``)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as connection:
            connection.sendall(b"INFO cpu\r\n")
            reply = b""
            while b"\r\n" not in reply:
                reply += connection.recv(4096)
            header, _, body = reply.partition(b"\r\n")  # a bulk string: $<length>
            while len(body) < int(header[1:]):
                body += connection.recv(4096)
        fields = dict(line.split(":", 1) for line in body.decode().splitlines() if ":" in line)
        return float(fields["used_cpu_sys"]) + float(fields["used_cpu_user"])

    def kill(self) -> None:
        """SIGKILL: a crash, no chance to flush anything."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def restart(self) -> None:
        """Crash it (SIGKILL) and start it again with whatever it had persisted."""
        self.kill()
        self.start()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.kill()
        self._folder.cleanup()

    def __enter__(self) -> RedisServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        assert self.process is not None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log = (self.directory / "redis.log").read_text(errors="replace")
                raise RedisServerError(f"redis-server exited at start:\n{log}")
            if _ping(self.port):
                return
            time.sleep(0.02)
        raise RedisServerError(f"redis-server did not answer PING within {STARTUP_TIMEOUT} s")


def _ping(port: int) -> bool:
    """True once the server answers PING with PONG (not LOADING, not refused)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(64).startswith(b"+PONG")
    except OSError:
        return False
