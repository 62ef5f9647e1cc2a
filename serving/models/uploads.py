"""CSV uploads for batch scoring: a file too big to travel inside a session message.

A client with the ``write`` token of a session posts the CSV to ``/v1/uploads?session=<id>``
and gets an upload id; a batch run in that session names it (``{"upload": "<id>"}``). Uploads
are kept per session (``<uploads_dir>/<session>/<id>.csv``): a run can only read the uploads
of its own session, and an id reaches the file system only if it has the exact shape of one.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

__all__ = ["MAX_UPLOAD_BYTES", "Uploads"]

MAX_UPLOAD_BYTES = 64 * 1024 * 1024
"""About a million rows of a small table; bigger files belong in a notebook, not a request."""

_ID = re.compile(r"[A-Za-z0-9_-]{22}")  # secrets.token_urlsafe(16): 128 bits
_SESSION = re.compile(r"[0-9a-f]{32}")


class Uploads:
    """The folder of uploaded CSV files, one sub-folder per session."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)

    def save(self, session_id: str, body: bytes) -> str:
        """Store ``body`` for ``session_id``; return its new upload id."""
        if not _SESSION.fullmatch(session_id):
            raise ValueError(f"not a session id: {session_id!r}")
        upload_id = secrets.token_urlsafe(16)
        folder = self.folder / session_id
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / f".{upload_id}.part"
        partial.write_bytes(body)
        partial.rename(folder / f"{upload_id}.csv")
        return upload_id

    def path_of(self, session_id: str, upload_id: str) -> Path | None:
        """The stored file of ``upload_id`` in ``session_id``, or None."""
        if not isinstance(upload_id, str) or not _ID.fullmatch(upload_id):
            return None
        if not _SESSION.fullmatch(session_id):
            return None
        path = self.folder / session_id / f"{upload_id}.csv"
        return path if path.is_file() else None
