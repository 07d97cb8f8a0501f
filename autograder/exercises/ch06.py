"""Chapter 6 graders: reward_to_go (6.1), reinforce_gradient_rtg (6.2),
reinforce_gradient_baseline (6.3), gae (6.4), normalize (6.5).

Inputs come from fixed seeds and cover the contract: flat batches of episodes of random
lengths (one-step episodes, one long episode, many short ones), gamma = 0 and 1, tabular
batches with states that are never visited, one trajectory and one step, logits of
magnitude 1e3, GAE with lam = 0 and lam = 1 and a terminated episode (last_value = 0),
a constant vector for normalize, a non-default eps, values far from zero, and lists
(of bools and of 0/1 ints for dones). Every exercise is deterministic, so every check
compares with the reference to rtol 1e-7. Hints recognise the usual mistakes, each by
recomputing the mistaken formula from the inputs.
"""
from __future__ import annotations

import numpy as np

from autograder.checks import as_array, close, matches_reference, softmax
from autograder.spec import Case, Chapter, Check, Exercise, Hint
from autograder.exercises.ch04 import LIST_BATCH, random_batch, tabular_batch_suites


def _floats(v) -> np.ndarray:
    return np.asarray(v, dtype=np.float64)


def _overflowed(args, got) -> bool:
    return (not np.all(np.isfinite(as_array(got)))) and np.abs(_floats(args[0])).max() > 700


# --- 6.1 reward_to_go -----------------------------------------------------------------------

def _lengths_to_dones(lengths) -> np.ndarray:
    dones = np.zeros(int(np.sum(lengths)), dtype=bool)
    dones[np.cumsum(lengths) - 1] = True
    return dones


def _episodes(dones):
    """(start, end) index pairs (end exclusive) of the episodes of a flat batch."""
    dones = np.asarray(dones, dtype=bool).copy()
    dones[-1] = True
    ends = np.flatnonzero(dones) + 1
    return list(zip(np.concatenate([[0], ends[:-1]]), ends))


def _rtg_case(rewards, lengths, gamma, note=""):
    lengths = list(map(int, lengths))
    shown = lengths if len(lengths) <= 8 else lengths[:6] + ["..."]
    label = (f"rewards and dones of shape ({sum(lengths)},), {len(lengths)} episode(s) of "
             f"lengths {shown}".replace("'", "") + f", gamma={gamma}"
             + (f" ({note})" if note else ""))
    return Case((rewards, _lengths_to_dones(lengths), gamma), label)


def reward_to_go_checks() -> list[Check]:
    rng = np.random.default_rng(6001)
    random_cases = []
    for n_episodes, max_len, gamma in ((4, 12, 0.9), (7, 6, 0.99), (3, 20, 0.5)):
        lengths = rng.integers(1, max_len + 1, n_episodes)
        lengths[0] = max(lengths[0], 3)
        random_cases.append(_rtg_case(rng.normal(0.5, 1.0, lengths.sum()), lengths, gamma))
    edge_cases = [
        _rtg_case(rng.normal(0.0, 1.0, 6), [1] * 6, 0.9, "every episode has one step"),
        _rtg_case(rng.uniform(0.0, 1.0, 15), [15], 0.95, "a single episode"),
        _rtg_case(rng.normal(1.0, 1.0, 30), [2, 1, 3, 1, 2, 4, 1, 2, 3, 1, 2, 3, 1, 1, 3],
                  0.8, "many short episodes"),
    ]
    lengths = [3, 5, 2, 4]
    gamma_cases = [
        _rtg_case(rng.normal(0.0, 1.0, 14), lengths, 0.0, "gamma = 0: G_t = r_t"),
        _rtg_case(np.ones(14), lengths, 1.0, "gamma = 1, every reward 1 (as in CartPole)"),
    ]
    list_cases = [
        Case(([1.0, 1.0, 1.0, 1.0, 1.0], [False, False, True, False, True], 0.5),
             "rewards=[1.0, 1.0, 1.0, 1.0, 1.0], dones=[False, False, True, False, True], "
             "gamma=0.5 (lists)"),
        Case(([2, 0, -1, 3], [0, 1, 0, 1], 0.9),
             "rewards=[2, 0, -1, 3], dones=[0, 1, 0, 1] (lists of ints), gamma=0.9"),
    ]
    judge = matches_reference()
    return [
        Check("values on random flat batches", random_cases, judge, points=2),
        Check("one-step episodes, one long episode, many short episodes", edge_cases, judge),
        Check("gamma = 0 and gamma = 1", gamma_cases, judge),
        Check("lists of numbers and of bools or 0/1 ints", list_cases, judge),
    ]


