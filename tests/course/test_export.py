import hashlib
import json
import os
import subprocess
import sys
import zipfile
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.cluster import KMeans
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import NotFittedError
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from course.card import ModelCard
from course.datasets import load
from course.evaluate import ProblemKind, report
from course.export import (
    Artifact,
    ArtifactError,
    export_model,
    list_artifacts,
    load_model,
    read_card,
)
from course.schema import infer_features, to_frame, validate_row

NUMERIC = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
CATEGORICAL = ["island", "sex"]


@pytest.fixture(scope="module")
def penguins():
    """The course's penguin classifier: impute and scale numbers, impute and one-hot text."""
    data = load("penguins")
    X, y = data.drop(columns="species"), data["species"]
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=0, stratify=y
    )
    model = make_pipeline(
        ColumnTransformer(
            [
                ("num", make_pipeline(SimpleImputer(), StandardScaler()), NUMERIC),
                (
                    "cat",
                    make_pipeline(
                        SimpleImputer(strategy="most_frequent"),
                        OneHotEncoder(handle_unknown="ignore"),
                    ),
                    CATEGORICAL,
                ),
            ]
        ),
        LogisticRegression(max_iter=1000),
    ).fit(X_train, y_train)
    return model, X_train, X_test, y_train, y_test


@pytest.fixture(scope="module")
def exported(penguins, tmp_path_factory):
    model, X_train, X_test, y_train, y_test = penguins
    metrics = report(model, X_test, y_test).as_dict()
    models_dir = tmp_path_factory.mktemp("models")
    path = export_model(
        model,
        X_train,
        y_train,
        name="penguin-species",
        models_dir=models_dir,
        metrics=metrics,
        description="Species from bill, flipper and body measurements",
    )
    return path, metrics


def copy_artifact(source: Path, destination: Path) -> Path:
    destination.mkdir(parents=True)
    for file in source.iterdir():
        (destination / file.name).write_bytes(file.read_bytes())
    return destination


def rewrite_card(folder: Path, **changes) -> None:
    card = json.loads((folder / "card.json").read_text())
    card.update(changes)
    (folder / "card.json").write_text(json.dumps(card))


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# The round trip the server depends on.


def test_an_exported_penguin_classifier_predicts_identically(penguins, exported):
    model, _, X_test, _, _ = penguins
    path, _ = exported

    loaded = load_model(path)

    np.testing.assert_array_equal(loaded.predict(X_test), model.predict(X_test))
    np.testing.assert_array_equal(loaded.predict_proba(X_test), model.predict_proba(X_test))


def test_validated_json_rows_predict_like_the_training_frame(penguins, exported):
    model, _, X_test, _, _ = penguins
    path, _ = exported
    card = read_card(path)
    # What a client sends: JSON, where a missing measurement is null.
    requests = json.loads(X_test.to_json(orient="records"))

    rows = [validate_row(card, request)[0] for request in requests]

    frame = to_frame(card, rows)
    np.testing.assert_array_equal(
        load_model(path).predict_proba(frame), model.predict_proba(X_test)
    )


def test_the_artifact_folder_holds_the_model_and_its_card(exported):
    path, _ = exported

    assert path.name == "1"
    assert path.parent.name == "penguin-species"
    assert sorted(file.name for file in path.iterdir()) == ["card.json", "model.skops"]
    assert not [entry for entry in path.parent.iterdir() if entry.name.startswith(".")]


