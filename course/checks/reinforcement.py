"""Checks for notebook 10: reinforcement learning."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from course.checks._answers import expect_number
from course.checks._feedback import Feedback, correct, is_number, require_answer, wrong
from course.checks._guard import check, describe
from course.checks._quiz import Question, Quiz


@check
def discounted_return(answer: Any, rewards: Sequence[float], discount: float) -> Feedback:
    """Check a hand computation of r0 + discount * r1 + discount**2 * r2 + ..."""
    require_answer("answer", answer)
    expected = sum(reward * discount**step for step, reward in enumerate(rewards))
    if _numbers(answer):
        # the discounted rewards one by one, e.g. [0, 0, 0, 7.29]: a common first try
        if math.isclose(float(np.sum(answer)), expected, rel_tol=1e-6, abs_tol=1e-9):
            return wrong(
                f"`answer` lists {len(answer)} discounted rewards; the return is one number, "
                "their sum.",
                hint="add the discounted rewards up: sum(...) or +.",
                mistake="discounted-rewards-not-summed",
            )
        return wrong(
            f"`answer` is {describe(answer)}, not one number.",
            hint="the return adds every discounted reward into a single number.",
            mistake="not-a-number",
        )
    answer = expect_number("answer", answer, what="a number (the discounted return)")
    if math.isclose(answer, expected, rel_tol=1e-6, abs_tol=1e-9):
        return correct(f"the return is {expected:.4g}.")
    if math.isclose(answer, sum(rewards), rel_tol=1e-6):
        return wrong(
            f"{answer:.4g} adds the rewards without discounting them.",
            hint="a reward that arrives k steps later is worth discount**k times as much.",
            mistake="not-discounted",
        )
    shifted = sum(reward * discount ** (step + 1) for step, reward in enumerate(rewards))
    if math.isclose(answer, shifted, rel_tol=1e-6):
        return wrong(
            f"{answer:.4g} discounts one step too many.",
            hint="the first reward is not discounted: its factor is discount**0 = 1.",
            mistake="discounted-one-step-too-many",
        )
    once = sum(reward * discount for reward in rewards)
    if math.isclose(answer, once, rel_tol=1e-6):
        return wrong(
            f"{answer:.4g} discounts every reward once, whenever it arrives.",
            hint="the later the reward, the more it is discounted: multiply by discount**k, "
            "k being its step (0 for the first).",
            mistake="discounted-once",
        )
    times_k = sum(reward * discount * step for step, reward in enumerate(rewards))
    if math.isclose(answer, times_k, rel_tol=1e-6):
        return wrong(
            f"{answer:.4g} multiplies the discount by k instead of raising it to the power k.",
            hint="in Python, discount**k is the power; discount * k is a product.",
            mistake="multiplied-not-powered",
        )
    factors = {discount**step for step, reward in enumerate(rewards) if reward}
    if any(math.isclose(answer, factor, rel_tol=1e-6) for factor in factors):
        return wrong(
            f"{answer:.4g} is a discount factor alone, without the reward it multiplies.",
            hint="each factor discount**k multiplies the reward of step k.",
            mistake="discount-without-reward",
        )
    if expected and math.isclose(answer, expected, rel_tol=0.01):
        return wrong(
            f"{answer:.4g} is close, but rounded: the check wants the exact value.",
            hint="write the arithmetic itself instead of its rounded result.",
            mistake="rounded-too-much",
        )
    return wrong(
        f"{answer:.4g} is not the discounted return.",
        hint="add reward * discount**k over the steps k = 0, 1, 2, ...",
        mistake="wrong-return",
    )


def _numbers(value: Any) -> bool:
    """A list, tuple or 1-D array of several numbers (not a single one)."""
    if isinstance(value, np.ndarray):
        return value.ndim == 1 and value.size > 1 and np.issubdtype(value.dtype, np.number)
    return (
        isinstance(value, list | tuple) and len(value) > 1 and all(is_number(v) for v in value)
    )


@check
def q_update(update: Callable[..., float]) -> Feedback:
    """Check a learner's ``update(q, reward, next_best, learning_rate, discount)`` function."""
    require_answer("update", update)
    if not callable(update):
        return wrong(
            f"`update` should be a function, but it is {describe(update)}.",
            hint="define it with def q_update(q, reward, next_best, learning_rate, discount): "
            "and pass its name, without parentheses.",
            mistake="not-a-function",
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
                mistake="update-raises",
            )
        if got is None:
            return wrong(
                "q_update returned None.",
                hint="end the function with `return` and the new Q value.",
                mistake="returns-none",
            )
        if not is_number(got):
            return wrong(
                f"q_update returned {describe(got)}, not a number.",
                hint="return the new Q value as a single number.",
                mistake="returns-non-number",
            )
        if not math.isfinite(got):
            return wrong(
                f"q_update{(q, reward, next_best, learning_rate, discount)} returned {got}.",
                hint="a NaN or an infinity comes from a division or a missing value: the rule "
                "only multiplies and adds.",
                mistake="returns-non-finite",
            )
        if math.isclose(got, expected, rel_tol=1e-6, abs_tol=1e-9):
            continue
        args = f"q={q}, reward={reward}, next_best={next_best}, lr={learning_rate}, "
        args += f"discount={discount}"
        gives = True  # these hints write the rule out: behind a disclosure
        if math.isclose(got, target, rel_tol=1e-6, abs_tol=1e-9):
            hint = "the new value moves only part of the way: q + learning_rate * (target - q)."
        elif math.isclose(got, q + learning_rate * (reward + next_best - q), abs_tol=1e-9):
            hint = "the future is discounted: target = reward + discount * next_best."
        elif math.isclose(got, learning_rate * (target - q), abs_tol=1e-9):
            hint, gives = "this is the change; add it to the old value q.", False
        elif math.isclose(got, q + learning_rate * (q - target), abs_tol=1e-9):
            hint = "the sign is flipped: the update moves q away from the target. Use (target - q)."
        elif math.isclose(got, q + discount * (reward + learning_rate * next_best - q),
                          abs_tol=1e-9):
            hint = "learning_rate and discount are swapped: the discount multiplies next_best."
            gives = False
        else:
            hint = "new q = q + learning_rate * (reward + discount * next_best - q)."
        return wrong(
            f"with {args} you return {got:.4g}, expected {expected:.4g}.",
            hint=hint,
            hint_gives_answer=gives,
            mistake="wrong-update",
        )
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
    from course.rl import GridWorld, QLearningAgent

    if agent is QLearningAgent:
        return wrong(
            "`agent` is the class QLearningAgent itself, not an agent made from it.",
            hint="call it with your settings, then train it: QLearningAgent(...).fit(env).",
            mistake="class-not-instance",
        )
    if isinstance(agent, GridWorld):
        return wrong(
            "`agent` is the world (a GridWorld), not the agent that learns in it.",
            hint="the agent is a QLearningAgent: QLearningAgent(...).fit(env).",
            mistake="world-not-agent",
        )
    if not isinstance(agent, QLearningAgent):
        return wrong(
            f"`agent` is {describe(agent)}, not a QLearningAgent.",
            hint="create the agent with QLearningAgent(...) and train it with .fit(env); "
            ".fit returns the agent itself.",
            mistake="not-an-agent",
        )
    if not hasattr(agent, "policy_"):
        return wrong(
            "the agent has not learned anything yet.",
            hint="call agent.fit(env) before checking it.",
            mistake="not-trained",
        )
    for name, kept in (("epsilon", epsilon), ("random_state", random_state)):
        given = getattr(agent, name, None)
        if kept is not None and given != kept:
            return wrong(
                f"the agent has {name}={given!r}, but the exercise keeps {name}={kept!r}.",
                hint=f"keep {name}={kept!r} and change how long it trains: n_episodes.",
                mistake="settings-changed",
            )
    names = ("n_episodes", "learning_rate", "discount", "epsilon", "max_steps", "random_state")
    if all(hasattr(agent, name) for name in names):
        try:
            replay = QLearningAgent(**{name: getattr(agent, name) for name in names}).fit(env)
        except (TypeError, ValueError) as error:
            return wrong(
                f"the agent's settings cannot train an agent again ({error})",
                hint="set them only when creating the agent: QLearningAgent(n_episodes=..., "
                "epsilon=..., random_state=...), numbers without quotes.",
                mistake="cannot-retrain",
            )
        if not np.array_equal(replay.policy_, agent.policy_):
            return wrong(
                "the agent's policy is not what training it in `env` gives: was it trained in "
                "another world (other rewards, no coin), or was its policy edited by hand?",
                hint="train it in the notebook's world: QLearningAgent(...).fit(env).",
                mistake="policy-not-from-env",
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
            mistake="stops-at-coin",
        )
    return wrong(
        f"the greedy policy wanders for {steps} steps without ending the episode.",
        hint="train for more episodes so every state on the way learns a useful action.",
        mistake="policy-wanders",
    )


