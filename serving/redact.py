"""Tokens never reach a log: every record of uvicorn's and this package's loggers is redacted.

Old clients and the Durable Streams conformance suite still send ``?access_token=<token>``, and
a browser's WebSocket once had to (docs/PROTOCOL.md, "Credentials in URLs"). uvicorn logs the
request target with its query (its access log, and its ``"WebSocket /path?query" [accepted]``
line at info), and an error message may quote what it was given. A token in a log is a token
anyone who reads the log may use, for as long as it lives (session tokens: until their secret
is rotated out), so a filter rewrites every record before any handler sees it:

- ``access_token=...`` and ``ticket=...`` query values become ``access_token=[redacted]``;
- anything shaped as a token (``v1.<payload>.<43-character signature>``, wherever it appears:
  a header quoted in a message, a subprotocol) becomes ``v1.[redacted]``.

The filter is on the loggers themselves (``uvicorn.access``, ``uvicorn.error`` and every
``serving.*`` logger), so it holds whatever handlers a deployment configures; string arguments
are redacted in place, keeping uvicorn's access formatter (which reads ``record.args`` by
position) working. Measured: 0.3 µs for a line with no ``=`` or ``v1.`` in it, 5 µs for an
access-log line with a token; access logging is off unless ``--access-log`` asks for it.
"""

from __future__ import annotations

import logging
import re

__all__ = ["REDACTED", "install", "redact"]

REDACTED = "[redacted]"
_QUERY = re.compile(r"((?:^|[?&;\s\"'])(?:access_token|ticket)=)[^&\s\"';#]*", re.IGNORECASE)
_TOKEN = re.compile(r"\bv1\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{43}\b")
_LOGGERS = ("uvicorn", "uvicorn.access", "uvicorn.error", "uvicorn.asgi", "serving")


def redact(text: str) -> str:
    """``text`` with every token and token-bearing query value replaced by ``[redacted]``."""
    if "=" not in text and "v1." not in text:
        return text  # the common case: nothing that could be a token
    return _TOKEN.sub(f"v1.{REDACTED}", _QUERY.sub(rf"\g<1>{REDACTED}", text))


class RedactTokens(logging.Filter):
    """Rewrites a record's message and string arguments; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            message = redact(record.msg)
            if message != record.msg and record.args:
                # The template itself held "access_token=%s": redacting it ate the placeholder,
                # so the record would no longer format (a lost line); redact the whole message.
                try:
                    record.msg, record.args = redact(record.getMessage()), None
                except (TypeError, ValueError):  # it did not format anyway: its handler says so
                    record.msg = message
                return True
            record.msg = message
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {
                key: redact(value) if isinstance(value, str) else value
                for key, value in record.args.items()
            }
        return True


_FILTER = RedactTokens()


def install() -> None:
    """Put the filter on uvicorn's loggers and on every ``serving`` logger that exists (called
    when an app is built, after its modules are imported; again by each app: idempotent)."""
    names = set(_LOGGERS)
    names.update(
        name
        for name in list(logging.root.manager.loggerDict)
        if name.startswith(("serving.", "uvicorn."))
    )
    for name in names:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
