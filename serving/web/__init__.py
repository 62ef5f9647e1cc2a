"""The web page: a prediction form, the streamed answer, Stop and steer from any tab or device.

The page is plain HTML and JavaScript modules in serving/web/static/, served as written (no
build step), so a learner can read every line: ``session.js`` is the protocol client,
``transcript.js`` folds the session's events into runs, ``form.js`` builds the form from the
model card, ``steering.js`` the steer controls from the agent's parameters, ``view.js`` draws,
``app.js`` wires them together. serving.web.page serves them and
hands the page the token it starts its session with.

The classroom's two pages (docs/instructor.md "Run the room") live next to them:
``classroom.html`` (the instructor's live grid: ``classroom-stream.js`` follows the room's
snapshots, ``classroom-view.js`` draws them, ``classroom.js`` wires them and the broadcast
form) and ``classroom-me.html`` (a learner's messages and raised hand: ``classroom-me.js``).

The names below are imported on first use (serving.lazy): serving.web.local, which the
launcher asks whether a host is loopback, loads no web framework.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from serving.lazy import lazy_exports

if TYPE_CHECKING:
    from serving.web.local import is_loopback_host, why_not_local
    from serving.web.page import add_web_page

__all__ = ["add_web_page", "is_loopback_host", "why_not_local"]

__getattr__, __dir__ = lazy_exports(
    globals(),
    {
        ".local": ("is_loopback_host", "why_not_local"),
        ".page": ("add_web_page",),
    },
)
