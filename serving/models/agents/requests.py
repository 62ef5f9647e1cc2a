"""Reading a model agent's request: the ``data`` of a session ``send``, checked field by field.

Every model agent reads a JSON object; ``RequestReader`` takes the fields it knows, refuses
the ones it does not (a typo must not pass silently), and says for each mistake what was
expected. The errors become the run's ``run.failed`` event; the session itself is untouched.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from serving.models.registry import ModelNotFound, ModelRegistry
from serving.models.served import ServedModel

__all__ = ["RequestError", "RequestReader"]


class RequestError(ValueError):
    """The request of a model agent is malformed; the message says what to send instead."""


_TYPE_NAMES = {str: "a string", dict: "an object", list: "a list", int: "a whole number"}


class RequestReader:
    """Typed access to the fields of one agent's request, with precise errors."""

    def __init__(self, agent: str, data: Mapping[str, Any], allowed: set[str], example: str):
        self.agent = agent
        self.data = data
        self.example = example
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise RequestError(
                f"the {agent} agent does not know the field {', '.join(map(repr, unknown))}; "
                f"it reads {', '.join(sorted(allowed))}, for example {example}"
            )

    def get(self, key: str, kind: type, *, default: Any = None, required: bool = False) -> Any:
        if key not in self.data:
            if required:
                raise RequestError(f"the {self.agent} agent needs {key!r}: send {self.example}")
            return default
        value = self.data[key]
        if (isinstance(value, bool) and kind is not bool) or not isinstance(value, kind):
            raise RequestError(
                f"{key!r} must be {_TYPE_NAMES.get(kind, kind.__name__)}, got "
                f"{type(value).__name__}: send {self.example}"
            )
        return value

    def model(self, registry: ModelRegistry) -> ServedModel:
        """The model the request names (``model``, optional ``version``); the only model when
        the registry holds one and the request names none."""
        name = self.get("model", str)
        version = self.get("version", str)
        if name is None:
            if len(registry) != 1:
                raise RequestError(
                    f"the {self.agent} agent needs 'model': one of "
                    f"{', '.join(registry.names()) or 'none (no model is loaded)'}"
                )
            name = registry.names()[0]
        try:
            return registry.get(name, version)
        except ModelNotFound as error:
            raise RequestError(str(error)) from None
