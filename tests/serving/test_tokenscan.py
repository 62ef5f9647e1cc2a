"""The test run's token search (tests/tokenscan.py) fails a run whose servers logged a token,
names the test, and changes nothing a test sees of a server's output.

Each case runs pytest on planted tests in a child process with the plugin (tests/conftest.py),
as the real run does: a token logged by an in-process server's logger, a token a real
``python -m serving`` wrote to a stderr the test threw away, and a clean run beside them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import tokenscan

pytestmark = pytest.mark.timeout(120)

ROOT = Path(__file__).resolve().parents[2]
PLANTED = """
import logging
import os
import subprocess
import sys

from serving.redact import install
from serving.tokens import TokenSigner

TOKEN = TokenSigner(b"s" * 32).mint("sessions/abc", ["read"], subject="ana")


def test_a_redacted_logger_is_clean():
    install()
    logging.getLogger("uvicorn.error").warning("GET /x?access_token=%s %s", TOKEN, TOKEN)


def test_what_the_test_sees_is_unchanged(tmp_path):
    shown = subprocess.run(
        [sys.executable, "-m", "serving", "--port", "nope"], capture_output=True, text=True
    )
    assert shown.returncode == 2 and shown.stderr.endswith("invalid int value: 'nope'\\n")
    assert shown.stdout == ""
    log = tmp_path / "log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "serving", "--port", "nope"], stdout=output, stderr=output
        )
    assert process.wait() == 2
    assert log.read_text().endswith("invalid int value: 'nope'\\n")


def test_planted_in_a_logger():
    logging.getLogger("serving.planted").warning("a request with %s", TOKEN)


def test_planted_in_a_server_process():
    subprocess.run(
        [sys.executable, "-m", "serving", "--port", f"x?access_token={TOKEN}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_a_share_link_and_the_token_command_are_not_logs():
    logging.getLogger("serving.lan").warning("http://h:1/#session=abc&read=%s", TOKEN)
    minted = subprocess.run(
        [sys.executable, "-m", "serving", "token", "--scope", "read", "--stream", "s"],
        capture_output=True, text=True, env={**os.environ, "SERVING_SECRET": "x" * 32},
    )
    assert minted.stdout.startswith("v1."), minted.stderr
"""


def _run(tmp_path: Path, *selection: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_planted.py").write_text(PLANTED)
    environ = {**os.environ, "PYTHONPATH": str(ROOT)}
    environ.pop("PYTEST_CURRENT_TEST", None)
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "tests.conftest"]
    command += ["-c", os.devnull, "--rootdir", str(tmp_path), "-q"]
    command += [f"{tmp_path / 'test_planted.py'}::{name}" for name in selection]
    return subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, env=environ)


def test_a_clean_run_passes_and_what_tests_see_is_unchanged(tmp_path: Path) -> None:
    clean = _run(
        tmp_path,
        "test_a_redacted_logger_is_clean",
        "test_what_the_test_sees_is_unchanged",
        "test_a_share_link_and_the_token_command_are_not_logs",
    )
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "3 passed" in clean.stdout and "tokens in server logs" not in clean.stdout


def test_a_token_in_any_server_log_fails_the_run_and_names_the_test(tmp_path: Path) -> None:
    planted = _run(
        tmp_path,
        "test_a_redacted_logger_is_clean",
        "test_planted_in_a_logger",
        "test_planted_in_a_server_process",
    )
    assert planted.returncode == 1, planted.stdout + planted.stderr
    assert "3 passed" in planted.stdout  # every test passed: the search failed the run
    report = planted.stdout.split("tokens in server logs", 1)[1]
    assert "2 server log line(s)" in report
    assert "test_planted.py::test_planted_in_a_logger (call)\n  logger serving.planted\n" in report
    assert "test_planted.py::test_planted_in_a_server_process (call)\n" in report
    assert "python -m serving --port x?access_token=v1." in report and "(stderr)" in report
    assert "test_a_redacted_logger_is_clean" not in report


def test_the_search_finds_tokens_tickets_and_unredacted_query_values() -> None:
    token = "v1.eyJyIjoicyJ9." + "A" * 43
    assert tokenscan.scan(f"GET /x?access_token={token} 200") == [token, f"access_token={token}"]
    assert tokenscan.scan("GET /x?offset=-1&ticket=abc HTTP/1.1") == ["ticket=abc"]
    assert tokenscan.scan("GET /x?access_token=[redacted]&ticket=[redacted] v1.[redacted]") == []
    assert tokenscan.scan(f"link http://h:1/#session=a&read={token}&control={token}") == []
    assert tokenscan.scan("v1.abc.short and offset=-1") == []
