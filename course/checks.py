"""Instant feedback on the notebooks' exercises.

Each check takes the learner's answer and returns a ``Feedback``: either "correct" with why,
or what is wrong and a hint. A check never answers a bare ``False``. An answer still left as
``...`` (the starting point of every exercise) raises ``NotImplementedError``, which says what
to do next; that is also what keeps the learner versions of the notebooks runnable.

Writing a new check: take the answer first, call ``require_answer``, compare with the expected
value, and return ``correct(...)`` or ``wrong(..., hint=...)`` with a message for each common
mistake (see docs/notebooks.md).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "Feedback",
    "correct",
    "digits_network",
    "discounted_return",
    "parameter_count",
    "q_update",
    "reaches_goal",
    "require_answer",
    "wrong",
]


@dataclass(frozen=True)
class Feedback:
    """The verdict on one answer; it displays as a short readable message in a notebook."""

    passed: bool
    message: str
    hint: str = ""

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        if self.passed:
            return f"✅ Correct: {self.message}"
        text = f"❌ Not yet: {self.message}"
        return f"{text}\n💡 Hint: {self.hint}" if self.hint else text

    def __repr__(self) -> str:
        return str(self)


def correct(message: str) -> Feedback:
    return Feedback(passed=True, message=message)


def wrong(message: str, *, hint: str) -> Feedback:
    return Feedback(passed=False, message=message, hint=hint)


def require_answer(name: str, value: Any) -> None:
    """Raise NotImplementedError when an exercise's answer is still the placeholder ``...``."""
    if value is ...:
        raise NotImplementedError(
            f"`{name}` is still `...`: write your answer in the exercise cell above, run that "
            f"cell, then run this check again."
        )


def _is_number(value: Any) -> bool:
    numeric = isinstance(value, int | float | np.integer | np.floating)
    return numeric and not isinstance(value, bool)


# --- Notebook 09: deep learning ------------------------------------------------------------


def parameter_count(answer: Any, layer_sizes: Sequence[int]) -> Feedback:
    """Check a hand count of the learned numbers in a dense network, e.g. sizes [64, 32, 10]."""
    require_answer("n_parameters", answer)
    sizes = list(layer_sizes)
    pairs = list(itertools.pairwise(sizes))
    weights = sum(n_in * n_out for n_in, n_out in pairs)
    biases = sum(n_out for _, n_out in pairs)
    expected = weights + biases
    layers = " + ".join(f"({n_in} x {n_out} + {n_out})" for n_in, n_out in pairs)
    if not _is_number(answer):
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


# --- Notebook 10: reinforcement learning ---------------------------------------------------


def discounted_return(answer: Any, rewards: Sequence[float], discount: float) -> Feedback:
    """Check a hand computation of r0 + discount * r1 + discount**2 * r2 + ..."""
    require_answer("value", answer)
    expected = sum(reward * discount**step for step, reward in enumerate(rewards))
    if not _is_number(answer):
        return wrong(
            f"the answer should be a number, got {type(answer).__name__} {answer!r}.",
            hint="write it as arithmetic, e.g. value = 0.9**2 * 10.",
        )
    if math.isclose(answer, expected, rel_tol=1e-6, abs_tol=1e-9):
        return correct(f"the return is {expected:.4g}.")
    if math.isclose(answer, sum(rewards), rel_tol=1e-6):
        return wrong(
            f"{answer:.4g} adds the rewards without discounting them.",
            hint="a reward that arrives k steps later is worth discount**k times as much.",
        )
    shifted = sum(reward * discount ** (step + 1) for step, reward in enumerate(rewards))
    if math.isclose(answer, shifted, rel_tol=1e-6):
        return wrong(
            f"{answer:.4g} discounts one step too many.",
            hint="the first reward is not discounted: its factor is discount**0 = 1.",
        )
    return wrong(
        f"{answer:.4g} is not the discounted return.",
        hint="add reward * discount**k over the steps k = 0, 1, 2, ...",
    )


def q_update(update: Callable[..., float]) -> Feedback:
    """Check a learner's ``update(q, reward, next_best, learning_rate, discount)`` function."""
    require_answer("q_update", update)
    if not callable(update):
        return wrong(
            f"`q_update` should be a function, got {type(update).__name__}.",
            hint="define it with def q_update(q, reward, next_best, learning_rate, discount):",
        )
    cases = [(0.0, 1.0, 0.0, 0.5, 0.9), (2.0, 0.0, 5.0, 0.1, 0.9), (1.0, -1.0, 3.0, 1.0, 0.5)]
    for q, reward, next_best, learning_rate, discount in cases:
        target = reward + discount * next_best
        expected = q + learning_rate * (target - q)
        try:
            got = update(q, reward, next_best, learning_rate, discount)
        except NotImplementedError:
            raise  # the starting code of the exercise: not answered yet
        except Exception as error:  # the learner's code may raise anything; report it kindly
            return wrong(
                f"q_update{(q, reward, next_best, learning_rate, discount)} raised "
                f"{type(error).__name__}: {error}",
                hint="the function takes five numbers and returns one number.",
            )
        if got is None:
            return wrong(
                "q_update returned None.",
                hint="end the function with `return` and the new Q value.",
            )
        if not _is_number(got):
            return wrong(
                f"q_update returned {type(got).__name__} {got!r}, not a number.",
                hint="return the new Q value as a single number.",
            )
        if math.isclose(got, expected, rel_tol=1e-6, abs_tol=1e-9):
            continue
        args = f"q={q}, reward={reward}, next_best={next_best}, lr={learning_rate}, "
        args += f"discount={discount}"
        if math.isclose(got, target, rel_tol=1e-6, abs_tol=1e-9):
            hint = "the new value moves only part of the way: q + learning_rate * (target - q)."
        elif math.isclose(got, q + learning_rate * (reward + next_best - q), abs_tol=1e-9):
            hint = "the future is discounted: target = reward + discount * next_best."
        elif math.isclose(got, learning_rate * (target - q), abs_tol=1e-9):
            hint = "this is the change; add it to the old value q."
        else:
            hint = "new q = q + learning_rate * (reward + discount * next_best - q)."
        return wrong(f"with {args} you return {got:.4g}, expected {expected:.4g}.", hint=hint)
    return correct("your update matches Q-learning's rule on every test case.")


def reaches_goal(agent: Any, env: Any) -> Feedback:
    """Check that a fitted agent's greedy policy walks from the start to the goal 'G'."""
    require_answer("agent", agent)
    if not hasattr(agent, "policy_"):
        return wrong(
            "the agent has not learned anything yet.",
            hint="call agent.fit(env) before checking it.",
        )
    path = env.rollout(agent.policy_)
    end = env.cell(path[-1])
    steps = len(path) - 1
    if end == "G":
        return correct(f"the greedy policy reaches the goal in {steps} steps.")
    if end == "c":
        return wrong(
            f"the greedy policy takes the coin after {steps} steps and never sees the goal.",
            hint="the agent exploits too early: raise epsilon (explore more) or n_episodes.",
        )
    return wrong(
        f"the greedy policy wanders for {steps} steps without ending the episode.",
        hint="train for more episodes so every state on the way learns a useful action.",
    )
