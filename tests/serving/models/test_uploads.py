"""Uploads go to disk as they arrive: an upload never sits whole in memory (it used to, twice:
a buffer and its bytes() copy), a refused one leaves no file, and the file is what was sent."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import serving.models.http as http
from serving.background import BackgroundServer
from serving.config import ServerConfig
from serving.models import ModelRegistry
from serving.models.uploads import UploadFile
from serving.streams import MemoryStore

CHUNK = 64 * 1024


@pytest.fixture
def served(registry: ModelRegistry, tmp_path: Path) -> Iterator[tuple[httpx.Client, Path]]:
    """A real server on a socket: the body arrives in the pieces the network gives."""
    config = ServerConfig(store_url="memory://", open_access=True, data_dir=tmp_path)
    with (
        BackgroundServer(config, store=MemoryStore(), models=registry) as server,
        httpx.Client(base_url=server.url, timeout=30) as client,
    ):
        yield client, tmp_path / "uploads"


def _chunks(data: bytes) -> Iterator[bytes]:
    for start in range(0, len(data), CHUNK):
        yield data[start : start + CHUNK]


def test_an_upload_is_written_piece_by_piece_and_is_what_was_sent(
    served: tuple[httpx.Client, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, folder = served
    pieces: list[int] = []
    write = UploadFile.write

    def spy(self: UploadFile, data: bytes | bytearray) -> None:
        pieces.append(len(data))
        write(self, data)

    monkeypatch.setattr(UploadFile, "write", spy)
    session = client.post("/v1/sessions").json()["id"]
    body = b"x,y\n" + b"1.25,2.5\n" * 400_000  # 3.4 MiB, sent in 64 KiB chunks
    answer = client.post(f"/v1/uploads?session={session}", content=_chunks(body))
    assert answer.status_code == 201, answer.text
    assert answer.json()["bytes"] == len(body)
    assert (folder / session / f"{answer.json()['upload']}.csv").read_bytes() == body
    # Each piece is about UPLOAD_PIECE_BYTES (plus what one read from the socket brought):
    # never the whole body.
    assert len(pieces) >= 3 and max(pieces) < 2 * http.UPLOAD_PIECE_BYTES < len(body), pieces


@pytest.mark.parametrize("declared", [True, False])
def test_an_upload_over_the_cap_is_413_and_leaves_no_file(
    served: tuple[httpx.Client, Path], monkeypatch: pytest.MonkeyPatch, declared: bool
) -> None:
    client, folder = served
    monkeypatch.setattr(http, "MAX_UPLOAD_BYTES", 5 * CHUNK)
    session = client.post("/v1/sessions").json()["id"]
    body = b"a\n" * (3 * CHUNK)  # 6 chunks: one over the cap
    content = body if declared else _chunks(body)  # with a Content-Length, or chunked
    refused = client.post(f"/v1/uploads?session={session}", content=content)
    assert refused.status_code == 413, refused.text
    assert refused.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert not list(folder.glob("**/*.*")), "a refused upload left a file"
    empty = client.post(f"/v1/uploads?session={session}", content=b"")
    assert empty.status_code == 400
    assert not list(folder.glob("**/*.*"))


def test_uploads_per_client_answer_429_with_retry_after(
    registry: ModelRegistry, tmp_path: Path
) -> None:
    """Over a real socket, on a server with tokens: a client's uploads beyond its allowance
    are 429 RATE_LIMITED with Retry-After, and leave nothing on disk."""
    from serving.sessions.ratelimit import ClientRate
    from serving.sessions.settings import SessionSettings
    from serving.tokens import TokenSigner

    secret = b"uploads-limit-test-secret-0123456789"
    config = ServerConfig(
        store_url="memory://",
        secret=secret,
        data_dir=tmp_path,
        sessions=SessionSettings(client_rates={"uploads": ClientRate(burst=2, per_minute=1)}),
    )
    create = TokenSigner(secret).mint("sessions/*", ["create"], subject="dana")
    with (
        BackgroundServer(config, store=MemoryStore(), models=registry) as server,
        httpx.Client(base_url=server.url, timeout=30) as client,
    ):
        created = client.post("/v1/sessions", headers={"authorization": f"Bearer {create}"})
        session, write = created.json()["id"], created.json()["tokens"]["write"]
        headers = {"authorization": f"Bearer {write}"}
        answers = [
            client.post(f"/v1/uploads?session={session}", headers=headers, content=b"x\n1\n")
            for _ in range(3)
        ]
    assert [answer.status_code for answer in answers] == [201, 201, 429]
    refused = answers[-1]
    assert refused.json()["error"]["code"] == "RATE_LIMITED"
    assert int(refused.headers["retry-after"]) == refused.json()["error"]["retry_after"] >= 1
    assert "uploads" in refused.json()["error"]["message"]
    assert len(list((tmp_path / "uploads" / session).iterdir())) == 2
