"""The model card: what a trained model is, what it expects, and how well it did.

``ModelCard`` mirrors the ``card.json`` written next to every exported model. It is plain
data (no I/O): ``to_dict`` gives JSON-ready values, ``from_dict`` checks a decoded
``card.json`` field by field and says exactly what is wrong with it.

Besides the schema and the scores, a card says what the model is *for* and where it stops:
``intended_use`` and ``limitations`` (plain text), and ``group_metrics``, how it did on each
group of the test rows (``GroupMetrics``: one island, one sex), since an average can hide a
group the model fails. These three are optional: a card written before them still loads.
"""

from __future__ import annotations

import enum
import html
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from course.evaluate import ProblemKind
from course.labels import readable, with_unit
from course.schema import FeatureKind, FeatureSpec

__all__ = ["CARD_FORMAT", "GroupMetrics", "ModelCard"]

_E = TypeVar("_E", bound=enum.Enum)

# Bumped when the layout of card.json changes in a way older readers cannot follow.
CARD_FORMAT = 1


@dataclass(frozen=True)
class GroupMetrics:
    """How the model did on one group of test rows: the rows whose ``column`` is ``group``.

    ``metrics`` holds the headline metric and its 95% interval, e.g. ``{"accuracy": 0.97,
    "low": 0.85, "high": 0.99}`` (see ``course.evaluate.group_metrics``).
    """

    column: str
    group: str
    rows: int
    metrics: Mapping[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "group": self.group,
            "rows": self.rows,
            "metrics": dict(self.metrics),
        }

    @classmethod
    def from_dict(cls, data: Any, where: str) -> GroupMetrics:
        reader = _Reader(data, where)
        column, group = reader.get("column", str), reader.get("group", str)
        rows = reader.get("rows", int)
        if rows < 0:
            raise ValueError(f"{where}.rows must be a count of rows, got {rows}")
        metrics = reader.get("metrics", dict)
        return cls(
            column=column,
            group=group,
            rows=rows,
            metrics={
                str(name): _check_number(value, f"{where}.metrics.{name}")
                for name, value in metrics.items()
            },
        )

    @property
    def headline(self) -> str:
        """``accuracy 0.976 (95% interval 0.876 to 0.996)``: the first metric and its interval."""
        values = dict(self.metrics)
        low, high = values.pop("low", None), values.pop("high", None)
        if not values:
            return ""
        name, value = next(iter(values.items()))
        interval = "" if low is None or high is None else f" (95% interval {low:.3f} to {high:.3f})"
        return f"{name} {value:.3f}{interval}"


