"""Relay: forwards TCP to its target, and cuts, refuses and restores connections on demand."""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Iterator

import pytest

from serving.relay import Relay


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(4096):
            self.request.sendall(data)


@pytest.fixture(scope="module")
def echo_url() -> Iterator[str]:
    """A TCP echo server on 127.0.0.1: what goes in comes back."""
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Echo)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def relay(echo_url: str) -> Iterator[Relay]:
    with Relay(echo_url) as running:
        yield running


def connect(relay: Relay) -> socket.socket:
    port = int(relay.url.rsplit(":", 1)[1])
    return socket.create_connection(("127.0.0.1", port), timeout=5)


def echoes(sock: socket.socket, data: bytes = b"hello") -> bool:
    """True if ``data`` comes back; False if the connection was cut."""
    try:
        sock.sendall(data)
        return sock.recv(4096) == data
    except OSError:  # reset by the relay
        return False


def test_forwards_both_ways(relay: Relay) -> None:
    assert relay.url.startswith("http://127.0.0.1:")
    with connect(relay) as sock:
        assert echoes(sock, b"one") and echoes(sock, b"two")


def test_cut_drops_every_open_connection_and_new_ones_go_through(relay: Relay) -> None:
    first, second = connect(relay), connect(relay)
    assert echoes(first) and echoes(second)
    assert relay.cut() == 2
    assert not echoes(first) and not echoes(second)
    with connect(relay) as again:
        assert echoes(again)
    assert relay.cuts == 1
    first.close()
    second.close()


def test_down_refuses_connections_until_up(relay: Relay) -> None:
    open_before = connect(relay)
    assert echoes(open_before)
    assert relay.down() == 1 and not relay.is_up
    assert not echoes(open_before)
    with connect(relay) as refused:
        assert not echoes(refused)
    relay.up()
    with connect(relay) as accepted:
        assert echoes(accepted)
    open_before.close()


def test_a_cut_with_nothing_open_counts_no_cut(relay: Relay) -> None:
    assert relay.cut() == 0 and relay.cuts == 0


def test_stop_closes_the_port(echo_url: str) -> None:
    relay = Relay(echo_url).start()
    sock = connect(relay)
    assert echoes(sock)
    relay.stop()
    assert not echoes(sock)
    with pytest.raises(OSError):
        connect(relay)
    relay.stop()  # twice is fine
    sock.close()


def test_an_unreachable_target_resets_the_connection() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with Relay(f"http://127.0.0.1:{port}") as relay, connect(relay) as sock:
        assert not echoes(sock)


@pytest.mark.parametrize("target", ["127.0.0.1:80", "https://127.0.0.1:443", "http://host"])
def test_the_target_must_be_an_http_address_with_a_port(target: str) -> None:
    with pytest.raises(ValueError, match=r"the relay needs a target like http://127\.0\.0\.1:8000"):
        Relay(target)
