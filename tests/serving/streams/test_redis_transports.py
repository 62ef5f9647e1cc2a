"""The Redis store over TLS (``rediss://``) and a Unix socket (``unix://``), against real servers.

test_redis_url.py only reads these URLs; here each fixture starts its own redis-server
(the shared one in tests/serving/conftest.py speaks plain TCP): one listening on a Unix socket
only, one on a TLS port only, with a CA and a server certificate made by ``openssl`` for the
test. Through each, the project's RedisStore creates a stream, appends, reads, and wakes a
reader waiting in another store (so the subscriber's connection takes the same road). The TLS
server also proves it is TLS: without the CA the certificate is refused, and a plain redis://
client gets nothing. Both servers are stopped after the module; starting both takes about 0.2 s.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from benchmarks.redis_server import redis_server_path
from benchmarks.servers import free_port
from serving.streams import ZERO, AppendRequest, CreateRequest, StoreUnavailable
from serving.streams.redis_store import RedisStore

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(
        redis_server_path() is None,
        reason="redis-server is not installed (apt-get install redis-server)",
    ),
]

TEXT = "text/plain"


def _start(folder: Path, *options: str, ready: Callable[[], bool]) -> subprocess.Popen[bytes]:
    """A redis-server in ``folder``, once ``ready()``; SkipTest if it exits while starting."""
    command = [
        str(redis_server_path()),
        *("--dir", str(folder), "--save", "", "--appendonly", "no", "--loglevel", "warning"),
        *options,
    ]
    log = folder / "redis.log"
    with log.open("ab") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 10
    while not ready():
        if process.poll() is not None:
            pytest.fail(f"redis-server {' '.join(options)} stopped: {log.read_text()[-500:]}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"redis-server {' '.join(options)} did not answer within 10 s")
        time.sleep(0.01)
    return process


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _answers_ping(connect: Callable[[], socket.socket]) -> bool:
    try:
        with connect() as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(64).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    """A short path: a Unix socket's path must fit in 107 bytes, pytest's tmp_path may not."""
    path = Path(tempfile.mkdtemp(prefix="redis-t-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def unix_socket(folder: Path) -> Iterator[Path]:
    """The path of a redis-server listening on a Unix socket and no TCP port."""
    path = folder / "redis.sock"

    def connect() -> socket.socket:
        connection = socket.socket(socket.AF_UNIX)
        connection.settimeout(1)
        connection.connect(str(path))
        return connection

    process = _start(
        folder, "--port", "0", "--unixsocket", str(path), "--unixsocketperm", "700",
        ready=lambda: _answers_ping(connect),
    )  # fmt: skip
    yield path
    _stop(process)


def _openssl(*arguments: str, folder: Path) -> None:
    subprocess.run(["openssl", *arguments], cwd=folder, check=True, capture_output=True)


def make_certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A CA, and a certificate it signs for 127.0.0.1 and localhost: (ca, cert, key) files."""
    curve = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    _openssl(
        "req", "-x509", *curve, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
        "-subj", "/CN=course kit test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        folder=folder,
    )  # fmt: skip
    _openssl(
        "req", *curve, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost",
        folder=folder,
    )  # fmt: skip
    (folder / "server.ext").write_text(
        "basicConstraints=CA:FALSE\n"
        "keyUsage=critical,digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=serverAuth\n"
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
        "authorityKeyIdentifier=keyid\n"
    )
    _openssl(
        "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "server.crt", "-days", "2", "-extfile", "server.ext",
        folder=folder,
    )  # fmt: skip
    return folder / "ca.crt", folder / "server.crt", folder / "server.key"


def redis_has_tls() -> bool:
    """Whether this redis-server was built with TLS (Debian's is: BUILD_TLS=yes)."""
    probe = subprocess.run(
        [str(redis_server_path()), "--tls-port", "0", "--port", "0", "--save", ""],
        capture_output=True,
        text=True,
        timeout=10,
    )  # listening nowhere, it exits at once; a build without TLS first calls the option bad
    return "Bad directive" not in probe.stdout + probe.stderr


