"""CartPole-v1 with Gymnasium's vector API: rollouts, flat batches, REINFORCE training.

Chapters 5 and 6 (and a benchmark) train policy networks on Gymnasium's real
``CartPole-v1``. This module holds what they share:

* :func:`make_cartpole`: ``num_envs`` copies of ``CartPole-v1`` in a synchronous vector
  environment (``gymnasium.make_vec(..., vectorization_mode="sync")``), seeded;
* :func:`collect_batch`: run a policy until it has completed a fixed number of whole
  episodes, and return them as a **flat batch** (:class:`Batch`): the steps of each
  episode one after the other, with ``dones[t]`` true at the last step of each episode
  (by termination or truncation), so ``dones[-1]`` is true;
* :func:`train_reinforce`: a REINFORCE loop with a progress bar, whose per-step weights
  (the whole-episode return of chapter 5; reward-to-go, baselines or normalised advantages
  in chapter 6) come from a function argument;
* :func:`evaluate` and :func:`uniform_policy`: returns of a policy, and the random policy.

A *policy* here is any ``torch.nn.Module`` whose ``forward(obs)`` takes a float32 tensor of
observations ``(..., obs_dim)`` and returns a ``torch.distributions.Categorical`` with batch
shape ``obs.shape[:-1]``, like chapter 5's ``CategoricalPolicy``.

**Autoreset.** Gymnasium 1.x vector environments reset a finished sub-environment on the
*next* call to ``step`` (``AutoresetMode.NEXT_STEP``, the default): the step that follows
a terminal or truncated step ignores its action, returns the first observation of a new
episode, reward 0 and no termination. That step is not a transition of any episode, and
:func:`collect_batch` never records it: its action, reward and log-probability would
otherwise enter the gradient although the action was never executed.

**Unbiased batches.** Every batch holds exactly ``n_episodes`` whole episodes, each run to
its end with the same policy. A sub-environment starts a new episode only while fewer than
``n_episodes`` have been started; once enough are under way, sub-environments that finish
sit idle and their steps are discarded. The episodes are therefore independent draws of the
policy's trajectory distribution, none is cut short and none is chosen by its outcome.

**Threads.** The rollouts and updates run torch on one thread (the previous setting is
restored afterwards): networks this small run several times faster that way, above all on a
busy machine, and the arithmetic does not depend on the number of cores.

Nothing here is an exercise solution; the loss of :func:`train_reinforce` defaults to the
surrogate of chapter 5, ``-mean(log_probs * weights)`` with the weights detached, and
chapters pass their own (the student's) with ``loss_fn``.
"""
from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

from solutions.ch05_reinforce import surrogate_loss, trajectory_returns

__all__ = [
    "ENV_ID",
    "OBS_DIM",
    "N_ACTIONS",
    "MAX_EPISODE_STEPS",
    "Batch",
    "TrainingLog",
    "make_cartpole",
    "collect_batch",
    "whole_episode_returns",
    "surrogate",
    "train_reinforce",
    "evaluate",
    "uniform_policy",
    "curves_on_grid",
]

ENV_ID = "CartPole-v1"
OBS_DIM = 4  # cart position, cart velocity, pole angle, pole angular velocity
N_ACTIONS = 2  # push the cart left (0) or right (1)
MAX_EPISODE_STEPS = 500  # CartPole-v1's TimeLimit: an episode is truncated after 500 steps


@contextlib.contextmanager
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def make_cartpole(num_envs: int = 8, seed: int | None = None):
    """``num_envs`` copies of Gymnasium's ``CartPole-v1`` in a synchronous vector env.

    With a ``seed``, sub-environment ``i`` is seeded with ``seed + i`` (Gymnasium's
    convention for ``VectorEnv.reset(seed=...)``), so every later episode is determined by
    the seed and the actions. The environment uses the default ``NEXT_STEP`` autoreset.
    """
    import gymnasium

    env = gymnasium.make_vec(ENV_ID, num_envs=num_envs, vectorization_mode="sync")
    if seed is not None:
        env.reset(seed=int(seed))
    return env


