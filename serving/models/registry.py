"""The models the server holds: every artifact folder of a models directory, loaded and checked.

``ModelRegistry.open(models_dir)`` loads ``models_dir/<name>/<version>/`` for every model and
version that ``course.export`` wrote, through ``course.export.load_model`` (checksum and type
allow-list: loading never runs code from an artifact). If any artifact is tampered with,
incomplete or unsafe, the server refuses to start and the message names each refused artifact
and the reason: serving a model nobody vouches for is worse than serving none.

Request paths never reach the file system: a model name from a URL is only ever a key looked up
among the loaded models, so "../" or any other name can do nothing but miss.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from course.export import ArtifactError, list_artifacts
from serving.models.errors import ModelNotFound
from serving.models.served import ServedModel

__all__ = ["ModelNotFound", "ModelRegistry", "RegistryError"]

# How much of an unknown name an error message repeats.
_SHOWN_NAME = 64


class RegistryError(Exception):
    """One or more artifacts of the models directory cannot be served; ``refused`` says why."""

    def __init__(self, models_dir: Path, refused: list[tuple[Path, str]]) -> None:
        self.models_dir = models_dir
        self.refused = refused
        lines = "\n".join(f"  - {path}: {reason}" for path, reason in refused)
        count = len(refused)
        super().__init__(
            f"refused {count} model artifact{'s' if count != 1 else ''} in {models_dir}:\n"
            f"{lines}\nRe-export these models from their notebook, or move them out of "
            f"{models_dir}."
        )


class ModelRegistry:
    """Loaded models by name, each with its versions in order (oldest first)."""

    def __init__(self, models_dir: str | os.PathLike[str]) -> None:
        self.models_dir = Path(models_dir)
        self._models: dict[str, dict[str, ServedModel]] = {}

    @classmethod
    def open(cls, models_dir: str | os.PathLike[str]) -> ModelRegistry:
        """Load every artifact of ``models_dir``; RegistryError if any cannot be served."""
        registry = cls(models_dir)
        registry.reload()
        return registry

    def reload(self) -> list[ServedModel]:
        """Load the versions exported since the last load (after a retrain); return them.

        Versions already loaded are kept as they are. If a new artifact is refused, nothing
        changes and RegistryError names it.
        """
        loaded = {name: dict(versions) for name, versions in self._models.items()}
        added: list[ServedModel] = []
        refused: list[tuple[Path, str]] = []
        for artifact in list_artifacts(self.models_dir):
            versions = loaded.setdefault(artifact.name, {})
            if artifact.version in versions:
                continue
            try:
                served = ServedModel.load(artifact.path)
            except ArtifactError as error:
                refused.append((artifact.path, str(error)))
                continue
            if (served.card.name, served.card.version) != (artifact.name, artifact.version):
                refused.append(
                    (
                        artifact.path,
                        f"its card says {served.card.name} version {served.card.version}: the "
                        "folder was renamed or copied after export",
                    )
                )
                continue
            versions[artifact.version] = served
            added.append(served)
        if refused:
            raise RegistryError(self.models_dir, refused)
        # list_artifacts gives versions in order (2 before 10), so the dicts keep that order.
        self._models = {name: versions for name, versions in loaded.items() if versions}
        return added

    def names(self) -> list[str]:
        """Every model name, in alphabetical order."""
        return sorted(self._models)

    def versions(self, name: str) -> list[ServedModel]:
        """Every loaded version of model ``name``, oldest first."""
        return list(self._versions_of(name).values())

    def latest(self, name: str) -> ServedModel:
        """The newest version of model ``name``."""
        return self.versions(name)[-1]

    def get(self, name: str, version: str | None = None) -> ServedModel:
        """Model ``name`` at ``version`` (the latest when None)."""
        versions = self._versions_of(name)
        if version is None:
            return list(versions.values())[-1]
        if not isinstance(version, str) or version not in versions:
            raise ModelNotFound(
                f"model {name!r} has no version {_shown(version)}: "
                f"its versions are {', '.join(versions)}"
            )
        return versions[version]

    def __iter__(self) -> Iterator[ServedModel]:
        """The latest version of every model, by name."""
        return (self.latest(name) for name in self.names())

    def __len__(self) -> int:
        return len(self._models)

    def __contains__(self, name: object) -> bool:
        return name in self._models

    def _versions_of(self, name: str) -> dict[str, ServedModel]:
        if not isinstance(name, str) or name not in self._models:
            available = ", ".join(self.names()) or f"none (export a model into {self.models_dir})"
            raise ModelNotFound(f"no model named {_shown(name)}: the models are {available}")
        return self._models[name]


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN_NAME else text[: _SHOWN_NAME - 3] + "..."
