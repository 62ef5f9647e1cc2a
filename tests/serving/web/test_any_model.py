"""The page for models a learner exports, not only the penguins (issue 15, item 1).

Three models are exported here from the shipped datasets, as the notebooks do, and served by a
real server process: a regression with integer features (diabetes: age, sex, s1 and s6 are
whole numbers), a classifier with an integer feature and a yes-or-no target (Seattle rain,
with the month), and the digits network (64 whole-number pixels; needs TensorFlow). Predict
with the form untouched must give an answer and no field error: the page used to pre-fill
48.52 for an integer and the server refused its own form.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.serving.serving_process import page_address, serving_process

pytestmark = pytest.mark.timeout(180)

WAIT_MS = 30_000  # the first Keras request loads TensorFlow in the server


def export_models(models: Path) -> list[str]:
    """Export the test's models into ``models``; their names, digits only with TensorFlow."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LinearRegression

    from course import datasets
    from course.evaluate import report
    from course.export import export_model
    from course.weather import rain_tomorrow

    diabetes = datasets.load("diabetes")
    X, y = diabetes.drop(columns="target"), diabetes["target"]
    regression = LinearRegression().fit(X[:350], y[:350])
    export_model(
        regression, X[:350], y[:350], name="diabetes", models_dir=models,
        metrics=report(regression, X[350:], y[350:]).as_dict(),
        description="Disease progression from ten baseline measurements.",
        labels={"target": "disease progression"},
    )  # fmt: skip

    table = rain_tomorrow(datasets.load("seattle_weather"))
    table["month"] = table["date"].dt.month
    features = ["month", "precipitation", "temp_max", "temp_min", "wind"]
    rain = RandomForestClassifier(n_estimators=20, random_state=0)
    rain.fit(table[features], table["rain_tomorrow"])
    export_model(
        rain, table[features], table["rain_tomorrow"], name="seattle-rain", models_dir=models,
        metrics=report(rain, table[features], table["rain_tomorrow"]).as_dict(),
        description="Rain tomorrow in Seattle from today's weather.",
    )  # fmt: skip
    names = ["diabetes", "seattle-rain"]

    try:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        import keras
    except ImportError:
        return names
    digits = datasets.load("digits")
    pixels = digits.drop(columns="target")
    keras.utils.set_random_seed(0)
    network = keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(32, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    network.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    network.fit(pixels.to_numpy("float32") / 16, digits["target"].to_numpy(), epochs=1, verbose=0)
    export_model(
        network, pixels, digits["target"], name="digits-network", models_dir=models,
        description="Dense network (64-32-10) on the 8x8 digits.",
    )  # fmt: skip
    return [*names, "digits-network"]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[str]]]:
    """A server process on the exported models: (its page's address, the model names)."""
    folder = tmp_path_factory.mktemp("any-model")
    names = export_models(folder / "models")
    arguments = ["--port", "0", "--models", str(folder / "models")]
    arguments += ["--data-dir", str(folder / "data")]
    arguments += ["--store", f"sqlite:///{folder / 'data' / 'streams.db'}"]
    with serving_process(arguments, folder / "server.log") as printed:
        yield page_address(printed), names


def predict_untouched(browser: Any, url: str, model: str) -> Any:
    """Open the page, choose ``model``, press Predict without touching a field; the page."""
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    page.wait_for_selector("#connection[data-state=live]", timeout=WAIT_MS)
    page.select_option("#model-select", model)
    page.wait_for_selector(f'#fields [name="{field_of(page, model)}"]', timeout=WAIT_MS)
    page.click("#predict")
    # An answer, or a field error (the bug this guards against): whichever comes first.
    page.wait_for_selector(".run .answer, #fields .message.error", timeout=WAIT_MS)
    errors_shown = page.eval_on_selector_all(
        "#fields .message.error, #fields [aria-invalid=true]", "nodes => nodes.length"
    )
    assert errors_shown == 0, page.inner_text("#fields")
    assert page.inner_text("#form-message") == ""
    assert errors == []
    page.wait_for_selector(".run .answer", timeout=WAIT_MS)
    return page


def field_of(page: Any, model: str) -> str:
    return {"diabetes": "age", "seattle-rain": "month", "digits-network": "pixel_0"}[model]


def test_a_regression_with_integer_features_predicts_from_its_defaults(browser, served):
    url, _ = served
    page = predict_untouched(browser, url, "diabetes")

    assert page.input_value('[name="age"]') == str(round(float(page.input_value('[name="age"]'))))
    assert page.inner_text('label[for="feature-0"]') == "Age (years)"
    answer = page.inner_text(".run .answer")
    # Rounded to 3 significant figures, named, with the model's error beside it.
    assert re.match(
        r"Prediction: disease progression: \d{2,3} \(typically off by about \d{2}(\.\d)?: "
        r"the test MAE\)",
        answer,
    ), answer
    assert re.search(r"On the test rows: MAE \d+(\.\d)? · RMSE \d+", page.inner_text(".run"))
    summary = page.inner_text("#model-summary")
    assert "Predicts: disease progression." in summary and "MAE" in summary
    page.wait_for_selector('.run[data-status="completed"]', timeout=WAIT_MS)
    explanation = page.inner_text(".run .explanation")
    assert "disease progression" in explanation and "_" not in explanation
    page.context.close()


def test_a_classifier_with_an_integer_feature_predicts_from_its_defaults(browser, served):
    url, _ = served
    page = predict_untouched(browser, url, "seattle-rain")

    assert re.fullmatch(r"\d{1,2}", page.input_value('[name="month"]'))
    assert re.match(r"Prediction: rain tomorrow: (yes|no) ", page.inner_text(".run .answer"))
    assert "accuracy" in page.inner_text("#model-summary")
    page.wait_for_selector('.run[data-status="completed"]', timeout=WAIT_MS)
    explanation = page.inner_text(".run .explanation")
    assert "_" not in explanation and " is true" not in explanation
    assert "rain tomorrow" in explanation
    page.context.close()


def test_the_digits_network_predicts_from_a_grid_of_whole_numbers(browser, served):
    url, names = served
    if "digits-network" not in names:
        pytest.skip("TensorFlow is not installed: pip install -e '.[tf]'")
    page = predict_untouched(browser, url, "digits-network")

    assert page.eval_on_selector_all(".pixel-grid .grid input", "nodes => nodes.length") == 64
    values = page.eval_on_selector_all(".pixel-grid input", "nodes => nodes.map(n => n.value)")
    assert all(re.fullmatch(r"\d{1,2}", value) for value in values), values
    assert re.match(r"Prediction: digit written: \d ", page.inner_text(".run .answer"))
    page.context.close()


def test_a_bad_value_is_explained_in_plain_words_next_to_its_field(browser, served):
    url, _ = served
    context = browser.new_context()
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector("#connection[data-state=live]", timeout=WAIT_MS)
    page.select_option("#model-select", "diabetes")
    page.fill('[name="age"]', "48.5")
    page.fill('[name="bmi"]', "26,4")
    page.click("#predict")
    page.wait_for_selector('[data-field="age"] .message.error', timeout=WAIT_MS)
    assert page.inner_text('[data-field="age"] .message') == (
        "Age (years) must be a whole number, like 48."
    )
    assert page.inner_text('[data-field="bmi"] .message') == "Use a dot for decimals: 26.4."
    context.close()
