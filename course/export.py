"""Hand a trained model from the notebooks to the server, safely.

``export_model`` writes one artifact folder per model version::

    models/<name>/<version>/
        model.skops   (scikit-learn, saved with skops: loading never runs pickle)
        model.keras   (or a Keras model, loaded in Keras' safe mode)
        card.json     (the ModelCard: feature schema, target, metrics, intended use,
                       limitations, per-group metrics, checksums, versions)

``load_model`` refuses an artifact whose model file does not match the checksum in its card,
or whose skops file holds a type outside scikit-learn, NumPy and SciPy: a model file is code
in disguise, and only the course's own kinds of objects may come back to life.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import math
import os
import platform
import re
import shutil
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from importlib.metadata import version as installed_version
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import skops.io

from course import datasets as course_datasets
from course.card import GroupMetrics, ModelCard
from course.drift import training_profile
from course.evaluate import ProblemKind, check_fitted, is_keras_model, problem_kind
from course.labels import find_labels, from_datasheet, readable
from course.schema import FeatureSpec, infer_features

__all__ = [
    "Artifact",
    "ArtifactError",
    "KerasNotInstalled",
    "export_model",
    "list_artifacts",
    "load_model",
    "read_card",
]

CARD_FILE = "card.json"
SKOPS_FILE = "model.skops"
KERAS_FILE = "model.keras"

# Model and version folder names: safe in a path and in a URL, never '.' or '..'.
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")

# skops marks as "untrusted" every type it cannot vouch for. We accept such a type only if it
# is a class from one of these packages (never a function: numpy.load, for one, can unpickle).
_TRUSTED_PACKAGES = ("sklearn", "numpy", "scipy")
# Plain data types that a fitted estimator may hold; anything else from builtins is refused.
_TRUSTED_BUILTINS = frozenset({"builtins.complex", "builtins.range", "builtins.slice"})


class ArtifactError(Exception):
    """An artifact folder is missing, incomplete, tampered with or unsafe to load."""


class KerasNotInstalled(ImportError):
    """A Keras artifact, intact, on an install without TensorFlow (the kit's ``tf`` extra).

    Not an ArtifactError: the artifact is fine and re-exporting it would not help. ``make
    serve`` leaves TensorFlow out (1.4 GB with its dependencies, of the 2.4 GB a full install
    takes), so this is what a learner who exports a Keras network meets first: the message
    says how to add it.
    """

    def __init__(self, model_path: Path) -> None:
        super().__init__(
            f"{model_path} is a Keras network: reading it needs TensorFlow, which is not "
            f"installed here. Add it with: {TF_INSTALL}; then restart the server (or kernel)"
        )


TF_INSTALL = "pip install -e '.[tf]' (or make serve EXTRAS=tf)"
"""How to add TensorFlow to the kit's venv, for the messages that need it."""


class Artifact(NamedTuple):
    """One exported model version found on disk."""

    name: str
    version: str
    path: Path


def export_model(
    model: Any,
    X_train: pd.DataFrame,
    y_train: Any = None,
    *,
    name: str,
    models_dir: str | os.PathLike[str] = "models",
    version: str | int | None = None,
    metrics: Mapping[str, float] | None = None,
    description: str = "",
    target_name: str | None = None,
    intended_use: str = "",
    limitations: str = "",
    group_metrics: pd.DataFrame | Iterable[GroupMetrics | Mapping[str, Any]] | None = None,
    labels: Mapping[str, str | tuple[str, str]] | None = None,
) -> Path:
    """Save a fitted model and its card as ``models_dir/name/version/``; return that folder.

    ``X_train`` must be the DataFrame the model was fitted on: the card's feature schema (column
    names, types, categories, ranges) comes from it, so NumPy arrays are refused. ``y_train``
    adds the target to the training-data checksum. ``metrics`` are usually
    ``report(model, X_test, y_test).as_dict()``; they are stored as given, never computed here.
    ``version`` defaults to the next whole number after the versions already exported; an
    existing version is never overwritten, and a refused export leaves no folder behind.

    ``intended_use`` says what the model is for (and for which data), ``limitations`` where it
    stops (plain text, for the people who will rely on it). ``group_metrics`` is how it did on
    each group of the test rows: usually ``group_metrics(model, X_test, y_test, by=[...])``
    from ``course.evaluate`` (a table with the columns ``column``, ``group``, ``rows`` and
    the metrics), or a list of ``GroupMetrics``.

    ``labels`` names columns (and the target) for people: ``{"s1": "total cholesterol"}`` or
    ``{"body_mass_g": ("body mass", "g")}``. Columns it leaves out are labelled from the
    datasheet of the shipped dataset they come from (its units), else from their names
    ("bill_length_mm": "bill length", in mm); the page and the explanations use these labels.
    """
    _check_name(name, "model name")
    for label, text in (
        ("description", description),
        ("target_name", target_name),
        ("intended_use", intended_use),
        ("limitations", limitations),
    ):
        if text is not None and not isinstance(text, str):
            raise TypeError(f"{label} must be a string, got {type(text).__name__}")
    check_fitted(model)
    kind = problem_kind(model)
    features = infer_features(X_train)
    _check_columns(model, X_train)
    if y_train is not None and len(y_train) != len(X_train):
        raise ValueError(
            f"X_train has {len(X_train)} rows but y_train has {len(y_train)}: "
            "pass the features and targets of the same rows"
        )
    clean_metrics = None if metrics is None else _check_metrics(metrics)
    groups = None if group_metrics is None else _check_group_metrics(group_metrics)
    if target_name is None and y_train is not None:
        target_name = str(getattr(y_train, "name", None) or "target")
    named = _labels(features, target_name, labels)
    features = tuple(
        replace(feature, label=named[feature.name][0], unit=named[feature.name][1])
        for feature in features
    )

    model_dir = Path(models_dir) / name
    version = _next_version(model_dir) if version is None else _version_text(version)
    final = model_dir / version
    if final.exists():
        raise FileExistsError(_exists_message(final))
    made = [folder for folder in (model_dir, *model_dir.parents) if not folder.exists()]
    model_dir.mkdir(parents=True, exist_ok=True)
    # Write everything in a hidden folder, then rename: a crash never leaves half an artifact,
    # and two exports racing for the same version cannot both win.
    staging = model_dir / f".{version}.{uuid.uuid4().hex}.tmp"
    staging.mkdir()
    try:
        keras_model = is_keras_model(model)
        model_file = KERAS_FILE if keras_model else SKOPS_FILE
        _save_model(model, staging / model_file)
        card = ModelCard(
            name=name,
            version=version,
            created=datetime.now(UTC).isoformat(timespec="seconds"),
            problem_kind=kind,
            description=description,
            features=features,
            target_name=target_name,
            classes=_classes(model, kind),
            metrics=clean_metrics,
            intended_use=intended_use,
            limitations=limitations,
            group_metrics=groups,
            target_label=None if target_name is None else named[target_name][0],
            target_unit=None if target_name is None else named[target_name][1],
            data_sha256=_data_sha256(X_train, y_train),
            library_versions=_library_versions(keras_model),
            model_file=model_file,
            model_sha256=_file_sha256(staging / model_file),
            profile=training_profile(X_train, features),
        )
        text = json.dumps(card.to_dict(), indent=2, ensure_ascii=False, allow_nan=False)
        (staging / CARD_FILE).write_text(text + "\n", encoding="utf-8")
        try:
            staging.rename(final)
        except OSError:
            if final.exists():  # another export took this version while we were writing
                raise FileExistsError(_exists_message(final)) from None
            raise
    except BaseException:  # refused (unsafe types, a Keras save error...): leave nothing behind
        shutil.rmtree(staging, ignore_errors=True)
        _remove_empty(made)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return final


def _remove_empty(folders: list[Path]) -> None:
    """Remove the folders an export created, deepest first, as long as they are empty (another
    export may have written into one meanwhile: that one stays, and its parents)."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return


def _labels(
    features: Iterable[FeatureSpec],
    target_name: str | None,
    given: Mapping[str, str | tuple[str, str]] | None,
) -> dict[str, tuple[str, str]]:
    """``(label, unit)`` for every feature and the target: given, else datasheet, else name."""
    names = [feature.name for feature in features]
    if target_name is not None:
        names.append(target_name)
    sheets = []
    for dataset in course_datasets.names():
        sheet = course_datasets.datasheet(dataset)
        sheets.append(
            {
                column.name: from_datasheet(
                    column.name,
                    column.description,
                    column.unit,
                    max_words=10 if column.name == sheet.target else 5,
                )
                for column in sheet.columns
            }
        )
    found = {name: readable(name) for name in names}
    found.update(find_labels(names, sheets))
    for name, value in (given or {}).items():
        if name not in found:
            raise ValueError(
                f"labels names {name!r}, which is neither a column of X_train nor the target: "
                f"label only {', '.join(repr(n) for n in names)}"
            )
        if isinstance(value, str):
            found[name] = (value, readable(name)[1])
        elif (
            isinstance(value, tuple)
            and len(value) == 2
            and all(isinstance(part, str) for part in value)
        ):
            found[name] = (value[0], value[1])
        else:
            raise TypeError(
                f"labels[{name!r}] must be a label or a (label, unit) pair of strings, "
                f"got {value!r}"
            )
    return found


def read_card(path: str | os.PathLike[str]) -> ModelCard:
    """Read and check the card of the artifact folder ``path`` (models/<name>/<version>)."""
    folder = Path(path)
    if not folder.is_dir():
        raise ArtifactError(
            f"no artifact folder at {folder}: export a model first with "
            "export_model(model, X_train, y_train, name=...)"
        )
    card_path = folder / CARD_FILE
    if not card_path.is_file():
        versions = [child.name for child in folder.iterdir() if (child / CARD_FILE).is_file()]
        hint = (
            f"it looks like a model name folder: pass a version folder such as "
            f"{folder / sorted(versions, key=_version_order)[-1]}"
            if versions
            else "re-export the model"
        )
        raise ArtifactError(f"{folder} has no {CARD_FILE}: {hint}")
    try:
        data = json.loads(card_path.read_text(encoding="utf-8"))
        return ModelCard.from_dict(data)
    except (ValueError, UnicodeDecodeError) as error:
        raise ArtifactError(
            f"{card_path} is not a valid model card ({error}): re-export the model"
        ) from error


def load_model(path: str | os.PathLike[str]) -> Any:
    """Load the model of the artifact folder ``path``, after checking it is intact and safe."""
    folder = Path(path)
    card = read_card(folder)
    if card.model_file not in (SKOPS_FILE, KERAS_FILE):
        raise ArtifactError(
            f"{folder / CARD_FILE} names the model file {card.model_file!r}, an unknown format: "
            f"expected {SKOPS_FILE} or {KERAS_FILE}"
        )
    model_path = folder / card.model_file
    if not model_path.is_file():
        raise ArtifactError(f"{model_path} is missing: re-export the model")
    if _file_sha256(model_path) != card.model_sha256:
        raise ArtifactError(
            f"{model_path} does not match the sha256 checksum in its card: the artifact was "
            "changed after export (tampered or corrupted); do not load it, re-export the model"
        )
    if card.model_file == KERAS_FILE:
        try:
            import keras  # imported here: TensorFlow takes seconds to load, skops models skip it
        except ImportError as error:
            raise KerasNotInstalled(model_path) from error
        with _reading(model_path):
            return keras.models.load_model(model_path, safe_mode=True)
    with _reading(model_path):
        untrusted = skops.io.get_untrusted_types(file=model_path)
        _refuse_unsafe_types(untrusted, str(model_path))
        return skops.io.load(model_path, trusted=untrusted)


@contextmanager
def _reading(path: Path) -> Iterator[None]:
    """Turn whatever a library raises on a bad model file into an ArtifactError."""
    try:
        yield
    except ArtifactError:
        raise
    except Exception as error:
        raise ArtifactError(
            f"{path} could not be read ({type(error).__name__}: {error}): re-export the model"
        ) from error


def list_artifacts(models_dir: str | os.PathLike[str] = "models") -> list[Artifact]:
    """Every exported model version under ``models_dir``, by name then version (2 before 10)."""
    root = Path(models_dir)
    if not root.is_dir():
        return []
    found = [
        Artifact(card.parent.parent.name, card.parent.name, card.parent)
        for card in root.glob(f"*/*/{CARD_FILE}")
        if _NAME.fullmatch(card.parent.parent.name) and _NAME.fullmatch(card.parent.name)
    ]
    return sorted(found, key=lambda artifact: (artifact.name, _version_order(artifact.version)))


def _check_name(text: Any, what: str) -> None:
    if not isinstance(text, str) or not _NAME.fullmatch(text):
        raise ValueError(
            f"invalid {what} {text!r}: use 1 to 64 lowercase letters, digits, '-' and '_', "
            "starting with a letter or digit (for example 'penguin-classifier')"
        )


def _version_text(version: str | int) -> str:
    if isinstance(version, int) and not isinstance(version, bool) and version >= 0:
        version = str(version)
    _check_name(version, "version")
    return str(version)


def _next_version(model_dir: Path) -> str:
    existing = [
        int(child.name)
        for child in (model_dir.iterdir() if model_dir.is_dir() else ())
        if child.name.isdigit() and child.is_dir()
    ]
    return str(max(existing, default=0) + 1)


def _version_order(version: str) -> tuple[int, int, str]:
    return (0, int(version), "") if version.isdigit() else (1, 0, version)


def _exists_message(final: Path) -> str:
    return (
        f"{final} already exists: an exported version is never overwritten; "
        "pass another version, or omit version= to get the next number"
    )


def _check_columns(model: Any, X_train: pd.DataFrame) -> None:
    fitted_on = getattr(model, "feature_names_in_", None)
    if fitted_on is not None and list(fitted_on) != [str(c) for c in X_train.columns]:
        raise ValueError(
            f"the model was fitted on the columns {list(fitted_on)} but X_train has "
            f"{list(X_train.columns)}: pass the same training features the model was fitted on"
        )


def _check_metrics(metrics: Any) -> dict[str, float]:
    if not isinstance(metrics, Mapping):
        raise TypeError(
            f"metrics must be a dict of numbers, got {type(metrics).__name__}: "
            "pass report(model, X_test, y_test).as_dict()"
        )
    clean = {}
    for key, value in metrics.items():
        if isinstance(value, bool) or not isinstance(value, int | float | np.number):
            raise TypeError(f"metric {key!r} must be a number, got {type(value).__name__}")
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if not math.isfinite(number):
            raise ValueError(f"metric {key!r} is {value}: only finite numbers fit in a card")
        clean[str(key)] = number
    return clean


def _check_group_metrics(groups: Any) -> tuple[GroupMetrics, ...]:
    if isinstance(groups, pd.DataFrame):
        missing = [c for c in ("column", "group", "rows") if c not in groups.columns]
        if missing:
            raise ValueError(
                f"group_metrics has no column {missing[0]!r}: pass the table that "
                "group_metrics(model, X_test, y_test, by=[...]) returns"
            )
        names = [c for c in groups.columns if c not in ("column", "group", "rows")]
        groups = [
            {
                "column": row["column"],
                "group": row["group"],
                "rows": row["rows"],
                "metrics": {name: row[name] for name in names},
            }
            for row in groups.to_dict("records")
        ]
    if isinstance(groups, str | bytes | Mapping) or not isinstance(groups, Iterable):
        raise TypeError(
            f"group_metrics must be a table or a list of groups, got {type(groups).__name__}: "
            "pass group_metrics(model, X_test, y_test, by=[...])"
        )
    clean = []
    for group in groups:
        if isinstance(group, GroupMetrics):
            group = group.to_dict()
        if not isinstance(group, Mapping):
            raise TypeError(f"each group must be a GroupMetrics or a dict, got {group!r}")
        rows = group.get("rows")
        if isinstance(rows, np.integer):
            rows = int(rows)
        where = f"group {group.get('column')!r} = {group.get('group')!r}"
        metrics = _check_metrics(group.get("metrics") or {})
        try:
            clean.append(
                GroupMetrics.from_dict(
                    {
                        "column": str(group.get("column")),
                        "group": str(group.get("group")),
                        "rows": rows,
                        "metrics": metrics,
                    },
                    where,
                )
            )
        except ValueError as error:
            raise ValueError(f"group_metrics: {error}") from None
    return tuple(clean)


def _classes(model: Any, kind: ProblemKind) -> tuple[Any, ...] | None:
    if kind is not ProblemKind.CLASSIFICATION:
        return None
    if is_keras_model(model):
        units = model.outputs[0].shape[-1]
        return tuple(range(max(units, 2)))  # one sigmoid unit still means two classes
    return tuple(c.item() if isinstance(c, np.generic) else c for c in model.classes_)


def _data_sha256(X: pd.DataFrame, y: Any) -> str:
    """A checksum of the training values: same values and columns, same hash, any index."""
    digest = hashlib.sha256(X.to_csv(index=False, lineterminator="\n").encode())
    if y is not None:
        target = pd.Series(np.asarray(y).ravel())
        digest.update(b"\0target\0")
        digest.update(target.to_csv(index=False, header=False, lineterminator="\n").encode())
    return digest.hexdigest()


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _library_versions(keras_model: bool) -> dict[str, str]:
    versions = {
        "python": platform.python_version(),
        "scikit-learn": installed_version("scikit-learn"),
        "skops": installed_version("skops"),
        "numpy": np.__version__,
        "pandas": pd.__version__,
    }
    if keras_model:
        import keras

        versions["keras"] = keras.__version__
        if keras.backend.backend() == "tensorflow":
            import tensorflow

            versions["tensorflow"] = tensorflow.__version__
    return versions


def _save_model(model: Any, path: Path) -> None:
    if path.name == KERAS_FILE:
        model.save(path)
        return
    data = skops.io.dumps(model)
    # Refuse now what load_model would refuse later, while the notebook can still fix it.
    _refuse_unsafe_types(skops.io.get_untrusted_types(data=data), "the model")
    path.write_bytes(data)


def _refuse_unsafe_types(type_names: list[str], where: str) -> None:
    unsafe = [name for name in type_names if not _is_trusted(name)]
    if unsafe:
        raise ArtifactError(
            f"{where} contains types that are not safe to load: {', '.join(unsafe)}. Only "
            "scikit-learn, NumPy and SciPy classes are allowed; replace custom classes, "
            "lambdas and function references (e.g. in a FunctionTransformer) with "
            "scikit-learn transformers"
        )


def _is_trusted(type_name: str) -> bool:
    if type_name in _TRUSTED_BUILTINS:
        return True
    parts = type_name.split(".")
    if parts[0] not in _TRUSTED_PACKAGES or any(part.startswith("__") for part in parts):
        return False
    found = _resolve(parts)
    # Defined in a trusted package, not merely reachable from one: numpy.f2py imports
    # subprocess, so "numpy.f2py.subprocess.Popen" must not pass.
    return isinstance(found, type) and found.__module__.split(".")[0] in _TRUSTED_PACKAGES


def _resolve(parts: list[str]) -> Any:
    """The object a dotted name points to inside a trusted package, or None."""
    for split in range(len(parts) - 1, 0, -1):
        try:
            target: Any = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for attribute in parts[split:]:
            target = getattr(target, attribute, None)
        return target
    return None