def _rtg_variant(args, mode):
    """Reward-to-go as a common mistake computes it, from (rewards, dones, gamma)."""
    rewards, dones, gamma = _floats(args[0]), np.asarray(args[1], dtype=bool), float(args[2])
    T = rewards.shape[0]
    out = np.empty(T)
    if mode == "no-reset":
        dones = np.zeros(T, dtype=bool)
        dones[-1] = True
    if mode == "late-reset":  # G_t = r_t + gamma (1 - dones[t+1]) G_(t+1)
        running = 0.0
        for t in reversed(range(T)):
            late = dones[t + 1] if t + 1 < T else True
            running = rewards[t] + gamma * (0.0 if late else running)
            out[t] = running
        return out
    for start, end in _episodes(dones):
        r = rewards[start:end]
        k = np.arange(end - start)
        for t in range(end - start):
            if mode in ("correct", "no-reset"):
                out[start + t] = r[t:] @ gamma ** (k[t:] - t)
            elif mode == "forward":  # the rewards up to t, the latest undiscounted
                out[start + t] = r[:t + 1] @ gamma ** (t - k[:t + 1])
            elif mode == "forward-from-start":  # the rewards up to t, discounted from start
                out[start + t] = r[:t + 1] @ gamma ** k[:t + 1]
            elif mode == "discount-from-start":  # gamma^k instead of gamma^(k-t)
                out[start + t] = r[t:] @ gamma ** k[t:]
            elif mode == "discount-from-batch-start":
                out[start + t] = r[t:] @ gamma ** (start + k[t:])
            elif mode == "whole-episode":
                out[start + t] = r @ gamma ** k
            elif mode == "next-step":  # r_t left out
                out[start + t] = r[t + 1:] @ gamma ** (k[t + 1:] - t - 1)
    return out


def _rtg_hint(mode):
    return lambda args, got, exp: close(got, _rtg_variant(args, mode))


REWARD_TO_GO_HINTS = [
    Hint("the sum runs forward over the rewards up to t; the reward-to-go sums the rewards "
         "from t to the end of the episode, G_t = r_t + gamma G_(t+1): accumulate backwards",
         lambda args, got, exp: close(got, _rtg_variant(args, "forward"))
         or close(got, _rtg_variant(args, "forward-from-start"))),
    Hint("the discount counts from the start of the episode (gamma**k); the reward-to-go "
         "discounts from t: G_t = sum_k gamma**(k - t) r_k, so r_t itself gets weight 1",
         lambda args, got, exp: close(got, _rtg_variant(args, "discount-from-start"))
         or close(got, _rtg_variant(args, "discount-from-batch-start"))),
    Hint("the sum runs on into the next episode: restart it at every step where dones[t] "
         "is true (G_t = r_t at the last step of an episode)",
         _rtg_hint("no-reset")),
    Hint("the reset is one step late: the last step of an episode is the one where dones[t] "
         "is true, so G_t = r_t + gamma * (1 - dones[t]) * G_(t+1)",
         _rtg_hint("late-reset")),
    Hint("every step got the return of its whole episode (exercise 5.1); the reward-to-go "
         "of step t only counts the rewards from t on",
         _rtg_hint("whole-episode")),
    Hint("r_t itself is missing: G_t = r_t + gamma G_(t+1) starts with the reward of step t",
         _rtg_hint("next-step")),
    Hint("the rewards are not discounted: G_t = sum_k gamma**(k - t) r_k",
         lambda args, got, exp: float(args[2]) != 1.0
         and close(got, _rtg_variant((args[0], args[1], 1.0), "correct"))),
]


