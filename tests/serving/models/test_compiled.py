"""The compiled model gives the pipeline's own answers, or declines (None) and the pipeline
answers instead."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, PolynomialFeatures, StandardScaler

from course import datasets, recipes
from serving.models.compiled import compile_model

NUMERIC = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]


def request_rows(X: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as the server holds them after validation: missing values as None."""
    return [
        {key: None if isinstance(v, float) and math.isnan(v) else v for key, v in row.items()}
        for row in X.to_dict("records")
    ]


def assert_same_answers(model: Any, X: pd.DataFrame) -> None:
    compiled = compile_model(model)
    assert compiled is not None
    labels, probabilities = compiled.predict(request_rows(X))
    if labels.dtype.kind == "f":  # a regressor: the same arithmetic, maybe in another order
        np.testing.assert_allclose(labels, model.predict(X), rtol=1e-12)
    else:
        assert labels.tolist() == model.predict(X).tolist()
    if hasattr(model, "predict_proba"):
        assert probabilities is not None
        np.testing.assert_allclose(probabilities, model.predict_proba(X), rtol=0, atol=1e-12)
    else:
        assert probabilities is None


@pytest.fixture(scope="module")
def split():
    X_train, y_train, test_set = recipes.penguin_split()
    X_test, y_test = test_set.open()
    return X_train, X_test, y_train, y_test


def test_the_course_penguin_pipeline_on_every_test_row(split):
    X_train, X_test, y_train, _ = split
    assert X_test.isna().any().any(), "the test rows should include missing values"
    model = recipes.penguin_pipeline().fit(X_train, y_train)
    assert_same_answers(model, X_test)


def test_one_row_at_a_time_gives_the_same_as_the_whole_batch(split):
    X_train, X_test, y_train, _ = split
    compiled = compile_model(recipes.penguin_pipeline().fit(X_train, y_train))
    rows = request_rows(X_test)
    labels, probabilities = compiled.predict(rows)
    for index, row in enumerate(rows[:20]):
        one_label, one_probabilities = compiled.predict([row])
        assert one_label[0] == labels[index]
        np.testing.assert_allclose(one_probabilities[0], probabilities[index], atol=1e-12)


def test_a_binary_logistic_regression(split):
    X_train, X_test, y_train, _ = split
    y_binary = (y_train == "Gentoo").map({True: "gentoo", False: "other"})
    model = recipes.penguin_pipeline().fit(X_train, y_binary)
    assert_same_answers(model, X_test)


def test_another_final_estimator_is_called_on_the_transformed_rows(split):
    X_train, X_test, y_train, _ = split
    model = recipes.penguin_pipeline(RandomForestClassifier(n_estimators=10, random_state=0))
    assert_same_answers(model.fit(X_train, y_train), X_test)


def test_passthrough_drop_and_a_plain_scaler_pipeline(split):
    X_train, X_test, y_train, _ = split
    columns = ColumnTransformer(
        [
            ("numbers", SimpleImputer(strategy="mean"), NUMERIC[:2]),
            ("kept", "passthrough", ["body_mass_g"]),
            ("islands", OneHotEncoder(handle_unknown="ignore"), ["island"]),
        ],
        remainder="drop",
    )
    complete = X_train.dropna()
    model = make_pipeline(columns, StandardScaler(), LogisticRegression(max_iter=1000))
    model.fit(complete, y_train.loc[complete.index])
    assert_same_answers(model, X_test.dropna())


def test_a_bare_linear_regression():
    diabetes = datasets.load("diabetes")
    X, y = diabetes.drop(columns="target"), diabetes["target"]
    assert_same_answers(LinearRegression().fit(X, y), X)


def test_an_unknown_category_is_all_zeros_as_the_encoder_ignores_it(split):
    X_train, X_test, y_train, _ = split
    model = recipes.penguin_pipeline().fit(X_train, y_train)
    rows = request_rows(X_test.head(1))
    rows[0]["island"] = "Atlantis"
    _, probabilities = compile_model(model).predict(rows)
    frame = X_test.head(1).astype({"island": object})
    frame["island"] = "Atlantis"
    np.testing.assert_allclose(probabilities, model.predict_proba(frame), atol=1e-12)


def test_an_unknown_step_is_declined(split):
    X = split[0][NUMERIC].fillna(0)
    model = make_pipeline(PolynomialFeatures(), LinearRegression()).fit(X, X["body_mass_g"])
    assert compile_model(model) is None


