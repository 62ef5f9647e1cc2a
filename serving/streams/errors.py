"""Errors raised by the streams layer: each one names what was wrong and what to do.

Stores and the protocol core raise these; each class carries its ``code`` and HTTP ``status``
(the convention of serving.errors), and the HTTP layer (serving.streams.http) answers with them.
Every error carries a human-readable ``message``; some carry the data a client needs to recover
(the current producer epoch, the expected sequence number, the tail).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from serving.errors import ServingError

if TYPE_CHECKING:
    from serving.streams.offsets import Offset


class StreamError(ServingError):
    """Base class: a request the streams layer refuses, with a message for the client.

    ``code`` follows the npm client's codes (NOT_FOUND, BAD_REQUEST, ...), with finer ones where
    a client can act on the difference; ``status`` is the HTTP status.
    """

    code = "BAD_REQUEST"
    status = 400


# --- 400: the request itself is malformed ------------------------------------------------


class InvalidRequest(StreamError):
    """A header, query parameter or body is malformed (400)."""

    code = "BAD_REQUEST"
    status = 400


class InvalidStreamOffset(InvalidRequest):
    """An offset is not one this server could have produced (400)."""

    code = "INVALID_OFFSET"


class OffsetOutOfRange(InvalidRequest):
    """A well-formed offset lies beyond the stream's tail (400)."""

    code = "OFFSET_OUT_OF_RANGE"


class InvalidForkOffset(InvalidRequest):
    """A fork offset or sub-offset does not name a position in the source stream (400)."""

    code = "INVALID_FORK_OFFSET"


class ProducerEpochSeqInvalid(InvalidRequest):
    """A producer raised its epoch but did not restart at Producer-Seq 0 (400)."""

    code = "PRODUCER_EPOCH_SEQ_INVALID"


# --- 404 / 410: the stream is not there ----------------------------------------------------


class StreamNotFound(StreamError):
    """No stream at this path (never created, deleted, or expired) (404)."""

    code = "NOT_FOUND"
    status = 404


class StreamGone(StreamError):
    """The stream was deleted or expired but forks still read its history (410).

    Its path cannot be reused (PUT answers 409) until the last fork is deleted.
    """

    code = "STREAM_GONE"
    status = 410


class OffsetTrimmed(StreamError):
    """The records right after this offset were removed by the store's retention limit (410).

    ``earliest`` is the oldest offset the stream can still be read from.
    """

    code = "OFFSET_TRIMMED"
    status = 410

    def __init__(self, message: str, earliest: Offset) -> None:
        super().__init__(message)
        self.earliest = earliest


# --- 401 / 403: access control ------------------------------------------------------------


class StreamUnauthorized(StreamError):
    """No bearer token, or one the server cannot trust (401)."""

    code = "UNAUTHORIZED"
    status = 401


class StreamForbidden(StreamError):
    """A genuine token that does not grant this operation on this stream (403)."""

    code = "FORBIDDEN"
    status = 403


class StreamReadOnly(StreamForbidden):
    """The stream is under a prefix that another layer owns: it can be read, not written (403).

    ``code`` comes from that layer (``SESSION_LOG_READ_ONLY`` for session logs).
    """

    code = "READ_ONLY"

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


# --- 403: fenced producer ----------------------------------------------------------------


class ProducerStaleEpoch(StreamError):
    """A producer wrote with an epoch older than the one the server holds (403)."""

    code = "PRODUCER_STALE_EPOCH"
    status = 403

    def __init__(self, message: str, current_epoch: int) -> None:
        super().__init__(message)
        self.current_epoch = current_epoch


# --- 405 -----------------------------------------------------------------------------------


class MethodNotAllowed(StreamError):
    """An HTTP method the streams do not speak (405)."""

    code = "METHOD_NOT_ALLOWED"
    status = 405


# --- 409: conflicts with the stream's state ----------------------------------------------


class StreamConflict(StreamError):
    """Base for 409 answers."""

    code = "CONFLICT"
    status = 409


class ConfigMismatch(StreamConflict):
    """PUT on an existing stream with a different configuration (409)."""

    code = "CONFIG_MISMATCH"


class ForkSourceGone(StreamConflict):
    """Fork from a source that was deleted while other forks keep it readable (409)."""

    code = "FORK_SOURCE_GONE"


class ContentTypeMismatch(StreamConflict):
    """An append's Content-Type differs from the stream's (409)."""

    code = "CONTENT_TYPE_MISMATCH"


class StreamClosed(StreamConflict):
    """An append to a closed stream (409). ``tail`` is the stream's final offset."""

    code = "STREAM_CLOSED"

    def __init__(self, message: str, tail: Offset) -> None:
        super().__init__(message)
        self.tail = tail


class StreamSeqConflict(StreamConflict):
    """A Stream-Seq value that is not greater than the last one accepted (409)."""

    code = "STREAM_SEQ_CONFLICT"


class ProducerSeqGap(StreamConflict):
    """A Producer-Seq that skips ahead of the next expected one (409)."""

    code = "PRODUCER_SEQ_GAP"

    def __init__(self, message: str, expected_seq: int, received_seq: int) -> None:
        super().__init__(message)
        self.expected_seq = expected_seq
        self.received_seq = received_seq


# --- 413 ----------------------------------------------------------------------------------


class PayloadTooLarge(StreamError):
    """A message or request body exceeds the server's limit (413)."""

    code = "PAYLOAD_TOO_LARGE"
    status = 413


# --- 503 ----------------------------------------------------------------------------------


class StoreUnavailable(StreamError):
    """The store cannot serve the request right now (Redis down, loading or out of memory) (503).

    Nothing acknowledged is lost; the client should retry after ``retry_after`` seconds.
    """

    code = "STORE_UNAVAILABLE"
    status = 503

    def __init__(
        self, message: str, retry_after: int = 1, *, outcome_unknown: bool = False
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.outcome_unknown = outcome_unknown
        """True when an append may have been stored (the connection dropped mid-commit and
        Redis could not say in time): a writer that retries must look for it first."""