def test_the_card_describes_the_model(penguins, exported):
    _, X_train, _, _, _ = penguins
    path, metrics = exported

    card = read_card(path)

    assert (card.name, card.version) == ("penguin-species", "1")
    assert card.problem_kind is ProblemKind.CLASSIFICATION
    assert card.description == "Species from bill, flipper and body measurements"
    unlabelled = tuple(replace(feature, label=None, unit=None) for feature in card.features)
    assert unlabelled == infer_features(X_train)
    # Labels and units from the penguins' datasheet, for the page and the explanations.
    titles = {feature.name: feature.title for feature in card.features}
    assert titles["body_mass_g"] == "body mass (g)"
    assert titles["bill_length_mm"] == "bill length (mm)"
    assert card.target_name == "species"
    assert card.target_title == "species"
    assert card.classes == ("Adelie", "Chinstrap", "Gentoo")
    assert card.metrics == metrics
    assert card.model_file == "model.skops"
    assert card.model_sha256 == sha256_of(path / "model.skops")
    assert set(card.library_versions) == {"python", "scikit-learn", "skops", "numpy", "pandas"}
    created = datetime.fromisoformat(card.created)
    assert created.utcoffset().total_seconds() == 0
    assert abs((datetime.now(UTC) - created).total_seconds()) < 600


def test_card_json_is_plain_json(exported):
    path, _ = exported
    data = json.loads((path / "card.json").read_text())

    island = next(feature for feature in data["features"] if feature["name"] == "island")
    assert island["categories"] == ["Biscoe", "Dream", "Torgersen"]
    body_mass = next(feature for feature in data["features"] if feature["name"] == "body_mass_g")
    assert body_mass["kind"] == "number"
    assert body_mass["missing_seen"] is True
    assert data["target"]["classes"] == ["Adelie", "Chinstrap", "Gentoo"]


def test_the_data_checksum_follows_values_not_the_index(penguins, tmp_path):
    model, X_train, _, y_train, _ = penguins

    def checksum(X, y, name):
        return read_card(export_model(model, X, y, name=name, models_dir=tmp_path)).data_sha256

    original = checksum(X_train, y_train, "a")
    assert checksum(X_train.reset_index(drop=True), y_train.reset_index(drop=True), "b") == original
    changed = X_train.copy()
    changed.iloc[0, changed.columns.get_loc("body_mass_g")] += 1
    assert checksum(changed, y_train, "c") != original
    assert checksum(X_train, y_train.sample(frac=1, random_state=0).to_numpy(), "d") != original


def test_a_random_forest_loads_with_its_tree_types(penguins, tmp_path):
    _, X_train, X_test, y_train, _ = penguins
    numbers = X_train[NUMERIC].fillna(0)
    forest = RandomForestClassifier(n_estimators=5, random_state=0).fit(numbers, y_train)

    loaded = load_model(export_model(forest, numbers, y_train, name="forest", models_dir=tmp_path))

    test_numbers = X_test[NUMERIC].fillna(0)
    np.testing.assert_array_equal(
        loaded.predict_proba(test_numbers), forest.predict_proba(test_numbers)
    )


def test_regressors_and_clusterers_export_without_classes(penguins, tmp_path):
    _, X_train, X_test, _, _ = penguins
    numbers, mass = X_train[NUMERIC[:3]].fillna(0), X_train["body_mass_g"].fillna(4000)
    regressor = LinearRegression().fit(numbers, mass)
    clusterer = make_pipeline(StandardScaler(), KMeans(3, n_init=3, random_state=0)).fit(numbers)

    regression = export_model(regressor, numbers, mass, name="mass", models_dir=tmp_path)
    clustering = export_model(clusterer, numbers, name="groups", models_dir=tmp_path)

    test_numbers = X_test[NUMERIC[:3]].fillna(0)
    np.testing.assert_array_equal(
        load_model(regression).predict(test_numbers), regressor.predict(test_numbers)
    )
    np.testing.assert_array_equal(
        load_model(clustering).predict(test_numbers), clusterer.predict(test_numbers)
    )
    regression_card, clustering_card = read_card(regression), read_card(clustering)
    assert (regression_card.problem_kind, regression_card.target_name, regression_card.classes) == (
        ProblemKind.REGRESSION,
        "body_mass_g",
        None,
    )
    assert (clustering_card.problem_kind, clustering_card.target_name, clustering_card.metrics) == (
        ProblemKind.CLUSTERING,
        None,
        None,
    )