def test_an_imputer_option_it_does_not_reproduce_is_declined(split):
    X = split[0][NUMERIC]
    model = make_pipeline(SimpleImputer(add_indicator=True), LinearRegression())
    assert compile_model(model.fit(X, X["body_mass_g"].fillna(4000))) is None


def test_an_estimator_that_reads_the_frame_itself_is_declined(split):
    X_train, _, y_train, _ = split
    model = RandomForestClassifier(n_estimators=5).fit(X_train[NUMERIC].fillna(0), y_train)
    assert compile_model(model) is None


def test_a_model_fitted_on_a_bare_array_is_declined(split):
    X_train = split[0]
    model = LinearRegression().fit(
        X_train[NUMERIC[:3]].fillna(0).to_numpy(), X_train["body_mass_g"].fillna(0)
    )
    assert compile_model(model) is None


def test_a_checked_table_gets_the_pipelines_answers(split):
    """Tables come with categories as pandas Categoricals (serving.models.tables), missing
    values included; their codes give the same one-hot rows as the values themselves."""
    X_train, X_test, y_train, _ = split
    model = recipes.penguin_pipeline().fit(X_train, y_train)
    categories = {name: sorted(X_train[name].dropna().unique()) for name in ("island", "sex")}
    table = X_test.astype({name: pd.CategoricalDtype(c) for name, c in categories.items()})
    assert table["sex"].isna().any(), "a missing category should be imputed"
    compiled = compile_model(model)
    labels, probabilities = compiled.predict_frame(table)
    assert labels.tolist() == model.predict(X_test).tolist()
    np.testing.assert_allclose(probabilities, model.predict_proba(X_test), rtol=0, atol=1e-12)
    only_labels, none = compiled.predict_frame(table, probabilities=False)
    assert only_labels.tolist() == labels.tolist() and none is None


@pytest.mark.parametrize(
    ("make", "option"),
    [
        (
            lambda: make_pipeline(
                ColumnTransformer(
                    [("n", StandardScaler(), NUMERIC[:2]), ("m", StandardScaler(), NUMERIC[2:])],
                    transformer_weights={"n": 3.0, "m": 0.5},
                ),
                LogisticRegression(max_iter=1000),
            ),
            "ColumnTransformer(transformer_weights=",
        ),
        (
            lambda: make_pipeline(
                ColumnTransformer([("i", OneHotEncoder(min_frequency=30), ["island"])]),
                LogisticRegression(max_iter=1000),
            ),
            "OneHotEncoder(min_frequency=30)",
        ),
        (
            lambda: make_pipeline(
                ColumnTransformer([("i", OneHotEncoder(drop="first"), ["island"])]),
                LogisticRegression(max_iter=1000),
            ),
            "OneHotEncoder(drop='first')",
        ),
        (
            lambda: make_pipeline(SimpleImputer(keep_empty_features=True), StandardScaler(),
                                  LogisticRegression(max_iter=1000)),
            "SimpleImputer(keep_empty_features=True)",
        ),
    ],
)
def test_an_option_it_does_not_reproduce_declines_and_says_which(split, caplog, make, option):
    X_train, _, y_train, _ = split
    columns = NUMERIC if "Imputer" in option else [*NUMERIC, "island"]
    X = X_train[columns].dropna() if "Imputer" not in option else X_train[NUMERIC]
    model = make().fit(X, y_train.loc[X.index])
    with caplog.at_level("INFO", logger="serving.models.compiled"):
        assert compile_model(model) is None
    assert option in caplog.text


def test_the_allow_list_knows_the_options_of_every_step_it_compiles():
    """A scikit-learn upgrade that renames an allowed option would silently shrink what
    compiles; a new option keeps its default or declines, so only the names are checked."""
    import inspect

    from serving.models.compiled import _OPTIONS

    spelled_in_other_versions = {"sparse", "force_int_remainder_cols"}
    for step_type, allowed in _OPTIONS.items():
        known = set(inspect.signature(step_type.__init__).parameters) - {"self"}
        assert allowed - known <= spelled_in_other_versions, (step_type, allowed - known)


