"""The append lane's switch, and its check of uvicorn's internals (serving.lane_switch).

Turned off (flag, config or environment), or stepping aside because uvicorn differs from what
it builds on, the server must answer exactly as with the lane: these tests send the same raw
requests to a server with the lane and to one without, over real sockets, and compare the
answers with the parity helpers of test_lane.py. A simulated uvicorn (its internals patched
one way or another, as a new release might change them) must make the lane step aside with
one warning that names the difference, and the server must still answer correctly.
"""

from __future__ import annotations

import ast
import inspect
import logging
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from uvicorn.protocols.http import flow_control, httptools_impl

from serving import lane, lane_switch
from serving.background import BackgroundServer
from serving.cli import _serve_parser
from serving.config import ServerConfig
from serving.lane_switch import CYCLE_ATTRIBUTES, LANE_ENV, PLAIN_HTTP, PROTOCOL_ATTRIBUTES
from serving.slowclients import SlowClientLimits
from serving.streams import MemoryStore
from tests.serving.test_lane import (
    JSON,
    TEXT,
    RawConnection,
    RawResponse,
    _spy_on_lane,
    assert_same_answer,
)

PRODUCER = {"producer-id": "p", "producer-epoch": "0", "producer-seq": "0"}
CONVERSATION: list[tuple[str, str, dict[str, str], bytes]] = [
    ("PUT", "text", TEXT, b""),
    ("POST", "text", TEXT, b"hello"),
    ("POST", "text", TEXT | PRODUCER, b" world"),
    ("POST", "text", TEXT | PRODUCER, b" world"),  # a duplicate: acknowledged, not appended
    ("POST", "text", JSON, b"{}"),  # the wrong content type: 409
    ("POST", "missing", TEXT, b"x"),  # 404
    ("PUT", "json", JSON, b""),
    ("POST", "json", JSON, b'{"n": '),  # malformed: 400
    ("POST", "json", JSON, b'[{"n": 1}, {"n": 2}]'),
    ("POST", "text", TEXT | {"stream-closed": "true"}, b"!"),
    ("POST", "text", TEXT, b"late"),  # closed: 409 with the tail
    ("GET", "text?offset=-1", {}, b""),
    ("GET", "json?offset=-1", {}, b""),
]
"""Requests, in order, on one connection: appends the lane answers, refusals, and reads."""
EXPECTED = [201, 204, 200, 204, 409, 404, 201, 400, 204, 204, 409, 200, 200]


def converse(server: BackgroundServer, prefix: str) -> list[RawResponse]:
    """The answers to CONVERSATION, with the server's address in headers as ``SERVER``."""
    with RawConnection(server.url) as connection:
        answers = [
            connection.exchange(method, f"{prefix}-{stream}", headers, body)
            for method, stream, headers, body in CONVERSATION
        ]
    for answer in answers:  # Location names the server
        answer.headers = [
            (name, value.replace(server.url, "SERVER")) for name, value in answer.headers
        ]
    return answers


@pytest.fixture(scope="module")
def lane_answers() -> list[RawResponse]:
    """The conversation's answers from a server with the lane on."""
    with BackgroundServer(ServerConfig(store_url="memory://", open_access=True)) as server:
        answers = converse(server, "switch")
    assert [answer.status for answer in answers] == EXPECTED
    return answers


@pytest.fixture
def fresh_check() -> Iterator[None]:
    """The check runs again for this test (it is cached per process) and after it."""
    lane_switch.uvicorn_mismatch.cache_clear()
    lane_switch._source_facts.cache_clear()
    yield
    lane_switch.uvicorn_mismatch.cache_clear()
    lane_switch._source_facts.cache_clear()


def serve_and_compare(
    config: ServerConfig, lane_answers: list[RawResponse], monkeypatch: pytest.MonkeyPatch
) -> BackgroundServer:
    """Start a server; check it answers as the lane does, without using the lane."""
    server = BackgroundServer(config, store=MemoryStore())
    lane_calls = _spy_on_lane(server, monkeypatch)
    with server:
        answers = converse(server, "switch")
    assert lane_calls == []  # plain uvicorn served every append
    for plain, on_lane in zip(answers, lane_answers, strict=True):
        assert_same_answer(on_lane, plain, on_lane.status)
    return server


# --- the switch -----------------------------------------------------------------------------