# Versions and names.


def test_versions_count_up_and_are_never_overwritten(penguins, tmp_path):
    model, X_train, _, y_train, _ = penguins

    def export(version=None):
        return export_model(model, X_train, y_train, name="p", models_dir=tmp_path, version=version)

    assert [export().name, export().name] == ["1", "2"]
    assert export(version=9).name == "9"
    assert export(version="beta").name == "beta"
    assert export().name == "10"
    with pytest.raises(FileExistsError, match="never overwritten"):
        export(version="2")
    assert [artifact.version for artifact in list_artifacts(tmp_path)] == [
        "1",
        "2",
        "9",
        "10",
        "beta",
    ]


@pytest.mark.parametrize(
    "name", ["", "../evil", "a/b", ".hidden", "Penguins", "pen guin", "x" * 65, "-dash", 3]
)
def test_bad_names_are_refused(penguins, tmp_path, name):
    model, X_train, _, y_train, _ = penguins

    with pytest.raises(ValueError, match="lowercase letters, digits"):
        export_model(model, X_train, y_train, name=name, models_dir=tmp_path)
    with pytest.raises(ValueError, match="invalid version"):
        export_model(model, X_train, y_train, name="ok", models_dir=tmp_path, version=f"{name}/..")
    assert list(tmp_path.iterdir()) == []


def test_list_artifacts_sorts_and_skips_what_is_not_an_artifact(exported, tmp_path):
    path, _ = exported
    for name, version in [("zebra", "2"), ("zebra", "10"), ("ant", "1")]:
        copy_artifact(path, tmp_path / name / version)
    (tmp_path / "zebra" / "3").mkdir()  # no card
    copy_artifact(path, tmp_path / "zebra" / ".4.abc.tmp")  # an export in progress
    copy_artifact(path, tmp_path / "Bad Name" / "1")

    assert list_artifacts(tmp_path) == [
        Artifact("ant", "1", tmp_path / "ant" / "1"),
        Artifact("zebra", "2", tmp_path / "zebra" / "2"),
        Artifact("zebra", "10", tmp_path / "zebra" / "10"),
    ]
    assert list_artifacts(tmp_path / "nowhere") == []


# Tampered and broken artifacts are refused with a reason.


