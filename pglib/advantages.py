"""Variance reduction tools of chapter 6: estimator comparisons and a learned baseline.

Two groups of helpers, none of them an exercise:

* **Tabular estimators.** Every policy-gradient estimator of chapters 4-6 on a tabular
  softmax policy is a sum over steps of a *weight* times the score,
  ``sum_t w_t grad log pi(a_t | s_t)``: the whole return ``G_0`` for REINFORCE,
  ``gamma^t G_t`` for reward-to-go, ``gamma^t (G_t - b_t)`` with a baseline, and so on.
  :func:`trajectory_terms` turns per-step weights into one ``(S, A)`` term per trajectory,
  and :func:`estimator_moments` gives the mean and variance of those terms, exactly
  (weighted by the probabilities of enumerated trajectories) or from samples.
  :func:`rtg_expectation_without_discount` is the exact expectation of the common
  estimator that drops the ``gamma^t``, which is not the gradient of ``J``.
* **CartPole with a learned value baseline.** :class:`ValueNetwork`, :func:`fit_value` and
  :func:`train_with_value_baseline`, a REINFORCE loop built on
  :func:`pglib.cartpole.train_reinforce` whose per-step weights may use a value network
  that is fitted after every update; :func:`steps_to_threshold` reads a learning curve.

The per-step weights themselves (reward-to-go, GAE, normalisation) are the chapter's
exercises: callers pass them in.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from pglib.cartpole import Batch, TrainingLog, train_reinforce
from pglib.tabular import TabularMDP, policy_probs, q_values, state_distributions

__all__ = [
    "trajectory_terms",
    "estimator_moments",
    "rtg_expectation_without_discount",
    "ValueNetwork",
    "episode_slices",
    "fit_value",
    "train_with_value_baseline",
    "rolling_mean",
    "steps_to_threshold",
]


# --- tabular estimators -------------------------------------------------------------------

def trajectory_terms(theta, states, actions, weights) -> np.ndarray:
    """``(n, S, A)``: ``sum_t w_it grad log pi(a_it | s_it)`` for each trajectory i.

    ``theta (S, A)`` are the softmax policy's logits, ``states``, ``actions`` and
    ``weights`` have shape ``(n, T)``. The score of the softmax policy is
    ``e_a - pi(. | s)`` in row s, so term i is ``C_i(s, a) - C_i(s) pi(a | s)`` with the
    weighted counts ``C_i(s, a) = sum_t w_it [s_it = s, a_it = a]``. The mean of the terms
    over i is the estimate from the batch.
    """
    theta = np.asarray(theta, dtype=np.float64)
    states = np.asarray(states, dtype=np.int64)
    actions = np.asarray(actions, dtype=np.int64)
    weights = np.asarray(weights, dtype=np.float64)
    n, T = states.shape
    S, A = theta.shape
    counts = np.zeros((n, S, A))
    rows = np.broadcast_to(np.arange(n)[:, None], (n, T))
    np.add.at(counts, (rows, states, actions), weights)
    return counts - counts.sum(axis=2, keepdims=True) * policy_probs(theta)


def estimator_moments(terms, probs=None):
    """Mean, total variance and per-entry variance of one estimator's terms.

    ``terms (M, ...)`` holds one term per trajectory. With ``probs (M,)`` (the exact
    probabilities of *all* trajectories, from :func:`pglib.tabular.enumerate_trajectories`)
    the moments are exact; without, they are the sample mean and the unbiased (ddof=1)
    sample variances. Returns ``(mean (...), total_variance, variance (...))``, where the
    total variance is the trace of the covariance, ``E ||X - E X||^2``: an estimate from
    n independent trajectories has expected squared error ``||bias||^2 + total / n``.
    """
    terms = np.asarray(terms, dtype=np.float64)
    if probs is None:
        mean = terms.mean(axis=0)
        variance = terms.var(axis=0, ddof=1)
    else:
        probs = np.asarray(probs, dtype=np.float64)
        mean = np.tensordot(probs, terms, axes=1)
        variance = np.tensordot(probs, (terms - mean) ** 2, axes=1)
    return mean, float(variance.sum()), variance


def rtg_expectation_without_discount(mdp: TabularMDP, theta) -> np.ndarray:
    """Exact ``E[sum_t G_t grad log pi(a_t | s_t)]``: reward-to-go *without* ``gamma^t``.

    Conditioning on ``(s_t, a_t)`` replaces ``G_t`` by ``Q_t(s_t, a_t)``, and the softmax
    score by ``e_a - pi(. | s)``, so the expectation is
    ``sum_t d_t(s) pi(a|s) (Q_t(s, a) - V_t(s))``: the policy gradient theorem's formula
    (:func:`pglib.tabular.softmax_return_gradient`) with the weights ``gamma^t`` replaced by 1.
    It differs from grad J whenever gamma < 1 and the advantages at t >= 1 matter.
    """
    probs = policy_probs(theta)
    d = state_distributions(mdp, probs)  # (T, S)
    Q, V = q_values(mdp, probs)
    advantage = Q - V[:-1, :, None]
    return np.einsum("ts,sa,tsa->sa", d, probs, advantage)


# --- CartPole with a learned baseline ------------------------------------------------------

class ValueNetwork(torch.nn.Module):
    """A state-value network ``V(obs)``: an MLP with tanh units, one output per observation.

    ``forward(obs)`` maps ``(..., obs_dim)`` float32 observations to ``(...)`` values. The
    output layer's result is multiplied by ``scale`` (for instance ``1 / (1 - gamma)``, the
    largest discounted return of rewards in [0, 1]): the network then works with numbers of
    order one while its outputs cover the range of the returns, which lets Adam's
    parameter-sized steps move the values quickly enough.
    """

    def __init__(self, obs_dim: int, hidden_sizes=(64, 64), scale: float = 1.0):
        super().__init__()
        layers, size = [], obs_dim
        for hidden in hidden_sizes:
            layers += [torch.nn.Linear(size, hidden), torch.nn.Tanh()]
            size = hidden
        layers.append(torch.nn.Linear(size, 1))
        self.net = torch.nn.Sequential(*layers)
        self.scale = float(scale)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.scale * self.net(obs).squeeze(-1)


def episode_slices(dones) -> list[slice]:
    """The slice of each episode in a flat batch whose ``dones[t]`` marks episode ends."""
    ends = np.flatnonzero(np.asarray(dones, dtype=bool)) + 1
    starts = np.concatenate([[0], ends[:-1]])
    return [slice(int(a), int(b)) for a, b in zip(starts, ends)]


def fit_value(value_net: torch.nn.Module, optimizer, obs, targets, *, epochs: int = 5,
              batch_size: int = 256, generator: torch.Generator | None = None) -> float:
    """Regress ``value_net(obs)`` on ``targets`` by minibatch steps on the squared error.

    ``epochs`` passes over the data in a random order drawn with ``generator``; returns the
    mean squared error on the whole data after fitting.
    """
    obs = torch.as_tensor(obs, dtype=torch.float32)
    targets = torch.as_tensor(np.asarray(targets, dtype=np.float32))
    n = obs.shape[0]
    for _ in range(epochs):
        order = torch.randperm(n, generator=generator)
        for start in range(0, n, batch_size):
            index = order[start:start + batch_size]
            loss = torch.mean((value_net(obs[index]) - targets[index]) ** 2)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    with torch.no_grad():
        return float(torch.mean((value_net(obs) - targets) ** 2))


WeightsWithValues = Callable[[Batch, np.ndarray, np.ndarray], tuple]


def train_with_value_baseline(policy: torch.nn.Module, value_net: torch.nn.Module,
                              weights_fn: WeightsWithValues, *, value_lr: float = 1e-3,
                              value_epochs: int = 5, value_batch_size: int = 256,
                              seed: int = 0, callback=None, **kwargs) -> TrainingLog:
    """REINFORCE on CartPole with per-step weights that may use a learned value function.

    Built on :func:`pglib.cartpole.train_reinforce` (``kwargs`` go there: ``total_steps``,
    ``episodes_per_batch``, ``num_envs``, ``lr``, ``progress``, ...). For each batch:

    1. ``values = V(obs)`` at every step and ``bootstrap = V(final_obs)`` for each episode,
       set to 0 for episodes that *terminated* (the value after a terminal state is 0);
       a truncated episode keeps the value of its last observation. Both float64 arrays,
       computed without gradients, with the value network *before* this batch's fit.
    2. ``weights, targets = weights_fn(batch, values, bootstrap)``: the per-step weights
       of the policy's surrogate loss, and the regression targets of the value network
       (both ``(T,)``).
    3. One policy step on the surrogate (in ``train_reinforce``), then :func:`fit_value`
       on ``(batch.obs, targets)`` with Adam(``value_lr``), ``value_epochs`` epochs of
       minibatches of ``value_batch_size``.

    The value network's mean squared error after each fit is in
    ``log.extra["value_losses"]``.
    """
    optimizer = torch.optim.Adam(value_net.parameters(), lr=value_lr)
    generator = torch.Generator().manual_seed(int(seed) + 7919)
    pending: dict[str, np.ndarray] = {}
    value_losses: list[float] = []

    def weights(batch: Batch):
        with torch.no_grad():
            values = value_net(batch.obs).double().numpy()
            final = value_net(torch.as_tensor(batch.final_obs)).double().numpy()
        ends = np.flatnonzero(batch.dones)
        bootstrap = np.where(batch.terminated[ends], 0.0, final)
        out, targets = weights_fn(batch, values, bootstrap)
        pending["targets"] = np.asarray(targets, dtype=np.float64)
        return out

    def after_update(k: int, batch: Batch, loss):
        value_losses.append(fit_value(value_net, optimizer, batch.obs, pending.pop("targets"),
                                      epochs=value_epochs, batch_size=value_batch_size,
                                      generator=generator))
        if callback is not None:
            callback(k, batch, loss)

    log = train_reinforce(policy, weights, seed=seed, callback=after_update, **kwargs)
    log.extra["value_losses"] = np.array(value_losses)
    return log


def rolling_mean(x, window: int) -> np.ndarray:
    """``out[i]`` = mean of ``x[max(0, i - window + 1) : i + 1]`` (shorter at the start)."""
    x = np.asarray(x, dtype=np.float64)
    sums = np.cumsum(np.concatenate([[0.0], x]))
    i = np.arange(1, x.size + 1)
    lo = np.maximum(0, i - window)
    return (sums[i] - sums[lo]) / (i - lo)


def steps_to_threshold(log: TrainingLog, threshold: float = 475.0, window: int = 100):
    """The transitions (and the index of the episode) at which the mean return of the last
    ``window`` training episodes first reaches ``threshold``; ``(None, None)`` if never.

    Only full windows count: the first ``window - 1`` episodes cannot qualify. The step
    count is the number of transitions collected by the end of that episode's batch.
    """
    returns = np.asarray(log.episode_returns, dtype=np.float64)
    if returns.size < window:
        return None, None
    means = rolling_mean(returns, window)[window - 1:]
    hits = np.flatnonzero(means >= threshold)
    if hits.size == 0:
        return None, None
    episode = int(hits[0]) + window - 1
    return int(log.episode_steps[episode]), episode
