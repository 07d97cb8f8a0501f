"""The chapter 6 reference solutions against independent computations.

Nothing here reuses the solutions' own recursions: reward-to-go and GAE are checked against
explicit double sums and ``scipy.signal.lfilter``; the tabular estimators against torch
autograd through a surrogate loss, and their *exact* expectations (every trajectory of
positive probability, enumerated by ``pglib.tabular``) against the exact gradient of
``pglib.tabular.softmax_return_gradient``: unbiasedness is checked to rounding error,
without sampling. Normalisation is checked against ``scipy.stats.zscore``.
"""
from __future__ import annotations

import numpy as np
import pytest
import scipy.signal
import scipy.stats
import torch

from pglib.advantages import rtg_expectation_without_discount, trajectory_terms
from pglib.cartpole import whole_episode_returns
from pglib.tabular import (chapter_mdp, enumerate_trajectories, policy_probs, q_values,
                           random_mdp, softmax_return_gradient)
from solutions.ch06_variance_reduction import (gae, normalize, reinforce_gradient_baseline,
                                               reinforce_gradient_rtg, reward_to_go)

SEEDS = range(6)


def _flat_batch(rng, n_episodes, max_len):
    lengths = rng.integers(1, max_len + 1, n_episodes)
    dones = np.zeros(lengths.sum(), dtype=bool)
    dones[np.cumsum(lengths) - 1] = True
    return rng.normal(0.5, 1.0, lengths.sum()), dones, lengths


def _rtg_double_sum(rewards, dones, gamma):
    out = np.zeros(len(rewards))
    for t in range(len(rewards)):
        k = t
        while True:
            out[t] += gamma ** (k - t) * rewards[k]
            if dones[k]:
                break
            k += 1
    return out


# --- 6.1 reward_to_go -----------------------------------------------------------------------