@dataclass(frozen=True)
class ModelCard:
    """Everything ``card.json`` says about one exported model version."""

    name: str
    version: str
    created: str
    problem_kind: ProblemKind
    description: str
    features: tuple[FeatureSpec, ...]
    target_name: str | None
    classes: tuple[str | int | float | bool, ...] | None
    metrics: Mapping[str, float] | None
    data_sha256: str
    library_versions: Mapping[str, str]
    model_file: str
    model_sha256: str
    card_format: int = CARD_FORMAT
    intended_use: str = ""
    limitations: str = ""
    group_metrics: tuple[GroupMetrics, ...] | None = None
    # Issue 15, optional: what a person calls the target ("body mass") and its unit ("g").
    target_label: str | None = None
    target_unit: str | None = None
    # Issue 18, optional: what training looked like feature by feature, for drift tests
    # (course.drift.training_profile: quantile bins and their shares, category shares).
    profile: Mapping[str, Any] | None = None

    @property
    def target_title(self) -> str | None:
        """The target as a person reads it: the label, else the name made readable."""
        if self.target_name is None and self.target_label is None:
            return None
        label, unit = readable(self.target_name or "")
        return with_unit(
            self.target_label or label, unit if self.target_unit is None else self.target_unit
        )

    @property
    def feature_names(self) -> list[str]:
        return [feature.name for feature in self.features]

    def to_dict(self) -> dict[str, Any]:
        """The card as JSON-ready plain values, in card.json order."""
        return {
            "card_format": self.card_format,
            "name": self.name,
            "version": self.version,
            "created": self.created,
            "problem_kind": self.problem_kind.value,
            "description": self.description,
            "intended_use": self.intended_use,
            "limitations": self.limitations,
            "features": [_feature_to_dict(feature) for feature in self.features],
            "target": {
                "name": self.target_name,
                "classes": None if self.classes is None else list(self.classes),
                **_labels_to_dict(self.target_label, self.target_unit),
            },
            "metrics": None if self.metrics is None else dict(self.metrics),
            "group_metrics": (
                None
                if self.group_metrics is None
                else [group.to_dict() for group in self.group_metrics]
            ),
            "data_sha256": self.data_sha256,
            "library_versions": dict(self.library_versions),
            "model_file": self.model_file,
            "model_sha256": self.model_sha256,
            **({} if self.profile is None else {"profile": dict(self.profile)}),
        }

    @classmethod
    def from_dict(cls, data: Any) -> ModelCard:
        """Rebuild a card from decoded card.json; ValueError names the first bad field."""
        reader = _Reader(data, "card")
        card_format = reader.get("card_format", int)
        if card_format != CARD_FORMAT:
            raise ValueError(
                f"card_format is {card_format}, but this version of the course reads "
                f"format {CARD_FORMAT}: re-export the model"
            )
        problem_kind = _enum(ProblemKind, reader.get("problem_kind", str), "card.problem_kind")
        features = reader.get("features", list)
        target = _Reader(reader.get("target", dict), "card.target")
        classes = target.get("classes", list, optional=True)
        metrics = reader.get("metrics", dict, optional=True)
        library_versions = reader.get("library_versions", dict)
        # Added after the first cards were written: optional, so those cards still load.
        groups = reader.get("group_metrics", list, optional=True, missing_ok=True)
        return cls(
            name=reader.get("name", str),
            version=reader.get("version", str),
            created=reader.get("created", str),
            problem_kind=problem_kind,
            description=reader.get("description", str),
            features=tuple(
                _feature_from_dict(item, f"card.features[{index}]")
                for index, item in enumerate(features)
            ),
            target_name=target.get("name", str, optional=True),
            target_label=target.get("label", str, optional=True, missing_ok=True),
            target_unit=target.get("unit", str, optional=True, missing_ok=True),
            classes=None if classes is None else tuple(_check_label(c) for c in classes),
            metrics=None if metrics is None else _check_metrics(metrics),
            data_sha256=reader.get("data_sha256", str),
            library_versions={str(k): str(v) for k, v in library_versions.items()},
            model_file=reader.get("model_file", str),
            model_sha256=reader.get("model_sha256", str),
            card_format=card_format,
            intended_use=reader.get("intended_use", str, optional=True, missing_ok=True) or "",
            limitations=reader.get("limitations", str, optional=True, missing_ok=True) or "",
            group_metrics=(
                None
                if groups is None
                else tuple(
                    GroupMetrics.from_dict(item, f"card.group_metrics[{index}]")
                    for index, item in enumerate(groups)
                )
            ),
            profile=reader.get("profile", dict, optional=True, missing_ok=True),
        )

    def __str__(self) -> str:
        lines = [
            f"Model card: {self.name} version {self.version} ({self.problem_kind.value})",
            f"  created  {self.created}",
        ]
        if self.description:
            lines.append(f"  about    {self.description}")
        if self.intended_use:
            lines.append(f"  use      {self.intended_use}")
        if self.limitations:
            lines.append(f"  limits   {self.limitations}")
        if self.target_name is not None:
            classes = "" if self.classes is None else f" (classes: {_join(self.classes)})"
            lines.append(f"  target   {self.target_name}{classes}")
        lines.append("Features:")
        width = max((len(feature.name) for feature in self.features), default=0)
        for feature in self.features:
            lines.append(f"  {feature.name:<{width}}  {_feature_summary(feature)}")
        if self.metrics:
            lines.append("Metrics:")
            width = max(len(name) for name in self.metrics)
            lines.extend(f"  {name:<{width}}  {value:.3f}" for name, value in self.metrics.items())
        if self.group_metrics:
            lines.append("By group:")
            width = max(len(_group_name(group)) for group in self.group_metrics)
            lines.extend(
                f"  {_group_name(group):<{width}}  {group.rows:>4} rows  {group.headline}".rstrip()
                for group in self.group_metrics
            )
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        escape = html.escape
        rows = "".join(
            f"<tr><td>{escape(feature.name)}</td><td>{escape(_feature_summary(feature))}</td></tr>"
            for feature in self.features
        )
        metrics = "".join(
            f"<tr><td>{escape(name)}</td><td>{value:.3f}</td></tr>"
            for name, value in (self.metrics or {}).items()
        )
        groups = "".join(
            f"<tr><td>{escape(group.column)}</td><td>{escape(group.group)}</td>"
            f"<td>{group.rows}</td><td>{escape(group.headline)}</td></tr>"
            for group in self.group_metrics or ()
        )
        target = ""
        if self.target_name is not None:
            classes = "" if self.classes is None else f" (classes: {_join(self.classes)})"
            target = f"<p>Target: {escape(self.target_name + classes)}</p>"
        return (
            f"<h4>Model card: {escape(self.name)} version {escape(self.version)}</h4>"
            f"<p>{escape(self.problem_kind.value)}, created {escape(self.created)}</p>"
            + (f"<p>{escape(self.description)}</p>" if self.description else "")
            + (f"<p>Intended use: {escape(self.intended_use)}</p>" if self.intended_use else "")
            + (f"<p>Limitations: {escape(self.limitations)}</p>" if self.limitations else "")
            + target
            + f"<table><tr><th>feature</th><th>seen in training</th></tr>{rows}</table>"
            + (f"<table><tr><th>metric</th><th>value</th></tr>{metrics}</table>" if metrics else "")
            + (
                "<table><tr><th>column</th><th>group</th><th>rows</th><th>on the test rows</th>"
                f"</tr>{groups}</table>"
                if groups
                else ""
            )
        )


