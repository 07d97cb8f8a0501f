"""Finite-horizon tabular MDPs: the environment of chapters 4 and 6.

A :class:`TabularMDP` holds the dynamics ``P (S, A, S)`` with ``P[s, a, s'] = p(s' | s, a)``,
the rewards ``R (S, A)``, the initial distribution ``mu0 (S,)``, a discount ``gamma`` and a
horizon ``T``. A stationary policy is an ``(S, A)`` array of action probabilities, one row
per state; the tabular softmax policy of parameters ``theta (S, A)`` is
``softmax(theta[s])``.

Besides the chapter's MDP (:func:`chapter_mdp`) and random ones (:func:`random_mdp`), the
module computes, exactly and in NumPy, what the chapters check their estimates against:
the state distributions and return of a policy (:func:`state_distributions`,
:func:`policy_return`), the gradient of the return of a softmax policy by the policy
gradient theorem (:func:`softmax_return_gradient`), the finite-horizon optimum by backward
induction (:func:`optimal_values`), and every trajectory with its probability
(:func:`enumerate_trajectories`). None of this is an exercise: chapter 4 asks students to
compute the return differently (with torch, differentiably) and checks the two agree.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "TabularMDP",
    "chapter_mdp",
    "random_mdp",
    "policy_probs",
    "state_distributions",
    "policy_return",
    "q_values",
    "softmax_return_gradient",
    "optimal_values",
    "optimal_return",
    "deterministic_policy",
    "best_deterministic_policy",
    "enumerate_trajectories",
    "discounted_returns",
]


def _frozen(array, dtype=np.float64) -> np.ndarray:
    array = np.array(array, dtype=dtype, copy=True)
    array.setflags(write=False)
    return array


@dataclass(frozen=True)
class TabularMDP:
    """A finite-horizon tabular MDP. Arrays are float64 and read-only.

    Attributes:
        P: ``(S, A, S)`` transition probabilities, ``P[s, a, s'] = p(s' | s, a)``.
        R: ``(S, A)`` expected reward of taking action a in state s.
        mu0: ``(S,)`` distribution of the initial state.
        gamma: discount factor in [0, 1].
        horizon: number of steps T >= 1; a trajectory is s_0, a_0, ..., s_{T-1}, a_{T-1}.
        state_names, action_names: labels for tables and figures (optional).
    """

    P: np.ndarray
    R: np.ndarray
    mu0: np.ndarray
    gamma: float
    horizon: int
    state_names: tuple[str, ...] = field(default=())
    action_names: tuple[str, ...] = field(default=())

    def __post_init__(self):
        P, R, mu0 = _frozen(self.P), _frozen(self.R), _frozen(self.mu0)
        if P.ndim != 3 or P.shape[0] != P.shape[2]:
            raise ValueError(f"P must have shape (S, A, S), got {P.shape}")
        S, A = P.shape[:2]
        if R.shape != (S, A):
            raise ValueError(f"R must have shape {(S, A)}, got {R.shape}")
        if mu0.shape != (S,):
            raise ValueError(f"mu0 must have shape {(S,)}, got {mu0.shape}")
        if np.any(P < 0) or not np.allclose(P.sum(axis=-1), 1.0, rtol=0, atol=1e-12):
            raise ValueError("every P[s, a] must be a probability distribution over s'")
        if np.any(mu0 < 0) or not np.isclose(mu0.sum(), 1.0, rtol=0, atol=1e-12):
            raise ValueError("mu0 must be a probability distribution")
        if not 0.0 <= float(self.gamma) <= 1.0:
            raise ValueError(f"gamma must lie in [0, 1], got {self.gamma}")
        if int(self.horizon) != self.horizon or self.horizon < 1:
            raise ValueError(f"horizon must be a positive integer, got {self.horizon}")
        for name, names, size in (("state_names", self.state_names, S),
                                  ("action_names", self.action_names, A)):
            if names and len(names) != size:
                raise ValueError(f"{name} must have {size} entries")
        object.__setattr__(self, "P", P)
        object.__setattr__(self, "R", R)
        object.__setattr__(self, "mu0", mu0)
        object.__setattr__(self, "gamma", float(self.gamma))
        object.__setattr__(self, "horizon", int(self.horizon))
        object.__setattr__(self, "state_names", tuple(self.state_names))
        object.__setattr__(self, "action_names", tuple(self.action_names))

    @property
    def n_states(self) -> int:
        return self.P.shape[0]

    @property
    def n_actions(self) -> int:
        return self.P.shape[1]

    def tensors(self, dtype=None):
        """``(P, R, mu0)`` as torch tensors (float64 unless ``dtype`` says otherwise)."""
        import torch

        dtype = dtype or torch.float64
        return tuple(torch.tensor(np.array(a), dtype=dtype) for a in (self.P, self.R, self.mu0))

    def rewards(self, states, actions) -> np.ndarray:
        """The rewards ``R[s_t, a_t]`` of a batch of trajectories, same shape as ``states``."""
        return self.R[np.asarray(states), np.asarray(actions)]

    def with_horizon(self, horizon: int) -> "TabularMDP":
        """The same MDP with another horizon."""
        return TabularMDP(self.P, self.R, self.mu0, self.gamma, horizon,
                          self.state_names, self.action_names)


def chapter_mdp(horizon: int = 10, gamma: float = 0.9) -> TabularMDP:
    """The four-state MDP of chapter 4: a tempting snack, or a risky road to a goal.

    States: 0 ``start``, 1 ``road``, 2 ``goal``, 3 ``ditch``; every episode begins at start.
    Two actions in each state:

    ========  ==============================  ====================================
    state     action 0                        action 1
    ========  ==============================  ====================================
    start     ``snack``: reward 0.3, stay     ``go``: reward 0, to road
    road      ``back``: reward 0, to start    ``push``: reward 0, to goal w.p. 0.75,
                                              to ditch w.p. 0.25
    goal      ``stay``: reward 1, stay w.p.   ``leave``: reward 0, to ditch
              0.9, to ditch w.p. 0.1
    ditch     ``climb``: reward 0, to road    ``wait``: reward 0, stay
              w.p. 0.6, stay w.p. 0.4
    ========  ==============================  ====================================

    The snack is the only immediate reward near the start, so a myopic policy eats it
    forever; the optimal policy forgoes it (go, push, stay, climb). Under that policy the
    start is visited only at t = 0, and in every other state its action is optimal at
    every time step, so the best stationary policy attains the finite-horizon optimum.
    """
    S, A = 4, 2
    START, ROAD, GOAL, DITCH = range(S)
    P = np.zeros((S, A, S))
    R = np.zeros((S, A))
    P[START, 0, START] = 1.0
    R[START, 0] = 0.3
    P[START, 1, ROAD] = 1.0
    P[ROAD, 0, START] = 1.0
    P[ROAD, 1, GOAL], P[ROAD, 1, DITCH] = 0.75, 0.25
    P[GOAL, 0, GOAL], P[GOAL, 0, DITCH] = 0.9, 0.1
    R[GOAL, 0] = 1.0
    P[GOAL, 1, DITCH] = 1.0
    P[DITCH, 0, ROAD], P[DITCH, 0, DITCH] = 0.6, 0.4
    P[DITCH, 1, DITCH] = 1.0
    mu0 = np.eye(S)[START]
    return TabularMDP(P, R, mu0, gamma, horizon,
                      state_names=("start", "road", "goal", "ditch"),
                      action_names=("snack/back/stay/climb", "go/push/leave/wait"))


def random_mdp(n_states: int, n_actions: int, rng: np.random.Generator, *, gamma: float = 0.9,
               horizon: int = 10, concentration: float = 1.0, reward_scale: float = 1.0,
               sparsity: float = 0.0) -> TabularMDP:
    """A random MDP: Dirichlet(concentration) rows of P and mu0, Gaussian rewards.

    With ``sparsity > 0`` each entry of P and mu0 is set to 0 with that probability before
    renormalising (one entry per row is always kept), so some transitions are impossible.
    """
    def rows(shape):
        p = rng.dirichlet(np.full(shape[-1], concentration), size=shape[:-1])
        if sparsity > 0:
            keep = rng.uniform(size=p.shape) >= sparsity
            top = np.argmax(p, axis=-1)[..., None]
            np.put_along_axis(keep, top, True, axis=-1)
            p = p * keep
            p /= p.sum(axis=-1, keepdims=True)
        return p

    P = rows((n_states, n_actions, n_states))
    mu0 = rows((n_states,))
    R = rng.normal(0.0, reward_scale, (n_states, n_actions))
    return TabularMDP(P, R, mu0, gamma, horizon)


def policy_probs(theta) -> np.ndarray:
    """Row-wise softmax of ``theta (S, A)``, shifted by the row maximum (no overflow)."""
    theta = np.asarray(theta, dtype=np.float64)
    z = np.exp(theta - theta.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


def deterministic_policy(actions, n_actions: int) -> np.ndarray:
    """The ``(S, A)`` probabilities of the policy taking ``actions[s]`` in state s."""
    return np.eye(n_actions)[np.asarray(actions)]


def state_distributions(mdp: TabularMDP, probs, horizon: int | None = None) -> np.ndarray:
    """``(T, S)``: row t is the distribution of s_t under the stationary policy ``probs``."""
    T = mdp.horizon if horizon is None else horizon
    probs = np.asarray(probs, dtype=np.float64)
    out = np.empty((T, mdp.n_states))
    d = mdp.mu0.copy()
    for t in range(T):
        out[t] = d
        d = np.einsum("s,sa,sak->k", d, probs, mdp.P)
    return out


def policy_return(mdp: TabularMDP, probs) -> float:
    """Exact ``J = E[sum_t gamma^t R(s_t, a_t)]`` of the stationary policy ``probs (S, A)``."""
    probs = np.asarray(probs, dtype=np.float64)
    d = state_distributions(mdp, probs)
    expected_reward = d @ (probs * mdp.R).sum(axis=-1)  # (T,)
    return float(expected_reward @ mdp.gamma ** np.arange(mdp.horizon))


def q_values(mdp: TabularMDP, probs) -> tuple[np.ndarray, np.ndarray]:
    """Finite-horizon values of a stationary policy, by backward induction.

    Returns ``(Q, V)``: ``Q (T, S, A)`` with ``Q[t, s, a] = E[sum_{k >= t} gamma^(k-t) r_k |
    s_t = s, a_t = a]`` and ``V (T + 1, S)`` with ``V[t] = sum_a probs * Q[t]`` and
    ``V[T] = 0``.
    """
    probs = np.asarray(probs, dtype=np.float64)
    T = mdp.horizon
    Q = np.empty((T, mdp.n_states, mdp.n_actions))
    V = np.zeros((T + 1, mdp.n_states))
    for t in reversed(range(T)):
        Q[t] = mdp.R + mdp.gamma * mdp.P @ V[t + 1]
        V[t] = (probs * Q[t]).sum(axis=-1)
    return Q, V


def softmax_return_gradient(mdp: TabularMDP, theta) -> np.ndarray:
    """Exact gradient of J with respect to ``theta (S, A)`` for the softmax policy.

    By the policy gradient theorem for a finite horizon,
    ``dJ/dtheta[s, a] = sum_t gamma^t d_t(s) pi(a|s) (Q_t(s, a) - V_t(s))``.
    This is an independent check of autograd through a dynamic program.
    """
    probs = policy_probs(theta)
    d = state_distributions(mdp, probs)  # (T, S)
    Q, V = q_values(mdp, probs)
    advantage = Q - V[:-1, :, None]  # (T, S, A)
    weights = (mdp.gamma ** np.arange(mdp.horizon))[:, None] * d  # (T, S)
    return np.einsum("ts,sa,tsa->sa", weights, probs, advantage)


def optimal_values(mdp: TabularMDP) -> tuple[np.ndarray, np.ndarray]:
    """The finite-horizon optimum by backward induction (dynamic programming).

    Returns ``(Q, V)``: ``Q (T, S, A)`` optimal action values with t steps elapsed and
    ``V (T + 1, S)`` with ``V[t] = max_a Q[t]``, ``V[T] = 0``. The optimal J is
    ``mu0 @ V[0]``; a greedy action of ``Q[t, s]`` is optimal at (t, s). The optimum
    is over all policies, history-dependent and time-dependent ones included.
    """
    T = mdp.horizon
    Q = np.empty((T, mdp.n_states, mdp.n_actions))
    V = np.zeros((T + 1, mdp.n_states))
    for t in reversed(range(T)):
        Q[t] = mdp.R + mdp.gamma * mdp.P @ V[t + 1]
        V[t] = Q[t].max(axis=-1)
    return Q, V


def optimal_return(mdp: TabularMDP) -> float:
    """The largest J any policy attains: ``mu0 @ V*_0``."""
    return float(mdp.mu0 @ optimal_values(mdp)[1][0])


def best_deterministic_policy(mdp: TabularMDP) -> tuple[np.ndarray, float]:
    """The best stationary deterministic policy, by enumerating all ``A^S`` of them.

    Returns ``(actions (S,), J)``; ties go to the first in lexicographic order.
    """
    best, best_j = None, -np.inf
    for actions in itertools.product(range(mdp.n_actions), repeat=mdp.n_states):
        j = policy_return(mdp, deterministic_policy(actions, mdp.n_actions))
        if j > best_j + 1e-12:
            best, best_j = np.array(actions), j
    return best, best_j


def enumerate_trajectories(mdp: TabularMDP, probs, horizon: int | None = None):
    """Every trajectory of positive probability, with its probability, by brute force.

    Returns ``(states (M, T), actions (M, T), prob (M,))``, the probability being
    ``mu0(s_0) prod_t pi(a_t|s_t) prod_{t < T-1} P(s_{t+1}|s_t, a_t)``. There are up to
    ``(S A)^T`` trajectories: keep S, A and T small.
    """
    T = mdp.horizon if horizon is None else horizon
    probs = np.asarray(probs, dtype=np.float64)
    S, A = mdp.n_states, mdp.n_actions
    # Grow the set of prefixes one step at a time, dropping impossible ones as we go.
    states = np.arange(S)[:, None]
    prob = mdp.mu0.copy()
    keep = prob > 0
    states, prob = states[keep], prob[keep]
    actions = np.empty((len(states), 0), dtype=np.int64)
    for t in range(T):
        s = states[:, -1]
        # each prefix times each action
        a = np.tile(np.arange(A), len(states))
        rep = np.repeat(np.arange(len(states)), A)
        prob = prob[rep] * probs[s[rep], a]
        states, actions = states[rep], np.column_stack([actions[rep], a])
        keep = prob > 0
        states, actions, prob = states[keep], actions[keep], prob[keep]
        if t + 1 < T:
            s, a = states[:, -1], actions[:, -1]
            nxt = np.tile(np.arange(S), len(states))
            rep = np.repeat(np.arange(len(states)), S)
            prob = prob[rep] * mdp.P[s[rep], a[rep], nxt]
            states, actions = np.column_stack([states[rep], nxt]), actions[rep]
            keep = prob > 0
            states, actions, prob = states[keep], actions[keep], prob[keep]
    return states.astype(np.int64), actions.astype(np.int64), prob


def discounted_returns(rewards, gamma: float) -> np.ndarray:
    """``(n,)``: the discounted return ``sum_t gamma^t r_t`` of each row of ``rewards (n, T)``."""
    rewards = np.asarray(rewards, dtype=np.float64)
    return rewards @ gamma ** np.arange(rewards.shape[-1])