def test_a_changed_model_file_is_refused(exported, tmp_path):
    folder = copy_artifact(exported[0], tmp_path / "m" / "1")
    data = bytearray((folder / "model.skops").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (folder / "model.skops").write_bytes(bytes(data))

    with pytest.raises(ArtifactError, match=r"does not match the sha256 checksum.*re-export"):
        load_model(folder)


def test_an_edited_checksum_in_the_card_is_refused(exported, tmp_path):
    folder = copy_artifact(exported[0], tmp_path / "m" / "1")
    rewrite_card(folder, model_sha256="0" * 64)

    with pytest.raises(ArtifactError, match="tampered or corrupted"):
        load_model(folder)


def shady_function(X):
    return X


class ShadyClassifier(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.repeat(self.classes_[0], len(X))


UNSAFE_X = pd.DataFrame({"x": [1.0, 2.0]})
UNSAFE_Y = ["a", "b"]


def with_function(function):
    """A fitted pipeline whose FunctionTransformer then points at ``function``."""
    model = make_pipeline(FunctionTransformer(), LogisticRegression()).fit(UNSAFE_X, UNSAFE_Y)
    model[0].func = function
    return model


@pytest.mark.parametrize(
    ("make_model", "type_name"),
    [
        (lambda: ShadyClassifier().fit(UNSAFE_X, UNSAFE_Y), "ShadyClassifier"),
        (lambda: with_function(shady_function), "shady_function"),
        # numpy.load is a NumPy function, not a class: it could unpickle anything.
        (lambda: with_function(np.load), "numpy.load"),
        (lambda: with_function(os.system), "system"),
    ],
)
def test_a_model_holding_untrusted_types_is_refused(exported, tmp_path, make_model, type_name):
    model = make_model()
    # Build the unsafe artifact by hand, with a matching checksum: only the type check is left.
    folder = copy_artifact(exported[0], tmp_path / "m" / "1")
    skops.io.dump(model, folder / "model.skops")
    rewrite_card(folder, model_sha256=sha256_of(folder / "model.skops"))

    with pytest.raises(ArtifactError, match=rf"not safe to load: .*{type_name}"):
        load_model(folder)
    # export_model refuses it up front, while the notebook can still fix it.
    with pytest.raises(ArtifactError, match=rf"not safe to load: .*{type_name}"):
        export_model(model, UNSAFE_X, name="shady", models_dir=tmp_path)
    assert not (tmp_path / "shady").exists()  # no empty folder left behind


def test_a_refused_export_leaves_nothing_behind(penguins, tmp_path):
    model = with_function(shady_function)
    fresh = tmp_path / "new" / "models"
    with pytest.raises(ArtifactError, match="not safe to load"):
        export_model(model, UNSAFE_X, name="shady", models_dir=fresh)
    assert list(tmp_path.iterdir()) == []  # neither models/ nor its parent was left
    # Folders that were there before stay, with what they held.
    fitted, X_train, _, y_train, _ = penguins
    kept = export_model(fitted, X_train, y_train, name="shady", models_dir=fresh)
    with pytest.raises(ArtifactError, match="not safe to load"):
        export_model(model, UNSAFE_X, name="shady", models_dir=fresh)
    assert [path.name for path in (fresh / "shady").iterdir()] == [kept.name]


def test_a_class_only_reachable_through_numpy_is_refused(exported, tmp_path):
    # A hand-edited skops file: "numpy.f2py.subprocess.Popen" starts with numpy, but
    # numpy.f2py merely imports subprocess; Popen is not a NumPy class.
    folder = copy_artifact(exported[0], tmp_path / "m" / "1")
    with zipfile.ZipFile(folder / "model.skops") as original:
        files = {name: original.read(name) for name in original.namelist()}
    schema = json.loads(files["schema.json"])
    schema["content"]["content"]["steps"]["content"][0]["content"][1].update(
        {"__module__": "numpy.f2py.subprocess", "__class__": "Popen"}
    )
    files["schema.json"] = json.dumps(schema).encode()
    with zipfile.ZipFile(folder / "model.skops", "w") as edited:
        for name, data in files.items():
            edited.writestr(name, data)
    rewrite_card(folder, model_sha256=sha256_of(folder / "model.skops"))

    with pytest.raises(ArtifactError, match=r"not safe to load: numpy\.f2py\.subprocess\.Popen"):
        load_model(folder)


def corrupt_with_a_matching_checksum(folder: Path) -> None:
    (folder / "model.skops").write_bytes(b"not a zip file")
    rewrite_card(folder, model_sha256=sha256_of(folder / "model.skops"))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda folder: (folder / "card.json").unlink(), "has no card.json: re-export"),
        (lambda folder: (folder / "card.json").write_text("{not json"), "not a valid model card"),
        (lambda folder: rewrite_card(folder, features="all"), r"card\.features must be a list"),
        (lambda folder: rewrite_card(folder, model_file="model.pkl"), "unknown format"),
        (lambda folder: rewrite_card(folder, model_file="../../x.skops"), "unknown format"),
        (lambda folder: (folder / "model.skops").unlink(), "model.skops is missing"),
        (corrupt_with_a_matching_checksum, r"could not be read \(BadZipFile"),
    ],
)
def test_a_broken_artifact_is_refused_with_a_reason(exported, tmp_path, damage, message):
    folder = copy_artifact(exported[0], tmp_path / "m" / "1")
    damage(folder)

    with pytest.raises(ArtifactError, match=message):
        load_model(folder)


