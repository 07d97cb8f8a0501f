"""pglib.cartpole: Gymnasium's CartPole-v1 vector env, flat batches, the REINFORCE loop.

The rollouts are checked against an independent re-enactment with plain single
environments (``gymnasium.make``), which have no autoreset: the same seeds and the same
deterministic policy must give the same episodes, step for step, so no autoreset step can
have slipped into a batch. Batches are checked for the flat-batch contract of chapter 5, the
loop for determinism and for using exactly the weights, loss and callback it is given.
"""
from __future__ import annotations

import gymnasium
import numpy as np
import pytest
import torch

from pglib.cartpole import (MAX_EPISODE_STEPS, N_ACTIONS, OBS_DIM, Batch, collect_batch,
                            curves_on_grid, evaluate, make_cartpole, surrogate,
                            train_reinforce, uniform_policy, whole_episode_returns)
from solutions.ch05_reinforce import CategoricalPolicy, trajectory_returns


class Heuristic(torch.nn.Module):
    """Push towards the side the pole falls to: deterministic, and good enough to last long."""

    def __init__(self, sharpness: float = 50.0, weights=(0.0, 0.0, 1.0, 1.0)):
        super().__init__()
        self.sharpness = sharpness
        self.w = torch.tensor(weights)

    def forward(self, obs):
        lean = (obs * self.w).sum(-1) * self.sharpness
        return torch.distributions.Categorical(logits=torch.stack([-lean, lean], dim=-1))


def _single_env_episodes(seed: int, env_index: int, count: int, policy) -> list[np.ndarray]:
    """The first ``count`` episodes of sub-environment ``env_index``, re-enacted on a plain
    environment: seeded like the vector env (seed + i), then reset once per episode."""
    env = gymnasium.make("CartPole-v1")
    env.reset(seed=seed + env_index)
    episodes = []
    for _ in range(count):
        obs, _ = env.reset()
        observations, done = [], False
        while not done:
            observations.append(obs)
            with torch.no_grad():
                action = int(policy(torch.as_tensor(obs)).probs.argmax())
            obs, _, terminated, truncated, _ = env.step(action)
            done = terminated or truncated
        episodes.append(np.array(observations))
    env.close()
    return episodes


def test_make_cartpole_is_the_real_sync_vector_env_with_next_step_autoreset():
    env = make_cartpole(num_envs=3, seed=0)
    try:
        assert isinstance(env, gymnasium.vector.SyncVectorEnv)
        assert env.num_envs == 3
        assert env.spec.id == "CartPole-v1"
        assert env.single_observation_space.shape == (OBS_DIM,)
        assert env.single_action_space.n == N_ACTIONS
        assert env.metadata["autoreset_mode"] == gymnasium.vector.AutoresetMode.NEXT_STEP
        assert env.envs[0].spec.max_episode_steps == MAX_EPISODE_STEPS
    finally:
        env.close()


@pytest.mark.parametrize("num_envs, n_episodes", [(4, 12), (3, 2), (5, 5)])
def test_batches_are_the_episodes_of_plain_single_environments(num_envs, n_episodes):
    policy = Heuristic(weights=(0.3, 0.1, 1.0, 0.4))
    env = make_cartpole(num_envs, seed=11)
    batch = collect_batch(env, policy, n_episodes, greedy=True)
    env.close()
    assert batch.n_episodes == n_episodes
    starts = np.concatenate([[0], np.cumsum(batch.episode_lengths)[:-1]])
    obs = batch.obs.numpy()
    for i in range(num_envs):
        mine = [obs[s:s + n] for s, n, e in zip(starts, batch.episode_lengths, batch.env_ids) if e == i]
        expected = _single_env_episodes(11, i, len(mine), policy)
        assert len(mine) == len(expected)
        for got, want in zip(mine, expected):
            np.testing.assert_array_equal(got, want)


def test_a_batch_follows_the_flat_batch_contract():
    torch.manual_seed(0)
    policy = CategoricalPolicy(OBS_DIM, N_ACTIONS)
    env = make_cartpole(4, seed=3)
    batch = collect_batch(env, policy, 10, generator=torch.Generator().manual_seed(3))
    env.close()
    T = batch.n_steps
    assert isinstance(batch, Batch)
    assert batch.obs.shape == (T, OBS_DIM) and batch.obs.dtype == torch.float32
    assert batch.actions.shape == (T,) and batch.actions.dtype == torch.int64
    assert batch.rewards.shape == (T,) and batch.rewards.dtype == np.float64
    assert batch.dones.shape == (T,) and batch.dones.dtype == bool and batch.dones[-1]
    assert batch.dones.sum() == batch.n_episodes == 10
    # CartPole pays 1 for every step: an autoreset step (reward 0) was never recorded
    np.testing.assert_array_equal(batch.rewards, 1.0)
    np.testing.assert_array_equal(batch.episode_lengths, batch.episode_returns)
    assert batch.episode_lengths.sum() == T
    assert not np.any(batch.terminated & ~batch.dones)
    assert batch.final_obs.shape == (10, OBS_DIM)
    np.testing.assert_array_equal(batch.episode_ids, np.repeat(np.arange(10), batch.episode_lengths))
    assert batch.env_steps >= T
    # log-probabilities of the recorded actions, attached to the parameters
    expected = policy(batch.obs).log_prob(batch.actions)
    torch.testing.assert_close(batch.log_probs, expected)
    batch.log_probs.sum().backward()
    assert all(p.grad is not None for p in policy.parameters())


