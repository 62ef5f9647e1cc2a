"""Regenerate the shipped datasets: CSV files, their datasheets and the README index.

A maintainer's script, never run while learning: the CSVs it writes are committed, so the
course works offline. It needs two export-only packages that are not kit dependencies:

    .venv/bin/pip install palmerpenguins vega_datasets
    .venv/bin/python datasets/build.py

Each datasheet (``<name>.toml``) is generated from the metadata below plus facts measured on
the exported data (row count, SHA-256, missing values per column): edit this script, not the
TOML files. ``course.datasets.load`` verifies every CSV against its datasheet.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class ColumnSpec:
    dtype: str
    unit: str
    description: str


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    title: str
    description: str
    citation: str
    url: str
    licence: str
    exported_with: str  # the package whose copy of the data is exported
    target: str
    columns: dict[str, ColumnSpec]
    quirks: tuple[str, ...]
    export: Callable[[], pd.DataFrame]


def _version(package: str) -> str:
    return f"{package} {importlib.metadata.version(package)}"


def _penguins() -> pd.DataFrame:
    from palmerpenguins import load_penguins

    return load_penguins()


def _seattle_weather() -> pd.DataFrame:
    from vega_datasets import data

    return data.seattle_weather()


def _digits() -> pd.DataFrame:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    frame = pd.DataFrame(bunch.data, columns=[f"pixel_{i}" for i in range(64)])
    frame["target"] = bunch.target
    return frame.astype("int64")


def _diabetes() -> pd.DataFrame:
    from sklearn.datasets import load_diabetes

    frame = load_diabetes(scaled=False, as_frame=True).frame
    for column in ("age", "sex", "s1", "s6", "target"):
        frame[column] = frame[column].astype("int64")
    return frame


def _breast_cancer() -> pd.DataFrame:
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer(as_frame=True)
    features = bunch.data.rename(columns=_breast_cancer_column)
    diagnosis = pd.Series(bunch.target_names[bunch.target], name="diagnosis")
    return pd.concat([diagnosis, features], axis=1)


def _breast_cancer_column(name: str) -> str:
    """scikit-learn's 'mean radius', 'radius error', 'worst radius' -> radius_mean, _se, _worst."""
    for prefix, suffix in (("mean ", "_mean"), ("worst ", "_worst")):
        if name.startswith(prefix):
            return name.removeprefix(prefix).replace(" ", "_") + suffix
    return name.removesuffix(" error").replace(" ", "_") + "_se"


_CELL_MEASURES = {
    "radius": ("", "radius of the cell nucleus (mean distance from centre to outline)"),
    "texture": ("", "texture (standard deviation of the grey levels)"),
    "perimeter": ("", "perimeter of the nucleus"),
    "area": ("", "area of the nucleus"),
    "smoothness": ("", "smoothness (local variation in radius lengths)"),
    "compactness": ("", "compactness (perimeter² / area - 1)"),
    "concavity": ("", "concavity (severity of the concave portions of the outline)"),
    "concave_points": ("", "concave points (number of concave portions of the outline)"),
    "symmetry": ("", "symmetry"),
    "fractal_dimension": ("", "fractal dimension ('coastline approximation' - 1)"),
}


def _breast_cancer_columns() -> dict[str, ColumnSpec]:
    statistics = {
        "mean": "Mean over the nuclei of the image of the {}.",
        "se": "Standard error over the nuclei of the image of the {}.",
        "worst": "Mean of the three largest values over the nuclei of the image of the {}.",
    }
    columns = {
        "diagnosis": ColumnSpec("category", "", "Diagnosis of the mass: malignant or benign.")
    }
    for statistic, template in statistics.items():
        for measure, (unit, meaning) in _CELL_MEASURES.items():
            columns[f"{measure}_{statistic}"] = ColumnSpec(
                "float64", unit, template.format(meaning)
            )
    return columns


def _digit_pixels() -> dict[str, ColumnSpec]:
    return {
        f"pixel_{i}": ColumnSpec(
            "int64",
            "ink count (0-16)",
            f"Ink in the 4x4 block at row {i // 8}, column {i % 8} of the 8x8 image "
            "(0 = blank, 16 = fully inked).",
        )
        for i in range(64)
    }


