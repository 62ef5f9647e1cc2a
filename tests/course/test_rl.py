import numpy as np
import pytest

from course.rl import Action, GridWorld, QLearningAgent


def corridor() -> GridWorld:
    """S . G in a row: the goal is two moves to the right."""
    return GridWorld(("S.G",))


def test_states_number_cells_row_by_row():
    env = GridWorld()
    assert (env.height, env.width) == (3, 5)
    assert env.n_states == 15
    assert env.n_actions == 4
    assert env.start == env.state_at(0, 2)
    assert env.position(env.state_at(2, 4)) == (2, 4)
    assert env.cell(env.state_at(2, 4)) == "G"


def test_moves_follow_their_direction():
    env = GridWorld(("...", ".S.", "..G"))
    middle = env.start
    assert env.position(env.step(middle, Action.UP)[0]) == (0, 1)
    assert env.position(env.step(middle, Action.RIGHT)[0]) == (1, 2)
    assert env.position(env.step(middle, Action.DOWN)[0]) == (2, 1)
    assert env.position(env.step(middle, Action.LEFT)[0]) == (1, 0)


def test_walls_and_edges_keep_the_agent_in_place():
    env = GridWorld(("S#G",))
    assert env.step(env.start, Action.RIGHT) == (env.start, 0.0, False)
    assert env.step(env.start, Action.UP) == (env.start, 0.0, False)
    assert env.step(env.start, Action.LEFT) == (env.start, 0.0, False)


def test_goal_and_coin_end_the_episode_with_their_reward():
    env = GridWorld(("cSG",), goal_reward=10.0, coin_reward=1.0, step_reward=-0.5)
    assert env.step(env.start, Action.RIGHT) == (2, 10.0, True)
    assert env.step(env.start, Action.LEFT) == (0, 1.0, True)
    assert env.step(env.start, Action.UP) == (1, -0.5, False)
    assert env.is_terminal(0) and env.is_terminal(2) and not env.is_terminal(1)


def test_stepping_from_a_terminal_state_is_refused():
    env = corridor()
    with pytest.raises(ValueError, match="terminal"):
        env.step(2, Action.LEFT)


@pytest.mark.parametrize(
    ("layout", "message"),
    [
        ((), "empty"),
        (("S.", "..G"), "same length"),
        (("S.x",), "Unknown cell 'x'"),
        ((".G",), "exactly one start"),
        (("S..",), "no coin"),
    ],
)
def test_bad_layouts_say_what_is_wrong(layout, message):
    with pytest.raises(ValueError, match=message):
        GridWorld(layout)


def test_bad_actions_and_states_are_explained():
    env = corridor()
    with pytest.raises(ValueError, match="Unknown action 7"):
        env.step(env.start, 7)
    with pytest.raises(ValueError, match="outside the grid"):
        env.position(3)


def test_rollout_follows_the_policy_until_the_episode_ends():
    env = corridor()
    right = np.full(env.n_states, Action.RIGHT)
    assert env.rollout(right) == [0, 1, 2]
    up = np.full(env.n_states, Action.UP)
    assert env.rollout(up, max_steps=5) == [0] * 6
    with pytest.raises(ValueError, match="one action per state"):
        env.rollout(np.zeros(2))


def test_q_learning_converges_to_the_discounted_values():
    env = corridor()
    agent = QLearningAgent(n_episodes=200, learning_rate=0.5, discount=0.9, random_state=0)
    agent.fit(env)
    # Q*(s1, right) = 10, Q*(s0, right) = 0.9 * 10 (the move to s1 earns nothing).
    assert agent.q_table_[1, Action.RIGHT] == pytest.approx(10.0, rel=1e-3)
    assert agent.q_table_[0, Action.RIGHT] == pytest.approx(9.0, rel=1e-3)
    assert list(agent.predict([0, 1])) == [Action.RIGHT, Action.RIGHT]


def test_fit_records_each_episode():
    agent = QLearningAgent(n_episodes=50, random_state=0).fit(corridor())
    assert agent.episode_returns_.shape == (50,)
    assert set(agent.episode_returns_) <= {0.0, 10.0}
    assert agent.episode_lengths_.min() >= 2
    assert agent.policy_.shape == (3,)


def test_same_seed_same_agent():
    first = QLearningAgent(random_state=3).fit(GridWorld())
    second = QLearningAgent(random_state=3).fit(GridWorld())
    np.testing.assert_array_equal(first.q_table_, second.q_table_)


def test_exploration_finds_the_goal_that_greed_misses():
    """The lesson of notebook 10, over several seeds: epsilon=0 settles for the coin."""
    env = GridWorld()

    def ends_at_goal(epsilon: float, seed: int) -> bool:
        agent = QLearningAgent(epsilon=epsilon, n_episodes=300, random_state=seed).fit(env)
        return env.cell(env.rollout(agent.policy_)[-1]) == "G"

    seeds = range(10)
    assert sum(ends_at_goal(0.0, seed) for seed in seeds) <= 3
    assert sum(ends_at_goal(0.5, seed) for seed in seeds) >= 8


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"n_episodes": 0}, "n_episodes=0"),
        ({"learning_rate": 0.0}, "learning_rate=0.0"),
        ({"discount": 1.5}, "discount=1.5"),
        ({"epsilon": -0.1}, "epsilon=-0.1"),
        ({"max_steps": 0}, "max_steps=0"),
    ],
)
def test_invalid_parameters_are_rejected_at_fit(params, message):
    agent = QLearningAgent(**params)  # like scikit-learn, __init__ only stores
    with pytest.raises(ValueError, match=message):
        agent.fit(corridor())


def test_predict_before_fit_says_to_fit():
    with pytest.raises(RuntimeError, match=r"fit\(env\)"):
        QLearningAgent().predict([0])