@dataclass
class Batch:
    """Whole episodes, flattened: the steps of episode 0, then of episode 1, and so on.

    Attributes:
        obs: ``(T, obs_dim)`` float32 tensor, the observation s_t at each step.
        actions: ``(T,)`` int64 tensor, the action a_t taken at s_t.
        log_probs: ``(T,)`` tensor ``log pi(a_t | s_t)``, attached to the policy's
            parameters (one batched forward pass after the rollout), or ``None`` when
            collected with ``with_log_probs=False``.
        rewards: ``(T,)`` float64 array, the reward r_t received after a_t.
        dones: ``(T,)`` bool array, true at the last step of each episode (termination or
            truncation); ``dones[-1]`` is true.
        terminated: ``(T,)`` bool array, true where an episode ended by *termination*
            (the pole fell or the cart left the track), false at truncations (500 steps).
        final_obs: ``(E, obs_dim)`` float32 array, the observation after each episode's
            last step (what a value function would bootstrap from after a truncation).
        episode_returns: ``(E,)`` float64, the undiscounted return of each episode.
        episode_lengths: ``(E,)`` int64, the number of steps of each episode.
        env_steps: calls of ``step`` times ``num_envs``: every sub-environment step taken,
            including the discarded autoreset and idle steps.
        env_ids: ``(E,)`` int64, the sub-environment that ran each episode.
    """

    obs: torch.Tensor
    actions: torch.Tensor
    log_probs: torch.Tensor | None
    rewards: np.ndarray
    dones: np.ndarray
    terminated: np.ndarray
    final_obs: np.ndarray
    episode_returns: np.ndarray
    episode_lengths: np.ndarray
    env_steps: int
    env_ids: np.ndarray | None = None

    @property
    def n_steps(self) -> int:
        """T, the number of transitions in the batch (the steps that count)."""
        return int(self.rewards.shape[0])

    @property
    def n_episodes(self) -> int:
        return int(self.episode_returns.shape[0])

    @property
    def episode_ids(self) -> np.ndarray:
        """``(T,)`` int: the index of the episode each step belongs to."""
        return np.concatenate([[0], np.cumsum(self.dones[:-1])]).astype(np.int64)


def _act(policy, obs: np.ndarray, generator, greedy: bool) -> np.ndarray:
    with torch.no_grad():
        dist = policy(torch.as_tensor(obs, dtype=torch.float32))
        probs = dist.probs
        if greedy:
            actions = probs.argmax(dim=-1)
        else:
            actions = torch.multinomial(probs, 1, generator=generator).squeeze(-1)
    return actions.numpy()


def collect_batch(env, policy, n_episodes: int, *, generator: torch.Generator | None = None,
                  greedy: bool = False, with_log_probs: bool = True) -> Batch:
    """Run ``policy`` in the vector env until ``n_episodes`` whole episodes are complete.

    Every sub-environment is reset first (continuing its own random stream), so episodes
    of earlier batches, run with earlier parameters, never leak in. Actions are drawn from
    ``policy(obs)`` with ``torch.multinomial`` and ``generator`` (the global torch random
    state is not touched when a generator is given), or are the most probable action if
    ``greedy``. Steps that follow a finished episode (Gymnasium's ``NEXT_STEP`` autoreset)
    and steps of idle sub-environments are taken but not recorded.

    Episodes appear in the order in which they finished. With ``with_log_probs``, the
    log-probabilities of the recorded actions are computed in one forward pass over the
    whole batch, with gradients to the policy's parameters.
    """
    if n_episodes < 1:
        raise ValueError(f"n_episodes must be at least 1, got {n_episodes}")
    with _one_thread():
        return _collect(env, policy, n_episodes, generator, greedy, with_log_probs)


