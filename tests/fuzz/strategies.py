"""Hypothesis strategies for adversarial input: JSON of every shape, commands that are almost
right, and frames that are cut, oversized or not JSON at all."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(["", "start", "new", "-1", "now", "../../etc/passwd", "\x00", "é" * 5])
)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
OFFSETS = (
    st.sampled_from(
        [
            "start",
            "new",
            "0000000000000000_0000000000000000",
            "0000000000000001_0000000000000002",
            "9999999999999999_9999999999999999",
            "0000000000000001_0000000000000002.000001",
            "0000000000000001_0000000000000002.999999",
            "-1",
            "now",
        ]
    )
    | JSON
)
COMMAND_TYPES = st.sampled_from(["subscribe", "send", "cancel", "steer", "heartbeat"]) | JSON
FIELDS = {
    "id": st.text(max_size=70) | JSON,
    "from": OFFSETS,
    "data": st.fixed_dictionaries({"text": st.text(max_size=40)}) | JSON,
    "agent": st.sampled_from(["text", "orchestrator", "predict", "batch", "nobody"]) | JSON,
    "params": st.dictionaries(
        st.sampled_from(["speed", "length", "audience", "level", "bogus"]),
        st.sampled_from([0, -1, 0.1, 1e308, 1e6, "short", "expert", None, [], {}]) | JSON,
        max_size=3,
    )
    | JSON,
    "run": st.sampled_from(["$last-run", "r-000000000000", ""]) | JSON,
    "extra": JSON,
}


@st.composite
def commands(draw: st.DrawFn) -> dict[str, Any]:
    """A command object: a known or odd type, a random subset of fields with odd values."""
    chosen = draw(st.lists(st.sampled_from(sorted(FIELDS)), unique=True, max_size=4))
    command = {"type": draw(COMMAND_TYPES)} if draw(st.booleans()) or not chosen else {}
    for name in chosen:
        command[name] = draw(FIELDS[name])
    return command


def _truncated(command: dict[str, Any], cut: int) -> str:
    text = json.dumps(command)
    return text[: cut % max(len(text), 1)]


FRAMES = st.one_of(
    commands().map(json.dumps),
    st.builds(_truncated, commands(), st.integers(min_value=0, max_value=200)),
    JSON.map(json.dumps),
    st.text(max_size=60),
    st.binary(max_size=60),
    st.sampled_from(
        [
            "",
            "[" * 50_000,
            '{"a":' * 20_000 + "1" + "}" * 20_000,
            "NaN",
            '{"type": "send", "data": {"x": NaN}}',
            '{"type": "send", "data": {"x": Infinity}}',
            '{"type": "heartbeat", "type": "send"}',
            json.dumps({"type": "send", "data": {"text": "x" * 70_000}}),
            json.dumps({"type": "send", "data": {"text": "\ud800"}}),
            '{"type": "send", "data": {"text": "\\ud800"}}',
            json.dumps({"type": "heartbeat", "id": "x" * 65}),
            "\x00\x01\x02",
            "1" * 5000,
        ]
    ),
)
"""One WebSocket frame (text or bytes) or HTTP body."""
DEEPLY_NESTED = "[" * 50_000
