"""The drift and live-metrics core (course.drift): against hand-computed values and
scikit-learn's metrics; and a card exported before profiles still loads and says why."""

from __future__ import annotations

import math
import random

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, f1_score, mean_absolute_error, mean_squared_error

from course.card import ModelCard
from course.drift import (
    DriftReport,
    drift_report,
    live_metrics,
    psi,
    training_profile,
    verdict,
)
from course.schema import infer_features


def card_of(frame: pd.DataFrame) -> dict:
    features = infer_features(frame)
    return {
        "name": "m",
        "version": "1",
        "features": [
            {"name": f.name, "min": f.min, "max": f.max, "categories": f.categories}
            for f in features
        ],
        "profile": training_profile(frame, features),
    }


def records(rows: list[dict]) -> list[dict]:
    return [
        {"kind": "prediction", "id": f"p.{i}", "version": "1", "row": row, "prediction": 0}
        for i, row in enumerate(rows)
    ]


def test_psi_is_the_sum_of_share_differences_times_their_log_ratio():
    expected, actual = [0.5, 0.5], [0.25, 0.75]
    by_hand = (0.25 - 0.5) * math.log(0.25 / 0.5) + (0.75 - 0.5) * math.log(0.75 / 0.5)
    assert psi(expected, actual) == pytest.approx(by_hand)  # 0.2747
    assert psi(expected, expected) == 0
    # an empty bin counts with a share of 0.0001, not a division by zero
    assert psi([1.0, 0.0], [0.5, 0.5]) == pytest.approx(
        (0.5 - 1) * math.log(0.5) + (0.5 - 1e-4) * math.log(0.5 / 1e-4)
    )


def test_the_verdict_reads_the_usual_thresholds():
    assert [verdict(v) for v in (0.0, 0.099, 0.1, 0.249, 0.25, 3.0)] == [
        "no change",
        "no change",
        "moderate shift",
        "moderate shift",
        "large shift",
        "large shift",
    ]
    assert verdict(None) == "not enough data"


def test_a_number_is_binned_by_training_deciles_and_counts_its_out_of_range_values():
    train = pd.DataFrame({"x": np.arange(1, 101, dtype=float)})
    card = card_of(train)
    assert card["profile"]["x"]["shares"] == [0.1] * 10
    same = drift_report(card, records([{"x": float(v)} for v in range(1, 101)]))
    assert same.feature("x").psi == pytest.approx(0) and same.feature("x").verdict == "no change"
    high = drift_report(card, records([{"x": 95.0}] * 50 + [{"x": 500.0}] * 50))
    x = high.feature("x")
    assert x.recent == [0, 0, 0, 0, 0, 0, 0, 0, 0, 1.0] and x.out_of_range == 50
    assert x.psi == pytest.approx(psi([0.1] * 10, x.recent)) and x.verdict == "large shift"


def test_a_category_never_seen_in_training_has_its_own_bin_and_count():
    train = pd.DataFrame({"island": ["Biscoe"] * 3 + ["Dream"]})
    card = card_of(train)
    report = drift_report(
        card, records([{"island": "Biscoe"}, {"island": "Dream"}, {"island": "Atlantis"}, {}])
    )
    island = report.feature("island")
    assert island.bins == ["Biscoe", "Dream", "(unseen)"]
    assert island.training == [0.75, 0.25, 0.0]
    assert island.recent == pytest.approx([1 / 3, 1 / 3, 1 / 3], abs=1e-6)
    assert (island.unseen, island.missing, island.values) == (1, 1, 3)
    assert island.psi == pytest.approx(psi([0.75, 0.25, 0.0], island.recent))


def test_the_window_keeps_the_last_records_and_labels_are_not_inputs():
    card = card_of(pd.DataFrame({"x": np.arange(100, dtype=float)}))
    mixed = records([{"x": 1.0}] * 10 + [{"x": 99.0}] * 5)
    mixed.insert(3, {"kind": "label", "id": "l", "record": "p.0", "label": 1})
    report = drift_report(card, mixed, window=5)
    assert report.records == 5 and report.feature("x").recent[-1] == 1.0