def _collect(env, policy, n_episodes, generator, greedy, with_log_probs) -> Batch:
    num_envs = env.num_envs
    obs, _ = env.reset()
    active = np.arange(num_envs) < n_episodes  # sub-environments running a counted episode
    started = int(active.sum())
    pending_reset = np.zeros(num_envs, dtype=bool)  # the next step of env i is an autoreset
    current = [([], [], []) for _ in range(num_envs)]  # per env: obs, actions, rewards
    episodes = []  # (obs, actions, rewards, terminated, final_obs, env) of finished ones
    env_steps = 0
    while len(episodes) < n_episodes:
        actions = _act(policy, obs, generator, greedy)
        next_obs, rewards, terminations, truncations, _ = env.step(actions)
        env_steps += num_envs
        for i in range(num_envs):
            if pending_reset[i]:
                # This step reset env i: its action was ignored, next_obs[i] is the first
                # observation of a new episode. Not a transition: record nothing.
                pending_reset[i] = False
                continue
            if not active[i]:
                continue
            ep_obs, ep_actions, ep_rewards = current[i]
            ep_obs.append(obs[i])
            ep_actions.append(actions[i])
            ep_rewards.append(rewards[i])
            if terminations[i] or truncations[i]:
                episodes.append((np.array(ep_obs, dtype=np.float32),
                                 np.array(ep_actions, dtype=np.int64),
                                 np.array(ep_rewards, dtype=np.float64),
                                 bool(terminations[i]),
                                 np.array(next_obs[i], dtype=np.float32), i))
                current[i] = ([], [], [])
                pending_reset[i] = True
                if started < n_episodes:
                    started += 1
                else:
                    active[i] = False
        obs = next_obs

    lengths = np.array([len(e[2]) for e in episodes], dtype=np.int64)
    ends = np.cumsum(lengths) - 1
    dones = np.zeros(int(lengths.sum()), dtype=bool)
    dones[ends] = True
    terminated = np.zeros_like(dones)
    terminated[ends] = [e[3] for e in episodes]
    rewards = np.concatenate([e[2] for e in episodes])
    obs_t = torch.as_tensor(np.concatenate([e[0] for e in episodes]))
    actions_t = torch.as_tensor(np.concatenate([e[1] for e in episodes]))
    log_probs = policy(obs_t).log_prob(actions_t) if with_log_probs else None
    return Batch(
        obs=obs_t, actions=actions_t, log_probs=log_probs, rewards=rewards, dones=dones,
        terminated=terminated, final_obs=np.stack([e[4] for e in episodes]),
        episode_returns=np.array([e[2].sum() for e in episodes]),
        episode_lengths=lengths, env_steps=env_steps,
        env_ids=np.array([e[5] for e in episodes], dtype=np.int64),
    )


# The weighting of plain REINFORCE and the surrogate loss are exercises 5.1 and 5.2: their
# reference solutions serve here under the names the training code uses (one source of truth).
whole_episode_returns = trajectory_returns
surrogate = surrogate_loss


@dataclass
class TrainingLog:
    """What :func:`train_reinforce` records, one entry per update (``K`` updates).

    ``steps[k]`` is the number of transitions collected up to and including update k,
    the x axis of learning curves; ``mean_returns[k]`` the mean undiscounted return of the
    episodes of batch k (collected with the parameters *before* update k); ``losses[k]``
    the surrogate's value and ``grad_norms[k]`` the Euclidean norm of its gradient.
    ``episode_returns`` lists every episode's return in order, with ``episode_steps``
    the transition count at the end of its batch.
    """

    steps: np.ndarray
    mean_returns: np.ndarray
    losses: np.ndarray
    grad_norms: np.ndarray
    episode_returns: np.ndarray
    episode_steps: np.ndarray
    env_steps: int
    seconds: float
    extra: dict = field(default_factory=dict)


