"""The ``serving`` command: flags, tokens, and a real server process that enforces them."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from serving.cli import default_instance, main, secret_command
from serving.sessions.settings import SessionSettings
from serving.tokens import SECRET_ENV, TokenSigner, load_or_create_secret


@pytest.fixture(autouse=True)
def no_secret_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SECRET_ENV, raising=False)


def test_help_documents_every_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    flags = ("--host", "--port", "--store", "--open", "--long-poll-timeout", "--data-dir")
    for flag in (*flags, "--instance", "--lease-seconds", "--cors-origin"):
        assert flag in text
    assert "memory://" in text and "sqlite:///" in text


def test_token_command_mints_a_token_for_this_server(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["token", "--scope", "read,write", "--stream", "chat/*", "--data-dir", str(tmp_path)])
        == 0
    )
    token = capsys.readouterr().out.strip()
    grant = TokenSigner(load_or_create_secret(tmp_path, environ={})).verify(token)
    assert grant.allows("write", "chat/7")
    assert not grant.allows("read", "other")


def test_the_token_help_names_the_token_that_opens_a_classroom_and_it_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main(["token", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "--scope operate --stream 'classrooms/*'" in help_text
    flags = ["--scope", "operate", "--stream", "classrooms/*", "--data-dir", str(tmp_path)]
    assert main(["token", *flags]) == 0
    token = capsys.readouterr().out.strip()
    from serving.classroom.service import ClassroomService
    from serving.streams.memory import MemoryStore

    signer = TokenSigner(load_or_create_secret(tmp_path, environ={}))
    ClassroomService(MemoryStore(), signer=signer).may_create(token)  # POST /v1/classrooms


def test_unknown_store_url_exits_with_a_message(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--open", "--store", "nosuch://x"]) == 2
    assert "unknown store URL" in capsys.readouterr().err


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def running_server(*flags: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """``python -m serving FLAGS`` on a free port, until the block ends."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "serving", "--port", str(port), *flags],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, process.communicate()[1]
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}", process
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def secured_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    with running_server("--store", "memory://", "--data-dir", str(tmp_path)) as (url, _):
        yield url, tmp_path