def test_a_missing_folder_says_to_export_first(tmp_path):
    with pytest.raises(ArtifactError, match=r"no artifact folder .* export_model"):
        load_model(tmp_path / "nothing" / "1")


def test_a_name_folder_points_to_its_latest_version(exported, tmp_path):
    for version in ("2", "10"):
        copy_artifact(exported[0], tmp_path / "m" / version)

    with pytest.raises(ArtifactError, match=r"pass a version folder such as .*m/10"):
        read_card(tmp_path / "m")


# Bad export calls.


def test_export_needs_a_dataframe_and_matching_rows(penguins, tmp_path):
    model, X_train, _, y_train, _ = penguins

    with pytest.raises(TypeError, match="needs column names"):
        export_model(model, X_train.to_numpy(), y_train, name="p", models_dir=tmp_path)
    with pytest.raises(TypeError, match="description must be a string, got int"):
        export_model(model, X_train, name="p", models_dir=tmp_path, description=42)
    with pytest.raises(ValueError, match="but y_train has 3"):
        export_model(model, X_train, y_train.head(3), name="p", models_dir=tmp_path)
    with pytest.raises(ValueError, match="fitted on the columns"):
        export_model(model, X_train[NUMERIC], y_train, name="p", models_dir=tmp_path)
    with pytest.raises(NotFittedError, match="call fit"):
        export_model(LogisticRegression(), X_train, y_train, name="p", models_dir=tmp_path)


def test_export_checks_metrics(penguins, tmp_path):
    model, X_train, X_test, _, y_test = penguins

    with pytest.raises(TypeError, match=r"report\(model, X_test, y_test\)\.as_dict\(\)"):
        export_model(
            model, X_train, name="p", models_dir=tmp_path, metrics=report(model, X_test, y_test)
        )
    with pytest.raises(ValueError, match="only finite numbers"):
        export_model(model, X_train, name="p", models_dir=tmp_path, metrics={"r2": float("nan")})
    with pytest.raises(TypeError, match="'accuracy' must be a number, got str"):
        export_model(model, X_train, name="p", models_dir=tmp_path, metrics={"accuracy": "high"})


def test_importing_export_does_not_load_tensorflow():
    code = "import sys, course.export; print('tensorflow' in sys.modules, 'keras' in sys.modules)"

    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )

    assert output.stdout.split() == ["False", "False"]


# Keras models travel as .keras files.


@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    return pytest.importorskip(
        "keras", reason="TensorFlow/Keras is not installed: pip install -e '.[tf]'"
    )


# Keras' own saving code trips over NumPy 2's copy keyword; nothing the course can change.
@pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept:DeprecationWarning")
def test_a_keras_model_round_trips(keras, penguins, tmp_path):
    _, X_train, X_test, y_train, _ = penguins
    numbers = X_train[NUMERIC].fillna(X_train[NUMERIC].mean())
    scale = numbers.std()
    codes = y_train.cat.codes.to_numpy()
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(8, activation="relu"),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit((numbers / scale).to_numpy(), codes, epochs=2, verbose=0)

    path = export_model(model, numbers / scale, codes, name="penguin-net", models_dir=tmp_path)
    loaded = load_model(path)

    test_numbers = (X_test[NUMERIC].fillna(0) / scale).to_numpy(dtype="float32")
    np.testing.assert_array_equal(
        loaded.predict(test_numbers, verbose=0), model.predict(test_numbers, verbose=0)
    )
    card = read_card(path)
    assert card.model_file == "model.keras"
    assert card.problem_kind is ProblemKind.CLASSIFICATION
    assert card.classes == (0, 1, 2)
    assert {"keras", "tensorflow"} <= set(card.library_versions)


