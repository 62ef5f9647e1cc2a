
import numpy as np
import pytest

from course import checks
from course.rl import GridWorld, QLearningAgent


def test_q_update_left_as_its_starting_code_counts_as_not_answered():
    def q_update(q, reward, next_best, learning_rate, discount):
        raise NotImplementedError("replace this line")

    with pytest.raises(NotImplementedError, match="replace this line"):
        checks.q_update(q_update)


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
