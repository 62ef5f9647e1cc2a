"""``serving --lan`` / ``make serve LAN=1``: the computer's network address and a QR code a
phone's camera opens. The address detection is checked with given probes; the command with a
real server process whose printed QR code is decoded and whose link opens the session."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from serving.lan import PROBE_ADDRESS, NoLanAddress, lan_address, qr_svg, qr_text, share_link
from tests.serving.qr_decode import decode, text_to_pixels
from tests.serving.serving_process import serving_process

pytestmark = pytest.mark.timeout(120)


def test_lan_address_is_the_source_address_towards_a_private_network() -> None:
    asked: list[tuple[str, int]] = []

    def probe(target: tuple[str, int]) -> str:
        asked.append(target)
        return "192.168.1.20"

    assert lan_address(probe) == "192.168.1.20"
    assert asked == [PROBE_ADDRESS]


@pytest.mark.parametrize("answer", ["127.0.0.1", "0.0.0.0"])
def test_no_network_is_said_with_the_way_out(answer: str) -> None:
    with pytest.raises(NoLanAddress, match=r"--lan ADDRESS \(make serve LAN=ADDRESS\)"):
        lan_address(lambda target: answer)


def test_no_route_is_said_with_the_way_out() -> None:
    def unreachable(target: tuple[str, int]) -> str:
        raise OSError(101, "Network is unreachable")

    with pytest.raises(NoLanAddress, match=r"no route to a local network \(Network is unreach"):
        lan_address(unreachable)


def test_the_real_probe_sends_nothing_and_answers_an_address_or_says_why() -> None:
    try:
        address = lan_address()
    except NoLanAddress as error:
        assert "--lan ADDRESS" in str(error)
    else:
        assert not address.startswith("127.")


def test_share_link_keeps_tokens_after_the_hash() -> None:
    link = share_link("10.0.0.5", 8000, "ab" * 16, {"read": "R", "write": "W", "control": "C"})
    assert link == f"http://10.0.0.5:8000/#session={'ab' * 16}&read=R&control=C"
    assert share_link("fe80::1", 80, "s", None) == "http://[fe80::1]:80/#session=s"


def test_terminal_and_svg_qr_codes_decode_to_the_link() -> None:
    link = "http://192.168.1.20:8000/#session=" + "0" * 32 + "&read=" + "r" * 120
    assert decode(text_to_pixels(qr_text(link))) == [link]
    assert max(len(line) for line in qr_text(link).splitlines()) <= 80
    svg = qr_svg(link)
    assert svg.startswith(b"<svg") and b"<script" not in svg


@pytest.fixture
def lan_server(tmp_path: Path) -> Iterator[tuple[list[str], Path]]:
    """``python -m serving --lan 192.0.2.7 --port 0``: a documentation address, named."""
    log = tmp_path / "server.log"
    arguments = ["--lan", "192.0.2.7", "--port", "0", "--models", str(tmp_path / "models")]
    arguments += ["--data-dir", str(tmp_path / "data"), "--store", "memory://"]

    def qr_printed(printed: list[str]) -> bool:  # the QR code, then its blank margin
        return any("█" in line for line in printed) and printed[-1].strip() == ""

    with serving_process(arguments, log, ready=qr_printed, timeout=60) as printed:
        yield printed, log


def test_lan_prints_the_address_and_a_qr_code_of_a_session_link(
    lan_server: tuple[list[str], Path],
) -> None:
    printed, log = lan_server
    page = next(line for line in printed if line.startswith("The page: "))
    port = int(urlsplit(page.split()[2]).port or 0)
    assert f"On your network: http://192.0.2.7:{port}/\n" in printed
    link = next(line.strip() for line in printed if line.startswith("http://192.0.2.7"))
    qr = "".join(line for line in printed if "█" in line)
    assert decode(text_to_pixels(qr)) == [link]
    assert "Listening on 0.0.0.0" in log.read_text()  # --lan listens on every interface

    # The link opens a real session with control (read here through loopback).
    fragment = parse_qs(urlsplit(link).fragment)
    assert set(fragment) == {"session", "read", "control"}
    session = fragment["session"][0]
    response = httpx.get(
        f"http://127.0.0.1:{port}/v1/sessions/{session}",
        headers={"authorization": f"Bearer {fragment['control'][0]}"},
    )
    assert response.status_code == 200, response.text

    # The page's card shows the same link's QR code: POST /web/qr answers an SVG.
    svg = httpx.post(f"http://127.0.0.1:{port}/web/qr", content=link.encode())
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    address = httpx.get(f"http://127.0.0.1:{port}/web/lan").json()
    assert address == {"origin": f"http://192.0.2.7:{port}"}


def test_lan_without_a_network_says_what_to_do(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", "import serving.lan as l, serving.cli as c, sys;"
         "l._probe = lambda t: '127.0.0.1'; sys.exit(c.main(['--lan']))"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "serving: cannot find this computer's address on the local network: the only address "
        "is 127.0.0.1. Connect it to the phone's Wi-Fi, or name the address yourself: --lan "
        "ADDRESS (make serve LAN=ADDRESS)"
    ]


def test_the_qr_endpoint_refuses_an_empty_or_oversized_link(
    lan_server: tuple[list[str], Path],
) -> None:
    printed, _ = lan_server
    page = next(line for line in printed if line.startswith("The page: ")).split()[2]
    empty = httpx.post(f"{page}web/qr", content=b"")
    assert (empty.status_code, empty.json()["error"]["code"]) == (400, "BAD_REQUEST")
    huge = httpx.post(f"{page}web/qr", content=b"x" * 2049)
    assert (huge.status_code, huge.json()["error"]["code"]) == (413, "PAYLOAD_TOO_LARGE")
    assert "1 to 2048 bytes" in huge.json()["error"]["message"]
