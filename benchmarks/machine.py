"""What every results page shares: the machine it was measured on, and how it is written."""

from __future__ import annotations

import platform
from pathlib import Path


def cpu_model() -> str:
    """The CPU's model name (Linux), else what the platform module knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def publish(text: str, path: Path, *, quick: bool) -> None:
    """Print a results page; write it to ``path`` too, unless it is a quick (smoke) run."""
    print(text)
    if not quick:
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
        print(f"written to {path}")
