import os

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course import checks
from course.checks import Feedback, Verdict


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
        ("2410", False, "the text '2410', not a count"),
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
        (lambda keras, digits: "a model", "not a Keras network"),
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


# --- malformed answers get specific feedback, never the safety net -------------------------

@pytest.mark.parametrize(
    ("answer", "says"),
    [
        ([2080, 330], "lists the 2 layers' counts"),
        ((64 * 32 + 32, 32 * 10 + 10), "lists the 2 layers' counts"),
        ([2080, 300], "a list of 2 items, not one number"),
        (2410.5, "not a whole number"),
        (float("nan"), "nan, not a count"),
        (None, "None, not a count"),
        (True, "True, not a count"),
    ],
)
def test_parameter_count_reads_what_a_beginner_writes(answer, says):
    feedback = checks.parameter_count(answer, layer_sizes=[64, 32, 10])
    assert feedback.verdict is Verdict.NOT_YET and feedback.error == ""
    assert says in feedback.message, feedback
    assert feedback.hint and not feedback.hint_gives_answer


def test_parameter_count_takes_a_float_count():
    assert checks.parameter_count(2410.0, layer_sizes=[64, 32, 10]).passed


def test_digits_network_reads_what_a_beginner_puts_in_place_of_the_network(keras, digits, right):
    from sklearn.linear_model import LogisticRegression

    cases = [
        (None, ".compile(...) and .fit(...) change the network in place"),
        (right.history, "the History that fit(...) returns"),
        ((right, right.history), "the network alone"),
        (keras.Sequential, "the class Sequential itself"),
        (LogisticRegression(), "a scikit-learn LogisticRegression"),
        (np.zeros((3, 10)), "not a Keras network"),
    ]
    for answer, says in cases:
        feedback = check(answer, digits)
        assert feedback.verdict is Verdict.NOT_YET and feedback.error == "", feedback
        assert says in feedback.message, feedback


def test_digits_network_names_a_network_whose_training_blew_up(keras, digits):
    model = network(keras)
    model.fit(digits[0][:32], digits[1][:32], epochs=1, batch_size=32, verbose=0)
    model.layers[-1].set_weights([np.full(w.shape, np.nan) for w in model.layers[-1].get_weights()])
    feedback = check(model, digits)
    assert feedback.error == "" and "outputs NaN" in feedback.message


def test_digits_network_reads_swapped_or_overwritten_rows(right, digits):
    X_fit, y_fit, X_val, y_val = digits
    cases = [
        ((y_fit, X_fit, X_val, y_val), "of 300 values, not a table of pixels"),
        ((X_fit, y_fit, y_val, X_val), "of 100 values, not a table of pixels"),
        ((X_fit, y_fit, X_val, y_val[:50]), "one digit per image (100)"),
        ((X_fit, y_fit, X_val, y_val + 10), "other values than the digits 0 to 9"),
        ((X_fit, y_fit, np.full_like(X_val, np.nan), y_val), "missing values (NaN)"),
        ((X_fit, y_fit, "X_val", y_val), "not a table of pixels"),
    ]
    for rows, says in cases:
        feedback = checks.digits_network(
            right, *rows, hidden_units=64, epochs=EPOCHS, min_accuracy=0.8
        )
        assert feedback.verdict is Verdict.NOT_YET and feedback.error == "", feedback
        assert says in feedback.message, feedback


# --- hypothesis: whatever lands in an answer's place, the answer is feedback ---------------

MALFORMED = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-10**6, 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.lists(st.integers(0, 5000), max_size=4),
    st.builds(lambda n: np.full(n, np.nan), st.integers(0, 4)),
    st.builds(lambda n: pd.DataFrame({"a": range(n)}), st.integers(0, 3)),
)


@settings(max_examples=30, deadline=None)
@given(MALFORMED)
def test_parameter_count_answers_any_value_with_feedback(answer):
    feedback = checks.parameter_count(answer, layer_sizes=[64, 32, 10])
    assert isinstance(feedback, Feedback) and not feedback.passed
    assert feedback.error == "", feedback


@settings(max_examples=30, deadline=None)
@given(MALFORMED)
def test_digits_network_answers_any_network_with_feedback(answer):
    feedback = checks.digits_network(
        answer, np.zeros((4, 64)), np.arange(4), np.zeros((4, 64)), np.arange(4),
        hidden_units=64, epochs=EPOCHS, min_accuracy=0.8,
    )
    assert isinstance(feedback, Feedback) and not feedback.passed
    assert feedback.error == "", feedback


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 3), MALFORMED)
def test_digits_network_answers_any_rows_with_feedback(right, digits, position, value):
    rows = list(digits)
    rows[position] = value
    feedback = checks.digits_network(
        right, *rows, hidden_units=64, epochs=EPOCHS, min_accuracy=0.8
    )
    assert isinstance(feedback, Feedback) and not feedback.passed
    assert feedback.error == "", feedback


# --- the quiz -------------------------------------------------------------------------------

def test_the_quiz_marks_the_notebook_answers_right_and_a_confusion_specifically():
    right = {1: "b", 2: "a", 3: "c", 4: "d", 5: "c", 6: "b"}
    assert checks.quiz("09", right).passed
    feedback = checks.quiz("09", {**right, 5: "b"})
    assert not feedback.passed and "in one epoch; there are 10" in feedback.parts[4].message


def test_hints_that_write_an_answer_line_wait_behind_a_disclosure(keras, digits):
    feedback = check(network(keras, units=32), digits)  # the hint writes the hidden layer out
    assert "Dense(64" in feedback.hint and feedback.hint_gives_answer
    feedback = check(network(keras), digits)  # never trained: the hint writes the fit call
    assert "fit(X_fit, y_fit, epochs=40" in feedback.hint and feedback.hint_gives_answer
    counted = checks.parameter_count(1234, layer_sizes=[64, 32, 10])
    assert "count_params" not in counted.hint and not counted.hint_gives_answer
