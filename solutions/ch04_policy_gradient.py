"""Chapter 4, the policy gradient: reference solutions of exercises 4.1-4.5.

Each function's source is copied verbatim into the book and into filled notebooks,
so it may use only ``np`` and ``torch`` (imported by the chapter notebook's first
code cell). Each is self-contained: none calls another exercise, so a wrong answer
to one exercise never costs marks in another.
"""
import numpy as np
import torch


def softmax_policy(theta):
    """Action probabilities of the tabular softmax policy.

    Args:
        theta: array-like of shape (S, A), one row of logits per state.

    Returns:
        np.ndarray of float64, shape (S, A): row s is softmax(theta[s]), so
        ``out[s, a] = pi(a | s)`` and every row sums to 1. Finite for logits of
        any magnitude (1e3 included).
    """
    theta = np.asarray(theta, dtype=np.float64)
    # Subtract each row's largest logit: softmax is unchanged, exp() cannot overflow
    z = np.exp(theta - theta.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


def sample_trajectories(theta, P, mu0, horizon, n, rng):
    """Sample n trajectories of the softmax policy pi(a|s) = softmax(theta[s])[a].

    Args:
        theta: array-like (S, A), the policy's logits.
        P: array-like (S, A, S), ``P[s, a, s'] = p(s' | s, a)``.
        mu0: array-like (S,), the distribution of the initial state s_0.
        horizon: number of steps T >= 1.
        n: number of trajectories, n >= 1.
        rng: a np.random.Generator, the only source of randomness.

    Returns:
        (states, actions): int arrays of shape (n, T). Row i is one trajectory:
        s_0 ~ mu0, a_t ~ pi(. | s_t) and s_{t+1} ~ P[s_t, a_t], independently
        across rows. No state is drawn after the last action a_{T-1}.
    """
    theta = np.asarray(theta, dtype=np.float64)
    P = np.asarray(P, dtype=np.float64)
    mu0 = np.asarray(mu0, dtype=np.float64)
    z = np.exp(theta - theta.max(axis=-1, keepdims=True))
    pi = z / z.sum(axis=-1, keepdims=True)

    def draw(probs):
        # One category per row of probs (m, K), by inverting the cumulative sums:
        # u < 1 keeps the index in range, and a category of probability 0 is never
        # drawn (its cumulative sum equals the previous one).
        cdf = np.cumsum(probs, axis=-1)
        u = rng.random(len(probs))[:, None] * cdf[:, -1:]
        return np.argmax(u < cdf, axis=-1)

    states = np.empty((n, horizon), dtype=np.int64)
    actions = np.empty((n, horizon), dtype=np.int64)
    s = draw(np.broadcast_to(mu0, (n, mu0.shape[0])))
    for t in range(horizon):
        a = draw(pi[s])  # all n trajectories advance one step together
        states[:, t], actions[:, t] = s, a
        if t + 1 < horizon:
            s = draw(P[s, a])
    return states, actions


def trajectory_score(theta, states, actions):
    """Score of one trajectory: the gradient of its log-probability w.r.t. theta.

    Args:
        theta: array-like (S, A), the softmax policy's logits.
        states, actions: int array-likes of shape (T,), one trajectory.

    Returns:
        np.ndarray of float64, shape (S, A): the sum over t of
        grad_theta log pi(a_t|s_t), where grad_theta log pi(a|s) is
        e_a - softmax(theta[s]) in row s and 0 in every other row. The dynamics
        do not appear: mu0 and P do not depend on theta. Finite for logits of
        magnitude 1e3.
    """
    theta = np.asarray(theta, dtype=np.float64)
    states = np.asarray(states, dtype=np.int64)
    actions = np.asarray(actions, dtype=np.int64)
    S, A = theta.shape
    z = np.exp(theta - theta.max(axis=-1, keepdims=True))
    pi = z / z.sum(axis=-1, keepdims=True)
    # sum_t (e_{a_t} - pi(.|s_t)) in row s_t equals N(s, a) - N(s) pi(a|s)
    counts = np.zeros((S, A))
    np.add.at(counts, (states, actions), 1.0)
    visits = counts.sum(axis=1)
    return counts - visits[:, None] * pi


def expected_return(theta, P, R, mu0, gamma, horizon):
    """Exact J(theta) = E[sum_{t<T} gamma^t R(s_t, a_t)] for the softmax policy.

    Args:
        theta: torch.Tensor (S, A), the policy's logits (it may require grad).
        P: torch.Tensor (S, A, S), ``P[s, a, s'] = p(s' | s, a)``.
        R: torch.Tensor (S, A), the reward of action a in state s.
        mu0: torch.Tensor (S,), the distribution of s_0.
        gamma: float, the discount; horizon: int T >= 1.

    Returns:
        0-dim torch.Tensor in theta's dtype, differentiable with respect to theta
        (P, R and mu0 are used in theta's dtype). Computed by propagating the
        distribution d_t of s_t: d_0 = mu0, d_{t+1}(s') = sum_{s,a} d_t(s)
        pi(a|s) P[s, a, s'], and J = sum_t gamma^t sum_{s,a} d_t(s) pi(a|s) R[s, a].
    """
    pi = torch.softmax(theta, dim=-1)  # stable for logits of any magnitude
    P, R, d = (x.to(theta.dtype) for x in (P, R, mu0))
    reward_per_state = (pi * R).sum(dim=-1)  # E[R(s, a) | s], shape (S,)
    J = theta.new_zeros(())
    for t in range(horizon):
        J = J + gamma**t * (d @ reward_per_state)
        d = torch.einsum("s,sa,sak->k", d, pi, P)
    return J


def reinforce_gradient(theta, states, actions, rewards, gamma):
    """REINFORCE estimate of grad J from n sampled trajectories.

    Args:
        theta: array-like (S, A), the softmax policy's logits.
        states, actions: int array-likes (n, T), the sampled trajectories.
        rewards: array-like (n, T), r_it = reward at step t of trajectory i.
        gamma: float, the discount.

    Returns:
        np.ndarray of float64, shape (S, A): the mean over the n trajectories of
        [sum_t grad log pi(a_it | s_it)] * [sum_t gamma^t r_it], the trajectory's
        score times its whole discounted return. Finite for logits of magnitude 1e3.
    """
    theta = np.asarray(theta, dtype=np.float64)
    states = np.asarray(states, dtype=np.int64)
    actions = np.asarray(actions, dtype=np.int64)
    rewards = np.asarray(rewards, dtype=np.float64)
    n, T = states.shape
    z = np.exp(theta - theta.max(axis=-1, keepdims=True))
    pi = z / z.sum(axis=-1, keepdims=True)
    returns = rewards @ gamma ** np.arange(T)  # G_i, shape (n,)
    weight = np.broadcast_to(returns[:, None], (n, T))  # G_i at every step of tau_i
    # sum_i G_i sum_t (e_{a_it} - pi(.|s_it)) in row s_it, by return-weighted counts
    counts = np.zeros(theta.shape)
    np.add.at(counts, (states, actions), weight)
    visits = counts.sum(axis=1)
    return (counts - visits[:, None] * pi) / n
