"""Chapter 6, taming the variance: reference solutions of exercises 6.1-6.5.

Each function's source is copied verbatim into the book and into filled notebooks,
so it may use only ``np`` (imported by the chapter notebook's first code cell). Each is
self-contained: none calls another exercise, so a wrong answer to one exercise never
costs marks in another.
"""
import numpy as np


def reward_to_go(rewards, dones, gamma):
    """Discounted reward-to-go of every step of a flat batch of episodes.

    Args:
        rewards: array-like (T,), the rewards r_t of several episodes, one episode
            after the other.
        dones: bool array-like (T,), true at the last step of each episode (by
            termination or truncation); dones[-1] is true.
        gamma: float, the discount.

    Returns:
        np.ndarray of float64, shape (T,):
        G_t = sum_{k=t}^{end(t)} gamma^(k-t) r_k, where end(t) is the last step of
        the episode of step t. The sum restarts at every episode boundary: it never
        reaches into the next episode.
    """
    rewards = np.asarray(rewards, dtype=np.float64)
    dones = np.asarray(dones, dtype=bool)
    out = np.empty(rewards.shape, dtype=np.float64)
    running = 0.0
    # Backwards: G_t = r_t + gamma G_{t+1}, with G_{t+1} = 0 after an episode's end
    for t in reversed(range(rewards.shape[0])):
        if dones[t]:
            running = 0.0
        running = rewards[t] + gamma * running
        out[t] = running
    return out


def reinforce_gradient_rtg(theta, states, actions, rewards, gamma):
    """Reward-to-go estimate of grad J from n sampled trajectories.

    Args:
        theta: array-like (S, A), the softmax policy's logits.
        states, actions: int array-likes (n, T), the sampled trajectories.
        rewards: array-like (n, T), r_it = reward at step t of trajectory i.
        gamma: float, the discount.

    Returns:
        np.ndarray of float64, shape (S, A): the mean over the n trajectories of
        sum_t gamma^t G_it grad log pi(a_it | s_it), with the reward-to-go
        G_it = sum_{k >= t} gamma^(k-t) r_ik. The factor gamma^t keeps the
        estimate unbiased for grad J. Finite for logits of magnitude 1e3.
    """
    theta = np.asarray(theta, dtype=np.float64)
    states = np.asarray(states, dtype=np.int64)
    actions = np.asarray(actions, dtype=np.int64)
    rewards = np.asarray(rewards, dtype=np.float64)
    n, T = states.shape
    z = np.exp(theta - theta.max(axis=-1, keepdims=True))
    pi = z / z.sum(axis=-1, keepdims=True)
    G = np.empty((n, T))
    running = np.zeros(n)
    for t in reversed(range(T)):  # all n trajectories at once
        running = rewards[:, t] + gamma * running
        G[:, t] = running
    weight = gamma ** np.arange(T) * G  # gamma^t G_it, shape (n, T)
    # sum_i sum_t w_it (e_{a_it} - pi(.|s_it)) in row s_it, by weighted counts
    counts = np.zeros(theta.shape)
    np.add.at(counts, (states, actions), weight)
    visits = counts.sum(axis=1)
    return (counts - visits[:, None] * pi) / n


def reinforce_gradient_baseline(theta, states, actions, rewards, gamma, baselines):
    """Reward-to-go estimate of grad J with a baseline subtracted at every step.

    Args:
        theta: array-like (S, A), the softmax policy's logits.
        states, actions: int array-likes (n, T), the sampled trajectories.
        rewards: array-like (n, T), r_it = reward at step t of trajectory i.
        gamma: float, the discount.
        baselines: array-like (n, T), b_it, the baseline of step t of
            trajectory i (for instance V(s_it)).

    Returns:
        np.ndarray of float64, shape (S, A): the mean over the n trajectories of
        sum_t gamma^t (G_it - b_it) grad log pi(a_it | s_it), with the reward-to-go
        G_it = sum_{k >= t} gamma^(k-t) r_ik. Finite for logits of magnitude 1e3.
    """
    theta = np.asarray(theta, dtype=np.float64)
    states = np.asarray(states, dtype=np.int64)
    actions = np.asarray(actions, dtype=np.int64)
    rewards = np.asarray(rewards, dtype=np.float64)
    baselines = np.asarray(baselines, dtype=np.float64)
    n, T = states.shape
    z = np.exp(theta - theta.max(axis=-1, keepdims=True))
    pi = z / z.sum(axis=-1, keepdims=True)
    G = np.empty((n, T))
    running = np.zeros(n)
    for t in reversed(range(T)):
        running = rewards[:, t] + gamma * running
        G[:, t] = running
    weight = gamma ** np.arange(T) * (G - baselines)  # gamma^t (G_it - b_it)
    counts = np.zeros(theta.shape)
    np.add.at(counts, (states, actions), weight)
    visits = counts.sum(axis=1)
    return (counts - visits[:, None] * pi) / n


def gae(rewards, values, last_value, gamma, lam):
    """Generalised advantage estimates of the steps of one episode.

    Args:
        rewards: array-like (T,), r_0, ..., r_{T-1}.
        values: array-like (T,), V(s_0), ..., V(s_{T-1}).
        last_value: float, V(s_T) after the last step: 0 if the episode
            terminated, the value of its last observation if it was cut short.
        gamma: float, the discount; lam: float in [0, 1], GAE's lambda.

    Returns:
        np.ndarray of float64, shape (T,): A_t = sum_k (gamma lam)^k delta_{t+k},
        where delta_t = r_t + gamma V(s_{t+1}) - V(s_t) and V(s_T) = last_value.
        lam = 0 gives the TD residual delta_t; lam = 1 gives the discounted
        return from t (bootstrapped with last_value) minus V(s_t).
    """
    rewards = np.asarray(rewards, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    next_values = np.append(values[1:], float(last_value))  # V(s_{t+1})
    deltas = rewards + gamma * next_values - values
    out = np.empty(rewards.shape, dtype=np.float64)
    running = 0.0
    for t in reversed(range(rewards.shape[0])):  # A_t = delta_t + gamma lam A_{t+1}
        running = deltas[t] + gamma * lam * running
        out[t] = running
    return out


def normalize(x, eps=1e-8):
    """Shift and scale a 1-D array to mean 0 and standard deviation 1.

    Args:
        x: array-like (T,), for instance the advantages of a batch.
        eps: float > 0, added to the standard deviation so that a constant x
            gives zeros instead of 0 / 0.

    Returns:
        np.ndarray of float64, shape (T,): (x - mean(x)) / (std(x) + eps), where
        std is the population standard deviation (ddof = 0).
    """
    x = np.asarray(x, dtype=np.float64)
    return (x - x.mean()) / (x.std() + eps)
