"""Streams: a durable append-only log spoken over HTTP as the Durable Streams protocol.

The public surface: the store contract and its data types, the stores, offsets and errors.
"""

from serving.streams.errors import (
    ConfigMismatch,
    ContentTypeMismatch,
    Forbidden,
    ForkSourceGone,
    InvalidForkOffset,
    InvalidOffset,
    InvalidRequest,
    MethodNotAllowed,
    OffsetOutOfRange,
    PayloadTooLarge,
    ProducerEpochSeqInvalid,
    ProducerSeqGap,
    ProducerStaleEpoch,
    StreamClosed,
    StreamConflict,
    StreamError,
    StreamGone,
    StreamNotFound,
    StreamSeqConflict,
    Unauthorized,
)
from serving.streams.memory import MemoryStore
from serving.streams.notify import Notifier
from serving.streams.offsets import TAIL, ZERO, Offset, parse_position
from serving.streams.sqlite import SQLiteStore
from serving.streams.store import (
    AppendRequest,
    AppendResult,
    CreateRequest,
    CreateResult,
    ForkOrigin,
    ForkSpec,
    ProducerClaim,
    ProducerState,
    ReadResult,
    Segment,
    Store,
    StreamMeta,
)
from serving.streams.stores import open_store

__all__ = [
    "TAIL",
    "ZERO",
    "AppendRequest",
    "AppendResult",
    "ConfigMismatch",
    "ContentTypeMismatch",
    "CreateRequest",
    "CreateResult",
    "Forbidden",
    "ForkOrigin",
    "ForkSourceGone",
    "ForkSpec",
    "InvalidForkOffset",
    "InvalidOffset",
    "InvalidRequest",
    "MemoryStore",
    "MethodNotAllowed",
    "Notifier",
    "Offset",
    "OffsetOutOfRange",
    "PayloadTooLarge",
    "ProducerClaim",
    "ProducerEpochSeqInvalid",
    "ProducerSeqGap",
    "ProducerStaleEpoch",
    "ProducerState",
    "ReadResult",
    "SQLiteStore",
    "Segment",
    "Store",
    "StreamClosed",
    "StreamConflict",
    "StreamError",
    "StreamGone",
    "StreamMeta",
    "StreamNotFound",
    "StreamSeqConflict",
    "Unauthorized",
    "open_store",
    "parse_position",
]
