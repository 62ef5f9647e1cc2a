"""For the whole test run: no token in any server log (tests/tokenscan.py, issue 17 item 3)."""

from __future__ import annotations

import pytest

from tests import tokenscan


def pytest_configure(config: pytest.Config) -> None:
    tokenscan.install()


def pytest_sessionfinish(session: pytest.Session) -> None:
    tokenscan.uninstall()
    if tokenscan.findings() and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    found = tokenscan.findings()
    if not found:
        return
    terminalreporter.section("tokens in server logs", sep="=", red=True, bold=True)
    terminalreporter.write_line(
        f"{len(found)} server log line(s) hold a token or an unredacted access_token=/ticket= "
        "(serving.redact should have rewritten them; tests/tokenscan.py):"
    )
    for finding in found:
        terminalreporter.write_line(f"{finding.test}\n  {finding.where}\n  {finding.line}")