@pytest.fixture(scope="module")
def tls_server(folder: Path) -> Iterator[tuple[int, Path]]:
    """(port, CA file) of a redis-server speaking TLS only, clients not asked for certificates."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed (apt-get install openssl): it makes the certificates")
    if not redis_has_tls():
        pytest.skip("this redis-server was built without TLS (BUILD_TLS=yes); Debian's has it")
    ca, cert, key = make_certificates(folder)
    port = free_port()
    context = ssl.create_default_context(cafile=str(ca))

    def connect() -> socket.socket:
        return context.wrap_socket(
            socket.create_connection(("127.0.0.1", port), timeout=1), server_hostname="127.0.0.1"
        )

    process = _start(
        folder, "--port", "0", "--bind", "127.0.0.1", "--tls-port", str(port),
        "--tls-cert-file", str(cert), "--tls-key-file", str(key), "--tls-ca-cert-file", str(ca),
        "--tls-auth-clients", "no",
        ready=lambda: _answers_ping(connect),
    )  # fmt: skip
    yield port, ca
    _stop(process)


@pytest.fixture
async def open_stores() -> AsyncIterator[Callable[[str], RedisStore]]:
    """Opens stores on a URL (no query yet), sharing one fresh key prefix; closes them after."""
    prefix = f"t-{uuid.uuid4().hex[:12]}:"
    opened: list[RedisStore] = []

    def open_store(url: str) -> RedisStore:
        separator = "&" if "?" in url else "?"
        store = RedisStore.from_url(f"{url}{separator}prefix={prefix}")
        opened.append(store)
        return store

    yield open_store
    for store in opened:
        await store.aclose()


async def _appends_reads_and_wakes(reader: RedisStore, writer: RedisStore) -> None:
    """One store appends, another reads what it wrote and wakes when it writes more."""
    await writer.create("s", CreateRequest(content_type=TEXT))
    first = (await writer.append("s", AppendRequest(data=b"hello ", content_type=TEXT))).tail
    assert b"".join((await reader.read("s", ZERO, 1 << 20)).records) == b"hello "
    waiting = asyncio.create_task(reader.wait("s", first, timeout=10))
    while reader.waiting("s") == 0:
        await asyncio.sleep(0.001)
    await asyncio.sleep(0.05)  # parked and subscribed
    await writer.append("s", AppendRequest(data=b"world", content_type=TEXT))
    assert await asyncio.wait_for(waiting, 5)
    assert b"".join((await reader.read("s", first, 1 << 20)).records) == b"world"


async def test_the_store_works_over_a_unix_socket(unix_socket: Path, open_stores) -> None:
    url = f"unix://{unix_socket}"
    await _appends_reads_and_wakes(open_stores(url), open_stores(url))


async def test_the_store_works_over_tls_checking_the_servers_certificate(
    tls_server: tuple[int, Path], open_stores
) -> None:
    port, ca = tls_server
    url = f"rediss://127.0.0.1:{port}/0?ssl_ca_certs={ca}"  # the host name is checked, too
    await _appends_reads_and_wakes(open_stores(url), open_stores(url))


async def test_tls_without_checking_the_certificate_when_asked(
    tls_server: tuple[int, Path], open_stores
) -> None:
    port, _ = tls_server
    url = f"rediss://127.0.0.1:{port}/0?ssl_cert_reqs=none"
    await _appends_reads_and_wakes(open_stores(url), open_stores(url))


async def test_a_certificate_from_an_unknown_ca_is_refused(
    tls_server: tuple[int, Path], open_stores
) -> None:
    port, _ = tls_server
    store = open_stores(f"rediss://127.0.0.1:{port}/0")  # the system's CAs only
    with pytest.raises(StoreUnavailable, match="certificate verify failed"):
        await store.create("s", CreateRequest(content_type=TEXT))


async def test_a_plain_client_gets_nothing_from_the_tls_port(
    tls_server: tuple[int, Path], open_stores
) -> None:
    port, _ = tls_server
    store = open_stores(f"redis://127.0.0.1:{port}/0?socket_timeout=1&socket_connect_timeout=1")
    with pytest.raises(StoreUnavailable, match="nothing was stored"):
        await store.create("s", CreateRequest(content_type=TEXT))
