"""Lazy re-exports for package ``__init__``s (PEP 562), so importing one module loads only it.

A package ``__init__`` that imports its public names eagerly makes every submodule import load
the whole package: ``import serving.client`` needs only the pure ``serving.sessions.events``,
yet it used to load ``serving.sessions.http`` and ``ws`` with FastAPI, Starlette and pydantic
(574 modules, 35 of them the server's). With lazy re-exports ``from serving.sessions import
SessionService`` still works, and pays for ``serving.sessions.service`` only then.

    __getattr__, __dir__ = lazy_exports(globals(), {".service": ("SessionService",), ...})

Each ``__init__`` also imports the same names under ``if TYPE_CHECKING:`` so type checkers and
editors see them; tests/serving/test_client_imports.py checks that the three lists (the map,
``__all__`` and those imports) agree. This module imports only the standard library.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from typing import Any


def lazy_exports(
    namespace: MutableMapping[str, Any], exports: Mapping[str, Sequence[str]]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of the package whose ``globals()`` is ``namespace``.

    ``exports`` maps a submodule (relative, ``".service"``) to the names the package
    re-exports from it; ``namespace["__all__"]`` must list exactly those names and the ones the
    package defines itself (call this last). A name is imported on first use, then cached in
    ``namespace`` so later lookups are plain.
    """
    package = namespace["__name__"]
    where = {name: module for module, names in exports.items() for name in names}
    public = set(namespace.get("__all__", ()))
    undefined = public - set(where) - set(namespace)
    unlisted = set(where) - public
    if undefined or unlisted:
        raise RuntimeError(
            f"{package}: __all__ and the lazy exports differ: in __all__ but neither defined nor "
            f"exported {sorted(undefined)}, exported but not in __all__ {sorted(unlisted)}; "
            "list each public name in both"
        )

    def __getattr__(name: str) -> Any:
        try:
            module = where[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        value = getattr(importlib.import_module(module, package), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(where))

    return __getattr__, __dir__
