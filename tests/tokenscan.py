"""No token in any server log of the test run (issue 17 item 3): a plugin, on in tests/conftest.py.

serving.redact rewrites every record of uvicorn's and this package's loggers, and one test
(tests/serving/test_redaction.py) searches one real server's log. This plugin searches all of
them, for the whole session, without changing what any test sees:

- in-process servers (BackgroundServer, TestClient apps, anything logging on ``uvicorn*`` or
  ``serving*``): every record a logger hands to its handlers (after its filters, so after the
  redaction, whatever handlers uvicorn's dictConfig installed or removed) is formatted, with its
  traceback, and searched;
- server subprocesses (``python -m serving ...``, from serving_process.py or any other helper,
  through ``subprocess.Popen``, ``run`` or ``check_output``): their stdout and stderr go through
  a pipe that a thread copies, byte for byte, to where the test asked (a pipe it reads, a file,
  DEVNULL, its own terminal), searching each line on the way. ``wait()`` and ``poll()`` return
  once the copy is drained, so a test that reads the log file after the process stopped reads
  all of it. ``serving token`` is left alone: printing a token is its job.

Searched for: anything shaped as a token or a ticket (serving.tokens: ``v1.<payload>.<43-char
signature>``; tickets are tokens) and any ``access_token=`` or ``ticket=`` value that is not
``[redacted]``. A share link's fragment (``#session=...&read=<token>``, printed by ``--lan`` for
the teacher to share, never sent to a server) is not a log of a token and is skipped.

At the end of the session each finding is printed with the test that was running when it was
written, and the run fails (exit status 1) even if every test passed. Cost: a regex only on
lines holding ``v1.`` or ``=`` (as serving.redact); one thread per server subprocess stream.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import subprocess
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import IO, Any

__all__ = ["Finding", "findings", "install", "scan", "server_lines", "uninstall"]

_TOKEN = re.compile(r"(?<![A-Za-z0-9_-])v1\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])")
_QUERY = re.compile(r"(?:access_token|ticket)=(?!\[redacted\])[^&\s\"';#,)]+", re.IGNORECASE)
_SHARE_LINK = re.compile(r"#session=\S*")
_LOGGERS = ("uvicorn", "serving")
_NOT_SERVERS = {"token"}  # subcommands whose output is a token by design
DRAIN_SECONDS = 5.0


@dataclass(frozen=True)
class Finding:
    where: str  # "logger serving.sessions" or "python -m serving ... (stderr)"
    test: str  # the test running when it was written
    line: str


_findings: list[Finding] = []
_lines = [0]  # server lines searched, for the plugin's own test
_lock = threading.Lock()


def findings() -> list[Finding]:
    with _lock:
        return list(_findings)


def server_lines() -> int:
    """How many server log lines were searched so far."""
    return _lines[0]


def scan(text: str) -> list[str]:
    """What in ``text`` is a token, a ticket or an unredacted ``access_token=``/``ticket=``."""
    if "v1." not in text and "=" not in text:
        return []
    text = _SHARE_LINK.sub("", text)
    return _TOKEN.findall(text) + _QUERY.findall(text)


def _current_test() -> str:
    return os.environ.get("PYTEST_CURRENT_TEST", "(outside any test)")


def _check(where: str, text: str) -> None:
    for line in text.splitlines() or [text]:
        _lines[0] += 1
        if scan(line):
            with _lock:
                _findings.append(Finding(where, _current_test(), line))


# In-process servers: every record a uvicorn or serving logger hands to its handlers.

_original_call_handlers = logging.Logger.callHandlers
_formatter = logging.Formatter()


def _call_handlers(self: logging.Logger, record: logging.LogRecord) -> None:
    if self.name.startswith(_LOGGERS):
        try:
            text = record.getMessage()
        except Exception:  # a malformed record: its handlers will say so
            text = str(record.msg)
        if record.exc_info:
            text += "\n" + _formatter.formatException(record.exc_info)
        _check(f"logger {self.name}", text)
    _original_call_handlers(self, record)


# Server subprocesses: stdout and stderr copied through a pipe, searched line by line.

_OriginalPopen = subprocess.Popen


def _server_command(args: Any) -> str | None:
    """``python -m serving ...`` (any interpreter), as a short description; None otherwise."""
    if isinstance(args, (str, bytes)) or not isinstance(args, Sequence):
        return None
    words = [
        os.fsdecode(word) if isinstance(word, (bytes, os.PathLike)) else str(word) for word in args
    ]
    for index in range(len(words) - 1):
        if words[index] == "-m" and words[index + 1] == "serving":
            rest = words[index + 2 :]
            if rest[:1] and rest[0] in _NOT_SERVERS:
                return None
            return " ".join(["python -m serving", *rest])[:120]
    return None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _relay(source: int, destination: int | None, where: str) -> None:
    """Copy ``source`` to ``destination`` (None: nowhere), searching each line."""
    pending = b""
    try:
        while chunk := os.read(source, 65536):
            if destination is not None:
                try:
                    _write_all(destination, chunk)
                except OSError:  # the reader went away; keep searching what the server says
                    os.close(destination)
                    destination = None
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                if b"v1." in line or b"=" in line:
                    _check(where, line.decode("utf-8", "replace"))
                else:
                    _lines[0] += 1
    finally:
        if pending:
            _check(where, pending.decode("utf-8", "replace"))
        os.close(source)
        if destination is not None:
            os.close(destination)


def _destination(target: Any) -> tuple[int | None, int | None]:
    """Where the copy goes for a ``stdout=``/``stderr=`` value: (fd to write, fd the test reads
    for PIPE). None, an fd or a file: a duplicate of it, as the child would have inherited."""
    if target == subprocess.DEVNULL:
        return None, None
    if target == subprocess.PIPE:
        read, write = os.pipe()
        return write, read
    if target is None:
        return os.dup(1), None  # stdout and stderr are both captured per test by pytest
    if isinstance(target, int):
        return os.dup(target), None
    return os.dup(target.fileno()), None


class SearchedPopen(_OriginalPopen):  # type: ignore[type-arg]
    """``subprocess.Popen``; for a server, its output passes through a searching copy."""

    def __init__(self, args: Any, *rest: Any, **options: Any) -> None:
        where = _server_command(args)
        self._relays: list[threading.Thread] = []
        if where is None or rest:  # not a server (or Popen's options given by position)
            super().__init__(args, *rest, **options)
            return
        streams: dict[str, tuple[int, int | None, int | None]] = {}
        for name in ("stdout", "stderr"):
            target = options.get(name)
            if name == "stderr" and target == subprocess.STDOUT:
                continue  # merged into stdout's copy
            if name == "stderr" and target is None:
                write, test_reads = os.dup(2), None
            else:
                write, test_reads = _destination(target)
            child_end_read, child_end = os.pipe()
            streams[name] = (child_end_read, write, test_reads)
            options[name] = child_end
        try:
            super().__init__(args, **options)
        except BaseException:
            for read, write, test_reads in streams.values():
                for fd in (read, write, test_reads, options.get("stdout"), options.get("stderr")):
                    if isinstance(fd, int) and fd > 2:
                        with contextlib.suppress(OSError):
                            os.close(fd)
            raise
        for name, (read, write, test_reads) in streams.items():
            os.close(options[name])
            if test_reads is not None:  # the test asked for a pipe: it gets one, as Popen makes it
                stream: IO[Any] = open(test_reads, "rb", options.get("bufsize", -1))  # noqa: SIM115
                if self.text_mode:
                    stream = io.TextIOWrapper(stream, encoding=self.encoding, errors=self.errors)
                setattr(self, name, stream)
            relay = threading.Thread(
                target=_relay, args=(read, write, f"{where} ({name})"), daemon=True
            )
            relay.start()
            self._relays.append(relay)

    def _drained(self) -> None:
        relays, self._relays = self._relays, []  # once: a grandchild may hold the pipe open
        for relay in relays:
            relay.join(DRAIN_SECONDS)

    def wait(self, timeout: float | None = None) -> int:
        code: int = super().wait(timeout)
        self._drained()
        return code

    def poll(self) -> int | None:
        code: int | None = super().poll()
        if code is not None:
            self._drained()
        return code


_installed: list[Callable[[], None]] = []


def install() -> None:
    """Start searching: patch ``subprocess.Popen`` and ``logging.Logger.callHandlers``."""
    if _installed:
        return
    subprocess.Popen = SearchedPopen  # type: ignore[misc]
    logging.Logger.callHandlers = _call_handlers  # type: ignore[method-assign]

    def restore() -> None:
        subprocess.Popen = _OriginalPopen  # type: ignore[misc]
        logging.Logger.callHandlers = _original_call_handlers  # type: ignore[method-assign]

    _installed.append(restore)


def uninstall(timeout: float = DRAIN_SECONDS) -> None:
    """Stop searching; wait (bounded) for the copies of server output still running."""
    for thread in threading.enumerate():
        if thread.daemon and thread.is_alive() and getattr(thread, "_target", None) is _relay:
            thread.join(timeout)
    while _installed:
        _installed.pop()()
