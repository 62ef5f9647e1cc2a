
import numpy as np
import pytest

from course import checks
from course.checks import Verdict
from course.rl import GridWorld, QLearningAgent


def test_q_update_left_as_its_starting_code_counts_as_not_answered():
    def q_update(q, reward, next_best, learning_rate, discount):
        raise NotImplementedError("replace this line")

    feedback = checks.q_update(q_update)
    assert feedback.verdict is Verdict.NOT_ANSWERED


@pytest.mark.parametrize(
    ("answer", "passed", "says"),
    [
        (0.9**3 * 10, True, "7.29"),
        (10, False, "without discounting"),
        (0.9**4 * 10, False, "one step too many"),
        (0.9 * 10, False, "discounts every reward once"),
        (0.9 * 3 * 10, False, "multiplies the discount by k"),
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
        (lambda q, r, n, lr, d: q + lr * (q - (r + d * n)), False, "sign is flipped"),
        (lambda q, r, n, lr, d: q + d * (r + lr * n - q), False, "are swapped"),
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


# Exercise 3 of notebook 10: reach the goal with epsilon=0.2 and random_state=0 kept.
KEPT = {"epsilon": 0.2, "random_state": 0}


def test_reaches_goal_passes_a_patient_agent():
    env = GridWorld()
    patient = QLearningAgent(epsilon=0.2, n_episodes=2000, random_state=0).fit(env)
    feedback = checks.reaches_goal(patient, env, **KEPT)
    assert feedback.passed and "4 steps" in feedback.message
    feedback = checks.reaches_goal(..., env, **KEPT)
    assert feedback.verdict is Verdict.NOT_ANSWERED


@pytest.mark.parametrize(
    ("agent", "world", "says"),
    [
        # the starting point: 300 episodes are too few at epsilon=0.2
        (QLearningAgent(epsilon=0.2, random_state=0), {}, "takes the coin"),
        # explores more: reaches the goal, but the statement keeps epsilon
        (QLearningAgent(epsilon=0.5, random_state=0), {}, "epsilon=0.5, but the exercise keeps"),
        # tries seeds until one is lucky
        (QLearningAgent(epsilon=0.2, random_state=1), {}, "random_state=1, but the exercise"),
        # removes the temptation instead of exploring: trained in a world without a coin
        (QLearningAgent(epsilon=0.2, random_state=0), {"coin_reward": 0.0}, "another world"),
        # too little training to learn anything
        (QLearningAgent(epsilon=0.2, n_episodes=1, max_steps=1, random_state=0), {}, "wanders"),
    ],
)
def test_reaches_goal_names_the_mistake(agent, world, says):
    env = GridWorld()
    agent.fit(GridWorld(**world))
    feedback = checks.reaches_goal(agent, env, **KEPT)
    assert not feedback.passed
    assert says in feedback.message
    assert feedback.hint


def test_reaches_goal_notices_a_policy_edited_by_hand():
    env = GridWorld()
    agent = QLearningAgent(epsilon=0.2, random_state=0).fit(env)
    agent.policy_ = np.array([2] * env.n_states)  # "down" everywhere, written by hand
    assert "edited by hand" in checks.reaches_goal(agent, env, **KEPT).message