# --- 6.2 reinforce_gradient_rtg and 6.3 reinforce_gradient_baseline --------------------------

def _tabular_label(theta, states, gamma, note="", baselines=False):
    return (f"theta of shape {np.shape(theta)}, states, actions, rewards"
            + (" and baselines" if baselines else "")
            + f" of shape {np.shape(states)}, gamma={gamma}" + (f" ({note})" if note else ""))


def _rtg_matrix(rewards, gamma, discount_from_zero=False):
    """(n, T): G_it = sum_{k >= t} gamma^(k-t) r_ik (gamma^k if discount_from_zero)."""
    rewards = _floats(rewards)
    n, T = rewards.shape
    k = np.arange(T)
    out = np.empty((n, T))
    for t in range(T):
        powers = k[t:] if discount_from_zero else k[t:] - t
        out[:, t] = rewards[:, t:] @ gamma ** powers
    return out


def _weighted_estimate(args, weights, mean=True):
    """sum_i sum_t w_it grad log pi(a_it | s_it), divided by n if mean: any estimator."""
    theta = _floats(args[0])
    states, actions = np.asarray(args[1], int), np.asarray(args[2], int)
    n = states.shape[0]
    counts = np.zeros(theta.shape)
    np.add.at(counts, (states, actions), weights)
    out = counts - counts.sum(axis=1, keepdims=True) * softmax(theta)
    return out / n if mean else out


def _weights(args, mode, baselines=None):
    """Per-step weights (n, T) of the estimator that a common mistake computes."""
    rewards, gamma = _floats(args[3]), float(args[4])
    n, T = rewards.shape
    disc = gamma ** np.arange(T)
    G = _rtg_matrix(rewards, gamma)
    b = 0.0 if baselines is None else _floats(baselines)
    return {
        "correct": disc * (G - b),
        "no-discount": G - b,  # gamma^t missing
        "double-discount": disc * (_rtg_matrix(rewards, gamma, True) - b),
        "discount-off-by-one": gamma * disc * (G - b),
        "undiscounted-rtg": disc * (_rtg_matrix(rewards, 1.0) - b),
        "whole-return": np.broadcast_to((rewards @ disc)[:, None], (n, T)) - b,
        "whole-return-discounted-b": np.broadcast_to((rewards @ disc)[:, None], (n, T))
        - disc * b,
        "forward": disc * (np.cumsum(rewards * disc, axis=1) / disc - b),
        "reward": disc * (rewards - b),
        "baseline-added": disc * (G + b),
        "baseline-undiscounted": disc * G - b,
        "no-baseline": disc * G,
    }[mode]


def _estimate_hint(mode, has_baselines=False, mean=True):
    def applies(args, got, exp):
        baselines = args[5] if has_baselines else None
        return close(got, _weighted_estimate(args, _weights(args, mode, baselines), mean))
    return applies


