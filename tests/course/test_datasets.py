import hashlib
import shutil
from pathlib import Path

import pandas as pd
import pytest

from course import datasets
from course.datasets import DatasetError

SHIPPED = Path(__file__).resolve().parents[2] / "datasets"


@pytest.fixture
def copy_dir(tmp_path, monkeypatch):
    """A private copy of the shipped datasets, which tests may damage."""
    folder = tmp_path / "datasets"
    shutil.copytree(SHIPPED, folder)
    monkeypatch.setenv("COURSE_DATASETS_DIR", str(folder))
    return folder


def test_names_lists_the_shipped_datasets():
    assert datasets.names() == [
        "breast_cancer", "diabetes", "digits", "penguins", "seattle_weather"
    ]


@pytest.mark.parametrize(
    "name", ["breast_cancer", "diabetes", "digits", "penguins", "seattle_weather"]
)
def test_load_gives_the_datasheet_columns_dtypes_rows_and_missing_values(name):
    sheet = datasets.datasheet(name)
    frame = datasets.load(name)

    assert list(frame.columns) == [column.name for column in sheet.columns]
    assert {c: str(t) for c, t in frame.dtypes.items()} == sheet.dtypes
    assert len(frame) == sheet.rows
    assert {c.name: c.missing for c in sheet.columns} == frame.isna().sum().to_dict()
    assert sheet.target in frame.columns
    assert sheet.licence and sheet.citation and sheet.url.startswith("https://")


def test_penguins_keeps_the_rows_with_missing_values():
    frame = datasets.load("penguins")

    assert len(frame) == 344
    assert frame["sex"].isna().sum() == 11
    no_measurements = frame["bill_length_mm"].isna()
    assert no_measurements.sum() == 2
    assert frame.loc[no_measurements, "body_mass_g"].isna().all()
    assert list(frame["species"].cat.categories) == ["Adelie", "Chinstrap", "Gentoo"]


def test_seattle_weather_is_one_row_per_day_in_time_order():
    frame = datasets.load("seattle_weather")

    assert frame["date"].is_monotonic_increasing
    assert frame["date"].diff().dropna().eq(pd.Timedelta(days=1)).all()
    assert (frame["date"].iloc[0], frame["date"].iloc[-1]) == (
        pd.Timestamp("2012-01-01"),
        pd.Timestamp("2015-12-31"),
    )
    assert set(frame["weather"].cat.categories) == {"drizzle", "fog", "rain", "snow", "sun"}


def test_digits_are_8x8_ink_counts_with_labels_0_to_9():
    frame = datasets.load("digits")
    pixels = frame.drop(columns="target")

    assert pixels.shape == (1797, 64)
    assert pixels.min().min() == 0 and pixels.max().max() == 16
    assert sorted(frame["target"].unique()) == list(range(10))
    assert [c for c in pixels if pixels[c].nunique() == 1] == ["pixel_0", "pixel_32", "pixel_39"]


def test_diabetes_is_in_raw_units():
    frame = datasets.load("diabetes")

    assert frame["age"].between(19, 79).all()
    assert set(frame["sex"]) == {1, 2}
    assert frame["bmi"].between(15, 45).all()
    assert (frame["target"].min(), frame["target"].max()) == (25, 346)


def test_breast_cancer_is_scikit_learns_copy_with_readable_labels_and_columns():
    from sklearn.datasets import load_breast_cancer

    frame = datasets.load("breast_cancer")
    bunch = load_breast_cancer()

    assert frame.shape == (569, 31)
    assert list(frame["diagnosis"].cat.categories) == ["benign", "malignant"]
    assert frame["diagnosis"].value_counts().to_dict() == {"benign": 357, "malignant": 212}
    assert (frame["diagnosis"] == "malignant").tolist() == (bunch.target == 0).tolist()
    assert list(frame.columns[1:4]) == ["radius_mean", "texture_mean", "perimeter_mean"]
    assert all(name == name.lower() and " " not in name for name in frame.columns)
    assert frame.drop(columns="diagnosis").to_numpy() == pytest.approx(bunch.data)
    assert "doi:10.24432/C5DW2B" in datasets.datasheet("breast_cancer").citation


def test_unknown_name_suggests_the_closest_and_lists_all():
    with pytest.raises(DatasetError) as caught:
        datasets.load("penguin")

    message = str(caught.value)
    assert "unknown dataset 'penguin'" in message
    assert "Did you mean 'penguins'?" in message
    assert "breast_cancer, diabetes, digits, penguins, seattle_weather" in message


def test_unknown_name_with_dashes_still_finds_the_dataset():
    with pytest.raises(DatasetError, match="Did you mean 'seattle_weather'"):
        datasets.datasheet("Seattle-Weather")


