"""Whether the append lane (serving.lane) runs: its switch, and a check of uvicorn's internals.

The lane is uvicorn's httptools protocol with a shortcut, so it reads what uvicorn does not
promise to keep: about fifteen attributes of the protocol, two of its methods, the flow
control, the server state, the status lines, and what the protocol reads from its
request-response cycle (which the lane stands in for). Rather than pin uvicorn's minor version,
the server checks those features when it starts, by name and signature, not by version
number: if one differs, the lane steps aside with one warning naming it, and plain uvicorn
serves every request, with the same answers (tests/serving/test_lane_switch.py). The check
reads uvicorn's source once per process (9 ms of CPU) and never touches a socket.

The switch: ``serving --no-append-lane``, ``ServerConfig(append_lane=False)``, or the
environment variable ``SERVING_APPEND_LANE=0`` (``1`` or unset: on). Off, every request takes
uvicorn's ASGI path; the lane only saves CPU (docs/STREAMS.md has the numbers).

Only the standard library and uvicorn are imported here: serving.lane, whose class is built
on uvicorn's protocol, is imported only once the check has passed.
"""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import logging
import os
import sys
from collections.abc import Iterator, Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from serving.app import StreamsFirstApp

logger = logging.getLogger("serving.lane")

LANE_ENV = "SERVING_APPEND_LANE"
"""``0``, ``false``, ``no`` or ``off`` turns the append lane off; ``1`` or unset leaves it on."""
_OFF = ("0", "false", "no", "off")
_ON = ("", "1", "true", "yes", "on")

PLAIN_HTTP = "auto"
"""What uvicorn serves with when the lane steps aside: its own choice (httptools if present)."""

UVICORN_PROTOCOL = "uvicorn.protocols.http.httptools_impl"
PROTOCOL_ATTRIBUTES = frozenset(
    {
        "parser", "url", "headers", "expect_100_continue", "limit_concurrency", "root_path",
        "cycle", "pipeline", "flow", "transport", "client", "server_state", "logger",
        "access_log", "access_logger",
    }
)  # fmt: skip
"""What serving.lane reads from (or writes to) uvicorn's HttpToolsProtocol instance."""
CYCLE_ATTRIBUTES = frozenset(
    {
        "body", "more_body", "message_event", "disconnected", "keep_alive",
        "response_complete", "run_asgi",
    }
)  # fmt: skip
"""What serving.lane's _LaneCycle offers uvicorn's protocol in place of its own cycle; the
protocol must read nothing else from a cycle."""
PARSER_METHODS = ("get_method", "get_http_version", "should_keep_alive", "should_upgrade")
FLOW_METHODS = ("pause_reading", "resume_reading", "drain")
STATUSES = (200, 201, 204, 400, 401, 403, 404, 409, 413, 500)
"""Statuses of the lane's answers, whose lines it takes from uvicorn's STATUS_LINE."""


def lane_wanted(config_says: bool = True, environ: Mapping[str, str] | None = None) -> bool:
    """The switch: the config (the CLI's ``--no-append-lane``) and ``SERVING_APPEND_LANE``
    must both leave the lane on. ValueError for a value of the variable that means neither."""
    value = (os.environ if environ is None else environ).get(LANE_ENV, "").strip().lower()
    if value not in _OFF + _ON:
        raise ValueError(
            f"{LANE_ENV}={value!r} is neither on nor off: set it to 0 to turn the append lane "
            "off, or 1 (or leave it unset) to keep it on"
        )
    return config_says and value not in _OFF


def http_protocol(app: StreamsFirstApp, append_lane: bool = True) -> Any:
    """The ``http`` to give ``uvicorn.Config`` for serving ``app``: the lane when the switch
    leaves it on and uvicorn is what it builds on, else uvicorn's own protocol (after one
    warning saying what differed, if the switch was on)."""
    mismatch = uvicorn_mismatch()
    if not lane_wanted(append_lane):
        if mismatch is not None:
            return PLAIN_HTTP
        from serving.slowclients import limited_httptools

        return limited_httptools()  # the same answers, and slow clients still bounded
    if mismatch is not None:
        logger.warning(
            "The append lane (serving/lane.py) is off: %s. Every request takes uvicorn's "
            "ordinary path, with the same answers at a little more CPU per append. To serve "
            "with the lane, install a uvicorn it knows (0.54 and 0.55 are tested); to "
            "silence this, set %s=0 or pass --no-append-lane.",
            mismatch,
            LANE_ENV,
        )
        return PLAIN_HTTP
    from serving.lane import lane_protocol

    return lane_protocol(app)


@functools.cache
def uvicorn_mismatch() -> str | None:
    """What of uvicorn's internals differs from what serving.lane builds on, or None.

    Cached: uvicorn does not change while the process runs (tests clear the cache).
    """
    try:
        problems = list(_mismatches())
    except Exception as error:  # any surprise while looking is a mismatch too
        problems = [f"checking uvicorn failed ({type(error).__name__}: {error})"]
    if not problems:
        return None
    version = getattr(_import("uvicorn"), "__version__", "?")
    return f"uvicorn {version} differs: " + "; ".join(problems)


