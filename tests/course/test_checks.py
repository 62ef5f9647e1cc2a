import os

import numpy as np
import pytest

from course import checks
from course.rl import GridWorld, QLearningAgent


def test_feedback_reads_as_a_verdict_with_a_hint():
    good = checks.correct("well done.")
    bad = checks.wrong("off by one.", hint="count the biases.")
    assert good and not bad
    assert repr(good) == "✅ Correct: well done."
    assert repr(bad) == "❌ Not yet: off by one.\n💡 Hint: count the biases."


def test_a_placeholder_answer_raises_a_clear_not_implemented_error():
    with pytest.raises(NotImplementedError, match=r"`n_parameters` is still `\.\.\.`"):
        checks.parameter_count(..., layer_sizes=[64, 32, 10])
    for check, args in [
        (checks.discounted_return, ([1.0], 0.9)),
        (checks.q_update, ()),
        (checks.reaches_goal, (GridWorld(),)),
    ]:
        with pytest.raises(NotImplementedError, match="run this check again"):
            check(..., *args)


def test_q_update_left_as_its_starting_code_counts_as_not_answered():
    def q_update(q, reward, next_best, learning_rate, discount):
        raise NotImplementedError("replace this line")

    with pytest.raises(NotImplementedError, match="replace this line"):
        checks.q_update(q_update)


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


@pytest.mark.parametrize(
    ("answer", "passed", "says"),
    [
        (0.9**3 * 10, True, "7.29"),
        (10, False, "without discounting"),
        (0.9**4 * 10, False, "one step too many"),
        (5.0, False, "not the discounted return"),
        (None, False, "should be a number"),
    ],
)
def test_discounted_return_names_the_mistake(answer, passed, says):
    feedback = checks.discounted_return(answer, rewards=[0, 0, 0, 10], discount=0.9)
    assert feedback.passed is passed
    assert says in feedback.message


def right_update(q, reward, next_best, learning_rate, discount):
    return q + learning_rate * (reward + discount * next_best - q)


@pytest.mark.parametrize(
    ("update", "passed", "says"),
    [
        (right_update, True, "matches"),
        (lambda q, r, n, lr, d: r + d * n, False, "part of the way"),
        (lambda q, r, n, lr, d: q + lr * (r + n - q), False, "discounted"),
        (lambda q, r, n, lr, d: lr * (r + d * n - q), False, "add it to the old value"),
        (lambda q, r, n, lr, d: None, False, "returned None"),
        (lambda q, r, n, lr, d: [q], False, "not a number"),
        (lambda q, r: q, False, "raised TypeError"),
        (42, False, "should be a function"),
    ],
)
def test_q_update_names_the_mistake(update, passed, says):
    feedback = checks.q_update(update)
    assert feedback.passed is passed
    assert says in f"{feedback.message} {feedback.hint}"


def test_reaches_goal_tells_greed_from_success():
    env = GridWorld()
    assert "not learned" in checks.reaches_goal(QLearningAgent(), env).message
    explorer = QLearningAgent(epsilon=0.5, random_state=0).fit(env)
    assert checks.reaches_goal(explorer, env).passed
    greedy = QLearningAgent(epsilon=0.0, random_state=0).fit(env)
    feedback = checks.reaches_goal(greedy, env)
    assert not feedback.passed and "coin" in feedback.message and "epsilon" in feedback.hint


def test_reaches_goal_notices_a_policy_that_walks_in_circles():
    env = GridWorld()
    agent = QLearningAgent(n_episodes=1, max_steps=1, epsilon=0.0, random_state=0).fit(env)
    agent.policy_ = np.full(env.n_states, 0)  # always up: stuck against the top edge
    assert "wanders" in checks.reaches_goal(agent, env).message


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
