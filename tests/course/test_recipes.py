import numpy as np
import pandas as pd
import pytest
from sklearn.neighbors import KNeighborsClassifier

from course import recipes
from course.evaluate import report
from course.export import list_artifacts, load_model, read_card
from course.schema import to_frame, validate_row


@pytest.fixture(scope="module")
def split():
    X_train, y_train, test_set = recipes.penguin_split()
    X_test, y_test = test_set.open()
    return X_train, X_test, y_train, y_test


def test_the_split_keeps_a_stratified_quarter_of_the_birds_for_testing(split):
    X_train, X_test, y_train, y_test = split
    assert (len(X_train), len(X_test)) == (258, 86)
    assert list(X_train.columns) == recipes.PENGUIN_FEATURES
    assert not set(X_train.index) & set(X_test.index)
    shares = pd.DataFrame(
        {"train": y_train.value_counts(normalize=True), "test": y_test.value_counts(normalize=True)}
    )
    assert (shares["train"] - shares["test"]).abs().max() < 0.01


def test_the_split_is_the_same_in_every_notebook(split):
    X_train, y_train, test_set = recipes.penguin_split()
    X_test, y_test = test_set.open()
    for first, second in zip(split, (X_train, X_test, y_train, y_test), strict=True):
        pd.testing.assert_index_equal(first.index, second.index)


def test_the_preprocessor_fills_scales_and_encodes_every_feature(split):
    X_train, X_test, _, _ = split
    preprocessor = recipes.penguin_preprocessor().fit(X_train)
    out = preprocessor.transform(X_train)
    # 4 measurements, 3 islands and 2 sexes as one-hot columns.
    assert out.shape == (len(X_train), 9)
    assert not np.isnan(out).any()
    np.testing.assert_allclose(out[:, :4].mean(axis=0), 0, atol=1e-9)
    np.testing.assert_allclose(out[:, :4].std(axis=0), 1, atol=1e-9)
    assert set(np.unique(out[:, 4:])) == {0.0, 1.0}
    assert not np.isnan(preprocessor.transform(X_test)).any()


def test_the_preprocessor_learns_its_statistics_from_the_training_rows_only(split):
    X_train, _, _, _ = split
    preprocessor = recipes.penguin_preprocessor().fit(X_train)
    imputer, scaler = preprocessor.named_transformers_["numeric"]
    np.testing.assert_allclose(
        imputer.statistics_, X_train[recipes.PENGUIN_NUMERIC].median().to_numpy()
    )
    filled = X_train[recipes.PENGUIN_NUMERIC].fillna(X_train[recipes.PENGUIN_NUMERIC].median())
    np.testing.assert_allclose(scaler.mean_, filled.mean().to_numpy())


def test_the_default_pipeline_tells_the_species_apart_on_unseen_birds(split):
    X_train, X_test, y_train, y_test = split
    model = recipes.penguin_pipeline().fit(X_train, y_train)
    assert list(model.classes_) == ["Adelie", "Chinstrap", "Gentoo"]
    assert model.score(X_test, y_test) > 0.95


def test_another_classifier_gets_the_same_preprocessing(split):
    X_train, X_test, y_train, y_test = split
    knn = KNeighborsClassifier()
    model = recipes.penguin_pipeline(knn)
    assert model.named_steps["classify"] is knn
    assert model.fit(X_train, y_train).score(X_test, y_test) > 0.9


def test_train_penguin_model_exports_a_servable_artifact_with_its_test_metrics(tmp_path, split):
    _, X_test, _, y_test = split
    path = recipes.train_penguin_model(tmp_path)
    assert path == tmp_path / "penguin-classifier" / "1"
    card = read_card(path)
    assert card.feature_names == recipes.PENGUIN_FEATURES
    assert card.target_name == "species"
    assert card.classes == ("Adelie", "Chinstrap", "Gentoo")
    model = load_model(path)
    assert card.metrics == pytest.approx(report(model, X_test, y_test).as_dict())
    assert card.metrics["accuracy"] > 0.95


def test_the_exported_model_answers_a_request_the_way_the_server_sends_it(tmp_path):
    path = recipes.train_penguin_model(tmp_path)
    card, model = read_card(path), load_model(path)
    # A JSON request body: sex unknown (null) is allowed because the pipeline fills it in.
    request = {
        "bill_length_mm": 47.5,
        "bill_depth_mm": 14.2,
        "flipper_length_mm": 218,
        "body_mass_g": 5200,
        "island": "Biscoe",
        "sex": None,
    }
    clean, warnings = validate_row(card, request)
    assert warnings == []
    probabilities = model.predict_proba(to_frame(card, [clean]))
    assert model.classes_[probabilities.argmax()] == "Gentoo"
    assert probabilities.sum() == pytest.approx(1.0)


def test_training_again_adds_a_version_and_never_overwrites(tmp_path):
    first = recipes.train_penguin_model(tmp_path)
    second = recipes.train_penguin_model(tmp_path)
    assert (first.name, second.name) == ("1", "2")
    assert [artifact.version for artifact in list_artifacts(tmp_path)] == ["1", "2"]
    assert read_card(first).model_sha256 and read_card(second).metrics == read_card(first).metrics


def test_the_penguin_card_says_what_the_model_is_for_and_where_it_stops(tmp_path, split):
    from course.evaluate import group_metrics

    _, X_test, _, y_test = split
    path = recipes.train_penguin_model(tmp_path)
    card = read_card(path)
    assert "telling the three species" in card.intended_use.lower()
    assert "Palmer study" in card.intended_use
    for words in ("3 islands", "2007-2009", "sexed", "86 birds", "95% interval"):
        assert words in card.limitations
    accuracy = card.metrics["accuracy"]
    assert f"accuracy {accuracy:.3f}" in card.limitations
    groups = {(g.column, g.group): g for g in card.group_metrics}
    assert set(groups) == {
        ("island", "Biscoe"),
        ("island", "Dream"),
        ("island", "Torgersen"),
        ("sex", "female"),
        ("sex", "male"),
        ("sex", "(missing)"),
    }
    expected = group_metrics(load_model(path), X_test, y_test, by=["island", "sex"])
    assert sum(g.rows for g in card.group_metrics if g.column == "island") == len(X_test)
    assert [g.metrics["accuracy"] for g in card.group_metrics] == pytest.approx(
        list(expected.accuracy)
    )
