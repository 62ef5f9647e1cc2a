"""The datasets that ship with the course, loaded offline and checked against their datasheets.

Every dataset is a CSV in the repository's ``datasets/`` folder (bundled into the package in
an installed wheel: ``course.files``) with a datasheet ``<name>.toml`` beside it (source,
licence, row count, SHA-256, and the dtype, unit and meaning of each column). ``load``
refuses a file that does not match its datasheet, so a notebook never silently teaches from a
corrupted copy. Set ``COURSE_DATASETS_DIR`` to read another folder.
"""

from __future__ import annotations

import difflib
import hashlib
import html
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from course import files

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Column", "DatasetError", "Datasheet", "datasets_dir", "datasheet", "load", "names"]

DATASETS_DIR_ENV = "COURSE_DATASETS_DIR"


class DatasetError(ValueError):
    """A dataset cannot be loaded: unknown name, missing or modified file, bad datasheet."""


@dataclass(frozen=True)
class Column:
    """One column of a dataset as its datasheet describes it."""

    name: str
    dtype: str
    unit: str
    description: str
    missing: int


@dataclass(frozen=True)
class Datasheet:
    """What a dataset is, where it comes from, and what to expect in each column."""

    name: str
    title: str
    description: str
    file: str
    rows: int
    sha256: str
    licence: str
    target: str | None
    citation: str
    url: str
    exported_with: str
    columns: tuple[Column, ...]
    quirks: tuple[str, ...]

    @property
    def dtypes(self) -> dict[str, str]:
        """Column name -> the pandas dtype ``load`` gives it."""
        return {column.name: column.dtype for column in self.columns}

    def __str__(self) -> str:
        width = max(len(column.name) for column in self.columns)
        lines = [
            f"{self.title} ({self.name}): {self.rows} rows, {len(self.columns)} columns",
            self.description,
            "",
            f"Source:  {self.citation}",
            f"URL:     {self.url}",
            f"Licence: {self.licence}",
            f"Target:  {self.target or '(none)'}",
            "",
            "Columns:",
        ]
        for column in self.columns:
            unit = f" [{column.unit}]" if column.unit else ""
            missing = f" ({column.missing} missing)" if column.missing else ""
            lines.append(
                f"  {column.name:<{width}}  {column.dtype:<14} {column.description}{unit}{missing}"
            )
        lines += ["", "Quirks:", *(f"  - {quirk}" for quirk in self.quirks)]
        return "\n".join(lines)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """IPython's plain-text display: the readable summary, not the dataclass fields."""
        printer.text(str(self))

    def _repr_html_(self) -> str:
        e = html.escape
        rows = "".join(
            f"<tr><td><code>{e(c.name)}</code></td><td>{e(c.dtype)}</td><td>{e(c.unit)}</td>"
            f"<td>{c.missing or ''}</td><td>{e(c.description)}</td></tr>"
            for c in self.columns
        )
        quirks = "".join(f"<li>{e(quirk)}</li>" for quirk in self.quirks)
        return (
            f"<div><h4>{e(self.title)} <small>(<code>{e(self.name)}</code>)</small></h4>"
            f"<p>{e(self.description)}</p>"
            f"<p><b>Rows:</b> {self.rows} &middot; <b>Target:</b> {e(self.target or '(none)')}"
            f" &middot; <b>Licence:</b> {e(self.licence)}<br>"
            f"<b>Source:</b> {e(self.citation)} <a href='{e(self.url)}'>{e(self.url)}</a></p>"
            "<table><thead><tr><th>column</th><th>dtype</th><th>unit</th><th>missing</th>"
            f"<th>description</th></tr></thead><tbody>{rows}</tbody></table>"
            f"<p><b>Quirks</b></p><ul>{quirks}</ul></div>"
        )


def datasets_dir() -> Path:
    """The folder the datasets are read from: ``$COURSE_DATASETS_DIR``, else the shipped copy
    (the repository's ``datasets/`` in a clone, the bundled one in an installed wheel)."""
    override = os.environ.get(DATASETS_DIR_ENV)
    return Path(override) if override else files.datasets_dir()


def names() -> list[str]:
    """The names of the available datasets, sorted."""
    folder = datasets_dir()
    if not folder.is_dir():
        raise DatasetError(
            f"the datasets folder {folder} does not exist. It ships with the course (the "
            "repository's datasets/, bundled in the installed package): reinstall the kit, or "
            f"set {DATASETS_DIR_ENV} to the folder holding the CSV files and their .toml "
            "datasheets."
        )
    return sorted(path.stem for path in folder.glob("*.toml"))


