import os

import numpy as np
import pytest

from course import checks
from course.checks import Verdict


@pytest.mark.parametrize(
    ("answer", "passed", "says"),
    [
        (64 * 32 + 32 + 32 * 10 + 10, True, "2410 numbers"),
        (64 * 32 + 32 * 10, False, "not the biases"),
        (64 * 32 + 32, False, "first layer alone"),
        (32 * 10 + 10, False, "output layer alone"),
        (64 * 32 + 32 * 10 + 2, False, "one bias"),
        (2411, False, "Rescaling learns nothing"),
        (64 * 64 + 64 + 2410, False, "Rescaling layer as if it were a Dense layer"),
        (64 + 32 + 10, False, "counts the units"),
        (1234, False, "not the number"),
        ("2410", False, "should be a number"),
    ],
)
def test_parameter_count_names_the_mistake(answer, passed, says):
    feedback = checks.parameter_count(answer, layer_sizes=[64, 32, 10])
    assert feedback.passed is passed
    assert says in feedback.message
    assert passed or feedback.hint


def test_parameter_count_wants_an_answer():
    feedback = checks.parameter_count(..., layer_sizes=[64, 32, 10])
    assert feedback.verdict is Verdict.NOT_ANSWERED


@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    return pytest.importorskip("keras")


@pytest.fixture(scope="module")
def digits():
    """Digit-like rows, noisy enough that a network does better on the rows it learned from."""
    rng = np.random.default_rng(0)
    centers = rng.uniform(0, 16, size=(10, 64))
    y = np.repeat(np.arange(10), 40)
    X = (centers[y] + rng.normal(0, 9, size=(len(y), 64))).clip(0, 16).astype("float32")
    order = rng.permutation(len(y))
    X, y = X[order], y[order]
    return X[:300], y[:300], X[300:], y[300:]  # fitting rows, validation rows


EPOCHS = 40


def network(keras, *, units=64, inputs=64, outputs=10, activation="softmax", compiled=True,
            hidden_activation="relu", rescaled=True):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input(shape=(inputs,)),
        *([keras.layers.Rescaling(1 / 16)] if rescaled else []),
        keras.layers.Dense(units, activation=hidden_activation),
        keras.layers.Dense(outputs, activation=activation),
    ])
    if compiled:
        model.compile(
            optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"]
        )
    return model


def trained(keras, X, y, *, epochs=EPOCHS, **kwargs):
    model = network(keras, **kwargs)
    model.fit(X, y, epochs=epochs, batch_size=32, verbose=0)
    return model


def check(model, digits, min_accuracy=0.8):
    return checks.digits_network(
        model, *digits, hidden_units=64, epochs=EPOCHS, min_accuracy=min_accuracy
    )


@pytest.fixture(scope="module")
def right(keras, digits):
    X_fit, y_fit, _, _ = digits
    return trained(keras, X_fit, y_fit)


def test_digits_network_accepts_the_wider_network_fitted_on_the_fitting_rows(right, digits):
    feedback = check(right, digits)
    assert feedback.passed, feedback
    assert "target 0.80" in feedback.message and "100 training rows" in feedback.message


def test_digits_network_reports_a_missed_target(right, digits):
    feedback = check(right, digits, min_accuracy=1.01)
    assert not feedback.passed and "the target is 1.01" in feedback.message


def test_digits_network_wants_an_answer():
    feedback = checks.digits_network(
        ..., [], [], [], [], hidden_units=64, epochs=40, min_accuracy=0.9
    )
    assert feedback.verdict is Verdict.NOT_ANSWERED


def fitted_on_validation_rows(keras, digits):
    _, _, X_val, y_val = digits
    return trained(keras, X_val, y_val)


def fitted_on_every_training_row(keras, digits):
    X_fit, y_fit, X_val, y_val = digits
    return trained(keras, np.vstack([X_fit, X_val]), np.concatenate([y_fit, y_val]))


@pytest.mark.parametrize(
    ("build", "says"),
    [
        (lambda keras, digits: "a model", "should be a Keras model"),
        (lambda keras, digits: network(keras, inputs=32), "cannot read the digits"),
        (lambda keras, digits: network(keras, outputs=3), "10 numbers"),
        (lambda keras, digits: network(keras, activation=None), "not probabilities"),
        (lambda keras, digits: network(keras, activation="sigmoid"), "not probabilities"),
        (lambda keras, digits: trained(keras, *digits[:2], units=32), "32 hidden Dense units"),
        (lambda keras, digits: trained(keras, *digits[:2], rescaled=False), "no Rescaling"),
        (lambda keras, digits: network(keras, hidden_activation="sigmoid"), "activation is 'sigm"),
        (lambda keras, digits: network(keras, compiled=False), "not compiled"),
        (lambda keras, digits: network(keras), "never trained"),
        (lambda keras, digits: trained(keras, *digits[:2], epochs=5), "ran for 5 epochs"),
        (fitted_on_validation_rows, "trained on the validation rows"),
        (fitted_on_every_training_row, "trained on the validation rows"),
    ],
    ids=["not-keras", "wrong-input", "wrong-output-size", "no-softmax", "sigmoid",
         "32-units", "no-rescaling", "sigmoid-hidden", "not-compiled", "not-trained",
         "too-few-epochs", "fitted-on-validation", "fitted-on-fit-and-validation"],
)
def test_digits_network_names_the_problem(keras, digits, build, says):
    feedback = check(build(keras, digits), digits)
    assert not feedback.passed
    assert says in feedback.message, feedback
    assert feedback.hint
