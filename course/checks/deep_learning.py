"""Checks for notebook 09: deep learning."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from course.checks._feedback import Feedback, correct, is_number, require_answer, wrong
from course.checks._guard import check


@check
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
    last = pairs[-1][0] * pairs[-1][1] + pairs[-1][1]
    if answer == last and len(pairs) > 1:
        return wrong(
            f"{answer} is the output layer alone.",
            hint="add the parameters of every Dense layer, the hidden layer included.",
        )
    if answer in (expected + 1, expected + 2):
        return wrong(
            f"{answer} counts the Rescaling layer's fixed numbers: Rescaling learns nothing.",
            hint="its 1/16 is chosen by you and never changes; count only the Dense layers.",
        )
    if answer == expected + sizes[0] * sizes[0] + sizes[0]:
        return wrong(
            f"{answer} counts the Rescaling layer as if it were a Dense layer of "
            f"{sizes[0]} units.",
            hint="Rescaling multiplies each pixel by a fixed 1/16: it has no weights and "
            "no biases.",
        )
    if answer == weights + len(pairs):
        return wrong(
            f"{answer} gives each layer one bias; every unit has its own.",
            hint="a Dense layer with m units learns m biases, one per unit.",
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


@check
def digits_network(
    model: Any,
    X_fit: Any,
    y_fit: Any,
    X_val: Any,
    y_val: Any,
    *,
    hidden_units: int,
    epochs: int,
    min_accuracy: float,
) -> Feedback:
    """Check a trained Keras network on the digits, on rows held out of the training rows.

    The network must read 64 pixels, have ``hidden_units`` units in its hidden layer, give 10
    probabilities, be trained for ``epochs`` epochs on the fitting rows ``X_fit, y_fit``
    (never on the validation rows ``X_val, y_val``), and reach ``min_accuracy`` on the
    validation rows. Never pass the test set: the check is part of choosing, not the evaluation.
    """
    require_answer("model", model)
    from course.evaluate import is_keras_model

    X_fit, X_val = (np.asarray(X, dtype="float32") for X in (X_fit, X_val))
    y_fit, y_val = np.asarray(y_fit), np.asarray(y_val)
    if not is_keras_model(model):
        return wrong(
            f"`model` should be a Keras model, got {type(model).__name__}.",
            hint="build it with keras.Sequential([...]), then compile and fit it.",
        )
    try:
        probabilities_val = np.asarray(model.predict(X_val, verbose=0))
        probabilities_fit = np.asarray(model.predict(X_fit, verbose=0))
    except Exception as error:  # any Keras error here means the shapes do not fit the digits
        return wrong(
            f"the network cannot read the digits: {type(error).__name__}.",
            hint=f"start the network with keras.Input(shape=({X_val.shape[1]},)): "
            f"one input per pixel.",
        )
    if probabilities_val.ndim != 2 or probabilities_val.shape[1] != 10:
        return wrong(
            f"the network outputs shape {probabilities_val.shape[1:]} per image; "
            f"it should give 10 numbers, one per digit.",
            hint='end with keras.layers.Dense(10, activation="softmax").',
        )
    if not np.allclose(probabilities_val.sum(axis=1), 1.0, atol=1e-3) or (
        probabilities_val.min() < 0
    ):
        return wrong(
            "the 10 outputs of an image do not add up to 1, so they are not probabilities.",
            hint='use activation="softmax" on the last layer.',
        )
    dense = [layer for layer in model.layers[:-1] if hasattr(layer, "units")]
    if [layer.units for layer in dense] != [hidden_units]:
        found = ", ".join(str(layer.units) for layer in dense) or "no"
        return wrong(
            f"the network has {found} hidden Dense units; the exercise asks for one hidden "
            f"layer of {hidden_units}.",
            hint=f"keep the layers of `network` and change only the hidden one: "
            f'keras.layers.Dense({hidden_units}, activation="relu").',
        )
    if not any(type(layer).__name__ == "Rescaling" for layer in model.layers):
        return wrong(
            "the network has no Rescaling layer: it reads the ink as 0 to 16, unlike `network`.",
            hint="put keras.layers.Rescaling(1 / 16) right after keras.Input(shape=(64,)).",
        )
    activation = getattr(getattr(dense[0], "activation", None), "__name__", None)
    if activation != "relu":
        return wrong(
            f"the hidden layer's activation is {activation!r}; `network`'s is 'relu'.",
            hint='give the hidden layer activation="relu": a unit fires only when its '
            "pattern is there.",
        )
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return wrong(
            "the network is not compiled, so it has no loss and no optimiser to learn with.",
            hint='call model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", '
            'metrics=["accuracy"]) before model.fit(...).',
        )
    if int(optimizer.iterations) == 0:
        return wrong(
            "the network is compiled but was never trained: its weights are still random.",
            hint=f"call model.fit(X_fit, y_fit, epochs={epochs}, batch_size=32, verbose=0).",
        )
    trained_for = getattr(getattr(model, "history", None), "params", {}).get("epochs")
    if trained_for is not None and trained_for != epochs:
        return wrong(
            f"the last fit ran for {trained_for} epochs; the exercise asks for {epochs}.",
            hint=f"pass epochs={epochs} to fit: one epoch is one pass over every fitting row.",
        )
    loss_fit = _cross_entropy(probabilities_fit, y_fit)
    loss_val = _cross_entropy(probabilities_val, y_val)
    accuracy_fit = float((probabilities_fit.argmax(axis=1) == y_fit).mean())
    accuracy = float((probabilities_val.argmax(axis=1) == y_val).mean())
    # A network does better on the rows it learned from: a loss on the validation rows lower
    # than, or (once it has learned) about as low as, on the fitting rows means it saw them.
    if loss_val < loss_fit or (accuracy_fit > 0.9 and loss_val < LEAK_RATIO * loss_fit):
        return wrong(
            f"the network does at least as well on the validation rows (loss {loss_val:.3f}) as on "
            f"the rows it should learn from (loss {loss_fit:.3f}): it was trained on the "
            f"validation rows, so they no longer tell how it does on new images.",
            hint="fit on X_fit, y_fit only; keep X_val, y_val for judging.",
        )
    if accuracy < 0.2:
        return wrong(
            f"validation accuracy is {accuracy:.2f}, no better than guessing: "
            "did the training work?",
            hint=f"call model.fit(X_fit, y_fit, epochs={epochs}, batch_size=32) on the pixels.",
        )
    if accuracy < min_accuracy:
        return wrong(
            f"validation accuracy is {accuracy:.2f}; the target is {min_accuracy:.2f}.",
            hint="check the Rescaling layer and the activations against `network`'s.",
        )
    return correct(
        f"validation accuracy is {accuracy:.2f} (target {min_accuracy:.2f}), measured on "
        f"{len(y_val)} training rows the network never learned from."
    )


LEAK_RATIO = 1.5
"""A network fitted on the fitting rows alone has a validation loss well above 1.5 times its
fitting loss on the digits (about 2.3 after 40 epochs); trained on the validation rows too,
the two are close (about 1.1), or the validation loss is the lower one."""


def _cross_entropy(probabilities: np.ndarray, y: np.ndarray) -> float:
    picked = probabilities[np.arange(len(y)), y.astype(int)]
    return float(-np.log(np.clip(picked, 1e-7, 1.0)).mean())