def test_loading_drops_a_compiled_form_that_disagrees_with_the_pipeline(
    split, tmp_path, monkeypatch, caplog
):
    from course.export import export_model
    from serving.models import compiled as compiled_module
    from serving.models.served import ServedModel

    X_train, _, y_train, _ = split
    weighted = make_pipeline(
        ColumnTransformer(
            [("n", make_pipeline(SimpleImputer(), StandardScaler()), NUMERIC)],
            transformer_weights={"n": 3.0},
        ),
        LogisticRegression(max_iter=1000),
    ).fit(X_train[NUMERIC], y_train)
    path = export_model(weighted, X_train[NUMERIC], y_train, name="weighted", models_dir=tmp_path)
    # Pretend the allow-list forgot to refuse the weights: the proof at load must catch it.
    options = dict(compiled_module._OPTIONS)
    options[ColumnTransformer] = options[ColumnTransformer] | {"transformer_weights"}
    monkeypatch.setattr(compiled_module, "_OPTIONS", options)
    assert compile_model(weighted) is not None
    with caplog.at_level("WARNING", logger="serving.models.served"):
        served = ServedModel.load(path)
    assert served.compiled is None
    assert "probabilities differ by up to" in caplog.text
    rows = [served.validate(row)[0] for row in request_rows(X_train[NUMERIC].head(3))]
    np.testing.assert_allclose(
        served.predict_rows(rows).probabilities, weighted.predict_proba(X_train[NUMERIC].head(3))
    )


def test_profile_rows_cover_every_category_number_and_gap(split):
    from course.schema import FeatureKind, FeatureSpec
    from serving.models.compiled import profile_rows

    features = [
        FeatureSpec("mass", FeatureKind.NUMBER, "float64", True, min=1.0, max=9.0, mean=5.0,
                    std=2.0),
        FeatureSpec("count", FeatureKind.INTEGER, "int64", False, min=0.0, max=10.0, mean=4.4,
                    std=1.2),
        FeatureSpec("island", FeatureKind.CATEGORY, "category", False, categories=("A", "B")),
    ]
    rows = profile_rows(features)
    assert {row["mass"] for row in rows} == {1.0, 3.0, 5.0, 7.0, 9.0, None}
    assert {row["count"] for row in rows} == {0, 3, 4, 6, 10}
    assert {row["island"] for row in rows} == {"A", "B"}


# --- property: any pipeline from the supported space gives scikit-learn's answers -----------


def _pipelines():
    """Pipelines drawn from what compiled.py says it reproduces, with their options."""
    from hypothesis import strategies as st

    numeric = st.builds(
        lambda columns, strategy, scale, with_mean, with_std: (
            make_pipeline(SimpleImputer(strategy=strategy),
                          *([StandardScaler(with_mean=with_mean, with_std=with_std)] if scale
                            else [])),
            columns,
        ),
        st.lists(st.sampled_from(NUMERIC[:3]), min_size=1, max_size=3, unique=True),
        st.sampled_from(["mean", "median", "most_frequent"]),
        st.booleans(), st.booleans(), st.booleans(),
    )
    categorical = st.builds(
        lambda columns, strategy, unknown, sparse: (
            make_pipeline(
                SimpleImputer(strategy=strategy, fill_value="unknown"),
                OneHotEncoder(handle_unknown=unknown, sparse_output=sparse),
            ),
            columns,
        ),
        st.lists(st.sampled_from(["island", "sex"]), min_size=1, max_size=2, unique=True),
        st.sampled_from(["most_frequent", "constant"]),
        st.sampled_from(["ignore", "error"]),
        st.booleans(),
    )
    final = st.one_of(
        st.builds(lambda c, binary: (LogisticRegression(C=c, max_iter=2000), binary),
                  st.floats(0.01, 100), st.booleans()),
        st.just((LinearRegression(), None)),
    )
    return st.tuples(numeric, st.one_of(st.none(), categorical), final)


def test_random_supported_pipelines_answer_as_scikit_learn(split):
    from types import SimpleNamespace

    from hypothesis import HealthCheck, given, settings

    from course.schema import infer_features, to_frame
    from serving.models.compiled import first_disagreement, profile_rows

    X_train, X_test, y_train, _ = split

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(_pipelines())
    def check(drawn):
        (numeric, numeric_columns), categorical, (final, binary) = drawn
        parts = [("numeric", numeric, numeric_columns)]
        if categorical is not None:
            parts.append(("categorical", *categorical))
        columns = [column for _, _, names in parts for column in names]
        if binary is None:
            y = X_train["body_mass_g"].fillna(4200.0)
        else:
            y = (y_train == "Gentoo") if binary else y_train
        model = make_pipeline(ColumnTransformer(parts), final).fit(X_train[columns], y)
        compiled = compile_model(model)
        assert compiled is not None
        assert first_disagreement(compiled, model, request_rows(X_test[columns]),
                                  X_test[columns]) is None
        card = SimpleNamespace(features=infer_features(X_train[columns]))
        rows = profile_rows(card.features)
        assert first_disagreement(compiled, model, rows, to_frame(card, rows)) is None

    check()
