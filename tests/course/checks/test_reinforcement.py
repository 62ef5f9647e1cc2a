
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course import checks
from course.checks import Feedback, Verdict
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
        (None, False, "None, not a number"),
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


# --- malformed answers get specific feedback, never the safety net -------------------------

@pytest.mark.parametrize(
    ("answer", "says"),
    [
        ([0, 0, 0, 0.9**3 * 10], "lists 4 discounted rewards"),
        (np.array([0.0, 0.0, 0.0, 7.29]), "lists 4 discounted rewards"),
        ([1, 2, 3], "not one number"),
        ("7.29", "the text '7.29', not a number"),
        (float("nan"), "nan, not a number"),
        (True, "True, not a number"),
        (0.9**3, "a discount factor alone"),
        (7.3, "close, but rounded"),
    ],
)
def test_discounted_return_reads_what_a_beginner_writes(answer, says):
    feedback = checks.discounted_return(answer, rewards=[0, 0, 0, 10], discount=0.9)
    assert feedback.verdict is Verdict.NOT_YET and feedback.error == ""
    assert says in feedback.message, feedback
    assert feedback.hint and not feedback.hint_gives_answer


@pytest.mark.parametrize(
    ("update", "says"),
    [
        (lambda q, r, n, lr, d: float("nan"), "returned nan"),
        (lambda q, r, n, lr, d: "1.0", "the text '1.0', not a number"),
        (3.5, "should be a function, but it is the number 3.5"),
        (None, "should be a function, but it is None"),
    ],
)
def test_q_update_reads_what_a_beginner_writes(update, says):
    feedback = checks.q_update(update)
    assert feedback.verdict is Verdict.NOT_YET and feedback.error == ""
    assert says in feedback.message, feedback


def test_reaches_goal_reads_what_a_beginner_writes():
    env = GridWorld()
    agent = QLearningAgent(epsilon=0.2, random_state=0).fit(env)
    cases = [
        (QLearningAgent, "the class QLearningAgent itself"),
        (env, "the world (a GridWorld)"),
        (None, "None, not a QLearningAgent"),
        (agent.policy_, "not a QLearningAgent"),
        ((agent, env), "a tuple of 2 items, not a QLearningAgent"),
        (QLearningAgent(epsilon=0.2, random_state=0), "not learned anything"),
    ]
    for answer, says in cases:
        feedback = checks.reaches_goal(answer, env, **KEPT)
        assert feedback.verdict is Verdict.NOT_YET and feedback.error == "", (answer, feedback)
        assert says in feedback.message, feedback
    agent.n_episodes = "2000"  # changed after training, as text
    feedback = checks.reaches_goal(agent, env, **KEPT)
    assert feedback.error == "" and "cannot train an agent again" in feedback.message


# --- hypothesis: whatever lands in an answer's place, the answer is feedback ---------------

MALFORMED = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-10**6, 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.lists(st.floats(allow_nan=True), max_size=5),
    st.builds(lambda n: np.full(n, np.nan), st.integers(0, 4)),
    st.builds(lambda n: pd.DataFrame({"a": range(n)}), st.integers(0, 3)),
    st.just(GridWorld()),
    st.just(QLearningAgent()),
)


@settings(max_examples=30, deadline=None)
@given(MALFORMED)
def test_discounted_return_answers_any_value_with_feedback(answer):
    feedback = checks.discounted_return(answer, rewards=[0, 0, 0, 10], discount=0.9)
    assert isinstance(feedback, Feedback) and not feedback.passed
    assert feedback.error == "", feedback


@settings(max_examples=30, deadline=None)
@given(st.one_of(MALFORMED, st.builds(lambda value: lambda *args: value, MALFORMED)))
def test_q_update_answers_any_value_or_function_with_feedback(update):
    feedback = checks.q_update(update)
    assert isinstance(feedback, Feedback) and not feedback.passed
    assert feedback.error == "", feedback


@settings(max_examples=30, deadline=None)
@given(MALFORMED)
def test_reaches_goal_answers_any_agent_with_feedback(agent):
    feedback = checks.reaches_goal(agent, GridWorld(), **KEPT)
    assert isinstance(feedback, Feedback) and not feedback.passed
    assert feedback.error == "", feedback


# --- the quiz -------------------------------------------------------------------------------

def test_the_quiz_marks_the_notebook_answers_right_and_a_confusion_specifically():
    right = {1: "b", 2: "c", 3: "d", 4: "a", 5: "b", 6: "c"}
    assert checks.quiz("10", right).passed
    feedback = checks.quiz("10", {**right, 2: "d"})
    assert not feedback.passed and "more of the same" in feedback.parts[1].message


@pytest.mark.parametrize(
    ("update", "gives"),
    [
        (lambda q, r, n, lr, d: r + d * n, True),  # the hint writes the update rule out
        (lambda q, r, n, lr, d: 0.123, True),
        (lambda q, r, n, lr, d: lr * (r + d * n - q), False),
        (lambda q, r, n, lr, d: q + d * (r + lr * n - q), False),
    ],
)
def test_q_update_hints_that_write_the_rule_wait_behind_a_disclosure(update, gives):
    feedback = checks.q_update(update)
    assert feedback.hint_gives_answer is gives
    assert ("learning_rate * (" in feedback.hint) is gives
