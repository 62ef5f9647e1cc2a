import pytest

from course.labels import find_labels, from_datasheet, readable, with_unit


@pytest.mark.parametrize(
    ("name", "label", "unit"),
    [
        ("bill_length_mm", "bill length", "mm"),
        ("body_mass_g", "body mass", "g"),
        ("rain_tomorrow", "rain tomorrow", ""),
        ("month", "month", ""),
        ("mm", "mm", ""),  # a unit alone is a name, not a unit
        ("share_pct", "share", "%"),
    ],
)
def test_a_column_name_reads_as_words_and_a_unit(name, label, unit):
    assert readable(name) == (label, unit)


def test_the_unit_goes_in_brackets_only_when_there_is_one():
    assert with_unit("body mass", "g") == "body mass (g)"
    assert with_unit("island", "") == "island"


@pytest.mark.parametrize(
    ("name", "description", "unit", "expected"),
    [
        ("bill_length_mm", "Length of the bill (culmen).", "mm", ("bill length", "mm")),
        ("s1", "tc: total serum cholesterol.", "mg/dL", ("total serum cholesterol", "mg/dL")),
        ("bmi", "Body mass index.", "kg/m²", ("body mass index", "kg/m²")),
        ("sex", "Sex coded 1 or 2; the source does not say.", "", ("sex", "")),
        ("s3", "HDL level.", "", ("HDL level", "")),
        ("target", "The digit written, 0 to 9.", "", ("digit written", "")),
    ],
)
def test_a_cryptic_name_takes_its_short_datasheet_description(name, description, unit, expected):
    assert from_datasheet(name, description, unit) == expected


def test_the_datasheet_that_describes_most_columns_wins():
    penguins = {"bill_length_mm": ("bill length", "mm"), "island": ("island", "")}
    weather = {"wind": ("wind", "m/s"), "temp_max": ("temp max", "°C")}

    found = find_labels(["wind", "temp_max", "month"], [penguins, weather])

    assert found == {"wind": ("wind", "m/s"), "temp_max": ("temp max", "°C")}
    # Fewer than half of the columns described: a coincidence, not that dataset.
    assert find_labels(["wind", "a", "b"], [weather]) == {}