QUIZ = Quiz((
    Question(
        answer="b",
        why="with a discount of 0, a reward one move later is worth 0 now: only the next "
        "reward counts, so the single patch wins. The discount sets how far ahead an agent looks.",
        wrong={
            "a": "the room is worth 20 × 0**2 = 0 from here: a discount of 0 makes every reward "
            "after the next move worthless, however large.",
            "c": "that is a discount of 1. The discount is the weight of one move's delay: 0 "
            "ignores the future entirely.",
            "d": "the agent still learns, from the next reward alone; the learning rate, not the "
            "discount, sets how much each update changes Q.",
        },
    ),
    Question(
        answer="c",
        why="the greedy agent never tries anything but the coin, so it cannot learn that the "
        "goal pays 10: only exploration (random moves with probability epsilon) can find it.",
        wrong={
            "a": "a faster learner still learns only from what it does: it never goes near the "
            "goal, so there is nothing about the goal to learn faster.",
            "b": "a smaller discount makes the far goal worth even less compared with the near "
            "coin: it pushes towards the coin.",
            "d": "with epsilon = 0 every episode repeats the coin path: more of the same "
            "episodes teach nothing new.",
        },
    ),
    Question(
        answer="d",
        why="Q[s, a] estimates the discounted return of taking a in s, then acting well: here "
        "0.9³ × 10, the goal four moves away.",
        wrong={
            "a": "Q is not a count of moves: it is a value, in points, learned from rewards.",
            "b": "Q values are not probabilities: they are in points (the goal is worth 10) and "
            "need not add up to anything.",
            "c": "the move down earns 0 by itself; 7.29 includes the rewards that follow it, "
            "discounted.",
        },
    ),
    Question(
        answer="a",
        why="with learning_rate = 1 the new estimate is the target itself: the old estimate is "
        "forgotten at each pull, so it flips between 0 and 10. A small learning rate averages "
        "the noisy payouts.",
        wrong={
            "b": "a learning rate of 1 keeps no memory of earlier payouts, so it never averages "
            "them: it jumps to each new one.",
            "c": "a learning rate of 0 turns learning off; 1 is the other extreme, all new and "
            "nothing old.",
            "d": "the update moves towards the target, it does not add rewards up: with "
            "learning_rate = 1 the estimate becomes the payout, at most 10.",
        },
    ),
    Question(
        answer="b",
        why="while learning, the agent still explores: with epsilon = 0.5 half its moves are "
        "random, and a random move next to the coin ends the episode with 1 point. Its greedy "
        "policy, followed without exploring, reaches the goal every time.",
        wrong={
            "a": "its policy reaches the goal in four moves (the plot of the policy shows it): "
            "the learned part is fine, the random moves are not.",
            "c": "the plot counts the points collected, not discounted: reaching the goal is "
            "worth 10 however late. The discount changes Q values, not the rewards.",
            "d": "the learning rate changes how fast Q moves, not the rewards the world pays: a "
            "goal is always 10 points.",
        },
    ),
    Question(
        answer="c",
        why="the thermostat acts, and the rewards (the bill, the complaints) come after its "
        "actions, with no one telling it the right action: that is reinforcement learning.",
        wrong={
            "a": "past sales come with their prices, the right answers: that is supervised "
            "learning (regression).",
            "b": "no labels and no actions or rewards: grouping is unsupervised learning "
            "(clustering).",
            "d": "labelled emails are examples with the right answer attached: supervised "
            "learning (classification).",
        },
    ),
))
"""The key to notebook 10's quiz: the questions are in its last markdown cell tagged quiz."""