@pytest.mark.parametrize("switch", ["config", "environment"])
def test_with_the_lane_switched_off_uvicorn_gives_the_same_answers(
    switch: str,
    lane_answers: list[RawResponse],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    if switch == "environment":
        monkeypatch.setenv(LANE_ENV, "0")
    config = ServerConfig(store_url="memory://", open_access=True, append_lane=switch != "config")
    with caplog.at_level(logging.INFO, logger="serving.lane"):
        server = serve_and_compare(config, lane_answers, monkeypatch)
    protocol = server._server.config.http  # uvicorn's own, with the slow-client limits
    assert issubclass(protocol, SlowClientLimits)
    assert issubclass(protocol, httptools_impl.HttpToolsProtocol)
    assert caplog.records == []  # switched off on purpose: nothing to warn about


def test_the_lane_is_on_unless_switched_off_and_a_stray_value_says_what_to_write() -> None:
    assert lane_switch.lane_wanted(True, {})
    assert lane_switch.lane_wanted(True, {LANE_ENV: " On "})
    assert not lane_switch.lane_wanted(False, {LANE_ENV: "1"})
    for off in ("0", "false", "No", "off"):
        assert not lane_switch.lane_wanted(True, {LANE_ENV: off})
    with pytest.raises(ValueError, match=f"{LANE_ENV}='maybe' is neither on nor off: set it to 0"):
        lane_switch.lane_wanted(True, {LANE_ENV: "maybe"})


def test_the_command_line_has_the_switch() -> None:
    assert _serve_parser().parse_args(["--no-append-lane"]).no_append_lane
    assert not _serve_parser().parse_args([]).no_append_lane


# --- the check of uvicorn's internals -------------------------------------------------------


def test_the_installed_uvicorn_is_what_the_lane_builds_on(fresh_check: None) -> None:
    assert lane_switch.uvicorn_mismatch() is None
    server = BackgroundServer(ServerConfig(store_url="memory://", open_access=True))
    assert server._server.config.http != PLAIN_HTTP  # the lane's protocol


def _takes_another_argument(monkeypatch: pytest.MonkeyPatch) -> None:
    start = httptools_impl.HttpToolsProtocol._start_asgi_task

    def _start_asgi_task(self: Any, cycle: Any, app: Any, context: Any = None) -> None:
        start(self, cycle, app)  # uvicorn itself still works

    monkeypatch.setattr(httptools_impl.HttpToolsProtocol, "_start_asgi_task", _start_asgi_task)


class _ReadsMoreOfItsCycle(httptools_impl.HttpToolsProtocol):
    def on_message_complete(self) -> None:
        if self.cycle.trailers:  # type: ignore[attr-defined]
            pass
        super().on_message_complete()


class _FlowControlWithoutDrain:
    def __init__(self, transport: Any) -> None:
        self.write_paused = False

    def pause_reading(self) -> None: ...

    def resume_reading(self) -> None: ...


SIMULATED: dict[str, tuple[Callable[[pytest.MonkeyPatch], None], str]] = {
    "a method takes another argument": (
        _takes_another_argument,
        "HttpToolsProtocol._start_asgi_task takes (cycle, app, context), not (cycle, app)",
    ),
    "the protocol reads more of its cycle": (
        lambda patch: patch.setattr(httptools_impl, "HttpToolsProtocol", _ReadsMoreOfItsCycle),
        "HttpToolsProtocol reads trailers from its cycle",
    ),
    "the flow control cannot drain": (
        lambda patch: patch.setattr(flow_control, "FlowControl", _FlowControlWithoutDrain),
        "FlowControl lacks drain",
    ),
    "httptools is gone": (
        lambda patch: patch.setitem(sys.modules, "httptools", None),
        "httptools cannot be imported",
    ),
    "the protocol module is gone": (
        lambda patch: patch.setitem(sys.modules, httptools_impl.__name__, None),
        f"{httptools_impl.__name__} cannot be imported",
    ),
}


@pytest.mark.parametrize("difference", list(SIMULATED))
def test_a_uvicorn_that_differs_makes_the_lane_step_aside_with_one_warning(
    difference: str,
    fresh_check: None,
    lane_answers: list[RawResponse],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    simulate, named = SIMULATED[difference]
    simulate(monkeypatch)
    with caplog.at_level(logging.INFO, logger="serving.lane"):
        server = serve_and_compare(
            ServerConfig(store_url="memory://", open_access=True), lane_answers, monkeypatch
        )
    assert server._server.config.http == PLAIN_HTTP
    warnings = [record for record in caplog.records if record.name == "serving.lane"]
    assert len(warnings) == 1
    assert warnings[0].levelno == logging.WARNING
    message = warnings[0].getMessage()
    assert named in message
    assert f"{LANE_ENV}=0" in message  # how to silence it, once understood


# --- the check covers what serving.lane reads -----------------------------------------------


def test_the_lanes_cycle_offers_what_the_check_allows_uvicorn_to_read() -> None:
    cycle = lane._LaneCycle(None, b"", "", {}, {})  # type: ignore[arg-type]
    assert {name for name in CYCLE_ATTRIBUTES if not hasattr(cycle, name)} == set()


def test_every_uvicorn_attribute_the_lane_reads_is_checked() -> None:
    """If serving/lane.py starts reading another attribute of uvicorn's protocol, the check
    (PROTOCOL_ATTRIBUTES) must learn it too, or a uvicorn without it would break the lane."""
    read: set[str] = set()
    for cls, name in ((lane.AppendLaneProtocol, "self"), (lane._LaneCycle, "owner")):
        for node in ast.walk(ast.parse(inspect.getsource(cls))):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == name
            ):
                read.add(node.attr)
    own = {"streams", "_lane_for_request", *vars(SlowClientLimits)}  # the lane's, not uvicorn's
    checked_methods = {"on_headers_complete", "on_response_complete", "_start_asgi_task"}
    assert read - own - checked_methods - PROTOCOL_ATTRIBUTES == set()
    assert read >= PROTOCOL_ATTRIBUTES