def datasheet(name: str) -> Datasheet:
    """The datasheet of dataset ``name``; raises DatasetError for an unknown name."""
    available = names()
    if name not in available:
        raise DatasetError(_unknown_name_message(name, available))
    path = datasets_dir() / f"{name}.toml"
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        return _parse_datasheet(name, raw)
    except (tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
        raise DatasetError(
            f"the datasheet {path} is malformed ({exc}). {_restore(path.name)}"
        ) from exc


def _restore(file: str) -> str:
    """How to get the shipped copy of a file back: git in a clone, pip in an installed wheel."""
    if files.bundled():
        return (
            "Restore it by reinstalling the kit: "
            "`pip install --force-reinstall --no-deps ml-course-kit`."
        )
    return f"Restore it with `git checkout -- datasets/{file}`."


def load(name: str) -> pd.DataFrame:
    """Load dataset ``name`` with exactly the dtypes its datasheet states.

    The file is verified first (checksum, columns, row count); a mismatch raises DatasetError
    saying how to restore the shipped copy.
    """
    import pandas as pd

    sheet = datasheet(name)
    path = datasets_dir() / sheet.file
    restore = _restore(sheet.file)
    if not path.is_file():
        raise DatasetError(
            f"dataset {name!r} has a datasheet but its file {path} is missing. The file ships "
            f"with the course repository. {restore}"
        )
    digest = _sha256(path)
    if digest != sheet.sha256:
        raise DatasetError(
            f"{path} does not match its datasheet's checksum (sha256 {digest[:12]}... instead "
            f"of {sheet.sha256[:12]}...): the file was modified or corrupted. {restore}"
        )
    _check_columns(sheet, list(pd.read_csv(path, nrows=0).columns), path, restore)
    dates = [c.name for c in sheet.columns if c.dtype.startswith("datetime64")]
    others = {c.name: c.dtype for c in sheet.columns if c.name not in dates}
    try:
        frame = pd.read_csv(path, dtype=others, parse_dates=dates)
        frame = frame.astype({column: sheet.dtypes[column] for column in dates})
    except (TypeError, ValueError) as exc:
        raise DatasetError(
            f"{path} cannot be read with the dtypes of its datasheet ({exc}). {restore}"
        ) from exc
    if len(frame) != sheet.rows:
        raise DatasetError(
            f"{path} has {len(frame)} rows but its datasheet says {sheet.rows}. {restore}"
        )
    return frame


def _parse_datasheet(name: str, raw: dict[str, Any]) -> Datasheet:
    source = raw["source"]
    columns = tuple(
        Column(
            name=column_name,
            dtype=str(spec["dtype"]),
            unit=str(spec["unit"]),
            description=str(spec["description"]),
            missing=int(spec["missing"]),
        )
        for column_name, spec in raw["columns"].items()
    )
    if not columns:
        raise ValueError("it lists no columns")
    return Datasheet(
        name=name,
        title=str(raw["title"]),
        description=str(raw["description"]),
        file=str(raw["file"]),
        rows=int(raw["rows"]),
        sha256=str(raw["sha256"]).lower(),
        licence=str(raw["licence"]),
        target=raw.get("target"),
        citation=str(source["citation"]),
        url=str(source["url"]),
        exported_with=str(source["exported_with"]),
        columns=columns,
        quirks=tuple(str(quirk) for quirk in raw.get("quirks", ())),
    )


def _unknown_name_message(name: object, available: list[str]) -> str:
    message = f"unknown dataset {name!r}."
    typed = str(name).lower().replace("-", "_").replace(" ", "_")
    close = difflib.get_close_matches(typed, available, n=1)
    if close:
        message += f" Did you mean {close[0]!r}?"
    return message + f" Available datasets: {', '.join(available) or '(none)'}."


def _check_columns(sheet: Datasheet, found: list[str], path: Path, restore: str) -> None:
    expected = [column.name for column in sheet.columns]
    if found == expected:
        return
    missing = [c for c in expected if c not in found]
    unexpected = [c for c in found if c not in expected]
    details = []
    if missing:
        details.append(f"missing {missing}")
    if unexpected:
        details.append(f"unexpected {unexpected}")
    if not details:
        details.append(f"order is {found}, expected {expected}")
    raise DatasetError(
        f"the columns of {path} do not match its datasheet: {'; '.join(details)}. {restore}"
    )


_checksums: dict[tuple[str, int, int], str] = {}


def _sha256(path: Path) -> str:
    """SHA-256 of a file, cached by path, modification time and size so reloads are free."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    if key not in _checksums:
        _checksums[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return _checksums[key]
