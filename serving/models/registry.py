"""The models the server holds: every artifact folder of a models directory, loaded and checked.

``ModelRegistry.open(models_dir)`` loads ``models_dir/<name>/<version>/`` for every model and
version that ``course.export`` wrote, through ``course.export.load_model`` (checksum and type
allow-list: loading never runs code from an artifact). If any artifact is tampered with,
incomplete or unsafe, the server refuses to start and the message names each refused artifact
and the reason: serving a model nobody vouches for is worse than serving none.

While the server runs, ``rescan`` (called every ``rescan_seconds`` by serving.models.watch, in a
worker thread) serves what was exported since: a new model or version appears, a deleted one
goes. The scan is only ``stat`` calls (the folders and the files of each version: 0.05 ms for
one version, 2.3 ms for 100, measured on the course machine), so polling every second costs
nothing worth an inotify dependency; loading a new penguin pipeline takes ~15 ms. A version
folder is loaded once it looks the same on two scans in a row (a copy in progress is left
alone, not refused); ``course.export`` writes into a hidden ``.<version>.<random>.tmp`` folder
and renames it, so an export is never seen half-written. An artifact refused while running
(tampered, half copied, unsafe) is logged in one line naming the folder and the reason, never
served, and tried again when its files change. A folder whose name ``export_model`` could not
have written is logged once, with what a valid name looks like.

Request paths never reach the file system: a model name from a URL is only ever a key looked up
among the loaded models, so "../" or any other name can do nothing but miss.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from course.export import CARD_FILE, ArtifactError
from serving.models.errors import ModelNotFound
from serving.models.live import live_of
from serving.models.served import ServedModel

__all__ = ["ModelNotFound", "ModelRegistry", "RegistryError", "Rescan", "folder_name_problem"]

logger = logging.getLogger(__name__)

# How much of an unknown name an error message repeats.
_SHOWN_NAME = 64
# The folder names course.export writes (its _NAME): safe in a path and in a URL.
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
RESCAN_SECONDS = 1.0
"""How often a running server looks for new exports (serving.models.watch)."""

# A version folder's state: its own mtime, then (name, size, mtime) of each entry in it.
Signature = tuple[int, tuple[tuple[str, int, int], ...]]


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


@dataclass(frozen=True)
class Rescan:
    """What one ``rescan`` changed: versions loaded and removed, folders refused or skipped
    (each listed once: the scan that first saw it in that state)."""

    added: list[ServedModel] = field(default_factory=list)
    removed: list[tuple[str, str]] = field(default_factory=list)
    refused: list[tuple[Path, str]] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.refused or self.skipped)


def folder_name_problem(name: str, what: str) -> str | None:
    """Why ``name`` cannot be a model (or version) folder, and what would be; None if it can."""
    if _NAME.fullmatch(name):
        return None
    suggestion = re.sub(r"[^a-z0-9_-]+", "-", name.lower()).strip("-_")[:64] or "my-model"
    example = "1" if what == "version" else suggestion
    return (
        f"{name!r} is not a valid {what} folder name, so it is not served: use 1 to 64 "
        f"lowercase letters, digits, '-' and '_', starting with a letter or digit (for "
        f"example {example!r}); export_model(..., name=...) names the folders this way"
    )


class ModelRegistry:
    """Loaded models by name, each with its versions in order (oldest first).

    Thread-safe for one writer at a time (``reload`` and ``rescan`` take a lock) and any number
    of readers: a change builds new dicts and swaps them in, so a reader on the event loop sees
    the registry before or after a scan, never half of one.
    """

    def __init__(
        self,
        models_dir: str | os.PathLike[str],
        *,
        rescan_seconds: float | None = RESCAN_SECONDS,
    ) -> None:
        """``rescan_seconds``: how often a running server calls ``rescan`` (None: never)."""
        self.models_dir = Path(models_dir)
        self.rescan_seconds = rescan_seconds
        self._models: dict[str, dict[str, ServedModel]] = {}
        self._lock = threading.Lock()
        self._seen: dict[Path, Signature] = {}  # the state each folder had on the last scan
        self._refused: dict[Path, Signature] = {}  # refused in that state: not tried again
        self._skipped: set[Path] = set()  # invalid names already logged
        self._changes = 0
        self._instance = secrets.token_hex(4)
        self._live: dict[str, tuple[str, ...]] = {}  # promoted versions per model, live last
        self._live_changes = 0

    @property
    def etag(self) -> str:
        """Changes whenever a version is added or removed or another goes live (and with every
        new registry): what
        ``GET /v1/models`` answers as its ETag, so a page polling it gets 304 until then."""
        return f'"{self._instance}-{self._changes}-{self._live_changes}"'

    @classmethod
    def open(
        cls,
        models_dir: str | os.PathLike[str],
        *,
        rescan_seconds: float | None = RESCAN_SECONDS,
    ) -> ModelRegistry:
        """Load every artifact of ``models_dir``; RegistryError if any cannot be served."""
        registry = cls(models_dir, rescan_seconds=rescan_seconds)
        registry.reload()
        return registry

    def reload(self) -> list[ServedModel]:
        """Load the versions exported since the last load (at start-up, after a retrain);
        return them.

        Versions already loaded are kept as they are. If a new artifact is refused, nothing
        changes and RegistryError names it. Folders with an invalid name are logged, once.
        """
        with self._lock:
            folders, invalid = self._scan()
            self._note_invalid(invalid)
            candidates = {
                path: signature
                for path, signature in folders.items()
                if (path / CARD_FILE).is_file()
            }
            loaded, added, refused = self._load_new(candidates)
            if refused:
                raise RegistryError(self.models_dir, refused)
            self._seen.update(folders)
            self._models = loaded
            self._changes += bool(added)
            return added

    def rescan(self, *, settle: bool = True) -> Rescan:
        """Serve what changed in the models directory since the last scan; never raises.

        A new version folder is loaded once its files look the same on two scans in a row
        (``settle=False``: at once). A refused folder is logged once and tried again when its
        files change. A version whose folder is gone is removed: a run already using it
        finishes with it, a new request for it gets MODEL_NOT_FOUND (the live version, or the
        newest if the live one went, answers requests that name none).
        """
        with self._lock:
            folders, invalid = self._scan()
            skipped = self._note_invalid(invalid)
            loaded_paths = {served.path for served in self._all()}
            candidates = {
                path: signature
                for path, signature in folders.items()
                if path not in loaded_paths
                and self._refused.get(path) != signature
                and (not settle or self._seen.get(path) == signature)
            }
            loaded, added, refused = self._load_new(candidates)
            for path, _ in refused:
                self._refused[path] = folders[path]
            removed = [
                (name, version)
                for name, versions in loaded.items()
                for version, served in versions.items()
                if served.path not in folders
            ]
            for name, version in removed:
                del loaded[name][version]
                logger.warning(
                    "%s is gone: model %s version %s is no longer served",
                    self.models_dir / name / version, name, version,
                )
            self._seen = folders
            self._refused = {p: s for p, s in self._refused.items() if p in folders}
            self._models = {name: versions for name, versions in loaded.items() if versions}
            self._changes += bool(added or removed)
            for served in added:
                logger.info(
                    "serving model %s version %s from %s", served.name, served.version, served.path
                )
            for path, reason in refused:
                logger.warning(
                    "refused the model folder %s: %s (it is not served; it is tried again when "
                    "its files change)", path, reason,
                )
            return Rescan(added, removed, refused, skipped)

    def _all(self) -> Iterator[ServedModel]:
        return (served for versions in self._models.values() for served in versions.values())

    def _note_invalid(self, invalid: list[tuple[Path, str]]) -> list[tuple[Path, str]]:
        """Log the invalid folders not logged before; return them."""
        new = [(path, reason) for path, reason in invalid if path not in self._skipped]
        for path, reason in new:
            logger.warning("skipped the folder %s: %s", path, reason)
        self._skipped = {path for path, _ in invalid}  # one renamed back and forth: logged again
        return new

    def _scan(self) -> tuple[dict[Path, Signature], list[tuple[Path, str]]]:
        """Every version folder with a valid name and its state; the invalid names and why."""
        folders: dict[Path, Signature] = {}
        invalid: list[tuple[Path, str]] = []
        for model_dir in _subfolders(self.models_dir):
            problem = folder_name_problem(model_dir.name, "model")
            if problem is not None:
                invalid.append((model_dir, problem))
                continue
            for version_dir in _subfolders(model_dir):
                problem = folder_name_problem(version_dir.name, "version")
                if problem is not None:
                    invalid.append((version_dir, problem))
                    continue
                signature = _signature(version_dir)
                if signature is not None:
                    folders[version_dir] = signature
        return folders, invalid

    def _load_new(
        self, candidates: dict[Path, Signature]
    ) -> tuple[dict[str, dict[str, ServedModel]], list[ServedModel], list[tuple[Path, str]]]:
        """The models with ``candidates`` loaded (new dicts), what was added, what refused."""
        loaded = {name: dict(versions) for name, versions in self._models.items()}
        added: list[ServedModel] = []
        refused: list[tuple[Path, str]] = []
        for path in sorted(candidates, key=lambda p: (p.parent.name, _version_order(p.name))):
            name, version = path.parent.name, path.name
            versions = loaded.setdefault(name, {})
            if version in versions:
                continue
            try:
                served = ServedModel.load(path)
            except ArtifactError as error:
                refused.append((path, str(error)))
                continue
            if (served.card.name, served.card.version) != (name, version):
                refused.append(
                    (
                        path,
                        f"its card says {served.card.name} version {served.card.version}: the "
                        "folder was renamed or copied after export",
                    )
                )
                continue
            versions[version] = served
            added.append(served)
        for name, versions in loaded.items():  # versions in order: 2 before 10
            loaded[name] = dict(sorted(versions.items(), key=lambda item: _version_order(item[0])))
        return loaded, added, refused

    def names(self) -> list[str]:
        """Every model name, in alphabetical order."""
        return sorted(self._models)

    def versions(self, name: str) -> list[ServedModel]:
        """Every loaded version of model ``name``, oldest first."""
        return list(self._versions_of(name).values())

    def latest(self, name: str) -> ServedModel:
        """The newest version of model ``name``."""
        return self.versions(name)[-1]

    def live(self, name: str) -> ServedModel:
        """The version of model ``name`` that answers requests naming none: the last promoted
        one this process has loaded (serving.models.live), else the newest."""
        versions = self._versions_of(name)
        version = live_of(self._live.get(name, ()), list(versions))
        return versions[version] if version is not None else list(versions.values())[-1]

    def pinned(self, name: str) -> bool:
        """Whether a version of ``name`` was promoted (then a new export waits for a promote)."""
        return bool(self._live.get(name))

    def set_live(self, name: str, history: tuple[str, ...]) -> None:
        """The promoted versions of ``name``, live last, as its control log says now."""
        # Called on the event loop: no lock (a rescan may hold it while loading a model); the
        # dict is swapped whole, and the ETag has a counter of its own.
        before = self._live.get(name, ())
        self._live = {**self._live, name: history}
        loaded = list(self._models.get(name, {}))
        self._live_changes += live_of(before, loaded) != live_of(history, loaded)

    def get(self, name: str, version: str | None = None) -> ServedModel:
        """Model ``name`` at ``version`` (the live version when None)."""
        versions = self._versions_of(name)
        if version is None:
            return self.live(name)
        if not isinstance(version, str) or version not in versions:
            raise ModelNotFound(
                f"model {name!r} has no version {_shown(version)}: "
                f"its versions are {', '.join(versions)}"
            )
        return versions[version]

    def __iter__(self) -> Iterator[ServedModel]:
        """The live version of every model, by name."""
        return (self.live(name) for name in self.names())

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


def _version_order(version: str) -> tuple[int, int, str]:
    return (0, int(version), "") if version.isdigit() else (1, 0, version)


def _subfolders(folder: Path) -> list[Path]:
    """The folders inside ``folder``, by name; hidden ones (an export being written) left out."""
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return []
    return sorted(
        Path(entry.path)
        for entry in entries
        if not entry.name.startswith(".") and entry.is_dir(follow_symlinks=True)
    )


def _signature(folder: Path) -> Signature | None:
    """The folder's state: changes when a file in it is added, removed, resized or rewritten."""
    try:
        files = []
        for entry in os.scandir(folder):
            stat = entry.stat()
            files.append((entry.name, stat.st_size, stat.st_mtime_ns))
        return folder.stat().st_mtime_ns, tuple(sorted(files))
    except OSError:  # removed while we looked: the next scan sees it gone
        return None