def _group_name(group: GroupMetrics) -> str:
    return f"{group.column} = {group.group}"


def _join(values: Any) -> str:
    return ", ".join(str(value) for value in values)


def _feature_summary(feature: FeatureSpec) -> str:
    if feature.kind is FeatureKind.CATEGORY:
        text = f"category: {_join(feature.categories or ())}"
    elif feature.is_numeric:
        text = f"{feature.kind.value} from {feature.min:g} to {feature.max:g}"
    else:
        text = feature.kind.value
    return f"{text}, may be missing" if feature.missing_seen else text


def _feature_to_dict(feature: FeatureSpec) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": feature.name,
        "kind": feature.kind.value,
        "dtype": feature.dtype,
        "missing_seen": feature.missing_seen,
    }
    if feature.kind is FeatureKind.CATEGORY:
        data["categories"] = list(feature.categories or ())
    if feature.is_numeric:
        data.update(min=feature.min, max=feature.max, mean=feature.mean, std=feature.std)
    data.update(_labels_to_dict(feature.label, feature.unit))
    return data


def _labels_to_dict(label: str | None, unit: str | None) -> dict[str, str]:
    """``label`` and ``unit`` when set: a card written without them keeps its old layout."""
    return {key: value for key, value in (("label", label), ("unit", unit)) if value is not None}


def _feature_from_dict(data: Any, where: str) -> FeatureSpec:
    reader = _Reader(data, where)
    kind = _enum(FeatureKind, reader.get("kind", str), f"{where}.kind")
    categories = None
    if kind is FeatureKind.CATEGORY:
        categories = tuple(_check_label(c) for c in reader.get("categories", list))
    numbers: dict[str, float | None] = dict.fromkeys(("min", "max", "mean", "std"))
    if kind in (FeatureKind.NUMBER, FeatureKind.INTEGER):
        for key in numbers:
            numbers[key] = _check_number(reader.get(key, (int, float)), f"{where}.{key}")
    return FeatureSpec(
        name=reader.get("name", str),
        kind=kind,
        dtype=reader.get("dtype", str),
        missing_seen=reader.get("missing_seen", bool),
        categories=categories,
        **numbers,
        label=reader.get("label", str, optional=True, missing_ok=True),
        unit=reader.get("unit", str, optional=True, missing_ok=True),
    )


def _enum(enum_type: type[_E], value: str, where: str) -> _E:
    try:
        return enum_type(value)
    except ValueError:
        allowed = [member.value for member in enum_type]
        raise ValueError(f"{where} is {value!r}, expected one of {allowed}") from None


def _check_number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{where} must be a finite number, got {value!r}")
    return float(value)


def _check_label(value: Any) -> str | int | float | bool:
    if not isinstance(value, str | int | float | bool):
        raise ValueError(f"class and category labels must be plain values, got {value!r}")
    return value


def _check_metrics(metrics: Mapping[str, Any]) -> dict[str, float]:
    return {
        str(name): _check_number(value, f"card.metrics.{name}") for name, value in metrics.items()
    }


class _Reader:
    """Reads typed fields out of one JSON object, naming the path of any bad field."""

    def __init__(self, data: Any, where: str) -> None:
        if not isinstance(data, dict):
            raise ValueError(f"{where} must be an object, got {_json_name(data)}")
        self.data = data
        self.where = where

    def get(
        self,
        key: str,
        types: type | tuple[type, ...],
        *,
        optional: bool = False,
        missing_ok: bool = False,
    ) -> Any:
        if key not in self.data:
            if missing_ok:
                return None
            raise ValueError(f"{self.where}.{key} is missing")
        value = self.data[key]
        if value is None and optional:
            return None
        # bool is an int in Python, but never a valid count or measurement in a card.
        wrong_bool = isinstance(value, bool) and bool not in _as_tuple(types)
        if wrong_bool or not isinstance(value, types):
            # JSON has one kind of number: (int, float) reads as "a number".
            wanted = "a number" if float in _as_tuple(types) else _JSON_NAMES[_as_tuple(types)[0]]
            raise ValueError(f"{self.where}.{key} must be {wanted}, got {_json_name(value)}")
        return value


_JSON_NAMES = {
    dict: "an object",
    list: "a list",
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "true or false",
    type(None): "null",
}


def _json_name(value: Any) -> str:
    return _JSON_NAMES.get(type(value), type(value).__name__)


def _as_tuple(types: type | tuple[type, ...]) -> tuple[type, ...]:
    return types if isinstance(types, tuple) else (types,)