def test_the_card_holds_intended_use_limitations_and_group_metrics(penguins, tmp_path):
    from course.card import GroupMetrics
    from course.evaluate import group_metrics

    model, X_train, X_test, y_train, y_test = penguins
    groups = group_metrics(model, X_test, y_test, by=["island", "sex"])
    path = export_model(
        model,
        X_train,
        y_train,
        name="p",
        models_dir=tmp_path,
        intended_use="Telling species apart in the field.",
        limitations="Three islands, 2007-2009.",
        group_metrics=groups,
    )

    card = read_card(path)
    assert card.intended_use == "Telling species apart in the field."
    assert card.limitations == "Three islands, 2007-2009."
    first = groups.iloc[0]
    assert card.group_metrics[0] == GroupMetrics(
        "island",
        first.group,
        int(first.rows),
        {"accuracy": first.accuracy, "low": first.low, "high": first.high},
    )
    assert [g.rows for g in card.group_metrics if g.column == "sex"] == list(
        groups[groups.column == "sex"].rows
    )
    # A list of GroupMetrics works as well as the table.
    again = export_model(
        model, X_train, name="p", models_dir=tmp_path, group_metrics=card.group_metrics
    )
    assert read_card(again).group_metrics == card.group_metrics


def test_a_card_without_use_limits_or_groups_says_nothing_of_them(exported):
    path, _ = exported
    data = json.loads((path / "card.json").read_text())

    assert (data["intended_use"], data["limitations"], data["group_metrics"]) == ("", "", None)


def test_export_checks_group_metrics_and_texts(penguins, tmp_path):
    model, X_train, *_ = penguins

    with pytest.raises(TypeError, match="limitations must be a string, got list"):
        export_model(model, X_train, name="p", models_dir=tmp_path, limitations=["small"])
    with pytest.raises(ValueError, match="group_metrics has no column 'rows'"):
        export_model(
            model,
            X_train,
            name="p",
            models_dir=tmp_path,
            group_metrics=pd.DataFrame({"column": ["island"], "group": ["Dream"]}),
        )
    with pytest.raises(TypeError, match="a table or a list of groups, got dict"):
        export_model(model, X_train, name="p", models_dir=tmp_path, group_metrics={"island": 0.9})
    with pytest.raises(ValueError, match="only finite numbers"):
        export_model(
            model,
            X_train,
            name="p",
            models_dir=tmp_path,
            group_metrics=[
                {"column": "sex", "group": "male", "rows": 3, "metrics": {"accuracy": np.nan}}
            ],
        )
    assert not (tmp_path / "p").exists()


def test_labels_come_from_the_datasheet_then_the_argument(tmp_path):
    diabetes = load("diabetes")
    X, y = diabetes.drop(columns="target"), diabetes["target"]
    model = LinearRegression().fit(X, y)

    card = read_card(export_model(model, X, y, name="d", models_dir=tmp_path))
    titles = {feature.name: feature.title for feature in card.features}
    assert titles["age"] == "age (years)"
    assert titles["s1"] == "total serum cholesterol (mg/dL)"
    assert titles["sex"] == "sex"  # "Sex coded 1 or 2" is no label
    assert card.target_title == (
        "quantitative measure of disease progression one year after baseline"
    )

    labels = {"target": "disease progression", "s5": ("triglycerides", "log mg/dL")}
    card = read_card(export_model(model, X, y, name="e", models_dir=tmp_path, labels=labels))
    assert card.target_title == "disease progression"
    assert [f.title for f in card.features if f.name == "s5"] == ["triglycerides (log mg/dL)"]

    with pytest.raises(ValueError, match="'colour', which is neither a column"):
        export_model(model, X, y, name="f", models_dir=tmp_path, labels={"colour": "c"})


def test_a_card_without_labels_still_loads_and_reads_its_names(exported):
    path, _ = exported
    data = json.loads((path / "card.json").read_text())
    for feature in data["features"]:
        feature.pop("label"), feature.pop("unit")
    data["target"].pop("label"), data["target"].pop("unit")

    card = ModelCard.from_dict(data)

    assert {f.name: f.title for f in card.features}["body_mass_g"] == "body mass (g)"
    assert card.target_title == "species"
    assert "label" not in card.to_dict()["features"][0]
