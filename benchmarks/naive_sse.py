"""The naive baseline: the same prediction stream over one plain SSE response, no durability.

    python -m benchmarks.naive_sse --models DIR --port 8001

``POST /predict`` with a row as the JSON body answers ``text/event-stream``: one ``prediction``
event, then the explanation token by token, then ``done``. The same model, the same checks,
the same explanation writer as the predict agent; but no log, no offsets, no session: a
dropped connection loses the answer, and a second device sees nothing. The benchmark
(benchmarks/naive_bench.py) divides our times by these, so the cost of durability shows.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from serving.models import Explainer, ExplanationStyle, ExplanationWriter, ModelRegistry


def naive_app(registry: ModelRegistry, model: str) -> Starlette:
    served = registry.latest(model)
    explainer = Explainer(served)

    async def predict(request: Request) -> Response:
        try:
            clean, warnings = served.validate(json.loads(await request.body()))
        except ValueError as error:  # bad JSON, or RowValidationError
            return JSONResponse({"error": str(error)}, status_code=422)
        answer = served.predict(served.frame([clean])).row(0)

        async def events() -> AsyncIterator[bytes]:
            yield b"event: prediction\ndata: " + json.dumps(answer).encode() + b"\n\n"
            writer = ExplanationWriter(
                explainer.explain(clean),
                warnings=warnings,
                steer=ExplanationStyle("medium", "beginner"),
            )
            for token in writer:
                yield b"data: " + json.dumps({"text": token}).encode() + b"\n\n"
                await asyncio.sleep(0)
            yield b"event: done\ndata: {}\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    return Starlette(routes=[Route("/predict", predict, methods=["POST"])])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="the naive SSE prediction server")
    parser.add_argument("--models", type=Path, required=True)
    parser.add_argument("--model", default="penguin-classifier")
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args(argv)
    app = naive_app(ModelRegistry.open(args.models), args.model)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
