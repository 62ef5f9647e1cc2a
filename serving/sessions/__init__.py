"""Sessions: durable, shared, steerable conversations on top of the streams layer.

A session is one log of typed events (serving.sessions.events) that any number of devices
follow and resume by offset; runs of agents write into it and go on when every client has
gone; cancel and steer are events too. The wire protocol is documented in docs/PROTOCOL.md.

The names below are imported on first use (serving.lazy): the client imports the pure
serving.sessions.events without loading the HTTP and WebSocket layers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from serving.lazy import lazy_exports

if TYPE_CHECKING:
    from serving.sessions.agents import Agent, AgentRegistry, Param, demo_agents
    from serving.sessions.commands import Scope
    from serving.sessions.errors import SessionError
    from serving.sessions.events import Event, EventType
    from serving.sessions.http import add_session_routes
    from serving.sessions.runs import RunContext
    from serving.sessions.service import CreatedSession, SessionService
    from serving.sessions.settings import SessionSettings

__all__ = [
    "Agent",
    "AgentRegistry",
    "CreatedSession",
    "Event",
    "EventType",
    "Param",
    "RunContext",
    "Scope",
    "SessionError",
    "SessionService",
    "SessionSettings",
    "add_session_routes",
    "demo_agents",
]

__getattr__, __dir__ = lazy_exports(
    globals(),
    {
        ".agents": ("Agent", "AgentRegistry", "Param", "demo_agents"),
        ".commands": ("Scope",),
        ".errors": ("SessionError",),
        ".events": ("Event", "EventType"),
        ".http": ("add_session_routes",),
        ".runs": ("RunContext",),
        ".service": ("CreatedSession", "SessionService"),
        ".settings": ("SessionSettings",),
    },
)