def test_a_card_without_a_profile_says_why_drift_cannot_run_and_still_loads():
    old = {"name": "old", "version": "2", "features": []}
    report = drift_report(old, records([{"x": 1}]))
    assert report.features == [] and "exported before drift tests existed" in report.reason
    assert "export the model again" in str(report) and "export the model again" in (
        report._repr_html_()
    )


def test_a_card_round_trips_its_profile_and_an_old_card_has_none(registry):
    card = registry.latest("penguin-classifier").card
    assert card.profile is not None and set(card.profile) == set(card.feature_names)
    again = ModelCard.from_dict(card.to_dict())
    assert again.profile == card.profile
    old = card.to_dict()
    del old["profile"]
    assert ModelCard.from_dict(old).profile is None


def test_the_report_renders_as_a_table_and_as_text():
    card = card_of(pd.DataFrame({"x": np.arange(100, dtype=float), "c": ["a", "b"] * 50}))
    report = drift_report(card, records([{"x": 1.0, "c": "<b>"}] * 20))
    html = report._repr_html_()
    assert "<table>" in html and "&lt;b&gt;" not in html  # values never reach the HTML raw
    assert "large shift" in html and "PSI under 0.1: no change" in str(report)
    assert DriftReport.from_dict(report.to_dict()).to_dict() == report.to_dict()


def labelled(predictions: list, truth: list) -> list[dict]:
    out = []
    for i, (p, t) in enumerate(zip(predictions, truth, strict=True)):
        out.append({"kind": "prediction", "id": f"p{i}", "prediction": p})
        if t is not None:
            out.append({"kind": "label", "id": f"l{i}", "record": f"p{i}", "label": t})
    return out


def test_classification_metrics_match_scikit_learn():
    rng = random.Random(7)
    classes = ["Adelie", "Chinstrap", "Gentoo"]
    truth = [rng.choice(classes) for _ in range(300)]
    predicted = [t if rng.random() < 0.7 else rng.choice(classes) for t in truth]
    result = live_metrics(labelled(predicted, truth))
    assert result.labelled == 300 and result.predictions == 300
    assert result.metrics["accuracy"] == pytest.approx(accuracy_score(truth, predicted))
    assert result.metrics["macro_f1"] == pytest.approx(f1_score(truth, predicted, average="macro"))
    window = live_metrics(labelled(predicted, truth), window=50)
    assert window.metrics["macro_f1"] == pytest.approx(
        f1_score(truth[-50:], predicted[-50:], average="macro")
    )


def test_a_class_predicted_but_never_true_counts_in_the_macro_f1():
    truth, predicted = ["a", "a", "b"], ["a", "c", "b"]
    result = live_metrics(labelled(predicted, truth))
    assert result.metrics["macro_f1"] == pytest.approx(f1_score(truth, predicted, average="macro"))


def test_regression_metrics_match_scikit_learn_and_unlabelled_predictions_wait():
    rng = np.random.default_rng(3)
    truth = rng.normal(100, 20, 200)
    predicted = truth + rng.normal(0, 5, 200)
    with_gaps = [None if i % 4 == 0 else t for i, t in enumerate(truth.tolist())]
    result = live_metrics(labelled(predicted.tolist(), with_gaps), regression=True)
    keep = [i for i in range(200) if i % 4]
    assert result.labelled == len(keep) and result.predictions == 200
    assert result.metrics["mae"] == pytest.approx(mean_absolute_error(truth[keep], predicted[keep]))
    assert result.metrics["rmse"] == pytest.approx(
        math.sqrt(mean_squared_error(truth[keep], predicted[keep]))
    )
    empty = live_metrics([], regression=True)
    assert empty.metrics == {"mae": None, "rmse": None} and "no labelled" in str(empty)


def test_the_last_label_of_a_record_wins():
    log = [*labelled(["a"], ["b"]), {"kind": "label", "id": "l9", "record": "p0", "label": "a"}]
    assert live_metrics(log).metrics["accuracy"] == 1.0