def train_reinforce(policy: torch.nn.Module, weights_fn: Callable[[Batch], object], *,
                    total_steps: int = 50_000, episodes_per_batch: int = 16,
                    num_envs: int = 8, lr: float = 1e-2, seed: int = 0,
                    loss_fn: Callable | None = None, optimizer=None, progress: bool = True,
                    desc: str = "REINFORCE",
                    callback: Callable[[int, Batch, torch.Tensor], None] | None = None,
                    ) -> TrainingLog:
    """Train ``policy`` on CartPole-v1 by stochastic gradient steps on a surrogate loss.

    Each update collects ``episodes_per_batch`` whole episodes (:func:`collect_batch`),
    computes one weight per step with ``weights = weights_fn(batch)`` (an array-like or
    tensor of shape ``(T,)``; it is converted to the dtype of the log-probabilities and
    detached), and takes one optimizer step on ``loss_fn(batch.log_probs, weights)``
    (default :func:`surrogate`). Training stops after the update during which the number
    of collected transitions reaches ``total_steps``.

    Args:
        policy: a module mapping observations to a ``Categorical`` (see the module doc).
        weights_fn: the weighting: the whole-episode return for plain REINFORCE,
            reward-to-go, a baselined or normalised return for chapter 6.
        total_steps: the budget of transitions (the x axis of a learning curve).
        episodes_per_batch, num_envs: batch size in episodes; parallel environments.
        lr: learning rate of the default optimizer, ``torch.optim.Adam``.
        seed: seeds the environments (``seed + i`` for sub-environment i) and the torch
            generator that draws actions; the policy's initial parameters are the caller's.
        optimizer: a ready ``torch.optim`` optimizer over the policy's parameters, instead.
        progress: show a tqdm progress bar counted in transitions.
        callback: ``callback(k, batch, loss)`` after update k, e.g. to train a critic.

    Returns:
        A :class:`TrainingLog`. The run is deterministic given ``seed`` and the policy's
        initial parameters (on one machine: torch runs on one thread here).
    """
    from tqdm import tqdm

    loss_fn = surrogate if loss_fn is None else loss_fn
    if optimizer is None:
        optimizer = torch.optim.Adam(policy.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(int(seed))
    env = make_cartpole(num_envs, seed)
    steps, mean_returns, losses, grad_norms = [], [], [], []
    episode_returns, episode_steps = [], []
    total, env_steps, start = 0, 0, time.monotonic()
    bar = tqdm(total=total_steps, desc=desc, unit="step", disable=not progress,
               mininterval=1.0, leave=True)
    try:
        with _one_thread():
            k = 0
            while total < total_steps:
                batch = collect_batch(env, policy, episodes_per_batch, generator=generator)
                weights = weights_fn(batch)
                if isinstance(weights, torch.Tensor):
                    weights = weights.detach().to(batch.log_probs.dtype)
                else:
                    weights = torch.as_tensor(np.asarray(weights, dtype=np.float64),
                                              dtype=batch.log_probs.dtype)
                loss = loss_fn(batch.log_probs, weights)
                optimizer.zero_grad()
                loss.backward()
                norm = torch.sqrt(sum((p.grad.detach().double() ** 2).sum()
                                      for p in policy.parameters() if p.grad is not None)
                                  + torch.zeros((), dtype=torch.float64))
                optimizer.step()
                if callback is not None:
                    callback(k, batch, loss)
                total += batch.n_steps
                env_steps += batch.env_steps
                steps.append(total)
                mean_returns.append(float(batch.episode_returns.mean()))
                losses.append(float(loss.detach()))
                grad_norms.append(float(norm))
                episode_returns.extend(batch.episode_returns.tolist())
                episode_steps.extend([total] * batch.n_episodes)
                bar.update(min(batch.n_steps, total_steps - bar.n))
                bar.set_postfix(mean_return=f"{mean_returns[-1]:.1f}", refresh=False)
                k += 1
    finally:
        bar.close()
        env.close()
    return TrainingLog(
        steps=np.array(steps, dtype=np.int64), mean_returns=np.array(mean_returns),
        losses=np.array(losses), grad_norms=np.array(grad_norms),
        episode_returns=np.array(episode_returns),
        episode_steps=np.array(episode_steps, dtype=np.int64),
        env_steps=env_steps, seconds=time.monotonic() - start,
    )


def evaluate(policy: torch.nn.Module, n_episodes: int = 20, *, seed: int = 12345,
             num_envs: int = 8, greedy: bool = False) -> np.ndarray:
    """Undiscounted returns of ``n_episodes`` episodes of ``policy``, shape ``(n_episodes,)``.

    Actions are sampled (with a torch generator seeded by ``seed``) or, if ``greedy``, the
    most probable ones. No gradients are recorded.
    """
    env = make_cartpole(num_envs, seed)
    try:
        generator = torch.Generator().manual_seed(int(seed))
        batch = collect_batch(env, policy, n_episodes, generator=generator, greedy=greedy,
                              with_log_probs=False)
    finally:
        env.close()
    return batch.episode_returns


class _Uniform(torch.nn.Module):
    def __init__(self, n_actions: int):
        super().__init__()
        self.n_actions = n_actions

    def forward(self, obs: torch.Tensor) -> torch.distributions.Categorical:
        logits = torch.zeros(obs.shape[:-1] + (self.n_actions,), dtype=obs.dtype)
        return torch.distributions.Categorical(logits=logits)


def uniform_policy(n_actions: int = N_ACTIONS) -> torch.nn.Module:
    """The random policy: every action with probability ``1 / n_actions``, whatever the state."""
    return _Uniform(n_actions)


def curves_on_grid(logs: list[TrainingLog], grid) -> np.ndarray:
    """``(len(logs), len(grid))``: each run's batch mean return against transitions, as a
    step function (the value of the last batch finished at or before each grid point;
    NaN before the first)."""
    grid = np.asarray(grid)
    out = np.full((len(logs), grid.size), np.nan)
    for row, log in zip(out, logs):
        index = np.searchsorted(log.steps, grid, side="right") - 1
        ok = index >= 0
        row[ok] = log.mean_returns[index[ok]]
    return out
