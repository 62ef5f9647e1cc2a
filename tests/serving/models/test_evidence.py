import json

import numpy as np
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from course import recipes
from course.export import export_model
from serving.models import Explainer, ScoreKind, ServedModel


@pytest.fixture(scope="module")
def gentoo(penguin, penguin_rows):
    """A test bird the model calls Gentoo, cleaned as a request would be."""
    for row in penguin_rows:
        clean, _ = penguin.validate(row)
        if penguin.predict(penguin.frame([clean])).row(0)["prediction"] == "Gentoo":
            return clean
    raise AssertionError("no Gentoo among the test birds")


def test_every_feature_gets_one_contribution_strongest_first(penguin, gentoo):
    evidence = Explainer(penguin).explain(gentoo)
    assert sorted(c.feature for c in evidence.contributions) == sorted(recipes.PENGUIN_FEATURES)
    strengths = [abs(c.effect) for c in evidence.contributions]
    assert strengths == sorted(strengths, reverse=True)
    assert evidence.prediction == "Gentoo"
    assert evidence.score_kind is ScoreKind.PROBABILITY
    assert json.dumps(evidence.to_dict())


def test_an_effect_is_the_drop_in_probability_when_the_value_is_made_typical(penguin, gentoo):
    evidence = Explainer(penguin).explain(gentoo)
    proba = penguin.predict(penguin.frame([gentoo])).row(0)["probabilities"]
    gentoo_column = penguin.card.classes.index("Gentoo")
    assert evidence.probability == pytest.approx(proba[gentoo_column])
    depth = next(c for c in evidence.contributions if c.feature == "bill_depth_mm")
    spec = next(f for f in penguin.card.features if f.name == "bill_depth_mm")
    assert depth.typical == spec.mean and depth.value == gentoo["bill_depth_mm"]
    typical = penguin.predict(penguin.frame([{**gentoo, "bill_depth_mm": spec.mean}]))
    expected = proba[gentoo_column] - typical.probabilities[0, gentoo_column]
    assert depth.effect == pytest.approx(expected)
    island = next(c for c in evidence.contributions if c.feature == "island")
    others = penguin.predict(
        penguin.frame([{**gentoo, "island": name} for name in ("Biscoe", "Dream", "Torgersen")])
    )
    expected = proba[gentoo_column] - others.probabilities[:, gentoo_column].mean()
    assert island.typical is None and island.effect == pytest.approx(expected)


def test_for_a_linear_regressor_effects_are_coefficient_times_distance_to_the_mean(registry):
    served = registry.latest("diabetes-linear")
    row = {"age": 60, "sex": 2, "bmi": 31.0, "bp": 100.0, "s1": 180, "s2": 110.0}
    row |= {"s3": 40.0, "s4": 4.5, "s5": 5.0, "s6": 95}
    clean, _ = served.validate(row)
    evidence = Explainer(served).explain(clean)
    assert evidence.score_kind is ScoreKind.VALUE and evidence.probability is None
    coefficients = dict(zip(served.card.feature_names, served.model.coef_, strict=True))
    for c in evidence.contributions:
        spec = next(f for f in served.card.features if f.name == c.feature)
        typical = round(spec.mean) if spec.kind == "integer" else spec.mean
        assert c.effect == pytest.approx(coefficients[c.feature] * (row[c.feature] - typical))


def test_a_feature_the_model_ignores_has_no_effect(tmp_path, penguin_split, penguin_rows):
    X_train, _, y_train, _ = penguin_split
    numbers_only = make_pipeline(
        ColumnTransformer([("scale", StandardScaler(), ["bill_length_mm", "bill_depth_mm"])]),
        LinearSVC(),
    )
    complete = X_train.dropna()
    numbers_only.fit(complete, y_train[complete.index])
    path = export_model(
        numbers_only, complete, y_train[complete.index], name="m", models_dir=tmp_path
    )
    served = ServedModel.load(path)
    row = next(r for r in penguin_rows if None not in r.values())
    evidence = Explainer(served).explain(served.validate(row)[0])
    # No probabilities: the score is whether the answer stays the same.
    assert evidence.score_kind is ScoreKind.AGREEMENT
    effects = {c.feature: c.effect for c in evidence.contributions}
    for ignored in ("flipper_length_mm", "body_mass_g", "island", "sex"):
        assert effects[ignored] == 0.0
    assert all(0.0 <= effect <= 1.0 for effect in effects.values())


def test_explaining_costs_one_call_to_the_model(penguin, gentoo, monkeypatch):
    calls = []
    original = ServedModel.predict_rows

    def counting(self, rows):
        calls.append(len(rows))
        return original(self, rows)

    explainer = Explainer(penguin)
    monkeypatch.setattr(ServedModel, "predict_rows", counting)
    evidence = explainer.explain(gentoo)
    # The row itself, 4 numbers at their mean, 3 islands, 2 sexes: one batch of 10 rows.
    assert calls == [10]
    assert np.isfinite([c.effect for c in evidence.contributions]).all()