SPECS = (
    DatasetSpec(
        name="penguins",
        title="Palmer Penguins",
        description=(
            "Size measurements, sex and island of 344 adult penguins of three species "
            "(Adelie, Chinstrap, Gentoo) observed near Palmer Station, Antarctica, 2007-2009."
        ),
        citation=(
            "Horst AM, Hill AP, Gorman KB (2020). palmerpenguins: Palmer Archipelago "
            "(Antarctica) penguin data. doi:10.5281/zenodo.3960218. Data collected by "
            "Dr. Kristen Gorman with the Palmer Station Long Term Ecological Research Program."
        ),
        url="https://allisonhorst.github.io/palmerpenguins/",
        licence="CC0-1.0",
        exported_with="palmerpenguins",
        target="species",
        columns={
            "species": ColumnSpec("category", "", "Penguin species: Adelie, Chinstrap or Gentoo."),
            "island": ColumnSpec(
                "category", "", "Island where the bird was observed: Biscoe, Dream or Torgersen."
            ),
            "bill_length_mm": ColumnSpec("float64", "mm", "Length of the bill (culmen)."),
            "bill_depth_mm": ColumnSpec("float64", "mm", "Depth of the bill (culmen)."),
            "flipper_length_mm": ColumnSpec("float64", "mm", "Length of the flipper."),
            "body_mass_g": ColumnSpec("float64", "g", "Body mass."),
            "sex": ColumnSpec("category", "", "Sex of the bird: female or male."),
            "year": ColumnSpec("int64", "year", "Year of the observation (2007, 2008 or 2009)."),
        },
        quirks=(
            "11 rows have no sex recorded; 2 of them also lack every body measurement.",
            "flipper_length_mm and body_mass_g are whole numbers stored as floats because of "
            "the missing values.",
            "Chinstrap penguins were only observed on Dream island and Gentoo only on Biscoe, "
            "so island alone already separates many birds.",
        ),
        export=_penguins,
    ),
    DatasetSpec(
        name="seattle_weather",
        title="Seattle daily weather, 2012-2015",
        description=(
            "Daily precipitation, temperature extremes, wind speed and a weather label for "
            "Seattle, 1 January 2012 to 31 December 2015 (one row per day)."
        ),
        citation=(
            "NOAA National Centers for Environmental Information daily records, as "
            "transformed and published by the vega-datasets project."
        ),
        url="https://github.com/vega/vega-datasets",
        licence="Public domain (NOAA data, U.S. Government work)",
        exported_with="vega_datasets",
        target="weather",
        columns={
            "date": ColumnSpec("datetime64[ns]", "day", "Calendar day of the observation."),
            "precipitation": ColumnSpec("float64", "mm", "Total precipitation that day."),
            "temp_max": ColumnSpec("float64", "°C", "Highest temperature that day."),
            "temp_min": ColumnSpec("float64", "°C", "Lowest temperature that day."),
            "wind": ColumnSpec("float64", "m/s", "Average wind speed that day."),
            "weather": ColumnSpec(
                "category", "", "Weather label: drizzle, fog, rain, snow or sun."
            ),
        },
        quirks=(
            "Rows are ordered in time: split by date (train on the past, test on the future), "
            "not at random.",
            "The weather label is unreliable and drifts: 'rain' labels 191 days in 2012 but 3 "
            "in 2014, while 'fog' grows from 5 days in 2012 to 173 in 2015; 310 'fog' days "
            "and 77 'sun' days have precipitation above 0.",
            "Classes are imbalanced: 714 'sun' days against 23 'snow' days.",
        ),
        export=_seattle_weather,
    ),
    DatasetSpec(
        name="digits",
        title="Handwritten digits (8x8)",
        description=(
            "1797 handwritten digits 0-9, each an 8x8 grid of ink counts flattened into 64 "
            "columns, row by row; the scikit-learn copy of the UCI optical digits test set."
        ),
        citation=(
            "Alpaydin E, Kaynak C (1998). Optical Recognition of Handwritten Digits. UCI "
            "Machine Learning Repository. doi:10.24432/C50P49. Exported from scikit-learn's "
            "bundled copy (sklearn.datasets.load_digits)."
        ),
        url="https://archive.ics.uci.edu/dataset/80/optical+recognition+of+handwritten+digits",
        licence="CC-BY-4.0",
        exported_with="scikit-learn",
        target="target",
        columns={
            **_digit_pixels(),
            "target": ColumnSpec("int64", "", "The digit written, 0 to 9."),
        },
        quirks=(
            "No missing values.",
            "pixel_0, pixel_32 and pixel_39 (edge blocks) are blank in every image: constant "
            "columns that carry no information.",
            "Each image is 64 numbers: reshape a row to (8, 8) to look at it.",
        ),
        export=_digits,
    ),
    DatasetSpec(
        name="diabetes",
        title="Diabetes progression (raw units)",
        description=(
            "Ten baseline measurements of 442 diabetes patients and a quantitative measure of "
            "disease progression one year later; the raw, unscaled values."
        ),
        citation=(
            "Efron B, Hastie T, Johnstone I, Tibshirani R (2004). Least Angle Regression. "
            "Annals of Statistics 32(2), 407-499. Exported from scikit-learn's bundled copy "
            "(sklearn.datasets.load_diabetes(scaled=False))."
        ),
        url="https://www4.stat.ncsu.edu/~boos/var.select/diabetes.html",
        licence=(
            "No licence stated by the authors; redistributed for teaching with scikit-learn "
            "(BSD-3-Clause)."
        ),
        exported_with="scikit-learn",
        target="target",
        columns={
            "age": ColumnSpec("int64", "years", "Age at baseline."),
            "sex": ColumnSpec(
                "int64", "", "Sex coded 1 or 2; the source does not say which code is which."
            ),
            "bmi": ColumnSpec("float64", "kg/m²", "Body mass index."),
            "bp": ColumnSpec("float64", "mm Hg", "Average blood pressure."),
            "s1": ColumnSpec("int64", "mg/dL", "tc: total serum cholesterol."),
            "s2": ColumnSpec("float64", "mg/dL", "ldl: low-density lipoproteins."),
            "s3": ColumnSpec("float64", "mg/dL", "hdl: high-density lipoproteins."),
            "s4": ColumnSpec("float64", "ratio", "tch: total cholesterol divided by HDL."),
            "s5": ColumnSpec(
                "float64", "log", "ltg: possibly the log of serum triglycerides level."
            ),
            "s6": ColumnSpec("int64", "mg/dL", "glu: blood sugar level."),
            "target": ColumnSpec(
                "int64",
                "",
                "Quantitative measure of disease progression one year after baseline (25 to 346).",
            ),
        },
        quirks=(
            "No missing values.",
            "Raw units, unlike scikit-learn's default load_diabetes() which centres and "
            "scales every feature: scale them yourself (StandardScaler) for linear models.",
            "sex is a 1/2 code with no documented meaning, and s5 is 'possibly' a log value "
            "according to the source: units of a few columns are uncertain.",
            "target is a whole number, but a quantity (regression), not a class label.",
        ),
        export=_diabetes,
    ),
    DatasetSpec(
        name="breast_cancer",
        title="Breast cancer Wisconsin (diagnostic)",
        description=(
            "Thirty measurements of the cell nuclei seen in a digitised image of a fine needle "
            "aspirate of a breast mass, for 569 patients, with the diagnosis: 212 malignant, "
            "357 benign."
        ),
        citation=(
            "Wolberg WH, Street WN, Mangasarian OL (1995). Breast Cancer Wisconsin (Diagnostic). "
            "UCI Machine Learning Repository. doi:10.24432/C5DW2B. Exported from scikit-learn's "
            "bundled copy (sklearn.datasets.load_breast_cancer)."
        ),
        url="https://archive.ics.uci.edu/dataset/17/breast+cancer+wisconsin+diagnostic",
        licence="CC-BY-4.0",
        exported_with="scikit-learn",
        target="diagnosis",
        columns=_breast_cancer_columns(),
        quirks=(
            "No missing values.",
            "Classes are imbalanced: 212 malignant against 357 benign (37% malignant); the "
            "two mistakes do not cost the same (a missed cancer is worse than a false alarm).",
            "Ten measures, each three times (mean, standard error, worst): radius, perimeter "
            "and area are almost the same information, so many columns are strongly correlated.",
            "The source states no units (sizes are measured on the image); the columns range "
            "from about 0.001 to 4000, so scale them for distance-based models (KNN, SVM).",
        ),
        export=_breast_cancer,
    ),
)


