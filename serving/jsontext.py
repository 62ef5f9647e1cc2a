"""JSON from clients, read strictly: standard JSON only, nested at most MAX_DEPTH deep.

Every endpoint that reads a client's JSON (stream appends, session commands, model rows) goes
through ``parse_json``, so each refuses the same things with the same words. Depth is bounded
because Python's JSON reader and writer recurse: a body of 50,000 ``[`` fits every size limit
and would otherwise end as a RecursionError, a crash instead of a 400.
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 256


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not a JSON number (JSON numbers are finite)")


_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)


def parse_json(text: str | bytes | bytearray) -> Any:
    """The value of ``text``; a ValueError that says what is wrong otherwise.

    Bytes must be UTF-8 (a UnicodeDecodeError is a ValueError too).
    """
    if not isinstance(text, str):
        text = bytes(text).decode("utf-8")
    try:
        value = _DECODER.decode(text)
    except RecursionError:
        raise _too_deep() from None
    # Depth is at most the number of brackets: count them (fast, in C) before walking.
    if text.count("[") + text.count("{") > MAX_DEPTH and _depth(value) > MAX_DEPTH:
        raise _too_deep()
    return value


def _too_deep() -> ValueError:
    return ValueError(f"arrays and objects are nested more than {MAX_DEPTH} levels deep")


def _depth(value: Any) -> int:
    """How deeply arrays and objects nest in ``value``, walked without recursion."""
    deepest = 0
    pending: list[tuple[Any, int]] = [(value, 1)] if isinstance(value, dict | list) else []
    while pending:
        item, depth = pending.pop()
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            break
        children = item.values() if isinstance(item, dict) else item
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return deepest