def _mismatches() -> Iterator[str]:
    httptools = _import("httptools")
    if httptools is None:
        yield "httptools cannot be imported"
        return
    if not callable(getattr(httptools, "parse_url", None)):
        yield "httptools.parse_url is missing"
    parser = getattr(httptools, "HttpRequestParser", None)
    missing = [name for name in PARSER_METHODS if not hasattr(parser, name)]
    if missing:
        yield f"httptools.HttpRequestParser lacks {', '.join(missing)}"

    module = _import(UVICORN_PROTOCOL)
    if module is None:
        yield f"{UVICORN_PROTOCOL} cannot be imported"
        return
    status_lines = getattr(module, "STATUS_LINE", None)
    if not isinstance(status_lines, Mapping) or not all(
        isinstance(line := status_lines.get(status), bytes)
        and line.startswith(b"HTTP/1.1 %d " % status)
        for status in STATUSES
    ):
        yield "STATUS_LINE is not a table of HTTP/1.1 status lines"
    protocol = getattr(module, "HttpToolsProtocol", None)
    if not isinstance(protocol, type):
        yield "HttpToolsProtocol is missing"
        return
    yield from _signature(protocol, "on_headers_complete", [])
    yield from _signature(protocol, "on_response_complete", [])
    yield from _signature(protocol, "_start_asgi_task", ["cycle", "app"])

    assigned, cycle_reads = _source_facts(protocol)
    missing = sorted(PROTOCOL_ATTRIBUTES - assigned)
    if missing:
        yield f"HttpToolsProtocol no longer sets {', '.join(missing)}"
    unknown = sorted(cycle_reads - CYCLE_ATTRIBUTES)
    if unknown:
        yield f"HttpToolsProtocol reads {', '.join(unknown)} from its cycle"

    flow = _import("uvicorn.protocols.http.flow_control")
    flow_control = getattr(flow, "FlowControl", None)
    missing = [name for name in FLOW_METHODS if not callable(getattr(flow_control, name, None))]
    if isinstance(flow_control, type) and "write_paused" not in _self_attributes(flow_control):
        missing.append("write_paused")
    if missing:
        yield f"FlowControl lacks {', '.join(missing)}"
    state = getattr(_import("uvicorn.server"), "ServerState", None)
    if not isinstance(state, type) or "default_headers" not in _self_attributes(state):
        yield "ServerState no longer sets default_headers"


def _import(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _signature(cls: type, name: str, parameters: list[str]) -> Iterator[str]:
    method = getattr(cls, name, None)
    if not callable(method):
        yield f"HttpToolsProtocol.{name} is missing"
        return
    found = list(inspect.signature(method).parameters)[1:]  # without self
    if found != parameters:
        yield f"HttpToolsProtocol.{name} takes ({', '.join(found)}), not ({', '.join(parameters)})"


def _class_tree(cls: type) -> ast.ClassDef:
    """The syntax tree of ``cls``, from one parse of its module's file."""
    for node in _module_tree(inspect.getsourcefile(cls) or "?").body:
        if isinstance(node, ast.ClassDef) and node.name == cls.__name__:
            return node
    raise LookupError(f"no class {cls.__name__} in the source of {cls.__module__}")


@functools.cache
def _module_tree(path: str) -> ast.Module:
    with open(path, encoding="utf-8") as source:
        return ast.parse(source.read(), path)


def _self_attributes(cls: type) -> set[str]:
    return _source_facts(cls)[0]


@functools.cache
def _source_facts(cls: type) -> tuple[set[str], set[str]]:
    """What the methods of ``cls`` and of its bases (but the standard library's) assign on
    ``self``, and what they read from a cycle (``self.cycle.X``, or ``X`` of a local whose name
    ends in ``cycle``)."""
    assigned: set[str] = set()
    reads: set[str] = set()
    for klass in cls.__mro__:
        if klass.__module__.split(".")[0] in sys.stdlib_module_names:
            continue
        for node in ast.walk(_class_tree(klass)):
            if isinstance(node, ast.Attribute):
                if isinstance(node.ctx, ast.Store) and _is_self(node.value):
                    assigned.add(node.attr)
                elif _is_cycle(node.value):
                    reads.add(node.attr)
    return assigned, reads


def _is_self(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id == "self"


def _is_cycle(node: ast.expr) -> bool:
    if isinstance(node, ast.Name):
        return node.id.endswith("cycle")
    return isinstance(node, ast.Attribute) and node.attr == "cycle" and _is_self(node.value)


__all__: list[str] = [
    "CYCLE_ATTRIBUTES",
    "LANE_ENV",
    "PLAIN_HTTP",
    "http_protocol",
    "lane_wanted",
    "uvicorn_mismatch",
]
