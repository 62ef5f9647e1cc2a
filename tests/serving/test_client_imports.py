"""The client stands alone: importing it (or one module of a layer) loads no server.

Each import runs in a fresh ``python`` subprocess, since this test process has long loaded
everything; the subprocess prints the modules it holds and the test names any that should not
be there. The packages' lazy re-exports (serving.lazy) are checked too: every public name
resolves, to the one object its module defines, and the names type checkers see (the
``if TYPE_CHECKING:`` imports) are the same list.
"""

from __future__ import annotations

import ast
import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SERVER_LIBRARIES = ("fastapi", "starlette", "pydantic", "uvicorn")
DATA_LIBRARIES = ("sklearn", "pandas")
SERVER_MODULES = (
    "serving.app",
    "serving.sessions.http",
    "serving.sessions.ws",
    "serving.sessions.service",
    "serving.streams.http",
    "serving.models.http",
    "serving.web.page",
)

LAZY_PACKAGES = (
    "serving.sessions",
    "serving.streams",
    "serving.models",
    "serving.models.agents",
    "serving.web",
)


def modules_after(statement: str) -> set[str]:
    """The modules a fresh interpreter holds after running ``statement``."""
    code = f"{statement}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.splitlines()[-1]))


def loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    """The ``names`` (a package counts with its submodules) present in ``modules``."""
    return sorted(
        name for name in names if any(m == name or m.startswith(name + ".") for m in modules)
    )


def test_import_client_loads_no_server_and_no_data_library() -> None:
    modules = modules_after("import serving.client")
    assert "serving.client" in modules
    unwanted = loaded(modules, SERVER_LIBRARIES + DATA_LIBRARIES + SERVER_MODULES)
    assert unwanted == [], f"import serving.client loaded {unwanted}"
    serving = sorted(m for m in modules if m.split(".")[0] == "serving")
    assert serving == [
        "serving",
        "serving.client",
        "serving.lazy",
        "serving.sessions",
        "serving.sessions.compact",
        "serving.sessions.events",
    ]


def test_import_compiled_loads_no_server() -> None:
    modules = modules_after("import serving.models.compiled")
    unwanted = loaded(modules, SERVER_LIBRARIES + SERVER_MODULES + ("serving.sessions",))
    assert unwanted == [], f"import serving.models.compiled loaded {unwanted}"


@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_importing_a_package_imports_none_of_its_modules(package: str) -> None:
    before = modules_after("import serving.lazy")
    modules = modules_after(f"import {package}")
    parents = {".".join(package.split(".")[:i]) for i in range(1, package.count(".") + 2)}
    assert modules - before == parents - before


def test_a_lazy_name_is_imported_with_its_module_only() -> None:
    modules = modules_after("from serving.sessions import Event")
    assert loaded(modules, SERVER_LIBRARIES + SERVER_MODULES) == []
    modules = modules_after("from serving.sessions import add_session_routes")
    assert "serving.sessions.http" in modules


def type_checking_imports(package: str) -> dict[str, str]:
    """Name -> module of the ``if TYPE_CHECKING:`` imports of ``package``'s ``__init__``."""
    path = ROOT / package.replace(".", "/") / "__init__.py"
    names: dict[str, str] = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for child in node.body:
                assert isinstance(child, ast.ImportFrom) and child.module
                for alias in child.names:
                    names[alias.asname or alias.name] = child.module
    return names


@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_every_public_name_resolves_to_its_one_definition(package: str) -> None:
    module = importlib.import_module(package)
    seen = type_checking_imports(package)
    for name in module.__all__:
        value = getattr(module, name)
        assert name in dir(module)
        if name in seen:
            home = importlib.import_module(seen[name])
            assert value is getattr(home, name), f"{package}.{name} is not {seen[name]}.{name}"
        else:
            assert value.__module__ == package, f"{package}.{name} is neither imported nor defined"
    own = {name for name, home in seen.items() if home.startswith(package + ".")}
    assert own <= set(module.__all__), "type checkers see names the package does not export"


def test_an_unknown_name_is_an_attribute_error_and_submodules_still_import() -> None:
    import serving.streams

    with pytest.raises(AttributeError, match=r"'serving\.streams' has no attribute 'Nope'"):
        serving.streams.Nope  # noqa: B018
    from serving.streams import rules

    assert rules.__name__ == "serving.streams.rules"


def test_the_client_and_the_server_share_one_event_type() -> None:
    import serving.client
    import serving.sessions
    import serving.sessions.service
    from serving.sessions.events import Event, EventType

    assert vars(serving.client)["Event"] is Event is serving.sessions.Event
    assert vars(serving.client)["EventType"] is EventType
    assert vars(serving.sessions.service)["EventType"] is EventType