@pytest.mark.parametrize("gamma", [0.0, 0.5, 0.9, 0.99, 1.0])
@pytest.mark.parametrize("seed", SEEDS)
def test_reward_to_go_matches_a_double_sum(seed, gamma):
    rewards, dones, _ = _flat_batch(np.random.default_rng(seed), 6, 12)
    got = reward_to_go(rewards, dones, gamma)
    assert got.dtype == np.float64 and got.shape == rewards.shape
    np.testing.assert_allclose(got, _rtg_double_sum(rewards, dones, gamma), rtol=1e-12,
                               atol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_reward_to_go_matches_lfilter_per_episode(seed):
    rewards, dones, lengths = _flat_batch(np.random.default_rng(10 + seed), 9, 30)
    pieces = np.split(rewards, np.cumsum(lengths)[:-1])
    want = np.concatenate([scipy.signal.lfilter([1.0], [1.0, -0.97], p[::-1])[::-1]
                           for p in pieces])
    np.testing.assert_allclose(reward_to_go(rewards, dones, 0.97), want, rtol=1e-12,
                               atol=1e-12)


def test_reward_to_go_at_episode_starts_is_the_whole_return():
    rewards, dones, lengths = _flat_batch(np.random.default_rng(20), 10, 15)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    got = reward_to_go(rewards, dones, 0.9)
    np.testing.assert_allclose(got[starts], whole_episode_returns(rewards, dones, 0.9)[starts],
                               rtol=1e-12)


def test_reward_to_go_edge_cases():
    r = np.array([1.0, -2.0, 3.0])
    np.testing.assert_array_equal(reward_to_go(r, [True, True, True], 0.9), r)
    np.testing.assert_array_equal(reward_to_go(r, [0, 0, 1], 0.0), r)
    np.testing.assert_allclose(reward_to_go([1, 1, 1, 1], [0, 1, 0, 1], 1.0), [2, 1, 2, 1])
    # CartPole: rewards 1, gamma = 1: the steps remaining in the episode
    np.testing.assert_array_equal(reward_to_go(np.ones(5), [0, 0, 0, 0, 1], 1.0),
                                  [5, 4, 3, 2, 1])
    got = reward_to_go([2], [True], 0.5)
    assert got.dtype == np.float64 and got.shape == (1,) and got[0] == 2.0


# --- 6.2 and 6.3: the tabular estimators ----------------------------------------------------

def _surrogate_gradient(theta, states, actions, weights):
    """grad of mean_i sum_t w_it log pi(a_it|s_it), by torch autograd."""
    th = torch.tensor(np.asarray(theta, dtype=np.float64), requires_grad=True)
    log_pi = torch.log_softmax(th, dim=1)[torch.as_tensor(states), torch.as_tensor(actions)]
    (torch.as_tensor(weights) * log_pi).sum().div(len(states)).backward()
    return th.grad.numpy()


def _rtg_matrix(rewards, gamma):
    n, T = rewards.shape
    return np.stack([rewards[:, t:] @ gamma ** np.arange(T - t) for t in range(T)], axis=1)


@pytest.mark.parametrize("gamma", [0.0, 0.8, 1.0])
@pytest.mark.parametrize("seed", SEEDS)
def test_estimators_match_torch_autograd(seed, gamma):
    rng = np.random.default_rng(30 + seed)
    S, A, n, T = 4, 3, 15, 7
    theta = rng.normal(0, 1.5, (S, A))
    states, actions = rng.integers(0, S, (n, T)), rng.integers(0, A, (n, T))
    rewards, baselines = rng.normal(0.5, 1.0, (n, T)), rng.normal(0.0, 2.0, (n, T))
    disc = gamma ** np.arange(T)
    G = _rtg_matrix(rewards, gamma)
    np.testing.assert_allclose(reinforce_gradient_rtg(theta, states, actions, rewards, gamma),
                               _surrogate_gradient(theta, states, actions, disc * G),
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(
        reinforce_gradient_baseline(theta, states, actions, rewards, gamma, baselines),
        _surrogate_gradient(theta, states, actions, disc * (G - baselines)),
        rtol=1e-10, atol=1e-12)


def test_zero_baselines_give_the_reward_to_go_estimator_and_rtg_baselines_give_zero():
    rng = np.random.default_rng(40)
    theta = rng.normal(size=(3, 2))
    states, actions = rng.integers(0, 3, (9, 5)), rng.integers(0, 2, (9, 5))
    rewards = rng.normal(size=(9, 5))
    np.testing.assert_allclose(
        reinforce_gradient_baseline(theta, states, actions, rewards, 0.9, np.zeros((9, 5))),
        reinforce_gradient_rtg(theta, states, actions, rewards, 0.9), rtol=1e-13, atol=1e-15)
    zero = reinforce_gradient_baseline(theta, states, actions, rewards, 0.9,
                                       _rtg_matrix(rewards, 0.9))
    np.testing.assert_allclose(zero, 0.0, atol=1e-13)


def test_estimators_stay_finite_for_logits_of_magnitude_1e3():
    rng = np.random.default_rng(41)
    theta = rng.choice([-1e3, 0.0, 1e3], size=(4, 3))
    states, actions = rng.integers(0, 4, (6, 5)), rng.integers(0, 3, (6, 5))
    rewards = rng.normal(size=(6, 5))
    disc = 0.9 ** np.arange(5)
    G = _rtg_matrix(rewards, 0.9)
    for value, weights in (
            (reinforce_gradient_rtg(theta, states, actions, rewards, 0.9), disc * G),
            (reinforce_gradient_baseline(theta, states, actions, rewards, 0.9, rewards),
             disc * (G - rewards))):
        assert value.dtype == np.float64 and np.all(np.isfinite(value))
        np.testing.assert_allclose(value, _surrogate_gradient(theta, states, actions, weights),
                                   rtol=1e-10, atol=1e-12)


def _exact_expectation(estimator, mdp, theta, extra=None):
    """sum_tau p(tau) g(tau) over every trajectory, by linearity: the estimators are linear
    in the rewards (and the baselines), so scaling trajectory i's rewards (and baselines) by
    M p_i turns the batch mean over the M trajectories into the exact expectation."""
    states, actions, probs = enumerate_trajectories(mdp, policy_probs(theta))
    scale = len(probs) * probs[:, None]
    rewards = mdp.rewards(states, actions) * scale
    if extra is None:
        return estimator(theta, states, actions, rewards, mdp.gamma)
    return estimator(theta, states, actions, rewards, mdp.gamma,
                     extra(states) * scale)


@pytest.mark.parametrize("seed", range(4))
def test_reward_to_go_estimator_is_exactly_unbiased_on_random_mdps(seed):
    rng = np.random.default_rng(50 + seed)
    mdp = random_mdp(3, 2, rng, gamma=0.8, horizon=5, sparsity=0.3)
    theta = rng.normal(0, 1, (3, 2))
    np.testing.assert_allclose(_exact_expectation(reinforce_gradient_rtg, mdp, theta),
                               softmax_return_gradient(mdp, theta), rtol=1e-9, atol=1e-12)


def test_reward_to_go_estimator_is_exactly_unbiased_on_the_chapter_mdp():
    mdp = chapter_mdp()  # T = 10: 13 898 trajectories at the uniform policy
    theta = np.zeros((4, 2))
    np.testing.assert_allclose(_exact_expectation(reinforce_gradient_rtg, mdp, theta),
                               softmax_return_gradient(mdp, theta), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_state_dependent_baselines_keep_the_estimator_exactly_unbiased(seed):
    rng = np.random.default_rng(60 + seed)
    mdp = random_mdp(3, 3, rng, gamma=0.9, horizon=4)
    theta = rng.normal(0, 1, (3, 3))
    _, V = q_values(mdp, policy_probs(theta))
    table = rng.normal(0, 3, (mdp.horizon, 3))  # an arbitrary b(t, s)
    T = mdp.horizon
    for baseline in (lambda s: V[np.arange(T), s], lambda s: table[np.arange(T), s],
                     lambda s: np.full(s.shape, 7.5)):
        np.testing.assert_allclose(
            _exact_expectation(reinforce_gradient_baseline, mdp, theta, baseline),
            softmax_return_gradient(mdp, theta), rtol=1e-9, atol=1e-12)


def test_a_baseline_that_depends_on_the_action_biases_the_estimator():
    rng = np.random.default_rng(70)
    mdp = random_mdp(3, 2, rng, gamma=0.9, horizon=4)
    theta = rng.normal(0, 1, (3, 2))
    states, actions, probs = enumerate_trajectories(mdp, policy_probs(theta))
    scale = len(probs) * probs[:, None]
    biased = reinforce_gradient_baseline(theta, states, actions,
                                         mdp.rewards(states, actions) * scale, mdp.gamma,
                                         (2.0 * actions) * scale)
    assert np.abs(biased - softmax_return_gradient(mdp, theta)).max() > 1e-2


def test_the_estimator_without_gamma_t_has_the_stated_expectation_and_is_biased():
    mdp = chapter_mdp()
    theta = np.zeros((4, 2))
    states, actions, probs = enumerate_trajectories(mdp, policy_probs(theta))
    G = _rtg_matrix(mdp.rewards(states, actions), mdp.gamma)
    exact = np.tensordot(probs, trajectory_terms(theta, states, actions, G), axes=1)
    np.testing.assert_allclose(exact, rtg_expectation_without_discount(mdp, theta),
                               rtol=1e-9, atol=1e-12)
    grad = softmax_return_gradient(mdp, theta)
    assert np.linalg.norm(exact - grad) > 0.1 * np.linalg.norm(grad)


# --- 6.4 gae --------------------------------------------------------------------------------

def _gae_double_sum(r, v, last, gamma, lam):
    v1 = np.append(v, last)
    delta = r + gamma * v1[1:] - v1[:-1]
    T = len(r)
    return np.array([sum((gamma * lam) ** (k - t) * delta[k] for k in range(t, T))
                     for t in range(T)])


@pytest.mark.parametrize("gamma,lam", [(0.99, 0.95), (0.9, 0.0), (0.9, 1.0), (1.0, 0.5),
                                       (0.0, 0.7), (0.95, 0.3)])
@pytest.mark.parametrize("seed", SEEDS)
def test_gae_matches_a_double_sum(seed, gamma, lam):
    rng = np.random.default_rng(80 + seed)
    T = int(rng.integers(1, 30))
    r, v, last = rng.normal(1, 1, T), rng.normal(3, 2, T), float(rng.normal(3, 2))
    got = gae(r, v, last, gamma, lam)
    assert got.dtype == np.float64 and got.shape == (T,)
    np.testing.assert_allclose(got, _gae_double_sum(r, v, last, gamma, lam), rtol=1e-11,
                               atol=1e-11)


def test_gae_limits_lam_0_is_the_td_residual_and_lam_1_the_bootstrapped_return():
    rng = np.random.default_rng(90)
    T, gamma = 12, 0.95
    r, v, last = rng.normal(1, 1, T), rng.normal(3, 2, T), 4.2
    delta = r + gamma * np.append(v[1:], last) - v
    np.testing.assert_allclose(gae(r, v, last, gamma, 0.0), delta, rtol=1e-13, atol=1e-13)
    dones = np.zeros(T, dtype=bool)
    dones[-1] = True
    bootstrapped = reward_to_go(r, dones, gamma) + gamma ** np.arange(T, 0, -1) * last
    np.testing.assert_allclose(gae(r, v, last, gamma, 1.0), bootstrapped - v, rtol=1e-12,
                               atol=1e-12)
    # a terminated episode: last_value = 0, and lam = 1 gives the reward-to-go minus V
    np.testing.assert_allclose(gae(r, v, 0.0, gamma, 1.0),
                               reward_to_go(r, dones, gamma) - v, rtol=1e-12, atol=1e-12)


def test_gae_with_exact_values_is_unbiased_for_every_lambda():
    """With the exact time-dependent V_t of the policy (V_T = 0 at the horizon), every
    TD residual after step t has conditional mean zero, so sum_t gamma^t A_t^lam score_t
    has expectation grad J for every lam: checked exactly, over every trajectory."""
    mdp = chapter_mdp(horizon=6)
    theta = np.random.default_rng(91).normal(0, 1, (4, 2))
    states, actions, probs = enumerate_trajectories(mdp, policy_probs(theta))
    _, V = q_values(mdp, policy_probs(theta))
    T = mdp.horizon
    values = V[np.arange(T), states]
    rewards = mdp.rewards(states, actions)
    disc = mdp.gamma ** np.arange(T)
    grad = softmax_return_gradient(mdp, theta)
    for lam in (0.0, 0.5, 0.9, 1.0):
        A = np.stack([gae(r, v, 0.0, mdp.gamma, lam) for r, v in zip(rewards, values)])
        mean = np.tensordot(probs, trajectory_terms(theta, states, actions, disc * A), axes=1)
        np.testing.assert_allclose(mean, grad, rtol=1e-9, atol=1e-12)
    # with values that ignore time (V_0 at every step), lam < 1 is biased, lam = 1 is not
    wrong = V[0][states]
    for lam, biased in ((0.0, True), (1.0, False)):
        A = np.stack([gae(r, v, 0.0, mdp.gamma, lam) for r, v in zip(rewards, wrong)])
        mean = np.tensordot(probs, trajectory_terms(theta, states, actions, disc * A), axes=1)
        assert (np.abs(mean - grad).max() > 1e-3) == biased


# --- 6.5 normalize --------------------------------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS)
def test_normalize_matches_zscore(seed):
    rng = np.random.default_rng(100 + seed)
    x = rng.normal(rng.normal(0, 10), rng.uniform(0.1, 5), int(rng.integers(2, 200)))
    got = normalize(x)
    assert got.dtype == np.float64 and got.shape == x.shape
    # zscore divides by std (ddof=0) without eps: relative difference eps / std < 1e-7
    np.testing.assert_allclose(got, scipy.stats.zscore(x), rtol=1e-7, atol=1e-12)
    assert abs(got.mean()) < 1e-12 and abs(got.std() - 1) < 1e-7


def test_normalize_eps_constant_and_lists():
    np.testing.assert_array_equal(normalize(np.full(5, 2.5)), np.zeros(5))
    np.testing.assert_array_equal(normalize([3.0]), [0.0])
    x = np.array([1.0, 2.0, 4.0])
    std = np.sqrt(np.mean((x - 7 / 3) ** 2))
    np.testing.assert_allclose(normalize(x, eps=0.5), (x - 7 / 3) / (std + 0.5), rtol=1e-13)
    np.testing.assert_allclose(normalize([1, 2, 3, 4]),
                               (np.arange(1, 5) - 2.5) / np.sqrt(1.25), rtol=1e-7)
    far = 1e6 + np.random.default_rng(110).normal(0, 1, 300)
    np.testing.assert_allclose(normalize(far), scipy.stats.zscore(far), rtol=1e-6, atol=1e-7)
