"""Chapter 5, REINFORCE: reference solutions of exercises 5.1-5.3.

Each definition's source is copied verbatim into the book and into filled notebooks,
so it may use only ``np`` and ``torch`` (imported by the chapter notebook's first
code cell). Each is self-contained: none uses another exercise.
"""
import numpy as np
import torch


def trajectory_returns(rewards, dones, gamma):
    """The discounted return of each step's whole episode, for a flat batch.

    Args:
        rewards: array-like of shape (T,), the rewards of several episodes laid
            end to end: the steps of the first episode, then of the second, ...
        dones: bool array-like of shape (T,); dones[t] is true when step t is the
            last step of its episode (by termination or truncation). dones[-1]
            is true.
        gamma: float in [0, 1], the discount.

    Returns:
        np.ndarray of float64, shape (T,): every step t of an episode that starts
        at step `start` gets that episode's whole discounted return
        ``sum_k gamma^k r_{start+k}``, the same value for all its steps (the
        rewards before step t count too: this is not the reward-to-go).
    """
    rewards = np.asarray(rewards, dtype=np.float64)
    dones = np.asarray(dones, dtype=bool)
    # Backward recursion G_t = r_t + gamma * G_{t+1}, restarted after each episode's
    # last step: G_t is the reward-to-go, and at an episode's first step it is the
    # return of the whole episode.
    to_go = np.empty_like(rewards)
    running = 0.0
    for t in range(rewards.size - 1, -1, -1):
        if dones[t]:
            running = 0.0
        running = rewards[t] + gamma * running
        to_go[t] = running
    # Step t belongs to the episode that started at starts[episode[t]].
    first = np.concatenate([[True], dones[:-1]])
    episode = np.cumsum(first) - 1
    return to_go[np.flatnonzero(first)][episode]


def surrogate_loss(log_probs, weights):
    """The REINFORCE surrogate loss -mean(log_probs * weights).

    Args:
        log_probs: torch.Tensor of shape (T,), log pi(a_t | s_t) of a flat batch,
            attached to the policy's parameters.
        weights: torch.Tensor of shape (T,) and the dtype of log_probs, the weight
            of each step (e.g. its episode's return). Treated as constants: no
            gradient ever flows into weights, even if they require grad.

    Returns:
        0-dim torch.Tensor of the dtype of log_probs, differentiable with respect
        to log_probs only. With every step weighted by its episode's return, its
        gradient with respect to the policy's parameters is -(n / T) times the
        REINFORCE estimate from the batch's n episodes.
    """
    return -(log_probs * weights.detach()).mean()


class CategoricalPolicy(torch.nn.Module):
    """A neural-network policy over n_actions discrete actions.

    The network is a multilayer perceptron from the observation to the logits:
    ``Linear(obs_dim, h_1) -> act -> Linear(h_1, h_2) -> act -> ... ->
    Linear(h_k, n_actions)`` for ``hidden_sizes = (h_1, ..., h_k)``, every Linear
    layer with its bias, a nonlinearity ``act`` (tanh here; ReLU would do) between
    consecutive layers and none after the last; ``hidden_sizes=()`` is a single
    ``Linear(obs_dim, n_actions)``. All parameters are trainable.
    """

    def __init__(self, obs_dim, n_actions, hidden_sizes=(64,)):
        """Args: obs_dim, n_actions: ints; hidden_sizes: a sequence of ints."""
        super().__init__()
        sizes = [obs_dim, *hidden_sizes, n_actions]
        layers = []
        for i in range(len(sizes) - 1):
            if i > 0:
                layers.append(torch.nn.Tanh())
            layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        self.net = torch.nn.Sequential(*layers)

    def forward(self, obs):
        """The action distribution at ``obs``.

        Args:
            obs: float32 torch.Tensor of shape (..., obs_dim), any number of
                leading (batch) dimensions, none included.

        Returns:
            torch.distributions.Categorical with batch shape ``obs.shape[:-1]``
            over n_actions actions, built from the logits (float32), so that
            ``log_prob`` is differentiable with respect to every parameter.
        """
        return torch.distributions.Categorical(logits=self.net(obs))
