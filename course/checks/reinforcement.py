"""Checks for notebook 10: reinforcement learning."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from course.checks._feedback import Feedback, correct, is_number, require_answer, wrong
from course.checks._guard import check


@check
def discounted_return(answer: Any, rewards: Sequence[float], discount: float) -> Feedback:
    """Check a hand computation of r0 + discount * r1 + discount**2 * r2 + ..."""
    require_answer("value", answer)
    expected = sum(reward * discount**step for step, reward in enumerate(rewards))
    if not is_number(answer):
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
    once = sum(reward * discount for reward in rewards)
    if math.isclose(answer, once, rel_tol=1e-6):
        return wrong(
            f"{answer:.4g} discounts every reward once, whenever it arrives.",
            hint="the later the reward, the more it is discounted: multiply by discount**k, "
            "k being its step (0 for the first).",
        )
    times_k = sum(reward * discount * step for step, reward in enumerate(rewards))
    if math.isclose(answer, times_k, rel_tol=1e-6):
        return wrong(
            f"{answer:.4g} multiplies the discount by k instead of raising it to the power k.",
            hint="in Python, discount**k is the power; discount * k is a product.",
        )
    return wrong(
        f"{answer:.4g} is not the discounted return.",
        hint="add reward * discount**k over the steps k = 0, 1, 2, ...",
    )


@check
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
        if not is_number(got):
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
        elif math.isclose(got, q + learning_rate * (q - target), abs_tol=1e-9):
            hint = "the sign is flipped: the update moves q away from the target. Use (target - q)."
        elif math.isclose(got, q + discount * (reward + learning_rate * next_best - q),
                          abs_tol=1e-9):
            hint = "learning_rate and discount are swapped: the discount multiplies next_best."
        else:
            hint = "new q = q + learning_rate * (reward + discount * next_best - q)."
        return wrong(f"with {args} you return {got:.4g}, expected {expected:.4g}.", hint=hint)
    return correct("your update matches Q-learning's rule on every test case.")


@check
def reaches_goal(
    agent: Any, env: Any, *, epsilon: float | None = None, random_state: int | None = None
) -> Feedback:
    """Check that a fitted agent's greedy policy walks from the start to the goal 'G'.

    ``epsilon`` and ``random_state``, when given, are the settings the exercise keeps fixed:
    another seed can be lucky, and more exploration is another exercise. The agent is then
    trained again with its own settings in ``env``: its policy must be what that training gives
    (not learned in another world, nor edited by hand).
    """
    require_answer("agent", agent)
    if not hasattr(agent, "policy_"):
        return wrong(
            "the agent has not learned anything yet.",
            hint="call agent.fit(env) before checking it.",
        )
    for name, kept in (("epsilon", epsilon), ("random_state", random_state)):
        given = getattr(agent, name, None)
        if kept is not None and given != kept:
            return wrong(
                f"the agent has {name}={given!r}, but the exercise keeps {name}={kept!r}.",
                hint=f"keep {name}={kept!r} and change how long it trains: n_episodes.",
            )
    names = ("n_episodes", "learning_rate", "discount", "epsilon", "max_steps", "random_state")
    if all(hasattr(agent, name) for name in names):
        from course.rl import QLearningAgent

        replay = QLearningAgent(**{name: getattr(agent, name) for name in names}).fit(env)
        if not np.array_equal(replay.policy_, agent.policy_):
            return wrong(
                "the agent's policy is not what training it in `env` gives: was it trained in "
                "another world (other rewards, no coin), or was its policy edited by hand?",
                hint="train it in the notebook's world: QLearningAgent(...).fit(env).",
            )
    path = env.rollout(agent.policy_)
    end = env.cell(path[-1])
    steps = len(path) - 1
    if end == "G":
        return correct(f"the greedy policy reaches the goal in {steps} steps.")
    if end == "c":
        return wrong(
            f"the greedy policy takes the coin after {steps} steps and never sees the goal.",
            hint="the agent exploits too early: raise epsilon (explore more) or n_episodes."
            if epsilon is None
            else "epsilon is fixed here: give the rare exploring moves more episodes "
            "(n_episodes) to find the goal.",
        )
    return wrong(
        f"the greedy policy wanders for {steps} steps without ending the episode.",
        hint="train for more episodes so every state on the way learns a useful action.",
    )
