"""pglib.advantages: estimator terms and moments, the undiscounted-weighting expectation, the
value network and its fit, the CartPole loop with a learned baseline, learning-curve reading.

The tabular helpers are checked against independent computations (chapter 4's reference
``trajectory_score`` step by step, brute-force enumeration); the CartPole loop on a short
run, for what it promises: the values it passes, the bootstrap at terminations, the
targets it fits, and determinism given the seed.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from pglib.advantages import (ValueNetwork, episode_slices, estimator_moments, fit_value,
                              rolling_mean, rtg_expectation_without_discount,
                              steps_to_threshold, train_with_value_baseline,
                              trajectory_terms)
from pglib.cartpole import TrainingLog
from pglib.tabular import (enumerate_trajectories, policy_probs, random_mdp,
                           softmax_return_gradient)
from solutions.ch04_policy_gradient import trajectory_score


def test_trajectory_terms_match_step_by_step_scores():
    rng = np.random.default_rng(0)
    theta = rng.normal(size=(5, 3))
    states, actions = rng.integers(0, 5, (4, 6)), rng.integers(0, 3, (4, 6))
    weights = rng.normal(size=(4, 6))
    got = trajectory_terms(theta, states, actions, weights)
    assert got.shape == (4, 5, 3)
    for i in range(4):
        want = sum(weights[i, t] * trajectory_score(theta, states[i, t:t + 1],
                                                    actions[i, t:t + 1]) for t in range(6))
        np.testing.assert_allclose(got[i], want, rtol=1e-12, atol=1e-12)


def test_estimator_moments_exact_and_sampled():
    rng = np.random.default_rng(1)
    terms = rng.normal(size=(6, 2, 2))
    probs = np.full(6, 1 / 6)
    mean, total, var = estimator_moments(terms, probs)
    np.testing.assert_allclose(mean, terms.mean(axis=0), rtol=1e-13)
    np.testing.assert_allclose(var, terms.var(axis=0), rtol=1e-13)
    assert np.isclose(total, var.sum())
    mean_s, total_s, var_s = estimator_moments(terms)
    np.testing.assert_allclose(var_s, terms.var(axis=0, ddof=1), rtol=1e-13)
    assert np.isclose(total_s, var_s.sum()) and np.allclose(mean_s, mean)


@pytest.mark.parametrize("seed", range(3))
def test_rtg_expectation_without_discount_by_enumeration(seed):
    rng = np.random.default_rng(10 + seed)
    mdp = random_mdp(3, 2, rng, gamma=0.8, horizon=5, sparsity=0.2)
    theta = rng.normal(size=(3, 2))
    states, actions, probs = enumerate_trajectories(mdp, policy_probs(theta))
    rewards = mdp.rewards(states, actions)
    G = np.stack([rewards[:, t:] @ mdp.gamma ** np.arange(5 - t) for t in range(5)], axis=1)
    brute = np.tensordot(probs, trajectory_terms(theta, states, actions, G), axes=1)
    np.testing.assert_allclose(rtg_expectation_without_discount(mdp, theta), brute,
                               rtol=1e-10, atol=1e-12)
    # with gamma = 1 there is nothing to drop: it is the gradient of J
    undiscounted = random_mdp(3, 2, rng, gamma=1.0, horizon=4)
    np.testing.assert_allclose(rtg_expectation_without_discount(undiscounted, theta),
                               softmax_return_gradient(undiscounted, theta), rtol=1e-10,
                               atol=1e-12)


def test_value_network_shapes_and_scale():
    torch.manual_seed(0)
    net = ValueNetwork(4, (8,), scale=10.0)
    obs = torch.randn(3, 5, 4)
    out = net(obs)
    assert out.shape == (3, 5)
    torch.testing.assert_close(out, 10.0 * net.net(obs).squeeze(-1))


def test_fit_value_learns_a_simple_function():
    torch.manual_seed(1)
    net = ValueNetwork(2, (32,), scale=1.0)
    obs = np.random.default_rng(2).uniform(-1, 1, (512, 2)).astype(np.float32)
    targets = obs[:, 0] - 2 * obs[:, 1]
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
    first = fit_value(net, optimizer, obs, targets, epochs=1,
                      generator=torch.Generator().manual_seed(0))
    last = fit_value(net, optimizer, obs, targets, epochs=60,
                     generator=torch.Generator().manual_seed(0))
    assert last < 0.01 < first


def test_episode_slices_and_rolling_mean():
    assert episode_slices([0, 1, 1, 0, 0, 1]) == [slice(0, 2), slice(2, 3), slice(3, 6)]
    np.testing.assert_allclose(rolling_mean([1, 2, 3, 4], 2), [1, 1.5, 2.5, 3.5])


def _log(returns, steps):
    returns = np.asarray(returns, dtype=float)
    return TrainingLog(steps=np.array([steps[-1]]), mean_returns=np.array([returns.mean()]),
                       losses=np.zeros(1), grad_norms=np.zeros(1), episode_returns=returns,
                       episode_steps=np.asarray(steps), env_steps=0, seconds=0.0)


def test_steps_to_threshold():
    returns = [10.0] * 5 + [500.0] * 10
    steps = list(range(100, 1600, 100))
    # window 4: the mean of episodes 5..8 is the first >= 475
    assert steps_to_threshold(_log(returns, steps), 475.0, window=4) == (900, 8)
    assert steps_to_threshold(_log(returns[:6], steps[:6]), 475.0, window=4) == (None, None)
    assert steps_to_threshold(_log(returns[:3], steps[:3]), 0.0, window=4) == (None, None)


def test_train_with_value_baseline_passes_values_bootstraps_and_fits():
    seen = []

    def weights_fn(batch, values, bootstrap):
        seen.append((batch, values, bootstrap))
        assert values.shape == (batch.n_steps,) and values.dtype == np.float64
        assert bootstrap.shape == (batch.n_episodes,)
        ends = np.flatnonzero(batch.dones)
        assert np.all(bootstrap[batch.terminated[ends]] == 0.0)
        returns = np.concatenate([np.cumsum(batch.rewards[s][::-1])[::-1]
                                  for s in episode_slices(batch.dones)])
        return returns - values, returns

    def run():
        torch.manual_seed(3)
        policy = torch.nn.Sequential(torch.nn.Linear(4, 2))

        class Wrapped(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.net = policy

            def forward(self, obs):
                return torch.distributions.Categorical(logits=self.net(obs))

        value = ValueNetwork(4, (16,), scale=10.0)
        log = train_with_value_baseline(Wrapped(), value, weights_fn, seed=5,
                                        total_steps=1_500, episodes_per_batch=4,
                                        num_envs=4, progress=False, value_epochs=2)
        return log, value

    log, value = run()
    assert len(log.extra["value_losses"]) == len(log.steps) == len(seen)
    # the values passed for batch k come from the network before its fit on batch k:
    # after the last fit, the network has moved
    batch, values, _ = seen[-1]
    with torch.no_grad():
        now = value(batch.obs).double().numpy()
    assert not np.allclose(now, values)
    again, _ = run()
    np.testing.assert_array_equal(log.episode_returns, again.episode_returns)
    np.testing.assert_allclose(log.extra["value_losses"], again.extra["value_losses"])