def _toml_string(text: str) -> str:
    """A TOML basic string: JSON's escaping is a subset that TOML accepts."""
    return json.dumps(text, ensure_ascii=False)


def _toml_key(key: str) -> str:
    return key if key.replace("_", "").isalnum() and key.isascii() else _toml_string(key)


def _datasheet_toml(spec: DatasetSpec, frame: pd.DataFrame, digest: str) -> str:
    lines = [
        "# Generated by datasets/build.py from the exported data: edit that script, not this file.",
        f"name = {_toml_string(spec.name)}",
        f"title = {_toml_string(spec.title)}",
        f"description = {_toml_string(spec.description)}",
        f"file = {_toml_string(spec.name + '.csv')}",
        f"rows = {len(frame)}",
        f"sha256 = {_toml_string(digest)}",
        f"licence = {_toml_string(spec.licence)}",
        f"target = {_toml_string(spec.target)}",
        "quirks = [",
        *(f"    {_toml_string(quirk)}," for quirk in spec.quirks),
        "]",
        "",
        "[source]",
        f"citation = {_toml_string(spec.citation)}",
        f"url = {_toml_string(spec.url)}",
        f"exported_with = {_toml_string(_version(spec.exported_with))}",
    ]
    for column, column_spec in spec.columns.items():
        lines += [
            "",
            f"[columns.{_toml_key(column)}]",
            f"dtype = {_toml_string(column_spec.dtype)}",
            f"unit = {_toml_string(column_spec.unit)}",
            f"description = {_toml_string(column_spec.description)}",
            f"missing = {int(frame[column].isna().sum())}",
        ]
    return "\n".join(lines) + "\n"


