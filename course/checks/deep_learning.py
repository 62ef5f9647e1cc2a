"""Checks for notebook 09: deep learning."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from course.checks._feedback import Feedback, correct, is_number, require_answer, wrong


def parameter_count(answer: Any, layer_sizes: Sequence[int]) -> Feedback:
    """Check a hand count of the learned numbers in a dense network, e.g. sizes [64, 32, 10]."""
    require_answer("n_parameters", answer)
    sizes = list(layer_sizes)
    pairs = list(itertools.pairwise(sizes))
    weights = sum(n_in * n_out for n_in, n_out in pairs)
    biases = sum(n_out for _, n_out in pairs)
    expected = weights + biases
    layers = " + ".join(f"({n_in} x {n_out} + {n_out})" for n_in, n_out in pairs)
    if not is_number(answer):
        return wrong(
            f"the answer should be a number, got {type(answer).__name__} {answer!r}.",
            hint="write the count as an integer, e.g. n_parameters = 100 + 20.",
        )
    if answer == expected:
        return correct(f"{layers} = {expected} numbers are learned.")
    if answer == weights:
        return wrong(
            f"{answer} counts the weights but not the biases.",
            hint="every unit of a Dense layer also learns one bias.",
        )
    first = pairs[0][0] * pairs[0][1] + pairs[0][1]
    if answer == first and len(pairs) > 1:
        return wrong(
            f"{answer} is the first layer alone.",
            hint="add the parameters of every Dense layer, the output layer included.",
        )
    if answer == sum(sizes):
        return wrong(
            f"{answer} counts the units, not the connections between them.",
            hint="a Dense layer with n inputs and m units learns n x m weights plus m biases.",
        )
    return wrong(
        f"{answer} is not the number of learned parameters.",
        hint="a Dense layer with n inputs and m units learns n x m weights plus m biases; "
        "compare with model.count_params().",
    )


def digits_network(model: Any, X_test: Any, y_test: Any, *, min_accuracy: float) -> Feedback:
    """Check a trained Keras network on the digits: 64 pixels in, 10 probabilities out."""
    require_answer("model", model)
    X_test = np.asarray(X_test, dtype="float32")
    y_test = np.asarray(y_test)
    if not callable(getattr(model, "predict", None)):
        return wrong(
            f"`model` should be a Keras model, got {type(model).__name__}.",
            hint="build it with keras.Sequential([...]), then compile and fit it.",
        )
    try:
        probabilities = np.asarray(model.predict(X_test, verbose=0))
    except Exception as error:  # any Keras error here means the shapes do not fit the digits
        return wrong(
            f"the network cannot read the digits: {type(error).__name__}.",
            hint=f"start the network with keras.Input(shape=({X_test.shape[1]},)): "
            f"one input per pixel.",
        )
    if probabilities.ndim != 2 or probabilities.shape[1] != 10:
        return wrong(
            f"the network outputs shape {probabilities.shape[1:]} per image; "
            f"it should give 10 numbers, one per digit.",
            hint='end with keras.layers.Dense(10, activation="softmax").',
        )
    if not np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-3):
        return wrong(
            "the 10 outputs of an image do not add up to 1, so they are not probabilities.",
            hint='use activation="softmax" on the last layer.',
        )
    accuracy = float((probabilities.argmax(axis=1) == y_test).mean())
    if accuracy < 0.2:
        return wrong(
            f"test accuracy is {accuracy:.2f}, no better than guessing: was the network trained?",
            hint="call model.compile(...) then model.fit(X_train, y_train, epochs=...).",
        )
    if accuracy < min_accuracy:
        return wrong(
            f"test accuracy is {accuracy:.2f}; the target is {min_accuracy:.2f}.",
            hint="train for more epochs, or add units to the hidden layer.",
        )
    return correct(f"test accuracy is {accuracy:.2f} (target {min_accuracy:.2f}).")
