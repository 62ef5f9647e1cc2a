"""Model work from an agent without stalling the server: inline when it is quick, else a thread.

A prediction through the compiled model (serving.models.compiled) takes microseconds: less than
handing it to a thread and back, and a thread holding the GIL delays the event loop that
delivers the prediction. A model without a compiled form (Keras, steps the compiler does not
know) takes milliseconds, so it runs in a thread and the event loop goes on serving others.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from serving.models.served import ServedModel

__all__ = ["model_work"]

T = TypeVar("T")


async def model_work(served: ServedModel, work: Callable[[], T]) -> T:
    """The result of ``work`` (which calls ``served``): inline if compiled, else in a thread."""
    if served.compiled is not None:
        return work()
    return await asyncio.to_thread(work)
