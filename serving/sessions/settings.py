"""SessionSettings: the knobs of the sessions layer, with defaults that suit a laptop."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from serving.sessions.ratelimit import DEFAULT_CLIENT_RATES, ClientRate

_INSTANCE = re.compile(r"[A-Za-z0-9._-]{1,64}")


@dataclass(frozen=True)
class SessionSettings:
    default_agent: str = "text"
    """The agent that answers a ``send`` that names none."""
    max_active_runs: int = 8
    """Runs per session at once; one more ``send`` is refused with ``busy``."""
    cancel_grace_seconds: float = 0.05
    """After a cancel, the agent has this long to stop by itself before its task is cancelled;
    keeps Stop under 100 ms even for agents slow to check the cancel signal."""
    presence_grace_seconds: float = 2.0
    """A device that reconnects within this time never appears to have left."""
    max_command_bytes: int = 64 * 1024
    max_event_bytes: int = 1024 * 1024
    max_read_bytes: int = 4 * 1024 * 1024
    """A catch-up reads the log in pieces of about this size (fewer store round trips)..."""
    max_frame_bytes: int = 512 * 1024
    """...and sends them in frames of about this size (at least one event each), so a client
    can show the first events before the last ones arrive."""
    commands_per_second: float = 50.0
    command_burst: int = 100
    """A connection may send ``command_burst`` commands at once, then ``commands_per_second``."""
    remembered_commands: int = 10_000
    """Acks kept (server-wide) to answer a retried command (same session, device and id)
    without doing it again."""
    sse_max_seconds: float = 60.0
    sse_keepalive_seconds: float = 15.0
    instance: str = "main"
    """This server's name for its ledger of open runs (serving.sessions.ledger): processes
    sharing one store need different names, and keep theirs when they restart."""
    lease_seconds: float = 15.0
    """This instance's lease (serving.sessions.leases): when it dies, a surviving process ends
    its open runs within about twice this. Keep it well above any pause of the process."""
    token_ttl_seconds: float | None = None
    """Lifetime of the tokens minted for a new session; None = they do not expire."""
    session_ttl_seconds: float | None = 3 * 24 * 3600.0
    """A session whose log nobody read or wrote for this long expires with its uploads
    (serving.retention; ``--session-ttl``); None = sessions never expire."""
    client_rates: Mapping[str, ClientRate] = field(
        default_factory=lambda: dict(DEFAULT_CLIENT_RATES)
    )
    """Per client (token subject, else address), on a server that checks tokens: how many
    ``sessions`` it may create, ``uploads`` post and ``batch`` runs start (``send`` to an
    agent named in ``client_limited_agents``); a kind left out is not limited.
    serving.sessions.ratelimit says why these defaults."""
    client_limited_agents: tuple[str, ...] = ("batch",)
    """The agents whose runs count as ``batch`` jobs."""

    def __post_init__(self) -> None:
        for name in ("cancel_grace_seconds", "presence_grace_seconds", "commands_per_second"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        if not _INSTANCE.fullmatch(self.instance):
            raise ValueError(
                f"invalid instance name {self.instance!r}: use 1 to 64 letters, digits or . _ -"
            )
        if self.session_ttl_seconds is not None and not self.session_ttl_seconds > 0:
            raise ValueError("session_ttl_seconds must be positive (or None: never expire)")
        if self.lease_seconds < 1:
            raise ValueError("lease_seconds must be at least 1 (a lease is a TTL in seconds)")
        if self.max_active_runs < 1 or self.command_burst < 1:
            raise ValueError("max_active_runs and command_burst must be at least 1")