def _tabular_common_hints(has_baselines):
    hint = lambda mode, mean=True: _estimate_hint(mode, has_baselines, mean)  # noqa: E731
    return [
        Hint("the softmax overflowed: subtract each row's largest logit before exponentiating",
             lambda args, got, exp: _overflowed(args, got)),
        Hint("this is the sum over trajectories; the estimate is their mean (divide by n)",
             hint("correct", mean=False)),
        Hint("the sign is flipped: grad log pi(a|s) is e_a - softmax(theta[s])",
             lambda args, got, exp: close(got, -as_array(exp))),
        Hint("the factor gamma**t is missing: step t is weighted by gamma**t "
             + ("(G_t - b_t)" if has_baselines else "G_t")
             + ". Without it the estimator is biased (it is not the gradient of J)",
             hint("no-discount")),
        Hint("gamma**t is counted twice: if G_t is computed as sum_(k >= t) gamma**k r_k it "
             "already holds gamma**t; the reward-to-go G_t = sum_(k >= t) gamma**(k - t) r_k",
             hint("double-discount")),
        Hint("the discount is off by one: step t gets gamma**t, starting at gamma**0 = 1",
             hint("discount-off-by-one")),
        Hint("the rewards inside the reward-to-go are not discounted: "
             "G_t = sum_(k >= t) gamma**(k - t) r_k",
             lambda args, got, exp: float(args[4]) != 1.0 and hint("undiscounted-rtg")(
                 args, got, exp)),
        Hint("every step is weighted by the whole return of its trajectory (exercise 4.5); "
             "the reward-to-go of step t only counts the rewards from t on",
             lambda args, got, exp: hint("whole-return")(args, got, exp)
             or hint("whole-return-discounted-b")(args, got, exp)),
        Hint("the weights sum the rewards *before* t; the reward-to-go sums the rewards from "
             "t to the end, G_t = r_t + gamma G_(t+1)",
             hint("forward")),
        Hint("each step is weighted by its own reward r_t only; the reward-to-go adds every "
             "later reward of the trajectory, discounted",
             hint("reward")),
        Hint("the shape comes from theta (S, A), not from the largest state or action visited",
             lambda args, got, exp: as_array(got).ndim == 2
             and as_array(got).shape != as_array(exp).shape
             and as_array(got).shape[0] <= np.max(np.asarray(args[1])) + 1),
    ]


def _tabular_cases(seed, with_baselines):
    """Check inputs shared by 6.2 and 6.3 (the baselines, if any, are appended)."""
    rng = np.random.default_rng(seed)

    def case(theta, states, actions, rewards, gamma, note="", baselines=None):
        label = _tabular_label(theta, states, gamma, note, with_baselines)
        args = (theta, states, actions, rewards, gamma)
        if with_baselines:
            if baselines is None:
                baselines = rng.normal(1.0, 1.5, np.shape(states))
            args = args + (baselines,)
        return Case(args, label)

    random, edge, gammas, large = tabular_batch_suites(rng, case)
    lists = LIST_BATCH
    text = "theta, states, actions and rewards as nested lists of numbers, gamma=0.9"
    if with_baselines:
        lists = lists + ([[0.5, 1, 0], [2, 0.0, -1]],)
        text = "theta, states, actions, rewards and baselines as nested lists, gamma=0.9"
    return random, edge, gammas, large, [Case(lists, text)], case, rng


def reinforce_gradient_rtg_checks() -> list[Check]:
    random, edge, gammas, large, lists, _, _ = _tabular_cases(6002, with_baselines=False)
    judge = matches_reference()
    return [
        Check("values on random batches", random, judge, points=2),
        Check("one trajectory, unvisited states, one step", edge, judge),
        Check("gamma = 0 and gamma = 1", gammas, judge),
        Check("logits of magnitude 1e3 stay finite and exact", large, judge),
        Check("lists of numbers", lists, judge),
    ]


REINFORCE_GRADIENT_RTG_HINTS = _tabular_common_hints(has_baselines=False)


def reinforce_gradient_baseline_checks() -> list[Check]:
    random, edge, gammas, large, lists, case, rng = _tabular_cases(6003, with_baselines=True)
    theta, states, actions, rewards = random_batch(rng, 4, 3, 25, 6)
    special = [
        case(theta, states, actions, rewards, 0.9, "constant baselines b_it = 2.5",
             baselines=np.full((25, 6), 2.5)),
        case(theta, states, actions, rewards, 0.9, "baselines equal to the reward-to-go: "
             "the estimate is 0", baselines=_rtg_matrix(rewards, 0.9)),
        case(theta, states, actions, rewards, 0.9, "zero baselines: the estimate of 6.2",
             baselines=np.zeros((25, 6))),
    ]
    judge = matches_reference()
    return [
        Check("values on random batches and baselines", random, judge, points=2),
        Check("constant, zero and reward-to-go baselines", special, judge),
        Check("one trajectory, unvisited states, one step", edge, judge),
        Check("gamma = 0 and gamma = 1", gammas, judge),
        Check("logits of magnitude 1e3 stay finite and exact", large, judge),
        Check("lists of numbers", lists, judge),
    ]


