"""The course package: the helpers every notebook imports.

One way to do each thing: the notebooks, the server and the tests call these same functions.

``__version__`` (here and in serving) is the ``version`` of pyproject.toml, the only place it is
written: read from the installed distribution's metadata, or, in a checkout that was not
installed, from the pyproject.toml beside the package. It is looked up on first use (PEP 562),
so importing the package costs nothing for it.
"""

from __future__ import annotations

DISTRIBUTION = "ml-course-kit"
"""The name pyproject.toml gives the one distribution that ships course and serving."""


def distribution_version() -> str:
    """The version pyproject.toml declares, as installed, else as written in this checkout."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        pass
    import tomllib
    from pathlib import Path

    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    try:
        return str(tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"])
    except (OSError, tomllib.TOMLDecodeError, KeyError) as error:
        raise RuntimeError(
            f"{DISTRIBUTION} is not installed and {pyproject} cannot tell its version "
            f"({error!r}): install the kit with `make setup` (or `pip install -e .`)"
        ) from error


def __getattr__(name: str) -> str:
    if name == "__version__":
        return distribution_version()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
