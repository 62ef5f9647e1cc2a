"""Model work runs inline when the model is compiled (microseconds), else in a thread."""

from __future__ import annotations

import threading

import pytest

from serving.models.agents.offload import model_work

pytestmark = pytest.mark.anyio


async def test_a_compiled_model_answers_on_the_event_loop_thread(registry):
    served = registry.latest("penguin-classifier")
    assert served.compiled is not None
    assert await model_work(served, threading.get_ident) == threading.get_ident()


async def test_a_model_without_a_compiled_form_answers_in_a_thread(uncompilable):
    assert uncompilable.compiled is None
    assert await model_work(uncompilable, threading.get_ident) != threading.get_ident()