REINFORCE_GRADIENT_BASELINE_HINTS = [
    Hint("the baseline is added; subtract it: the weight of step t is gamma**t (G_t - b_t)",
         _estimate_hint("baseline-added", True)),
    Hint("gamma**t multiplies G_t but not b_t; it multiplies both: gamma**t (G_t - b_t)",
         _estimate_hint("baseline-undiscounted", True)),
    Hint("the baselines are ignored: the weight of step t is gamma**t (G_t - b_t)",
         lambda args, got, exp: np.any(_floats(args[5]) != 0)
         and _estimate_hint("no-baseline", True)(args, got, exp)),
] + _tabular_common_hints(has_baselines=True)


# --- 6.4 gae --------------------------------------------------------------------------------

def _gae_case(rewards, values, last_value, gamma, lam, note=""):
    label = (f"rewards and values of shape {np.shape(rewards)}, last_value="
             f"{float(last_value):.4g}, gamma={gamma}, lam={lam}"
             + (f" ({note})" if note else ""))
    return Case((rewards, values, last_value, gamma, lam), label)


def _random_episode(rng, T, terminated=False):
    rewards = rng.normal(1.0, 1.0, T)
    values = rng.normal(3.0, 2.0, T)
    last = 0.0 if terminated else float(rng.normal(3.0, 2.0))
    return rewards, values, last


def gae_checks() -> list[Check]:
    rng = np.random.default_rng(6004)
    random_cases = [_gae_case(*_random_episode(rng, T), g, lam) for T, g, lam in
                    ((12, 0.99, 0.95), (7, 0.9, 0.5), (25, 0.95, 0.8))]
    extreme_lams = [
        _gae_case(*_random_episode(rng, 9), 0.9, 0.0, "lam = 0: the TD residuals delta_t"),
        _gae_case(*_random_episode(rng, 9), 0.9, 1.0,
                  "lam = 1: the bootstrapped reward-to-go minus V(s_t)"),
    ]
    ends = [
        _gae_case(*_random_episode(rng, 10, terminated=True), 0.99, 0.95,
                  "a terminated episode"),
        _gae_case(*_random_episode(rng, 1), 0.9, 0.9, "T = 1"),
        _gae_case(*_random_episode(rng, 1, terminated=True), 0.9, 0.9,
                  "T = 1, terminated"),
    ]
    gamma_cases = [
        _gae_case(*_random_episode(rng, 8), 1.0, 0.9, "gamma = 1"),
        _gae_case(*_random_episode(rng, 8), 0.0, 0.9, "gamma = 0"),
    ]
    list_cases = [
        Case(([1, 1, 1], [2.0, 1.5, 0.5], 0, 0.9, 0.95),
             "rewards=[1, 1, 1], values=[2.0, 1.5, 0.5], last_value=0, gamma=0.9, lam=0.95 "
             "(lists, ints)"),
        Case(([0.5, -1.0], [1, 2], 3, 1, 1),
             "rewards=[0.5, -1.0], values=[1, 2], last_value=3, gamma=1, lam=1 "
             "(lists, Python ints)"),
    ]
    judge = matches_reference()
    return [
        Check("values on random episodes", random_cases, judge, points=2),
        Check("lam = 0 and lam = 1", extreme_lams, judge),
        Check("terminated episodes (last_value = 0) and one-step episodes", ends, judge),
        Check("gamma = 1 and gamma = 0", gamma_cases, judge),
        Check("lists and Python numbers", list_cases, judge),
    ]


