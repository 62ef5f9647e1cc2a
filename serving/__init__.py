"""The serving package: a durable session server for the models the course trains.

``__version__`` is the distribution's version (course.distribution_version, from pyproject.toml),
looked up on first use so that ``import serving.client`` pays nothing for it.
"""

from __future__ import annotations


def __getattr__(name: str) -> str:
    if name == "__version__":
        from course import distribution_version

        return distribution_version()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
