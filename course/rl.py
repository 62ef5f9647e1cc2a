"""Reinforcement learning in a grid world: the environment and a tabular Q-learning agent.

Notebook 10 uses these to show reward, policy and exploration. The environment is a pure
function of (state, action), so every step can be tested and replayed; the agent follows
scikit-learn's conventions: parameters in ``__init__``, learning in ``fit``, learned attributes
ending in ``_``.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

__all__ = ["DEFAULT_LAYOUT", "Action", "GridWorld", "QLearningAgent"]


class Action(IntEnum):
    """The four moves; their values index the columns of a Q-table."""

    UP = 0
    RIGHT = 1
    DOWN = 2
    LEFT = 3


_MOVES = {
    Action.UP: (-1, 0),
    Action.RIGHT: (0, 1),
    Action.DOWN: (1, 0),
    Action.LEFT: (0, -1),
}

# A coin two steps from the start, the goal four steps away: an agent that never explores
# settles for the coin, one that explores finds the goal, worth far more.
DEFAULT_LAYOUT = (
    "c.S..",
    "##.#.",
    "....G",
)

_CELL_KINDS = {
    "S": "the start",
    ".": "floor",
    "#": "a wall",
    "c": "a coin (small reward, ends the episode)",
    "G": "the goal (big reward, ends the episode)",
}


class GridWorld:
    """A small maze where each move is deterministic.

    States are integers ``row * width + column``. Moving into a wall or off the grid leaves the
    agent where it is. Reaching a coin ``c`` or the goal ``G`` ends the episode with its reward;
    every other move earns ``step_reward``.
    """

    def __init__(
        self,
        layout: tuple[str, ...] = DEFAULT_LAYOUT,
        *,
        goal_reward: float = 10.0,
        coin_reward: float = 1.0,
        step_reward: float = 0.0,
    ) -> None:
        self.layout = tuple(layout)
        self.goal_reward = goal_reward
        self.coin_reward = coin_reward
        self.step_reward = step_reward
        self._validate_layout()
        self.height = len(self.layout)
        self.width = len(self.layout[0])

    def _validate_layout(self) -> None:
        if not self.layout:
            raise ValueError("The layout is empty: give at least one row, such as ('S.G',).")
        widths = {len(row) for row in self.layout}
        if len(widths) != 1:
            raise ValueError(
                f"Every row of the layout must have the same length; got lengths {sorted(widths)}."
            )
        for row_index, row in enumerate(self.layout):
            for char in row:
                if char not in _CELL_KINDS:
                    known = ", ".join(f"{c!r} ({kind})" for c, kind in _CELL_KINDS.items())
                    raise ValueError(
                        f"Unknown cell {char!r} in row {row_index} of the layout. "
                        f"Use only: {known}."
                    )
        starts = sum(row.count("S") for row in self.layout)
        if starts != 1:
            raise ValueError(f"The layout needs exactly one start 'S'; it has {starts}.")
        if not any(char in "cG" for row in self.layout for char in row):
            raise ValueError("The layout has no coin 'c' or goal 'G', so no episode can end.")

    @property
    def n_states(self) -> int:
        return self.height * self.width

    @property
    def n_actions(self) -> int:
        return len(Action)

    @property
    def start(self) -> int:
        """The state every episode begins in."""
        return next(
            self.state_at(r, c)
            for r, row in enumerate(self.layout)
            for c, char in enumerate(row)
            if char == "S"
        )

    def state_at(self, row: int, column: int) -> int:
        return row * self.width + column

    def position(self, state: int) -> tuple[int, int]:
        """The (row, column) of a state."""
        self._check_state(state)
        return divmod(int(state), self.width)

    def cell(self, state: int) -> str:
        """The layout character at a state: one of S . # c G."""
        row, column = self.position(state)
        return self.layout[row][column]

    def is_terminal(self, state: int) -> bool:
        return self.cell(state) in "cG"

    def step(self, state: int, action: int) -> tuple[int, float, bool]:
        """Move once: return (next_state, reward, done). Pure: the world keeps no state."""
        if self.is_terminal(state):
            raise ValueError(
                f"State {state} is terminal ({self.cell(state)!r}): the episode is over, "
                f"start a new one from env.start."
            )
        try:
            d_row, d_column = _MOVES[Action(action)]
        except ValueError:
            raise ValueError(
                f"Unknown action {action!r}: use 0 (up), 1 (right), 2 (down) or 3 (left)."
            ) from None
        row, column = self.position(state)
        new_row, new_column = row + d_row, column + d_column
        inside = 0 <= new_row < self.height and 0 <= new_column < self.width
        if not inside or self.layout[new_row][new_column] == "#":
            new_row, new_column = row, column
        next_state = self.state_at(new_row, new_column)
        cell = self.layout[new_row][new_column]
        if cell == "G":
            return next_state, self.goal_reward, True
        if cell == "c":
            return next_state, self.coin_reward, True
        return next_state, self.step_reward, False

    def rollout(self, policy: np.ndarray, max_steps: int = 100) -> list[int]:
        """The states visited when following ``policy`` (one action per state) from the start.

        Stops at a terminal state or after ``max_steps`` moves (a policy can walk in circles).
        """
        policy = np.asarray(policy)
        if policy.shape != (self.n_states,):
            raise ValueError(
                f"A policy needs one action per state: shape ({self.n_states},), "
                f"got {policy.shape}."
            )
        path = [self.start]
        for _ in range(max_steps):
            state, _, done = self.step(path[-1], int(policy[path[-1]]))
            path.append(state)
            if done:
                break
        return path

    def _check_state(self, state: int) -> None:
        if not 0 <= int(state) < self.n_states:
            raise ValueError(f"State {state} is outside the grid: use 0 to {self.n_states - 1}.")

    def __repr__(self) -> str:
        return f"GridWorld({self.height}x{self.width}, start={self.start})"