def test_a_real_server_needs_a_token_minted_with_its_secret(
    secured_server: tuple[str, Path],
) -> None:
    url, data_dir = secured_server
    assert (
        httpx.put(f"{url}/v1/stream/s", headers={"content-type": "text/plain"}).status_code == 401
    )
    minted = subprocess.run(
        [
            sys.executable,
            "-m",
            "serving",
            "token",
            "--scope",
            "read,write",
            "--stream",
            "s",
            "--data-dir",
            str(data_dir),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    headers = {"content-type": "text/plain", "authorization": f"Bearer {minted.stdout.strip()}"}
    assert httpx.put(f"{url}/v1/stream/s", headers=headers, content=b"hi").status_code == 201
    assert httpx.get(f"{url}/v1/stream/s", headers=headers).text == "hi"


def test_open_mode_warns_and_needs_no_token() -> None:
    with running_server("--store", "memory://", "--open") as (url, process):
        response = httpx.put(f"{url}/v1/stream/s", headers={"content-type": "text/plain"})
        assert response.status_code == 201
    warning = process.stderr.read()
    assert "WARNING: --open" in warning
    assert "web browsers" in warning and "--cors-origin" in warning


def test_shutdown_does_not_wait_for_live_readers() -> None:
    with running_server("--store", "memory://", "--open") as (url, process):
        httpx.put(f"{url}/v1/stream/s", headers={"content-type": "text/plain"})
        with httpx.stream("GET", f"{url}/v1/stream/s?offset=-1&live=sse", timeout=30) as live:
            assert live.status_code == 200
            started = time.monotonic()
            process.terminate()
            process.wait(timeout=15)
    assert time.monotonic() - started < 10


def test_an_oversized_upload_gets_a_readable_413() -> None:
    """The 413 comes after the whole upload: the client is not cut off mid-send."""
    with running_server("--store", "memory://", "--open", "--max-request-bytes", "1000") as (
        url,
        _,
    ):
        httpx.put(f"{url}/v1/stream/s", headers={"content-type": "application/octet-stream"})
        port = int(url.rsplit(":", 1)[1])
        size = 4 * 1024 * 1024
        with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
            connection.sendall(
                b"POST /v1/stream/s HTTP/1.1\r\nHost: x\r\n"
                b"Content-Type: application/octet-stream\r\n"
                + f"Content-Length: {size}\r\n\r\n".encode()
            )
            connection.sendall(b"x" * 65536)
            time.sleep(0.5)  # the server has decided by now
            connection.sendall(b"x" * (size - 65536))
            answer = b""
            while b"\r\n\r\n" not in answer or not answer.endswith(b"}"):
                answer += connection.recv(65536)
        assert answer.startswith(b"HTTP/1.1 413")
        assert b"exceeds the limit of 1000 bytes" in answer


def test_instance_names_default_to_main_or_host_and_port_on_a_shared_store() -> None:
    assert default_instance("sqlite:///data/streams.db", 8001) == "main"
    assert default_instance("memory://", 8001) == "main"
    named = default_instance("redis://127.0.0.1:6379/0", 8001)
    assert named.endswith("-8001") and named != default_instance("redis://x:6379/0", 8002)
    assert SessionSettings(instance=named).instance == named  # a valid instance name


def test_an_invalid_instance_name_exits_with_a_message(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--open", "--store", "memory://", "--instance", "two words"]) == 2
    assert "invalid instance name 'two words'" in capsys.readouterr().err
    assert main(["--open", "--store", "memory://", "--lease-seconds", "0.5"]) == 2
    assert "lease_seconds must be at least 1" in capsys.readouterr().err


def test_the_token_command_refuses_an_unknown_scope_and_lists_the_valid_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    flags = ["--stream", "chat/*", "--data-dir", str(tmp_path)]
    assert main(["token", "--scope", "reed,write", *flags]) == 2
    out, err = capsys.readouterr()
    assert out == ""  # no token with a typo in it
    assert err == (
        "serving token: unknown scope 'reed' (did you mean read?): the scopes are control, "
        "create, operate, read, write (comma-separated, e.g. --scope read,write)\n"
    )
    assert not (tmp_path / "secret.key").exists()  # refused before anything was written


def test_the_token_scopes_are_the_ones_the_server_checks() -> None:
    from serving.cli import TOKEN_SCOPES
    from serving.sessions.commands import Scope
    from serving.streams.http import READ, WRITE

    assert set(TOKEN_SCOPES) == {READ, WRITE, *Scope}


@pytest.mark.slow
def test_client_mistakes_are_one_line_each_in_the_servers_terminal(tmp_path: Path) -> None:
    """A bad row, an unknown model and a bad token, sent to a real server: each mistake the
    server logs is one line, and its terminal shows no traceback."""
    from course.recipes import PENGUIN_EXAMPLE
    from serving.client import CommandError, SessionClient

    flags = ("--store", "memory://", "--data-dir", str(tmp_path), "--models", str(tmp_path))
    with running_server(*flags, "--train-default-model") as (url, process):
        signer = TokenSigner(load_or_create_secret(tmp_path, environ={}))
        token = signer.mint("sessions/*", ["create"])
        catalog = {"authorization": f"Bearer {signer.mint('models/*', ['read'])}"}
        with SessionClient.create(url, token=token, device="test") as client:
            bad_row = {**PENGUIN_EXAMPLE, "island": "Atlantis"}
            for data in (
                {"model": "penguin-classifier", "row": bad_row},
                {"model": "no-such-model", "row": PENGUIN_EXAMPLE},
            ):
                run = client.send(data, agent="predict").run
                assert client.wait_for_answer(run, timeout=60).status == "failed"
        with pytest.raises(CommandError):
            SessionClient.create(url, token="v1.forged.token")
        assert httpx.get(f"{url}/v1/models/no-such-model", headers=catalog).status_code == 404
    stderr = process.stderr.read()
    assert "Traceback" not in stderr
    refused = [line for line in stderr.splitlines() if "refused the request" in line]
    assert len(refused) == 2, stderr
    assert "Atlantis" in refused[0]  # the bad value, whatever the wording
    assert "'no-such-model'" in refused[1]


def _serving_token(data_dir: Path, stream: str) -> str:
    minted = subprocess.run(
        [
            sys.executable,
            "-m",
            "serving",
            "token",
            "--scope",
            "read,write",
            "--stream",
            stream,
            "--data-dir",
            str(data_dir),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return minted.stdout.strip()


def test_a_rotated_secret_logs_nobody_out_and_a_removed_one_does(tmp_path: Path) -> None:
    """Real server processes, restarted as an operator does: a token from before ``serving
    secret rotate`` still works after it (the old secret checks tokens for the grace period),
    a token minted after it is signed with the new one, and a rotation with no grace removes
    the old secret: its tokens get 401."""
    flags = ("--store", f"sqlite:///{tmp_path / 'streams.db'}", "--data-dir", str(tmp_path))
    old = _serving_token(tmp_path, "s")
    with running_server(*flags) as (url, _):
        put = httpx.put(f"{url}/v1/stream/s", headers={"authorization": f"Bearer {old}"})
        assert put.status_code == 201
    assert main(["secret", "rotate", "--data-dir", str(tmp_path)]) == 0
    new = _serving_token(tmp_path, "s")
    with running_server(*flags) as (url, _):
        for token in (old, new):
            read = httpx.head(f"{url}/v1/stream/s", headers={"authorization": f"Bearer {token}"})
            assert read.status_code == 200, token
    assert TokenSigner(b"x" * 16, [load_or_create_secret(tmp_path, environ={})]).verify(new)
    # Rotating again with no grace: the first secret goes (the second still checks for 0 s).
    assert main(["secret", "rotate", "--grace-days", "0", "--data-dir", str(tmp_path)]) == 0
    with running_server(*flags) as (url, _):
        for token in (old, new):
            read = httpx.head(f"{url}/v1/stream/s", headers={"authorization": f"Bearer {token}"})
            assert read.status_code == 401, token
        fresh = _serving_token(tmp_path, "s")
        read = httpx.head(f"{url}/v1/stream/s", headers={"authorization": f"Bearer {fresh}"})
        assert read.status_code == 200


def test_secret_rotate_refuses_when_the_secret_comes_from_the_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    environ = {SECRET_ENV: "n" * 20 + "," + "o" * 20}
    assert secret_command(["rotate", "--data-dir", str(tmp_path)], environ=environ) == 2
    assert f"{SECRET_ENV}=NEW,OLD" in capsys.readouterr().err
    assert not (tmp_path / "secret.key").exists()
