"""Your phone in one step: the computer's address on the local network, and QR codes of links.

``make serve LAN=1`` (``python -m serving --lan``) listens on every interface, creates a
session, and prints its share link with this computer's LAN address, as text and as a QR
code in the terminal: a phone camera opens the session, no URL typed by hand. The page shows
the same link's QR code in its "This session, elsewhere" card (``POST /web/qr``, see
docs/PROTOCOL.md).

Finding the address sends nothing: :func:`lan_address` "connects" a UDP socket to a private
address, which only asks the kernel which interface would route there, then reads the socket's
own address. No packet leaves, no DNS is asked, and it works offline on a home network. A
computer with several networks (Wi-Fi and a VPN) may pick the wrong one: ``--lan ADDRESS``
names it.

The QR codes come from segno (pure Python, no dependencies: 0.6 MB installed). A share link
with its two tokens is 330 to 420 characters (measured: 415 for the page's, whose tokens name
their subject): version 13 at the lowest error correction, 69 modules, 73 terminal columns and
37 lines with its border (two rows a line, in half blocks), so it fits an 80x40 terminal. The
SVG for the page is 7.5 kB, made in 20 ms; the terminal text in 20 ms too.
"""

from __future__ import annotations

import io
import ipaddress
import socket
from collections.abc import Callable

__all__ = ["NoLanAddress", "lan_address", "qr_svg", "qr_text", "share_link"]

PROBE_ADDRESS = ("10.255.255.255", 9)
"""A private address: the route to it is the LAN's default route (nothing is sent to it)."""


class NoLanAddress(ValueError):
    """No interface of this computer routes to a network (no Wi-Fi, no cable)."""


def _probe(target: tuple[str, int]) -> str:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(target)  # UDP: picks the route and the source address, sends nothing
        return str(probe.getsockname()[0])


def lan_address(probe: Callable[[tuple[str, int]], str] | None = None) -> str:
    """This computer's IPv4 address on its local network; NoLanAddress if it has none.

    ``probe`` returns the source address the system would use towards a target (tests give
    their own). A loopback or unspecified answer means there is no network to join.
    """
    try:
        address = (probe or _probe)(PROBE_ADDRESS)
    except OSError as error:
        raise NoLanAddress(_no_lan(f"no route to a local network ({error.strerror})")) from None
    parsed = ipaddress.ip_address(address)
    if parsed.is_loopback or parsed.is_unspecified:
        raise NoLanAddress(_no_lan(f"the only address is {address}"))
    return address


def _no_lan(reason: str) -> str:
    return (
        f"cannot find this computer's address on the local network: {reason}. Connect it to "
        "the phone's Wi-Fi, or name the address yourself: --lan ADDRESS (make serve "
        "LAN=ADDRESS)"
    )


def share_link(address: str, port: int, session: str, tokens: dict[str, str] | None) -> str:
    """The page's "Share control" link (as app.js writes it): tokens after ``#`` only."""
    host = f"[{address}]" if ":" in address else address
    link = f"http://{host}:{port}/#session={session}"
    if tokens:
        link += f"&read={tokens['read']}&control={tokens['control']}"
    return link


def qr_text(data: str) -> str:
    """A QR code of ``data`` for a terminal: half blocks, light modules drawn, two rows a line.

    Drawn light-on-dark (a block is a light module), which phone cameras read on the usual
    dark terminal; the border of two modules is drawn too, so it reads on a light one.
    """
    import segno

    out = io.StringIO()
    segno.make(data, error="l", micro=False).terminal(out=out, compact=True, border=2)
    return out.getvalue()


def qr_svg(data: str) -> bytes:
    """A QR code of ``data`` as a standalone SVG document (black on white, 4-module border)."""
    import segno

    out = io.BytesIO()
    segno.make(data, error="l", micro=False).save(
        out, kind="svg", scale=4, border=4, title="QR code of the link", xmldecl=False
    )
    return out.getvalue()
