"""Streams: a durable append-only log spoken over HTTP as the Durable Streams protocol.

The public surface: the store contract and its data types, the stores, offsets and errors.

The names below are imported on first use (serving.lazy), so importing one module of the
layer (the pure offsets, protocol or codec) does not load every store.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from serving.lazy import lazy_exports

if TYPE_CHECKING:
    from serving.streams.errors import (
        ConfigMismatch,
        ContentTypeMismatch,
        ForkSourceGone,
        InvalidForkOffset,
        InvalidRequest,
        InvalidStreamOffset,
        MethodNotAllowed,
        OffsetOutOfRange,
        OffsetTrimmed,
        PayloadTooLarge,
        ProducerEpochSeqInvalid,
        ProducerSeqGap,
        ProducerStaleEpoch,
        StoreUnavailable,
        StreamClosed,
        StreamConflict,
        StreamError,
        StreamForbidden,
        StreamGone,
        StreamNotFound,
        StreamReadOnly,
        StreamSeqConflict,
        StreamUnauthorized,
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
    "ForkOrigin",
    "ForkSourceGone",
    "ForkSpec",
    "InvalidForkOffset",
    "InvalidRequest",
    "InvalidStreamOffset",
    "MemoryStore",
    "MethodNotAllowed",
    "Notifier",
    "Offset",
    "OffsetOutOfRange",
    "OffsetTrimmed",
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
    "StoreUnavailable",
    "StreamClosed",
    "StreamConflict",
    "StreamError",
    "StreamForbidden",
    "StreamGone",
    "StreamMeta",
    "StreamNotFound",
    "StreamReadOnly",
    "StreamSeqConflict",
    "StreamUnauthorized",
    "open_store",
    "parse_position",
]

__getattr__, __dir__ = lazy_exports(
    globals(),
    {
        ".errors": (
            "ConfigMismatch",
            "ContentTypeMismatch",
            "StreamForbidden",
            "ForkSourceGone",
            "InvalidForkOffset",
            "InvalidStreamOffset",
            "InvalidRequest",
            "MethodNotAllowed",
            "OffsetOutOfRange",
            "OffsetTrimmed",
            "PayloadTooLarge",
            "ProducerEpochSeqInvalid",
            "ProducerSeqGap",
            "ProducerStaleEpoch",
            "StoreUnavailable",
            "StreamClosed",
            "StreamConflict",
            "StreamError",
            "StreamGone",
            "StreamNotFound",
            "StreamReadOnly",
            "StreamSeqConflict",
            "StreamUnauthorized",
        ),
        ".memory": ("MemoryStore",),
        ".notify": ("Notifier",),
        ".offsets": ("TAIL", "ZERO", "Offset", "parse_position"),
        ".sqlite": ("SQLiteStore",),
        ".store": (
            "AppendRequest",
            "AppendResult",
            "CreateRequest",
            "CreateResult",
            "ForkOrigin",
            "ForkSpec",
            "ProducerClaim",
            "ProducerState",
            "ReadResult",
            "Segment",
            "Store",
            "StreamMeta",
        ),
        ".stores": ("open_store",),
    },
)
