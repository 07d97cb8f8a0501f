"""pglib.tabular: the tabular MDPs of chapters 4 and 6, and the exact computations on them.

Each exact helper is checked against a computation that shares none of its code: brute-force
enumeration of trajectories (written here with itertools), finite differences, torch
autograd, and enumeration of every time-dependent deterministic policy for the optimum.
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from pglib.tabular import (TabularMDP, best_deterministic_policy, chapter_mdp,
                           deterministic_policy, discounted_returns, enumerate_trajectories,
                           optimal_return, optimal_values, policy_probs, policy_return,
                           q_values, random_mdp, softmax_return_gradient, state_distributions)


def _mdp(seed, S=3, A=2, horizon=4, gamma=0.9, sparsity=0.0):
    return random_mdp(S, A, np.random.default_rng(seed), gamma=gamma, horizon=horizon,
                      sparsity=sparsity)


def _brute_force(mdp, probs, horizon=None):
    """(probability, return) of every trajectory in (S A)^T, zero-probability ones included."""
    T = mdp.horizon if horizon is None else horizon
    S, A = mdp.n_states, mdp.n_actions
    out = []
    for states in itertools.product(range(S), repeat=T):
        for actions in itertools.product(range(A), repeat=T):
            p = mdp.mu0[states[0]]
            for t in range(T):
                p *= probs[states[t], actions[t]]
                if t + 1 < T:
                    p *= mdp.P[states[t], actions[t], states[t + 1]]
            G = sum(mdp.gamma**t * mdp.R[states[t], actions[t]] for t in range(T))
            out.append((states, actions, p, G))
    return out


# --- TabularMDP ---------------------------------------------------------------------------------

def test_mdp_arrays_are_float64_read_only_copies():
    P = np.full((2, 1, 2), 0.5)
    mdp = TabularMDP(P, [[1], [2]], [1, 0], 0.5, 3)
    P[0, 0, 0] = 7.0  # the caller's array is not the MDP's
    assert mdp.P[0, 0, 0] == 0.5
    for array in (mdp.P, mdp.R, mdp.mu0):
        assert array.dtype == np.float64 and not array.flags.writeable
    assert (mdp.n_states, mdp.n_actions, mdp.gamma, mdp.horizon) == (2, 1, 0.5, 3)


@pytest.mark.parametrize("kwargs, message", [
    (dict(P=np.ones((2, 2))), "shape (S, A, S)"),
    (dict(P=np.full((2, 1, 3), 1 / 3)), "shape (S, A, S)"),
    (dict(P=np.full((2, 1, 2), 0.6)), "probability distribution over s'"),
    (dict(R=np.zeros((1, 2))), "R must have shape"),
    (dict(mu0=[0.5, 0.6]), "mu0 must be a probability distribution"),
    (dict(mu0=[1.0]), "mu0 must have shape"),
    (dict(gamma=1.5), "gamma must lie in [0, 1]"),
    (dict(horizon=0), "horizon must be a positive integer"),
    (dict(state_names=("a",)), "state_names must have 2 entries"),
])
def test_mdp_rejects_malformed_inputs(kwargs, message):
    args = dict(P=np.full((2, 1, 2), 0.5), R=np.zeros((2, 1)), mu0=[1.0, 0.0], gamma=0.9,
                horizon=2)
    args.update(kwargs)
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")
                       .replace("[", r"\[").replace("]", r"\]")):
        TabularMDP(**args)


def test_tensors_rewards_and_with_horizon():
    mdp = chapter_mdp()
    P, R, mu0 = mdp.tensors()
    assert P.dtype == torch.float64 and torch.equal(P, torch.tensor(np.array(mdp.P)))
    assert mdp.tensors(torch.float32)[1].dtype == torch.float32
    states, actions = np.array([[0, 0, 1], [2, 2, 3]]), np.array([[0, 1, 1], [0, 1, 0]])
    np.testing.assert_array_equal(mdp.rewards(states, actions), [[0.3, 0, 0], [1, 0, 0]])
    short = mdp.with_horizon(3)
    assert short.horizon == 3 and short.state_names == mdp.state_names
    np.testing.assert_array_equal(short.P, mdp.P)


def test_random_mdp_is_valid_reproducible_and_sparse():
    a, b = _mdp(5, 4, 3, sparsity=0.5), _mdp(5, 4, 3, sparsity=0.5)
    np.testing.assert_array_equal(a.P, b.P)
    assert np.any(a.P == 0) and np.all(a.P.sum(axis=-1) > 0.999)
    assert not np.array_equal(_mdp(6, 4, 3).P, a.P)


# --- the chapter's MDP --------------------------------------------------------------------------

def test_chapter_mdp_has_a_trap_and_a_stationary_optimum():
    mdp = chapter_mdp()
    assert (mdp.n_states, mdp.n_actions, mdp.horizon, mdp.gamma) == (4, 2, 10, 0.9)
    Q, V = optimal_values(mdp)
    best, J_best = best_deterministic_policy(mdp)
    J_star = optimal_return(mdp)
    # The best stationary deterministic policy attains the optimum over all policies ...
    assert abs(J_best - J_star) < 1e-12 and list(best) == [1, 1, 0, 0]
    # ... because wherever it can be at time t, its action is optimal at time t.
    d = state_distributions(mdp, deterministic_policy(best, 2))
    for t in range(mdp.horizon):
        for s in np.flatnonzero(d[t] > 0):
            assert Q[t, s, best[s]] >= Q[t, s].max() - 1e-12, (t, s)
    assert np.all(d[1:, 0] == 0)  # the start is visited only at t = 0
    # The trap: the myopic action at the start is the snack, and snacking near the end of
    # the horizon is optimal there (the optimum is time-dependent at the start).
    assert mdp.R[0].argmax() == 0 and Q[-1, 0].argmax() == 0 and Q[0, 0].argmax() == 1
    J_snack = policy_return(mdp, deterministic_policy([0, 0, 0, 0], 2))
    J_uniform = policy_return(mdp, np.full((4, 2), 0.5))
    assert J_uniform < J_snack < J_star
    np.testing.assert_allclose([J_uniform, J_snack, J_star], [0.8426, 1.9540, 3.3449], atol=1e-4)
    # At the uniform policy the gradient points toward the snack.
    assert softmax_return_gradient(mdp, np.zeros((4, 2)))[0, 0] > 0


# --- exact computations -------------------------------------------------------------------------

def test_policy_probs_is_a_stable_row_softmax():
    theta = np.array([[1e3, 0.0, -1e3], [2.0, 1.0, 0.0]])
    p = policy_probs(theta)
    np.testing.assert_allclose(p[0], [1, 0, 0], atol=1e-300)
    np.testing.assert_allclose(p[1], np.exp([2, 1, 0]) / np.exp([2, 1, 0]).sum(), rtol=1e-15)


@pytest.mark.parametrize("seed", range(6))
def test_state_distributions_and_return_match_brute_force(seed):
    mdp = _mdp(seed, S=[2, 3][seed % 2], A=2, horizon=[3, 4][seed % 2], sparsity=0.3)
    probs = policy_probs(np.random.default_rng(seed).normal(0, 1, (mdp.n_states, 2)))
    table = _brute_force(mdp, probs)
    d = state_distributions(mdp, probs)
    for t in range(mdp.horizon):
        marginal = np.zeros(mdp.n_states)
        for states, _, p, _ in table:
            marginal[states[t]] += p
        np.testing.assert_allclose(d[t], marginal, atol=1e-14)
    assert abs(policy_return(mdp, probs) - sum(p * G for *_, p, G in table)) < 1e-13
    Q, V = q_values(mdp, probs)
    assert abs(mdp.mu0 @ V[0] - policy_return(mdp, probs)) < 1e-13
    np.testing.assert_allclose(V[:-1], (probs * Q).sum(axis=-1), atol=1e-14)


@pytest.mark.parametrize("seed", range(6))
def test_enumerate_trajectories_matches_brute_force(seed):
    mdp = _mdp(10 + seed, S=[2, 3][seed % 2], A=[2, 3][seed % 3 == 0], horizon=3, sparsity=0.4)
    theta = np.random.default_rng(seed).normal(0, 1, (mdp.n_states, mdp.n_actions))
    theta[0, 0] = -1e3  # a zero-probability action
    probs = policy_probs(theta)
    states, actions, prob = enumerate_trajectories(mdp, probs)
    table = {(s, a): p for s, a, p, _ in _brute_force(mdp, probs) if p > 0}
    got = {(tuple(s), tuple(a)): p for s, a, p in zip(states, actions, prob)}
    assert set(got) == set(table) and np.all(prob > 0)
    for key, p in table.items():
        assert abs(got[key] - p) < 1e-15
    assert abs(prob.sum() - 1) < 1e-12
    s2, a2, p2 = enumerate_trajectories(mdp, probs, horizon=2)
    assert s2.shape[1] == 2 and abs(p2.sum() - 1) < 1e-12


@pytest.mark.parametrize("seed", range(4))
def test_softmax_return_gradient_matches_autograd_and_finite_differences(seed):
    mdp = _mdp(20 + seed, S=4, A=3, horizon=7, gamma=[0.9, 1.0, 0.0, 0.5][seed], sparsity=0.2)
    theta = np.random.default_rng(seed).normal(0, 1, (4, 3))
    got = softmax_return_gradient(mdp, theta)
    # An autograd version written independently: J as the sum over t of gamma^t E[r_t].
    leaf = torch.tensor(theta, requires_grad=True)
    pi = torch.softmax(leaf, dim=1)
    P, R, mu0 = mdp.tensors()
    P_pi = torch.einsum("sa,sak->sk", pi, P)
    r_pi = (pi * R).sum(dim=1)
    d, J = mu0, 0.0
    for t in range(mdp.horizon):
        J = J + mdp.gamma**t * d @ r_pi
        d = d @ P_pi
    J.backward()
    np.testing.assert_allclose(got, leaf.grad.numpy(), rtol=1e-10, atol=1e-13)
    h, fd = 1e-6, np.zeros((4, 3))
    for i in range(4):
        for j in range(3):
            bump = np.zeros((4, 3))
            bump[i, j] = h
            fd[i, j] = (policy_return(mdp, policy_probs(theta + bump))
                        - policy_return(mdp, policy_probs(theta - bump))) / (2 * h)
    np.testing.assert_allclose(got, fd, rtol=0, atol=1e-8)


@pytest.mark.parametrize("seed", range(4))
def test_optimal_values_beat_every_time_dependent_deterministic_policy(seed):
    """The optimum over A^(S T) time-dependent deterministic policies, by brute force."""
    mdp = _mdp(30 + seed, S=2, A=2, horizon=3, gamma=0.8)
    best = -np.inf
    for choice in itertools.product(range(2), repeat=2 * 3):
        table = np.array(choice).reshape(3, 2)  # table[t, s] = action
        d, J = mdp.mu0.copy(), 0.0
        for t in range(3):
            pi = deterministic_policy(table[t], 2)
            J += mdp.gamma**t * d @ (pi * mdp.R).sum(axis=1)
            d = np.einsum("s,sa,sak->k", d, pi, mdp.P)
        best = max(best, J)
    assert abs(optimal_return(mdp) - best) < 1e-12
    Q, V = optimal_values(mdp)
    np.testing.assert_array_equal(V[-1], 0.0)
    np.testing.assert_allclose(V[:-1], Q.max(axis=-1))
    # No stationary policy, stochastic or not, beats the optimum.
    rng = np.random.default_rng(seed)
    for _ in range(20):
        assert policy_return(mdp, policy_probs(rng.normal(0, 3, (2, 2)))) <= best + 1e-12
    actions, J = best_deterministic_policy(mdp)
    assert abs(J - policy_return(mdp, deterministic_policy(actions, 2))) < 1e-15 and J <= best


def test_discounted_returns():
    rewards = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 1.0]])
    np.testing.assert_allclose(discounted_returns(rewards, 0.5), [1 + 1 + 0.75, 0.25])
    np.testing.assert_allclose(discounted_returns(rewards, 1.0), [6.0, 1.0])