def _readme(rows: list[tuple[DatasetSpec, int]]) -> str:
    lines = [
        "# Datasets",
        "",
        "Small real datasets shipped with the course, so every notebook works offline. Load one",
        "with `course.datasets.load(name)`; read its datasheet with",
        "`course.datasets.datasheet(name)` or `course datasets show NAME`.",
        "",
        "Each `<name>.csv` has a datasheet `<name>.toml`: source, licence, row count, SHA-256",
        "checksum, the dtype, unit and meaning of every column, and known quirks. `load` checks",
        "the file against it. If a file was modified by accident, restore it with",
        "`git checkout -- datasets/<file>`.",
        "",
        "| name | title | rows | columns | target | licence |",
        "|---|---|---|---|---|---|",
    ]
    for spec, n_rows in rows:
        lines.append(
            f"| {spec.name} | {spec.title} | {n_rows} | {len(spec.columns)} "
            f"| {spec.target} | {spec.licence} |"
        )
    lines += [
        "",
        "Maintainers regenerate every file with `datasets/build.py` (it needs the export-only",
        "packages `palmerpenguins` and `vega_datasets`); learners never run it.",
        "",
    ]
    return "\n".join(lines)


def build(spec: DatasetSpec) -> int:
    """Export one dataset, write its CSV and datasheet, and return its row count."""
    frame = spec.export()
    if list(frame.columns) != list(spec.columns):
        raise SystemExit(
            f"{spec.name}: exported columns {list(frame.columns)} differ from the spec "
            f"{list(spec.columns)}"
        )
    csv_path = HERE / f"{spec.name}.csv"
    frame.to_csv(csv_path, index=False, lineterminator="\n", date_format="%Y-%m-%d")
    digest = hashlib.sha256(csv_path.read_bytes()).hexdigest()
    (HERE / f"{spec.name}.toml").write_text(_datasheet_toml(spec, frame, digest), encoding="utf-8")
    return len(frame)


def main() -> None:
    rows = [(spec, build(spec)) for spec in SPECS]
    (HERE / "README.md").write_text(_readme(rows), encoding="utf-8")
    for spec, n_rows in rows:
        print(f"{spec.name}: {n_rows} rows")


if __name__ == "__main__":
    main()