class QLearningAgent:
    """Tabular Q-learning with epsilon-greedy exploration.

    Q[s, a] estimates the discounted reward of taking action a in state s, then acting well.
    After each move: Q[s, a] += learning_rate * (reward + discount * max(Q[s']) - Q[s, a]).
    With probability ``epsilon`` the agent explores (a random action) instead of exploiting
    (the best-known action; ties are broken at random).
    """

    def __init__(
        self,
        *,
        n_episodes: int = 300,
        learning_rate: float = 0.5,
        discount: float = 0.9,
        epsilon: float = 0.5,
        max_steps: int = 100,
        random_state: int | None = None,
    ) -> None:
        self.n_episodes = n_episodes
        self.learning_rate = learning_rate
        self.discount = discount
        self.epsilon = epsilon
        self.max_steps = max_steps
        self.random_state = random_state

    def _validate_params(self) -> None:
        checks = [
            ("n_episodes", self.n_episodes, self.n_episodes >= 1, "at least 1"),
            ("learning_rate", self.learning_rate, 0 < self.learning_rate <= 1, "in (0, 1]"),
            ("discount", self.discount, 0 <= self.discount <= 1, "in [0, 1]"),
            ("epsilon", self.epsilon, 0 <= self.epsilon <= 1, "in [0, 1]"),
            ("max_steps", self.max_steps, self.max_steps >= 1, "at least 1"),
        ]
        for name, value, ok, expected in checks:
            if not ok:
                raise ValueError(f"{name}={value!r} is invalid: it must be {expected}.")

    def fit(self, env: GridWorld) -> QLearningAgent:
        """Play ``n_episodes`` episodes in ``env``, learning the Q-table as it goes."""
        self._validate_params()
        rng = np.random.default_rng(self.random_state)
        q_table = np.zeros((env.n_states, env.n_actions))
        returns = np.zeros(self.n_episodes)
        lengths = np.zeros(self.n_episodes, dtype=int)
        for episode in range(self.n_episodes):
            state = env.start
            for step in range(1, self.max_steps + 1):
                if rng.random() < self.epsilon:
                    action = int(rng.integers(env.n_actions))
                else:
                    action = _argmax_random_ties(q_table[state], rng)
                next_state, reward, done = env.step(state, action)
                future = 0.0 if done else self.discount * q_table[next_state].max()
                q_table[state, action] += self.learning_rate * (
                    reward + future - q_table[state, action]
                )
                returns[episode] += reward
                lengths[episode] = step
                state = next_state
                if done:
                    break
        self.q_table_ = q_table
        self.policy_ = q_table.argmax(axis=1)
        self.episode_returns_ = returns
        self.episode_lengths_ = lengths
        return self

    def predict(self, states: np.ndarray) -> np.ndarray:
        """The greedy action (no exploration) in each of ``states``."""
        if not hasattr(self, "q_table_"):
            raise RuntimeError("This agent has not learned yet: call agent.fit(env) first.")
        return np.take(self.policy_, np.asarray(states, dtype=int))


def _argmax_random_ties(values: np.ndarray, rng: np.random.Generator) -> int:
    """The index of the largest value; a random one among equals, so no action is favoured."""
    best = np.flatnonzero(values == values.max())
    return int(best[0]) if len(best) == 1 else int(rng.choice(best))
