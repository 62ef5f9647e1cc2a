"""One error convention: every refusal of every layer is a ServingError with an UPPER_SNAKE
code, its HTTP status and its close code on the class; a code means one status wherever it is
said; and the docs a client is written from list every code the sessions and models send."""

from __future__ import annotations

import importlib
import re
from collections import defaultdict
from pathlib import Path

import pytest

from serving.errors import CODE_PATTERN, ServingError

LAYERS = {
    "serving.streams.errors": "StreamError",
    "serving.sessions.errors": "SessionError",
    "serving.models.errors": "ModelError",
    "serving.classroom.errors": "ClassroomError",
}
DOCS = Path(__file__).resolve().parents[2] / "docs"


def _classes(module_name: str) -> list[type[Exception]]:
    module = importlib.import_module(module_name)
    return [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, Exception)
        and value.__module__ == module_name
    ]


def _refusals() -> list[type[ServingError]]:
    """Every ServingError class of the server (the web page's too)."""
    for module_name in (*LAYERS, "serving.web.page"):
        importlib.import_module(module_name)
    found: list[type[ServingError]] = []
    pending = [ServingError]
    while pending:
        kind = pending.pop()
        found.append(kind)
        pending.extend(kind.__subclasses__())
    return [kind for kind in found if kind.__module__.startswith("serving.")]


def _sent(module_name: str) -> list[type[ServingError]]:
    """The classes of a layer that reach clients: all but the layer's base."""
    base = LAYERS[module_name]
    return [
        kind
        for kind in _classes(module_name)
        if issubclass(kind, ServingError) and kind.__name__ != base
    ]


@pytest.mark.parametrize("module_name", LAYERS)
def test_every_error_of_a_layer_derives_from_its_one_base(module_name: str) -> None:
    base = getattr(importlib.import_module(module_name), LAYERS[module_name])
    assert issubclass(base, ServingError)
    classes = _classes(module_name)
    assert len(classes) > 3
    assert [kind.__name__ for kind in classes if not issubclass(kind, base)] == []


def test_codes_are_upper_snake_with_a_status_and_a_matching_close_code() -> None:
    refusals = _refusals()
    assert len(refusals) > 40
    for kind in refusals:
        assert CODE_PATTERN.fullmatch(kind.code), f"{kind.__name__}.code = {kind.code!r}"
        assert 400 <= kind.status < 600, kind
        assert kind.close_code in (None, 4000 + kind.status), kind


def test_one_code_means_one_status_in_every_layer() -> None:
    statuses: dict[str, set[int]] = defaultdict(set)
    for kind in _refusals():
        statuses[kind.code].add(kind.status)
    assert {code: found for code, found in statuses.items() if len(found) > 1} == {}
    for shared in ("PAYLOAD_TOO_LARGE", "UNAUTHORIZED", "FORBIDDEN", "INVALID_OFFSET"):
        layers = {kind.__module__ for kind in _refusals() if kind.code == shared}
        assert len(layers) >= 2, f"{shared} is said by {layers}"


def test_the_error_body_carries_the_code_and_message() -> None:
    from serving.models.errors import InvalidRow
    from serving.sessions.errors import RunNotActive

    refused = RunNotActive("run r-1 has ended", command_id="c9")
    assert refused.body() == {
        "error": {"code": "RUN_NOT_ACTIVE", "message": "run r-1 has ended", "id": "c9"}
    }
    problems = [{"field": "island", "problem": "unknown", "expected": "Dream"}]
    assert InvalidRow("bad row", problems).body()["error"] == {
        "code": "INVALID_ROW",
        "message": "bad row",
        "problems": problems,
    }


def _table_codes(text: str, heading: str) -> set[str]:
    """The codes in the first column of the table under ``heading``."""
    section = text.split(heading, 1)[1]
    table = re.search(r"\n\|[^\n]*\n\|[-| ]+\|\n((?:\|[^\n]*\n)+)", section)
    assert table is not None, f"no table under {heading}"
    codes: set[str] = set()
    for row in table.group(1).splitlines():
        codes.update(re.findall(r"`([A-Z][A-Z0-9_]*)`", row.split("|")[1]))
    return codes


def test_protocol_md_lists_every_session_code() -> None:
    documented = _table_codes((DOCS / "PROTOCOL.md").read_text(), "## Error codes")
    sent = {kind.code for kind in _sent("serving.sessions.errors")}
    assert sent == documented


def test_models_md_lists_every_model_code() -> None:
    documented = _table_codes((DOCS / "MODELS.md").read_text(), "### Error codes")
    sent = {kind.code for kind in _sent("serving.models.errors")}
    assert sent <= documented
    # Said by other layers on the models' behalf: an upload's unknown session (the sessions'),
    # a write to a model's log over /v1/stream/ (the streams' read-only refusal).
    assert documented - sent == {"SESSION_NOT_FOUND", "MODEL_LOG_READ_ONLY"}


def test_the_rename_table_maps_every_old_code_to_a_code_still_sent() -> None:
    text = (DOCS / "PROTOCOL.md").read_text()
    renames = re.findall(r"^\| `([a-z_]+)` \| `([A-Z_]+)` \|$", text, re.MULTILINE)
    assert len(renames) == 16
    sent = {kind.code for kind in _sent("serving.sessions.errors")}
    # New after the renames: a store outage (was `internal`), a duplicated access_token.
    # and an expired session (issue 17).
    new_since = {"STORE_UNAVAILABLE", "BAD_REQUEST", "SESSION_EXPIRED"}
    assert {new for _, new in renames} == sent - new_since
