import os

import numpy as np
import pytest

from course import checks


@pytest.mark.parametrize(
    ("answer", "passed", "says"),
    [
        (64 * 32 + 32 + 32 * 10 + 10, True, "2410 numbers"),
        (64 * 32 + 32 * 10, False, "not the biases"),
        (64 * 32 + 32, False, "first layer alone"),
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


@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    return pytest.importorskip("keras")


@pytest.fixture(scope="module")
def digits():
    rng = np.random.default_rng(0)
    centers = rng.uniform(0, 16, size=(10, 64))
    y = np.repeat(np.arange(10), 30)
    X = centers[y] + rng.normal(0, 1, size=(len(y), 64))
    return X.astype("float32"), y


def network(keras, inputs=64, outputs=10, activation="softmax"):
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input(shape=(inputs,)), keras.layers.Dense(outputs, activation=activation)]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_digits_network_accepts_a_trained_network(keras, digits):
    X, y = digits
    model = network(keras)
    model.fit(X / 16, y, epochs=30, verbose=0)
    feedback = checks.digits_network(model, X / 16, y, min_accuracy=0.9)
    assert feedback.passed, feedback
    assert "target 0.90" in feedback.message


@pytest.mark.parametrize(
    ("build", "says"),
    [
        (lambda keras: network(keras), "no better than guessing"),
        (lambda keras: network(keras, inputs=32), "cannot read the digits"),
        (lambda keras: network(keras, outputs=3), "10 numbers"),
        (lambda keras: network(keras, activation=None), "not probabilities"),
        (lambda keras: "a model", "should be a Keras model"),
    ],
)
def test_digits_network_names_the_problem(keras, digits, build, says):
    X, y = digits
    feedback = checks.digits_network(build(keras), X, y, min_accuracy=0.9)
    assert not feedback.passed
    assert says in feedback.message
    assert feedback.hint


def test_digits_network_reports_a_missed_target(keras, digits):
    X, y = digits
    model = network(keras)
    model.fit(X / 16, y, epochs=30, verbose=0)
    feedback = checks.digits_network(model, X / 16, y, min_accuracy=1.01)
    assert not feedback.passed and "the target is 1.01" in feedback.message
