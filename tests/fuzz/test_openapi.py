"""Schemathesis against the server's own OpenAPI spec: requests generated from every operation
the spec describes, sent to the running server in process; none gets a 5xx."""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import given, settings
from starlette.testclient import TestClient


def test_no_operation_of_the_spec_gets_a_server_error(server: TestClient) -> None:
    schema = schemathesis.openapi.from_dict(server.get("/openapi.json").json())
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 5, "the spec lists the session and model endpoints"
    for operation in operations:

        @settings(settings.get_profile("fuzz"))
        @given(operation.as_strategy())
        def check(case: Any) -> None:
            path = case.formatted_path
            body = (
                {}
                if case.body is None or not isinstance(case.body, (dict, list))
                else {"json": case.body}
            )
            response = server.request(
                case.method,
                path,
                params=case.query or None,
                headers={k: str(v) for k, v in (case.headers or {}).items()},
                **body,
            )
            assert response.status_code < 500, (case.method, path, response.text[:300])

        check()
