"""The classroom (issue 19): an instructor sees the whole room's progress, live, over the
server's durable streams, and reaches every learner.

- serving.classroom.room: the pure core: join codes, names, the learners' events checked
  field by field, and the Room fold from the log to the instructor's snapshot;
- serving.classroom.service: what each endpoint does with the store and the tokens;
- serving.classroom.follower: per process, per room, the tail of the log and its fold, which
  wakes the room's SSE streams;
- serving.classroom.http: the endpoints (docs/PROTOCOL.md, Classroom).

``add_classroom_routes(app)`` mounts them on the app serving.app builds.
"""

from __future__ import annotations

from typing import Any

__all__ = ["add_classroom_routes"]

CLASSROOM_PREFIX = "classrooms/"


def add_classroom_routes(app: Any) -> Any:
    """Mount the classroom endpoints on ``app`` (serving.app.create_app's): they share its
    store, signer, --open and session TTL; the classroom logs become read-only through the
    streams API (only this layer writes them, so every event in them was checked here).
    Returns the ClassroomService."""
    from course.agenda import pace
    from course.exercises import classroom_columns
    from serving.classroom.http import classroom_router
    from serving.classroom.service import ClassroomService

    config = app.state.config
    settings = config.sessions
    service = ClassroomService(
        app.state.store,
        signer=app.state.signer,
        open_access=config.open_access,
        ttl_seconds=settings.session_ttl_seconds,
        token_ttl_seconds=settings.token_ttl_seconds,
        max_read_bytes=settings.max_read_bytes,
        exercises=classroom_columns,  # the exercises, and each notebook's quiz after them
        pace=pace,
    )
    app.include_router(classroom_router(service))
    app.streams.refuse_writes(
        CLASSROOM_PREFIX,
        "CLASSROOM_LOG_READ_ONLY",
        "classroom streams are written only through /v1/classrooms (learners' events, the "
        "instructor's messages); here they can only be read",
    )
    app.state.classrooms = service
    return service