def test_terminated_episodes_end_outside_the_bounds_and_truncated_ones_at_500_steps():
    env = make_cartpole(2, seed=5)
    batch = collect_batch(env, Heuristic(), 4, greedy=True)  # the heuristic lasts 500 steps
    env.close()
    ends = np.flatnonzero(batch.dones)
    for k, end in enumerate(ends):
        final = batch.final_obs[k]
        failed = abs(final[0]) > 2.4 or abs(final[2]) > 12 * 2 * np.pi / 360
        assert batch.terminated[end] == failed
        if not failed:
            assert batch.episode_lengths[k] == MAX_EPISODE_STEPS
    assert np.any(batch.episode_lengths == MAX_EPISODE_STEPS)


def test_the_random_policy_lasts_about_22_steps():
    returns = evaluate(uniform_policy(), 400, seed=1)
    se = returns.std(ddof=1) / np.sqrt(returns.size)
    assert returns.shape == (400,)
    assert 18 < returns.mean() < 27 and se < 1.0


def test_evaluate_greedy_and_sampled():
    assert np.all(evaluate(Heuristic(), 4, seed=0, num_envs=2, greedy=True) == MAX_EPISODE_STEPS)
    a = evaluate(uniform_policy(), 10, seed=4)
    b = evaluate(uniform_policy(), 10, seed=4)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("gamma", [0.0, 0.9, 1.0])
def test_whole_episode_returns_match_the_reference_of_exercise_5_1(gamma):
    rng = np.random.default_rng(int(gamma * 10))
    lengths = rng.integers(1, 20, 7)
    dones = np.zeros(lengths.sum(), dtype=bool)
    dones[np.cumsum(lengths) - 1] = True
    rewards = rng.normal(size=lengths.sum())
    np.testing.assert_allclose(whole_episode_returns(rewards, dones, gamma),
                               trajectory_returns(rewards, dones, gamma), rtol=1e-12, atol=1e-12)


def test_surrogate_detaches_the_weights():
    log_probs = torch.tensor([-0.5, -1.0], requires_grad=True)
    weights = torch.tensor([2.0, 3.0], requires_grad=True)
    surrogate(log_probs, weights).backward()
    torch.testing.assert_close(log_probs.grad, torch.tensor([-1.0, -1.5]))
    assert weights.grad is None


def _run(seed, steps=3000, **kwargs):
    torch.manual_seed(seed)
    policy = CategoricalPolicy(OBS_DIM, N_ACTIONS, (16,))
    log = train_reinforce(policy, lambda b: trajectory_returns(b.rewards, b.dones, 1.0),
                          total_steps=steps, episodes_per_batch=4, num_envs=4, seed=seed,
                          progress=False, **kwargs)
    return policy, log


def test_training_is_deterministic_given_the_seeds():
    policy_a, a = _run(0)
    policy_b, b = _run(0)
    np.testing.assert_array_equal(a.episode_returns, b.episode_returns)
    np.testing.assert_array_equal(a.losses, b.losses)
    for p, q in zip(policy_a.parameters(), policy_b.parameters()):
        assert torch.equal(p, q)
    _, c = _run(1)
    assert not np.array_equal(a.episode_returns[:20], c.episode_returns[:20])


def test_training_log_is_consistent():
    _, log = _run(2)
    K = log.steps.size
    assert K >= 2 and log.steps[-1] >= 3000 and log.steps[-2] < 3000
    assert np.all(np.diff(log.steps) > 0)
    assert log.mean_returns.shape == log.losses.shape == log.grad_norms.shape == (K,)
    assert log.episode_returns.size == 4 * K == log.episode_steps.size
    np.testing.assert_allclose(log.episode_returns.reshape(K, 4).mean(axis=1), log.mean_returns)
    assert log.env_steps >= log.steps[-1] and log.seconds > 0


def test_training_uses_the_given_weights_loss_and_callback():
    seen = []

    def loss_fn(log_probs, weights):
        seen.append((log_probs.dtype, weights.dtype, weights.requires_grad, weights.shape,
                     log_probs.shape))
        return -(log_probs * weights).mean()

    calls = []
    _, log = _run(3, steps=1000, loss_fn=loss_fn,
                  callback=lambda k, batch, loss: calls.append((k, batch.n_steps, float(loss.detach()))))
    assert len(seen) == len(calls) == log.steps.size
    assert all(s[0] == s[1] == torch.float32 and not s[2] and s[3] == s[4] for s in seen)
    assert [c[0] for c in calls] == list(range(len(calls)))
    np.testing.assert_allclose([c[2] for c in calls], log.losses)
    assert np.cumsum([c[1] for c in calls])[-1] == log.steps[-1]


def test_zero_weights_leave_the_policy_unchanged():
    torch.manual_seed(4)
    policy = CategoricalPolicy(OBS_DIM, N_ACTIONS, (8,))
    before = [p.detach().clone() for p in policy.parameters()]
    train_reinforce(policy, lambda b: np.zeros(b.n_steps), total_steps=500, episodes_per_batch=4,
                    num_envs=2, seed=0, progress=False, optimizer=torch.optim.SGD(policy.parameters(), lr=1.0))
    for p, q in zip(policy.parameters(), before):
        assert torch.equal(p, q)


def test_curves_on_grid_reads_the_last_finished_batch():
    class Log:
        steps = np.array([10, 25, 40])
        mean_returns = np.array([1.0, 2.0, 3.0])

    out = curves_on_grid([Log(), Log()], [5, 10, 24, 25, 100])
    np.testing.assert_array_equal(out[0, 1:], [1.0, 1.0, 2.0, 3.0])
    assert np.isnan(out[0, 0]) and out.shape == (2, 5)
