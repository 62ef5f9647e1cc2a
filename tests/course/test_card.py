import copy
import json

import pandas as pd
import pytest

from course.card import CARD_FORMAT, GroupMetrics, ModelCard
from course.evaluate import ProblemKind
from course.schema import infer_features


@pytest.fixture
def card() -> ModelCard:
    frame = pd.DataFrame(
        {
            "island": pd.Categorical(["Dream", "Biscoe", None]),
            "body_mass_g": [3500.0, 4200.0, 5100.0],
            "year": [2007, 2008, 2009],
            "tagged": [True, False, True],
        }
    )
    return ModelCard(
        name="penguins",
        version="3",
        created="2024-05-01T12:00:00+00:00",
        problem_kind=ProblemKind.CLASSIFICATION,
        description="Species from body measurements <b>",
        features=infer_features(frame),
        target_name="species",
        classes=("Adelie", "Gentoo"),
        metrics={"accuracy": 0.9512, "f1": 0.94},
        data_sha256="a" * 64,
        library_versions={"python": "3.11.7"},
        model_file="model.skops",
        model_sha256="b" * 64,
    )


def test_a_card_survives_a_trip_through_json(card):
    text = json.dumps(card.to_dict(), allow_nan=False)

    assert ModelCard.from_dict(json.loads(text)) == card


def test_to_dict_writes_plain_json_values(card):
    data = card.to_dict()

    assert data["card_format"] == CARD_FORMAT
    assert data["problem_kind"] == "classification"
    assert data["target"] == {"name": "species", "classes": ["Adelie", "Gentoo"]}
    island, body_mass, _, tagged = data["features"]
    assert island == {
        "name": "island",
        "kind": "category",
        "dtype": "category",
        "missing_seen": True,
        "categories": ["Biscoe", "Dream"],
    }
    assert body_mass["min"] == 3500.0
    assert body_mass["max"] == 5100.0
    assert tagged == {"name": "tagged", "kind": "boolean", "dtype": "bool", "missing_seen": False}


def test_a_card_without_target_or_metrics_round_trips(card):
    bare = ModelCard(
        **{**card.__dict__, "target_name": None, "classes": None, "metrics": None},
    )

    assert ModelCard.from_dict(bare.to_dict()) == bare


def broken(card: ModelCard, path: tuple, value: object) -> dict:
    data = copy.deepcopy(card.to_dict())
    target = data
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("name",), KeyError, r"card\.name is missing"),
        (("model_sha256",), 42, r"card\.model_sha256 must be a string, got an integer"),
        (("card_format",), 99, "format 1: re-export the model"),
        (("card_format",), True, r"card\.card_format must be an integer, got true or false"),
        (("problem_kind",), "ranking", r"card\.problem_kind is 'ranking', expected one of"),
        (("features", 1, "kind"), "text", r"card\.features\[1\]\.kind is 'text'"),
        (
            ("features", 1, "min"),
            None,
            r"card\.features\[1\]\.min must be a number, got null",
        ),
        (("features", 1, "std"), float("nan"), r"card\.features\[1\]\.std must be a finite"),
        (("metrics", "accuracy"), "high", r"card\.metrics\.accuracy must be a finite number"),
        (("target",), [], r"card\.target must be an object, got a list"),
        (("target", "classes", 0), {"a": 1}, "labels must be plain values"),
    ],
)
def test_from_dict_names_the_bad_field(card, path, value, message):
    with pytest.raises(ValueError, match=message):
        ModelCard.from_dict(broken(card, path, value))


def test_from_dict_needs_an_object():
    with pytest.raises(ValueError, match="card must be an object, got a list"):
        ModelCard.from_dict([])


def test_str_is_a_readable_summary(card):
    assert str(card) == "\n".join(
        [
            "Model card: penguins version 3 (classification)",
            "  created  2024-05-01T12:00:00+00:00",
            "  about    Species from body measurements <b>",
            "  target   species (classes: Adelie, Gentoo)",
            "Features:",
            "  island       category: Biscoe, Dream, may be missing",
            "  body_mass_g  number from 3500 to 5100",
            "  year         integer from 2007 to 2009",
            "  tagged       boolean",
            "Metrics:",
            "  accuracy  0.951",
            "  f1        0.940",
        ]
    )


def test_html_escapes_user_text(card):
    page = card._repr_html_()

    assert "measurements &lt;b&gt;" in page
    assert "<td>body_mass_g</td>" in page
    assert "<td>0.951</td>" in page


# Intended use, limitations and per-group metrics: optional, shown, and checked.


@pytest.fixture
def full_card(card) -> ModelCard:
    return ModelCard(
        **{
            **card.__dict__,
            "intended_use": "Telling species apart in the field <i>",
            "limitations": "Three islands only.",
            "group_metrics": (
                GroupMetrics(
                    "island", "Biscoe", 40, {"accuracy": 0.975, "low": 0.871, "high": 0.996}
                ),
                GroupMetrics(
                    "sex", "(missing)", 3, {"accuracy": 2 / 3, "low": 0.208, "high": 0.939}
                ),
            ),
        }
    )


def test_intended_use_limitations_and_groups_survive_json(full_card):
    data = json.loads(json.dumps(full_card.to_dict(), allow_nan=False))

    assert data["intended_use"] == "Telling species apart in the field <i>"
    assert data["limitations"] == "Three islands only."
    assert data["group_metrics"][0] == {
        "column": "island",
        "group": "Biscoe",
        "rows": 40,
        "metrics": {"accuracy": 0.975, "low": 0.871, "high": 0.996},
    }
    assert ModelCard.from_dict(data) == full_card


def test_a_card_written_before_intended_use_and_groups_still_loads(card):
    data = card.to_dict()
    for key in ("intended_use", "limitations", "group_metrics"):
        del data[key]

    old = ModelCard.from_dict(data)

    assert (old.intended_use, old.limitations, old.group_metrics) == ("", "", None)
    assert old == card


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"intended_use": 3}, r"card\.intended_use must be a string, got an integer"),
        ({"group_metrics": {}}, r"card\.group_metrics must be a list, got an object"),
        ({"group_metrics": [{"column": "island"}]}, r"card\.group_metrics\[0\]\.group is missing"),
        (
            {"group_metrics": [{"column": "a", "group": "b", "rows": -1, "metrics": {}}]},
            r"card\.group_metrics\[0\]\.rows must be a count of rows, got -1",
        ),
        (
            {"group_metrics": [{"column": "a", "group": "b", "rows": 2, "metrics": {"x": "y"}}]},
            r"card\.group_metrics\[0\]\.metrics\.x must be a finite number",
        ),
    ],
)
def test_from_dict_names_a_bad_new_field(full_card, change, message):
    with pytest.raises(ValueError, match=message):
        ModelCard.from_dict({**full_card.to_dict(), **change})


def test_str_and_html_show_use_limits_and_groups(full_card):
    text = str(full_card)
    assert "  use      Telling species apart in the field <i>" in text
    assert "  limits   Three islands only." in text
    assert text.endswith(
        "By group:\n"
        "  island = Biscoe    40 rows  accuracy 0.975 (95% interval 0.871 to 0.996)\n"
        "  sex = (missing)     3 rows  accuracy 0.667 (95% interval 0.208 to 0.939)"
    )
    page = full_card._repr_html_()
    assert "<p>Intended use: Telling species apart in the field &lt;i&gt;</p>" in page
    assert "<p>Limitations: Three islands only.</p>" in page
    assert (
        "<td>(missing)</td><td>3</td><td>accuracy 0.667 (95% interval 0.208 to 0.939)</td>" in page
    )