def test_a_path_is_not_a_dataset_name(copy_dir):
    (copy_dir.parent / "outside.toml").write_text((copy_dir / "penguins.toml").read_text())

    with pytest.raises(DatasetError, match=r"unknown dataset '\.\./outside'"):
        datasets.datasheet("../outside")


def test_corrupted_file_is_caught_even_after_a_successful_load(copy_dir):
    datasets.load("penguins")
    with (copy_dir / "penguins.csv").open("a") as csv:
        csv.write("Adelie,Dream,1.0,1.0,1.0,1.0,male,2007\n")

    with pytest.raises(DatasetError) as caught:
        datasets.load("penguins")

    message = str(caught.value)
    assert "modified or corrupted" in message
    assert "git checkout -- datasets/penguins.csv" in message


def test_missing_file_says_it_ships_with_the_repository(copy_dir):
    (copy_dir / "digits.csv").unlink()

    with pytest.raises(DatasetError) as caught:
        datasets.load("digits")

    assert "ships with the course repository" in str(caught.value)
    assert "git checkout -- datasets/digits.csv" in str(caught.value)


def _rewrite(copy_dir: Path, name: str, csv_text: str, rows: int) -> None:
    """Replace a CSV and re-sign its datasheet, as a careless manual edit would."""
    csv_path = copy_dir / f"{name}.csv"
    sheet_path = copy_dir / f"{name}.toml"
    old_digest = hashlib.sha256(csv_path.read_bytes()).hexdigest()
    csv_path.write_text(csv_text)
    new_digest = hashlib.sha256(csv_path.read_bytes()).hexdigest()
    sheet = sheet_path.read_text().replace(old_digest, new_digest)
    sheet_path.write_text(sheet.replace("rows = 442", f"rows = {rows}"))


def test_columns_that_differ_from_the_datasheet_are_named(copy_dir):
    text = (copy_dir / "diabetes.csv").read_text().replace("bmi,", "body_mass_index,", 1)
    _rewrite(copy_dir, "diabetes", text, rows=442)

    with pytest.raises(DatasetError) as caught:
        datasets.load("diabetes")

    assert "missing ['bmi']" in str(caught.value)
    assert "unexpected ['body_mass_index']" in str(caught.value)


def test_row_count_that_differs_from_the_datasheet_is_caught(copy_dir):
    text = (copy_dir / "diabetes.csv").read_text()
    _rewrite(copy_dir, "diabetes", text, rows=441)

    with pytest.raises(DatasetError, match="442 rows but its datasheet says 441"):
        datasets.load("diabetes")


def test_values_that_do_not_fit_the_stated_dtype_are_caught(copy_dir):
    text = (copy_dir / "diabetes.csv").read_text().replace("\n59,2,", "\nfifty-nine,2,", 1)
    _rewrite(copy_dir, "diabetes", text, rows=442)

    with pytest.raises(DatasetError, match="cannot be read with the dtypes of its datasheet"):
        datasets.load("diabetes")


def test_malformed_datasheet_is_reported_with_the_fix(copy_dir):
    (copy_dir / "penguins.toml").write_text('title = "Palmer Penguins"\n')

    with pytest.raises(DatasetError) as caught:
        datasets.datasheet("penguins")

    assert "malformed" in str(caught.value)
    assert "git checkout -- datasets/penguins.toml" in str(caught.value)


def test_missing_datasets_folder_says_how_to_point_at_one(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATASETS_DIR", str(tmp_path / "nowhere"))

    with pytest.raises(DatasetError, match="COURSE_DATASETS_DIR"):
        datasets.names()


def test_datasheet_text_lists_every_column_with_unit_and_quirks():
    text = str(datasets.datasheet("penguins"))

    assert text.startswith("Palmer Penguins (penguins): 344 rows, 8 columns")
    assert "body_mass_g" in text and "[g]" in text and "(11 missing)" in text
    assert "Licence: CC0-1.0" in text
    assert "Quirks:" in text


def test_ipython_shows_the_datasheet_text():
    pretty = pytest.importorskip("IPython.lib.pretty")
    sheet = datasets.datasheet("digits")

    assert pretty.pretty(sheet) == str(sheet)


def test_datasheet_html_escapes_its_text(copy_dir):
    sheet_path = copy_dir / "penguins.toml"
    sheet_path.write_text(
        sheet_path.read_text().replace('title = "Palmer Penguins"', 'title = "<b>Pen & guins</b>"')
    )

    page = datasets.datasheet("penguins")._repr_html_()

    assert "&lt;b&gt;Pen &amp; guins&lt;/b&gt;" in page
    assert "<b>Pen" not in page
    assert page.count("<tr>") == 1 + 8


def test_readme_index_lists_every_dataset():
    readme = (SHIPPED / "README.md").read_text()

    for name in datasets.names():
        sheet = datasets.datasheet(name)
        assert f"| {name} | {sheet.title} | {sheet.rows} |" in readme