def _gae_variant(args, next_values="correct", decay="gamma-lam", accumulate="backward",
                 lambda_returns=False, delta_gamma=True):
    """GAE as a common mistake computes it."""
    r, v = _floats(args[0]), _floats(args[1])
    last, gamma, lam = float(args[2]), float(args[3]), float(args[4])
    T = r.shape[0]
    nxt = {
        "correct": np.append(v[1:], last),
        "same": v,  # V(s_t) in place of V(s_(t+1))
        "zero-last": np.append(v[1:], 0.0),  # last_value ignored
        "repeat-last": np.append(v[1:], v[-1]),  # last_value replaced by V(s_(T-1))
        "previous": np.append(last, v[:-1]),  # shifted the wrong way
    }[next_values]
    delta = r + (gamma if delta_gamma else 1.0) * nxt - v
    c = {"gamma-lam": gamma * lam, "lam": lam, "gamma": gamma}[decay]
    out = np.empty(T)
    for t in range(T):
        if accumulate == "backward":
            out[t] = delta[t:] @ c ** np.arange(T - t)
        elif accumulate == "forward":
            out[t] = delta[:t + 1] @ c ** (t - np.arange(t + 1))
        else:  # "global-power": (gamma lam)^k with k counted from the episode start
            out[t] = delta[t:] @ c ** np.arange(t, T)
    return out + v if lambda_returns else out


def _gae_hint(**variant):
    return lambda args, got, exp: close(got, _gae_variant(args, **variant))


GAE_HINTS = [
    Hint("lambda is applied without gamma: the weights of the TD residuals decay as "
         "(gamma * lam)**k",
         lambda args, got, exp: float(args[3]) != 1.0 and _gae_hint(decay="lam")(args, got, exp)),
    Hint("lam is ignored: the weights of the TD residuals decay as (gamma * lam)**k",
         lambda args, got, exp: float(args[4]) != 1.0
         and _gae_hint(decay="gamma")(args, got, exp)),
    Hint("last_value is ignored: the TD residual of the last step is "
         "r_(T-1) + gamma * last_value - V(s_(T-1))",
         lambda args, got, exp: float(args[2]) != 0.0
         and (_gae_hint(next_values="zero-last")(args, got, exp)
              or _gae_hint(next_values="repeat-last")(args, got, exp))),
    Hint("V(s_(t+1)) is off by one: delta_t = r_t + gamma * values[t + 1] - values[t], with "
         "values[T] = last_value",
         lambda args, got, exp: _gae_hint(next_values="same")(args, got, exp)
         or _gae_hint(next_values="previous")(args, got, exp)),
    Hint("the next value is not discounted in the TD residual: "
         "delta_t = r_t + gamma * V(s_(t+1)) - V(s_t)",
         lambda args, got, exp: float(args[3]) != 1.0
         and _gae_hint(delta_gamma=False)(args, got, exp)),
    Hint("these are the lambda-returns A_t + V(s_t); the exercise asks for the advantages A_t",
         _gae_hint(lambda_returns=True)),
    Hint("the sum runs forward over the residuals up to t; A_t sums delta_t, delta_(t+1), ..., "
         "so accumulate backwards: A_t = delta_t + gamma * lam * A_(t+1)",
         _gae_hint(accumulate="forward")),
    Hint("the powers of gamma * lam count from the start of the episode; A_t gives delta_t "
         "the weight 1 and delta_(t+k) the weight (gamma * lam)**k",
         _gae_hint(accumulate="global-power")),
]


# --- 6.5 normalize ------------------------------------------------------------------------

def _norm_case(x, note="", eps=None):
    label = f"x of shape {np.shape(x)}" + (f", eps={eps}" if eps is not None else "")
    label += f" ({note})" if note else ""
    return Case((x,), label, kwargs={} if eps is None else {"eps": eps})


def normalize_checks() -> list[Check]:
    rng = np.random.default_rng(6005)
    random_cases = [
        _norm_case(rng.normal(3.0, 2.0, 50)),
        _norm_case(rng.exponential(10.0, 7)),
        _norm_case(rng.normal(-1.0, 0.5, 400)),
    ]
    constant_cases = [
        _norm_case(np.full(6, 2.5), "constant x: the result is 0, not 0 / 0"),
        _norm_case(np.array([2.5]), "one entry"),
    ]
    eps_cases = [
        _norm_case(rng.normal(0.0, 0.05, 8), "std of about 0.05", eps=0.1),
        _norm_case(rng.normal(1.0, 1.0, 5), eps=1e-3),
    ]
    offset_cases = [_norm_case(1e6 + rng.normal(0.0, 1.0, 200), "values near 1e6")]
    list_cases = [
        Case(([1, 2, 3, 4],), "x=[1, 2, 3, 4] (a list of ints)"),
        Case(([0.5, -0.5, 2.0],), "x=[0.5, -0.5, 2.0], eps=0.5 (a list)",
             kwargs={"eps": 0.5}),
    ]
    judge = matches_reference()
    return [
        Check("values on random vectors", random_cases, judge, points=2),
        Check("a constant vector and a vector of one entry", constant_cases, judge),
        Check("eps is added to the standard deviation", eps_cases, judge),
        Check("values far from zero", offset_cases, judge),
        Check("lists of numbers", list_cases, judge),
    ]


