"""ServerConfig: every knob of the server in one place, filled by the CLI or by tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from course import files
from serving.sessions.settings import SessionSettings
from serving.streams.protocol import Limits

PROJECT_DIR = files.project_dir()
"""Where the server keeps its files: the repository in a clone (``data/`` and ``models/`` beside
the code, as ``make serve`` expects); the working folder, read at start-up, when the kit is
installed from a wheel, never site-packages (``course.files.project_dir`` says why)."""
DATA_DIR = PROJECT_DIR / "data"
MODELS_DIR = PROJECT_DIR / "models"
DEFAULT_STORE_URL = f"sqlite:///{DATA_DIR / 'streams.db'}"


@dataclass(frozen=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8000
    store_url: str = DEFAULT_STORE_URL
    open_access: bool = False
    """No bearer token needed under /v1/stream/ and /v1/sessions (local experiments, the
    conformance suite)."""
    secret: bytes | None = None
    """Signs and checks tokens; required unless ``open_access``."""
    previous_secrets: tuple[bytes, ...] = ()
    """Older secrets that still check tokens (a rotation's grace period, serving.tokens)."""
    data_dir: Path = DATA_DIR
    long_poll_timeout: float = 30.0
    """Seconds a long-poll waits for news before answering 204."""
    sse_max_seconds: float = 60.0
    """SSE connections are closed after this long so clients reconnect (CDN collapsing)."""
    sse_keepalive_seconds: float = 15.0
    max_read_bytes: int = 4 * 1024 * 1024
    """A catch-up read returns at most this many bytes of records (at least one record)."""
    limits: Limits = field(default_factory=Limits)
    sessions: SessionSettings = field(default_factory=SessionSettings)
    cors_origins: tuple[str, ...] = ()
    """Web origins whose pages may use /v1/stream/ from a browser (``--cors-origin``); empty:
    any origin when tokens are checked, only the server's own pages when ``open_access``."""
    access_log: bool = False
    """Log one line per request (uvicorn's access log, and its info lines: ``--access-log``);
    tokens in them are redacted (serving.redact)."""
    append_lane: bool = True
    """Answer plain appends on the append lane (serving.lane) when uvicorn is what it builds on;
    False (``--no-append-lane``; or ``SERVING_APPEND_LANE=0``) serves them through uvicorn's
    ASGI path, with the same answers (serving.lane_switch)."""

    def __post_init__(self) -> None:
        if not self.open_access and self.secret is None:
            raise ValueError("a server that is not open needs a secret to check tokens")
        if self.long_poll_timeout <= 0:
            raise ValueError("long_poll_timeout must be positive")
        for origin in self.cors_origins:
            scheme, _, rest = origin.rstrip("/").partition("://")
            if scheme not in ("http", "https") or not rest or "/" in rest or origin == "*":
                raise ValueError(
                    f"--cors-origin {origin!r} is not a web origin: write it as a browser "
                    "sends it, scheme and host (and port), e.g. https://app.example or "
                    "http://localhost:5173"
                )
