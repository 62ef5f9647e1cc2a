"""Is a request from the computer the server runs on? The rule behind the page's easy start.

The page at ``/`` needs a session and its tokens. On the server's own computer it gets them
with no setup at all (``POST /web/token``); from anywhere else it needs a link that carries a
token. A request counts as local only when all three hold:

1. it comes from a loopback address (127.0.0.0/8 or ::1), which another machine cannot fake
   over TCP;
2. its ``Host`` header names a loopback host (``localhost``, ``127.x.y.z``, ``[::1]``): a web
   site that makes its own domain resolve to 127.0.0.1 ("DNS rebinding") still sends its own
   domain as Host;
3. its ``Origin`` header, when present, is the server's own origin: another site open in the
   same browser cannot ask on the user's behalf (browsers send Origin with every cross-site
   POST).
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

__all__ = ["is_loopback_host", "why_not_local"]


def is_loopback_host(host: str | None) -> bool:
    """True for ``localhost`` and loopback IP addresses (``127.0.0.1``, ``::1``...)."""
    if not host:
        return False
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def why_not_local(client_host: str | None, host_header: str, origin: str | None) -> str | None:
    """None for a request from this computer's own page; otherwise why it is not one."""
    if not is_loopback_host(client_host):
        return f"it comes from {client_host or 'an unknown address'}, not from this computer"
    try:
        named = urlsplit(f"//{host_header}").hostname
    except ValueError:
        named = None
    if not is_loopback_host(named):
        return f"it is addressed to {host_header!r}, not to a loopback name such as 127.0.0.1"
    if origin is not None:
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or parts.netloc.lower() != host_header.lower():
            return f"it was sent by the page of another site ({origin})"
    return None
