"""The servers the benchmarks start: free ports, start-up, CPU accounting, clear failures."""

from __future__ import annotations

import shutil
import socket
import sys
from pathlib import Path

import httpx
import pytest

from benchmarks.servers import SERVERS, RunningServer, ServerSpec, ServerStartError, free_port


def test_free_port_can_be_bound() -> None:
    port = free_port()
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", port))


def test_our_memory_server_serves_streams_and_reports_its_cpu() -> None:
    with RunningServer(SERVERS["ours-memory"]) as server:
        created = httpx.put(
            f"{server.url}/v1/stream/probe", headers={"content-type": "application/json"}
        )
        assert created.status_code == 201
        before = server.cpu_seconds()
        for number in range(20):
            httpx.post(
                f"{server.url}/v1/stream/probe",
                content=b'{"n":%d}' % number,
                headers={"content-type": "application/json"},
            )
        after = server.cpu_seconds()
        assert before is not None and after is not None
        assert after > before > 0
    assert server.process.poll() is not None


class _BadStoreSpec(ServerSpec):
    """Our server with a store URL it refuses, so it exits at start-up."""

    def command(self, port: int, data_dir: Path) -> list[str]:
        return [
            sys.executable,
            "-m",
            "serving",
            "--open",
            "--store",
            "bogus://",
            "--port",
            str(port),
        ]


def test_a_server_that_exits_at_start_up_says_why() -> None:
    spec = _BadStoreSpec("ours-broken", "ours", durable=False)
    with pytest.raises(ServerStartError, match=r"(?s)ours-broken exited with code 2.*'bogus://'"):
        RunningServer(spec, startup_timeout=30)


def test_the_stores_are_paired_as_the_targets_say() -> None:
    assert {name: (spec.implementation, spec.durable) for name, spec in SERVERS.items()} == {
        "ours-sqlite": ("ours", True),
        "reference-file": ("reference", True),
        "ours-memory": ("ours", False),
        "reference-memory": ("reference", False),
    }


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("node") is None, reason="the reference server needs Node.js")
def test_the_pinned_reference_server_starts_with_its_file_store() -> None:
    with RunningServer(SERVERS["reference-file"]) as server:
        created = httpx.put(
            f"{server.url}/v1/stream/probe", headers={"content-type": "application/json"}
        )
        assert created.status_code == 201
        assert "storage=file:" in server.log()
