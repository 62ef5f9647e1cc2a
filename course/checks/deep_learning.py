"""Checks for notebook 09: deep learning."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from course.checks._answers import expect_number
from course.checks._feedback import (
    Feedback,
    Mistake,
    correct,
    is_number,
    require_answer,
    wrong,
)
from course.checks._guard import check, describe
from course.checks._quiz import Question, Quiz


@check
def parameter_count(answer: Any, layer_sizes: Sequence[int]) -> Feedback:
    """Check a hand count of the learned numbers in a dense network, e.g. sizes [64, 32, 10]."""
    require_answer("answer", answer)
    sizes = list(layer_sizes)
    pairs = list(itertools.pairwise(sizes))
    weights = sum(n_in * n_out for n_in, n_out in pairs)
    biases = sum(n_out for _, n_out in pairs)
    expected = weights + biases
    layers = " + ".join(f"({n_in} x {n_out} + {n_out})" for n_in, n_out in pairs)
    if isinstance(answer, list | tuple) and answer and all(is_number(n) for n in answer):
        if sum(answer) == expected:
            return wrong(
                f"`answer` lists the {len(answer)} layers' counts; the exercise asks for the "
                "network's total, one number.",
                hint="add the counts of the layers up: + between them, or sum(...).",
                mistake="per-layer-counts",
            )
        return wrong(
            f"`answer` is {describe(answer)}, not one number.",
            hint="the count is a single whole number: add the numbers every layer learns.",
            mistake="not-a-number",
        )
    answer = expect_number("answer", answer, what="a count of learned numbers")
    if answer != int(answer):
        return wrong(
            f"{answer} is not a whole number: a network learns a whole number of weights and "
            "biases.",
            hint="count with whole numbers only: inputs x units weights, plus one bias per unit; "
            "no division.",
            mistake="not-whole-number",
        )
    if answer == expected:
        return correct(f"{layers} = {expected} numbers are learned.")
    if answer == weights:
        return wrong(
            f"{answer} counts the weights but not the biases.",
            hint="every unit of a Dense layer also learns one bias.",
            mistake="no-biases",
        )
    first = pairs[0][0] * pairs[0][1] + pairs[0][1]
    if answer == first and len(pairs) > 1:
        return wrong(
            f"{answer} is the first layer alone.",
            hint="add the parameters of every Dense layer, the output layer included.",
            mistake="first-layer-only",
        )
    last = pairs[-1][0] * pairs[-1][1] + pairs[-1][1]
    if answer == last and len(pairs) > 1:
        return wrong(
            f"{answer} is the output layer alone.",
            hint="add the parameters of every Dense layer, the hidden layer included.",
            mistake="output-layer-only",
        )
    if answer in (expected + 1, expected + 2):
        return wrong(
            f"{answer} counts the Rescaling layer's fixed numbers: Rescaling learns nothing.",
            hint="its 1/16 is chosen by you and never changes; count only the Dense layers.",
            mistake="counts-rescaling-numbers",
        )
    if answer == expected + sizes[0] * sizes[0] + sizes[0]:
        return wrong(
            f"{answer} counts the Rescaling layer as if it were a Dense layer of "
            f"{sizes[0]} units.",
            hint="Rescaling multiplies each pixel by a fixed 1/16: it has no weights and "
            "no biases.",
            mistake="rescaling-as-dense",
        )
    if answer == weights + len(pairs):
        return wrong(
            f"{answer} gives each layer one bias; every unit has its own.",
            hint="a Dense layer with m units learns m biases, one per unit.",
            mistake="one-bias-per-layer",
        )
    if answer == sum(sizes):
        return wrong(
            f"{answer} counts the units, not the connections between them.",
            hint="a Dense layer with n inputs and m units learns n x m weights plus m biases.",
            mistake="units-not-connections",
        )
    return wrong(
        f"{answer} is not the number of learned parameters.",
        hint="a Dense layer with n inputs and m units learns n x m weights plus m biases; "
        "add the counts of every Dense layer.",
        mistake="wrong-count",
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
    _expect_network(model)
    X_fit, X_val = _pixels("X_fit", X_fit), _pixels("X_val", X_val)
    y_fit, y_val = _digits("y_fit", y_fit, len(X_fit)), _digits("y_val", y_val, len(X_val))
    try:
        probabilities_val = np.asarray(model.predict(X_val, verbose=0))
        probabilities_fit = np.asarray(model.predict(X_fit, verbose=0))
    except Exception as error:  # any Keras error here means the shapes do not fit the digits
        return wrong(
            f"the network cannot read the digits: {type(error).__name__}.",
            hint=f"start the network with keras.Input(shape=({X_val.shape[1]},)): "
            f"one input per pixel.",
            mistake="cannot-read-digits",
        )
    if probabilities_val.ndim != 2 or probabilities_val.shape[1] != 10:
        return wrong(
            f"the network outputs shape {probabilities_val.shape[1:]} per image; "
            f"it should give 10 numbers, one per digit.",
            hint='end with keras.layers.Dense(10, activation="softmax").',
            hint_gives_answer=True,
            mistake="wrong-output-shape",
        )
    if not (np.isfinite(probabilities_val).all() and np.isfinite(probabilities_fit).all()):
        return wrong(
            "the network outputs NaN (not a number) for some images: its training blew up.",
            hint="build and train it again from keras.Sequential([...]), with the optimiser "
            '"adam" at its default learning rate and the Rescaling layer in place.',
            mistake="training-diverged",
        )
    if not np.allclose(probabilities_val.sum(axis=1), 1.0, atol=1e-3) or (
        probabilities_val.min() < 0
    ):
        return wrong(
            "the 10 outputs of an image do not add up to 1, so they are not probabilities.",
            hint='use activation="softmax" on the last layer.',
            mistake="outputs-not-probabilities",
        )
    dense = [layer for layer in model.layers[:-1] if hasattr(layer, "units")]
    if [layer.units for layer in dense] != [hidden_units]:
        found = ", ".join(str(layer.units) for layer in dense) or "no"
        return wrong(
            f"the network has {found} hidden Dense units; the exercise asks for one hidden "
            f"layer of {hidden_units}.",
            hint=f"keep the layers of `network` and change only the hidden one: "
            f'keras.layers.Dense({hidden_units}, activation="relu").',
            hint_gives_answer=True,
            mistake="wrong-hidden-units",
        )
    if not any(type(layer).__name__ == "Rescaling" for layer in model.layers):
        return wrong(
            "the network has no Rescaling layer: it reads the ink as 0 to 16, unlike `network`.",
            hint="put keras.layers.Rescaling(1 / 16) right after keras.Input(shape=(64,)).",
            hint_gives_answer=True,
            mistake="no-rescaling",
        )
    activation = getattr(getattr(dense[0], "activation", None), "__name__", None)
    if activation != "relu":
        return wrong(
            f"the hidden layer's activation is {activation!r}; `network`'s is 'relu'.",
            hint='give the hidden layer activation="relu": a unit fires only when its '
            "pattern is there.",
            mistake="wrong-activation",
        )
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return wrong(
            "the network is not compiled, so it has no loss and no optimiser to learn with.",
            hint='call model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", '
            'metrics=["accuracy"]) before model.fit(...).',
            hint_gives_answer=True,
            mistake="not-compiled",
        )
    if int(optimizer.iterations) == 0:
        return wrong(
            "the network is compiled but was never trained: its weights are still random.",
            hint=f"call model.fit(X_fit, y_fit, epochs={epochs}, batch_size=32, verbose=0).",
            hint_gives_answer=True,
            mistake="not-trained",
        )
    trained_for = getattr(getattr(model, "history", None), "params", {}).get("epochs")
    if trained_for is not None and trained_for != epochs:
        return wrong(
            f"the last fit ran for {trained_for} epochs; the exercise asks for {epochs}.",
            hint=f"pass epochs={epochs} to fit: one epoch is one pass over every fitting row.",
            mistake="wrong-epochs",
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
            mistake="trained-on-validation",
        )
    if accuracy < 0.2:
        return wrong(
            f"validation accuracy is {accuracy:.2f}, no better than guessing: "
            "did the training work?",
            hint=f"call model.fit(X_fit, y_fit, epochs={epochs}, batch_size=32) on the pixels.",
            hint_gives_answer=True,
            mistake="no-better-than-guessing",
        )
    if accuracy < min_accuracy:
        return wrong(
            f"validation accuracy is {accuracy:.2f}; the target is {min_accuracy:.2f}.",
            hint="check the Rescaling layer and the activations against `network`'s.",
            mistake="accuracy-below-target",
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


def _expect_network(model: Any) -> None:
    """Stop the check unless ``model`` is a Keras model, naming what a beginner put there."""
    from course.evaluate import is_keras_model

    kind = type(model).__name__
    if is_keras_model(model) and hasattr(model, "layers") and hasattr(model, "predict"):
        return
    if model is None:
        mistake = "compile-result-not-network"
        message = (
            "`model` is None: .compile(...) and .fit(...) change the network in "
            "place and return None (compile) or a History (fit), not the network."
        )
        hint = ("assign the network first (wider = keras.Sequential([...])), then call "
                "wider.compile(...) and wider.fit(...) on their own lines.")
    elif kind == "History" and is_keras_model(getattr(model, "model", None)):
        mistake = "history-not-network"
        message = ("`model` is the History that fit(...) returns (the loss per epoch), not the "
                   "network.")
        hint = ("keep the network in its own name: fit trains it in place; name fit's result "
                "wider_history.")
    elif isinstance(model, list | tuple) and any(is_keras_model(part) for part in model):
        mistake = "network-in-container"
        message = f"`model` is {describe(model)}; the check wants the network alone."
        hint = "put only the network (the keras.Sequential) in that name."
    elif isinstance(model, type):
        mistake = "class-not-instance"
        message = f"`model` is the class {model.__name__} itself, not a network built from it."
        hint = "build one: keras.Sequential([keras.Input(shape=(64,)), ...]), then compile and fit."
    elif type(model).__module__.split(".")[0] == "sklearn":
        mistake = "sklearn-not-network"
        message = f"`model` is a scikit-learn {kind}, not a Keras network."
        hint = "this exercise builds a network: keras.Sequential([...]), compiled and fitted."
    else:
        mistake = "not-a-network"
        message = f"`model` is {describe(model)}, not a Keras network."
        hint = "build it with keras.Sequential([...]), then compile and fit it."
    raise Mistake(wrong(message, hint=hint, mistake=mistake))


_RERUN = "re-run the notebook's cells from \"Split first\" down to rebuild it."


def _pixels(name: str, X: Any) -> np.ndarray:
    """The images as a float array, one row of pixels per image."""
    try:
        pixels = np.asarray(X, dtype="float32")
    except (TypeError, ValueError):
        raise Mistake(wrong(
            f"`{name}` is {describe(X)}, not a table of pixels (numbers).",
            hint=f"`{name}` comes from the split at the top of the notebook: {_RERUN}",
            mistake="pixels-not-numbers",
        )) from None
    if pixels.ndim != 2 or len(pixels) == 0:
        raise Mistake(wrong(
            f"`{name}` is {describe(X)}, not a table of pixels, one row per image.",
            hint=f"the check takes X_fit, y_fit, X_val, y_val in that order: the tables (X_...) "
            f"and the digits (y_...); {_RERUN}",
            mistake="pixels-not-rows",
        ))
    if not np.isfinite(pixels).all():
        raise Mistake(wrong(
            f"`{name}` holds missing values (NaN): the digits have none.",
            hint=f"something overwrote it: {_RERUN}",
            mistake="pixels-have-nan",
        ))
    return pixels


def _digits(name: str, y: Any, rows: int) -> np.ndarray:
    """The digits 0 to 9, one per image."""
    labels = np.asarray(y, dtype=object) if not isinstance(y, np.ndarray) else y
    if labels.ndim != 1 or len(labels) != rows:
        raise Mistake(wrong(
            f"`{name}` is {describe(y)}; the check wants one digit per image ({rows}).",
            hint=f"the check takes X_fit, y_fit, X_val, y_val in that order: each y_... goes "
            f"after its X_...; {_RERUN}",
            mistake="not-one-digit-per-image",
        ))
    try:
        digits = labels.astype(float)
    except (TypeError, ValueError):
        digits = np.array([np.nan])
    if not (np.isfinite(digits).all() and np.isin(digits, np.arange(10)).all()):
        raise Mistake(wrong(
            f"`{name}` holds other values than the digits 0 to 9.",
            hint=f"something overwrote it: {_RERUN}",
            mistake="not-digits",
        ))
    return digits.astype(int)


QUIZ = Quiz((
    Question(
        answer="b",
        why="the fitting score goes on rising while the validation score falls: the network "
        "memorises its fitting images. Stop when the validation score stops improving (the "
        "validation curve tells when), or give it fewer units.",
        wrong={
            "a": "under-fitting would score low on both sets; here the fitting score is 0.99, and "
            "more epochs would widen the gap.",
            "c": "leaked validation images would make the validation score look too good, close "
            "to the fitting score; here it falls.",
            "d": "the fitting score reaches 0.99, so the network learns fast enough: the problem "
            "is what it learns, not how fast.",
        },
    ),
    Question(
        answer="a",
        why="200 rows are little data for a network, and each decision must be explained: a "
        "simple model on columns that already mean something is the right tool (the left side "
        "of the feature engineering divide).",
        wrong={
            "b": "a convolutional network looks for shapes anywhere in an image; 12 columns of "
            "numbers have no positions to move around, and its decisions are hard to explain.",
            "c": "learned features need lots of data (200 rows is little) and they have no names: "
            "you could not tell an applicant why.",
            "d": "the test set is opened once, to report, never to choose: choosing by it makes "
            "its score optimistic. Compare on validation rows or with cross-validation.",
        },
    ),
    Question(
        answer="c",
        why="a convolution slides the same small detectors over every position, so a shape "
        "learned once is found anywhere; with 50,000 photos there is data enough to learn them. "
        "On the moved digits it kept 0.93 while the others fell.",
        wrong={
            "a": "a logistic regression gives each pixel its own weight: when the product moves, "
            "it lands on other pixels (on moved digits it fell to 0.59).",
            "b": "a dense network's hidden units also look at fixed pixels: it learns some "
            "features, but not ones that move (0.70 on moved digits).",
            "d": "hand-made features throw information away and take a person's time to design; "
            "with this much data, learned features win.",
        },
    ),
    Question(
        answer="d",
        why="each Dense layer is a linear function; without a bend such as relu between them, "
        "linear after linear is still linear, so extra layers add nothing a single one could "
        "not do.",
        wrong={
            "a": "the weights still learn, but what they can express shrinks to a straight-line "
            "rule: the hidden units can no longer fire only when their pattern is there.",
            "b": "the softmax on the output layer makes the outputs add up to 1, and it is "
            "still there.",
            "c": "it may train a little faster, but it loses what a network can do beyond a "
            "linear model: on most problems it scores lower, never higher for that reason.",
        },
    ),
    Question(
        answer="c",
        why="one update per batch: 2,000 / 50 = 40 batches per epoch, times 10 epochs = 400 "
        "updates.",
        wrong={
            "a": "that is one update per epoch, as if each step used all 2,000 images; with "
            "batches of 50 there are many steps per epoch.",
            "b": "40 is the number of batches, so updates, in one epoch; there are 10 epochs.",
            "d": "that is one update per image per epoch (batches of 1); a batch of 50 images "
            "gives one update.",
        },
    ),
    Question(
        answer="b",
        why="the cross-entropy is minus the log of the probability given to the right digit: "
        "-log(0.1) = 2.3. A confident right answer costs nearly 0; a confident mistake much more.",
        wrong={
            "a": "the loss does not measure a distance between digits: a 1 is not nearer to a 7 "
            "than a 3 is. It looks only at the probability of the right digit.",
            "c": "the loss is not a percentage: it has no upper limit, and 2.3 means the right "
            "digit got about 10%.",
            "d": "this loss is for one image; it is not a count of mistakes (accuracy counts "
            "those).",
        },
    ),
))
"""The key to notebook 09's quiz: the questions are in its last markdown cell tagged quiz."""