def _norm_variant(args, exp, mode):
    x = _floats(args[0])
    m, s = x.mean(), x.std()
    # eps is not among the positional inputs: recover it from the expected output
    # (exp = (x - m) / (s + eps)), where x is not constant
    e = as_array(exp)
    k = int(np.argmax(np.abs(x - m)))
    eps = (x[k] - m) / e[k] - s if abs(e[k]) > 0 else 1e-8
    return {
        "ddof1": (x - m) / (x.std(ddof=1) + eps) if x.size > 1 else None,
        "no-eps": (x - m) / s if s > 0 else None,
        "eps-in-sqrt": (x - m) / np.sqrt(x.var() + eps),
        "not-centred": x / (s + eps),
        "not-scaled": x - m,
        "variance": (x - m) / (x.var() + eps),
    }[mode]


def _norm_hint(mode):
    def applies(args, got, exp):
        want = _norm_variant(args, exp, mode)
        return want is not None and close(got, want)
    return applies


NORMALIZE_HINTS = [
    Hint("the result is not finite: a constant x has std 0, so add eps to the standard "
         "deviation, (x - mean) / (std + eps)",
         lambda args, got, exp: not np.all(np.isfinite(as_array(got)))),
    Hint("this divides by the sample standard deviation (ddof=1); the exercise asks for the "
         "population one, np.std(x) with its default ddof=0",
         _norm_hint("ddof1")),
    Hint("eps was not added: divide by std(x) + eps",
         _norm_hint("no-eps")),
    Hint("eps is added to the variance under the square root; the exercise adds it to the "
         "standard deviation: (x - mean) / (std + eps)",
         _norm_hint("eps-in-sqrt")),
    Hint("the mean is not subtracted: (x - mean(x)) / (std(x) + eps)",
         _norm_hint("not-centred")),
    Hint("the result is not divided by the standard deviation: (x - mean) / (std + eps)",
         _norm_hint("not-scaled")),
    Hint("this divides by the variance; divide by the standard deviation (its square root)",
         _norm_hint("variance")),
    Hint("far from zero, mean(x**2) - mean(x)**2 cancels catastrophically; compute the "
         "variance from the centred values, mean((x - mean(x))**2), or use np.std",
         lambda args, got, exp: np.all(np.isfinite(as_array(got)))
         and abs(_floats(args[0]).mean()) > 1e3 * _floats(args[0]).std()),
]


CHAPTER = Chapter(
    slug="06_variance_reduction",
    number=6,
    title="Taming the variance: reward-to-go, baselines, advantages",
    solutions_module="solutions.ch06_variance_reduction",
    exercises=[
        Exercise("6.1", "reward_to_go", reward_to_go_checks, REWARD_TO_GO_HINTS, timeout=20),
        Exercise("6.2", "reinforce_gradient_rtg", reinforce_gradient_rtg_checks,
                 REINFORCE_GRADIENT_RTG_HINTS, timeout=20),
        Exercise("6.3", "reinforce_gradient_baseline", reinforce_gradient_baseline_checks,
                 REINFORCE_GRADIENT_BASELINE_HINTS, timeout=20),
        Exercise("6.4", "gae", gae_checks, GAE_HINTS, timeout=20),
        Exercise("6.5", "normalize", normalize_checks, NORMALIZE_HINTS, timeout=20),
    ],
)
