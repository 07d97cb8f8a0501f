"""Mutation testing of the chapter 6 grader (the harness: tests/mutation.py).

Mutants are the mistakes students make with discounted sums: accumulating forward, counting
the discount from the wrong step, forgetting episode boundaries or the factor gamma**t,
misplacing V(s_(t+1)) or last_value in GAE, and the usual slips of normalisation.
Alternatives use backward recursions, double loops, vectorised cumulative sums,
``scipy.signal.lfilter``, torch autograd, ``np.std`` and manual formulas.
"""
from __future__ import annotations

from mutation import Impl, define_tests

IMPORTS = "import numpy as np\nimport torch"


# --- 6.1 reward_to_go -----------------------------------------------------------------------

_RTG = """
    def reward_to_go(rewards, dones, gamma):
        rewards = np.asarray(rewards, dtype=float)
        dones = np.asarray(dones, dtype=bool)
        out = np.zeros(len(rewards))
        running = 0.0
        for t in {order}:
            {body}
        return {ret}
"""
_BACKWARD = "reversed(range(len(rewards)))"


def _rtg(body, order=_BACKWARD, ret="out"):
    return _RTG.format(order=order, body=body, ret=ret)


RTG_MUTANTS = [
    Impl("forward-accumulation", "reward_to_go", _rtg(
        order="range(len(rewards))",
        body="running = rewards[t] + gamma * running\n"
             "            out[t] = running\n"
             "            if dones[t]:\n"
             "                running = 0.0"),
         expect="accumulate backwards"),
    Impl("gamma-k-from-episode-start", "reward_to_go", """
        def reward_to_go(rewards, dones, gamma):
            rewards = np.asarray(rewards, dtype=float)
            dones = np.asarray(dones, dtype=bool)
            out = np.zeros(len(rewards))
            start = 0
            for end in np.flatnonzero(dones):
                for t in range(start, end + 1):
                    k = np.arange(t, end + 1)
                    out[t] = np.sum(gamma ** (k - start) * rewards[t:end + 1])
                start = end + 1
            return out
        """, expect="the discount counts from the start of the episode"),
    Impl("no-reset", "reward_to_go", _rtg(
        body="running = rewards[t] + gamma * running\n            out[t] = running"),
         expect="restart it at every step where dones[t]"),
    Impl("reset-one-step-late", "reward_to_go", _rtg(
        body="running = rewards[t] + gamma * running\n"
             "            out[t] = running\n"
             "            if dones[t]:\n"
             "                running = 0.0"),
         expect="the reset is one step late"),
    Impl("whole-episode-return", "reward_to_go", """
        def reward_to_go(rewards, dones, gamma):
            rewards = np.asarray(rewards, dtype=float)
            dones = np.asarray(dones, dtype=bool)
            out = np.zeros(len(rewards))
            start = 0
            for end in np.flatnonzero(dones):
                seg = rewards[start:end + 1]
                out[start:end + 1] = seg @ gamma ** np.arange(len(seg))
                start = end + 1
            return out
        """, expect="the return of its whole episode"),
    Impl("r_t-missing", "reward_to_go", _rtg(
        body="if dones[t]:\n"
             "                running = 0.0\n"
             "            out[t] = running\n"
             "            running = rewards[t] + gamma * running"),
         expect="r_t itself is missing"),
    Impl("undiscounted", "reward_to_go", _rtg(
        body="if dones[t]:\n"
             "                running = 0.0\n"
             "            running = rewards[t] + running\n"
             "            out[t] = running"),
         expect="the rewards are not discounted"),
    Impl("reset-on-next-done", "reward_to_go", _rtg(
        body="if t + 1 < len(rewards) and dones[t + 1]:\n"
             "                running = 0.0\n"
             "            running = rewards[t] + gamma * running\n"
             "            out[t] = running")),
    Impl("float32", "reward_to_go", _rtg(
        body="if dones[t]:\n"
             "                running = 0.0\n"
             "            running = rewards[t] + gamma * running\n"
             "            out[t] = running",
        ret="out.astype(np.float32)"), expect="expected dtype float64"),
]

RTG_CORRECT = [
    Impl("backward-recursion-mask", "reward_to_go", _rtg(
        body="running = rewards[t] + gamma * (1 - dones[t]) * running\n"
             "            out[t] = running")),
    Impl("double-loop", "reward_to_go", """
        def reward_to_go(rewards, dones, gamma):
            r = [float(x) for x in rewards]
            d = [bool(x) for x in dones]
            out = []
            for t in range(len(r)):
                total, k = 0.0, t
                while True:
                    total += gamma ** (k - t) * r[k]
                    if d[k] or k == len(r) - 1:
                        break
                    k += 1
                out.append(total)
            return np.array(out)
        """),
    Impl("lfilter-per-episode", "reward_to_go", """
        from scipy.signal import lfilter

        def reward_to_go(rewards, dones, gamma):
            rewards = np.asarray(rewards, dtype=np.float64)
            ends = np.flatnonzero(np.asarray(dones, dtype=bool)) + 1
            pieces = np.split(rewards, ends[:-1])
            return np.concatenate([lfilter([1.0], [1.0, -gamma], p[::-1])[::-1]
                                   for p in pieces])
        """),
    Impl("vectorised-cumsum-per-episode", "reward_to_go", """
        def reward_to_go(rewards, dones, gamma):
            rewards = np.asarray(rewards, dtype=np.float64)
            dones = np.asarray(dones, dtype=bool)
            out = np.empty_like(rewards)
            start = 0
            for end in np.flatnonzero(dones) + 1:
                r = rewards[start:end]
                if gamma == 0:
                    out[start:end] = r
                else:
                    powers = gamma ** np.arange(len(r))
                    tail = np.cumsum((r * powers)[::-1])[::-1]
                    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                        g = tail / powers
                    # where gamma**t underflows, fall back to the recursion
                    bad = ~np.isfinite(g) | (powers < 1e-250)
                    for t in np.flatnonzero(bad)[::-1]:
                        g[t] = r[t] + (gamma * g[t + 1] if t + 1 < len(r) else 0.0)
                    out[start:end] = g
                start = end
            return out
        """),
]

# --- 6.2 reinforce_gradient_rtg -------------------------------------------------------------

_PI = ("e = np.exp(theta - theta.max(axis=1, keepdims=True)); "
       "pi = e / e.sum(axis=1, keepdims=True)")

_ESTIMATOR = """
    def {name}(theta, states, actions, rewards, gamma{extra}):
        theta = np.asarray(theta, dtype=float)
        states, actions = np.asarray(states), np.asarray(actions)
        rewards = np.asarray(rewards, dtype=float)
        {setup}
        n, T = states.shape
        {pi}
        grad = np.zeros(theta.shape)
        for i in range(n):
            for t in range(T):
                G = {G}
                s, a = states[i, t], actions[i, t]
                grad[s] += ({weight}) * (np.eye(theta.shape[1])[a] - pi[s])
        return {ret}
"""
_G = "sum(gamma ** (k - t) * rewards[i, k] for k in range(t, T))"


def _rtg_est(G=_G, weight="gamma ** t * G", ret="grad / n", pi=_PI):
    return _ESTIMATOR.format(name="reinforce_gradient_rtg", extra="", setup="", G=G,
                             weight=weight, ret=ret, pi=pi)


EST_MUTANTS = [
    Impl("no-gamma-t", "reinforce_gradient_rtg", _rtg_est(weight="G"),
         expect="the factor gamma**t is missing"),
    Impl("gamma-t-twice", "reinforce_gradient_rtg", _rtg_est(
        G="sum(gamma ** k * rewards[i, k] for k in range(t, T))"),
         expect="gamma**t is counted twice"),
    Impl("whole-return", "reinforce_gradient_rtg", _rtg_est(
        G="sum(gamma ** k * rewards[i, k] for k in range(T))", weight="G"),
         expect="the whole return of its trajectory"),
    Impl("past-rewards", "reinforce_gradient_rtg", _rtg_est(
        G="sum(gamma ** k * rewards[i, k] for k in range(t + 1))", weight="G"),
         expect="the weights sum the rewards *before* t"),
    Impl("own-reward-only", "reinforce_gradient_rtg", _rtg_est(G="rewards[i, t]"),
         expect="its own reward r_t only"),
    Impl("sum-over-trajectories", "reinforce_gradient_rtg", _rtg_est(ret="grad"),
         expect="the sum over trajectories"),
    Impl("sign-flipped", "reinforce_gradient_rtg", _rtg_est(ret="-grad / n"),
         expect="the sign is flipped"),
    Impl("discount-off-by-one", "reinforce_gradient_rtg", _rtg_est(
        weight="gamma ** (t + 1) * G"), expect="the discount is off by one"),
    Impl("rtg-undiscounted", "reinforce_gradient_rtg", _rtg_est(
        G="sum(rewards[i, k] for k in range(t, T))"),
         expect="the rewards inside the reward-to-go are not discounted"),
    Impl("naive-softmax-overflows", "reinforce_gradient_rtg", _rtg_est(
        pi="pi = np.exp(theta) / np.exp(theta).sum(axis=1, keepdims=True)"),
         expect="the softmax overflowed"),
]

EST_CORRECT = [
    Impl("double-loop", "reinforce_gradient_rtg", _rtg_est()),
    Impl("gamma-k-without-gamma-t", "reinforce_gradient_rtg", _rtg_est(
        G="sum(gamma ** k * rewards[i, k] for k in range(t, T))", weight="G")),
    Impl("torch-surrogate", "reinforce_gradient_rtg", """
        def reinforce_gradient_rtg(theta, states, actions, rewards, gamma):
            th = torch.tensor(np.asarray(theta, dtype=np.float64), requires_grad=True)
            s = torch.as_tensor(np.asarray(states, dtype=np.int64))
            a = torch.as_tensor(np.asarray(actions, dtype=np.int64))
            r = np.asarray(rewards, dtype=np.float64)
            n, T = r.shape
            disc = gamma ** np.arange(T)
            # gamma^t G_t = sum_{k >= t} gamma^k r_k: a reversed cumulative sum
            w = np.cumsum((r * disc)[:, ::-1], axis=1)[:, ::-1]
            log_p = torch.log_softmax(th, dim=1)[s, a]
            (torch.as_tensor(w.copy()) * log_p).sum().div(n).backward()
            return th.grad.numpy()
        """),
    Impl("one-hot-einsum", "reinforce_gradient_rtg", """
        def reinforce_gradient_rtg(theta, states, actions, rewards, gamma):
            theta = np.asarray(theta, dtype=np.float64)
            S, A = theta.shape
            r = np.asarray(rewards, dtype=np.float64)
            n, T = r.shape
            G = np.zeros((n, T + 1))
            for t in range(T - 1, -1, -1):
                G[:, t] = r[:, t] + gamma * G[:, t + 1]
            w = G[:, :T] * gamma ** np.arange(T)
            e = np.exp(theta - theta.max(axis=1, keepdims=True))
            pi = e / e.sum(axis=1, keepdims=True)
            one_s = np.eye(S)[np.asarray(states)]
            one_a = np.eye(A)[np.asarray(actions)]
            scores = one_s[..., None] * (one_a[:, :, None, :] - pi)
            return np.einsum("it,itsa->sa", w, scores) / n
        """),
]

# --- 6.3 reinforce_gradient_baseline --------------------------------------------------------


def _base_est(G=_G, weight="gamma ** t * (G - b[i, t])", ret="grad / n", pi=_PI):
    return _ESTIMATOR.format(name="reinforce_gradient_baseline", extra=", baselines",
                             setup="b = np.asarray(baselines, dtype=float)", G=G,
                             weight=weight, ret=ret, pi=pi)


BASE_MUTANTS = [
    Impl("baseline-added", "reinforce_gradient_baseline", _base_est(
        weight="gamma ** t * (G + b[i, t])"), expect="the baseline is added"),
    Impl("baseline-not-discounted", "reinforce_gradient_baseline", _base_est(
        weight="gamma ** t * G - b[i, t]"), expect="multiplies G_t but not b_t"),
    Impl("baseline-ignored", "reinforce_gradient_baseline", _base_est(
        weight="gamma ** t * G"), expect="the baselines are ignored"),
    Impl("no-gamma-t", "reinforce_gradient_baseline", _base_est(weight="G - b[i, t]"),
         expect="the factor gamma**t is missing"),
    Impl("whole-return-minus-baseline", "reinforce_gradient_baseline", _base_est(
        G="sum(gamma ** k * rewards[i, k] for k in range(T))", weight="G - b[i, t]"),
         expect="the whole return of its trajectory"),
    Impl("sum-over-trajectories", "reinforce_gradient_baseline", _base_est(ret="grad"),
         expect="the sum over trajectories"),
    Impl("gamma-t-twice", "reinforce_gradient_baseline", _base_est(
        G="sum(gamma ** k * rewards[i, k] for k in range(t, T))"),
         expect="gamma**t is counted twice"),
    Impl("baseline-of-first-step", "reinforce_gradient_baseline", _base_est(
        weight="gamma ** t * (G - b[i, 0])")),
    Impl("baseline-transposed-mean", "reinforce_gradient_baseline", _base_est(
        weight="gamma ** t * (G - b[:, t].mean())")),
]

BASE_CORRECT = [
    Impl("double-loop", "reinforce_gradient_baseline", _base_est()),
    Impl("vectorised-reversed-cumsum", "reinforce_gradient_baseline", """
        def reinforce_gradient_baseline(theta, states, actions, rewards, gamma, baselines):
            theta = np.asarray(theta, dtype=np.float64)
            s, a = np.asarray(states), np.asarray(actions)
            r = np.asarray(rewards, dtype=np.float64)
            b = np.asarray(baselines, dtype=np.float64)
            n, T = r.shape
            disc = gamma ** np.arange(T)
            w = np.cumsum((r * disc)[:, ::-1], axis=1)[:, ::-1] - disc * b
            e = np.exp(theta - theta.max(axis=1, keepdims=True))
            pi = e / e.sum(axis=1, keepdims=True)
            S, A = theta.shape
            flat = np.bincount((s * A + a).ravel(), weights=w.ravel(), minlength=S * A)
            c = flat.reshape(S, A)
            return (c - c.sum(axis=1, keepdims=True) * pi) / n
        """),
    Impl("torch-surrogate", "reinforce_gradient_baseline", """
        def reinforce_gradient_baseline(theta, states, actions, rewards, gamma, baselines):
            th = torch.tensor(np.asarray(theta, dtype=np.float64), requires_grad=True)
            r = torch.as_tensor(np.asarray(rewards, dtype=np.float64))
            b = torch.as_tensor(np.asarray(baselines, dtype=np.float64))
            n, T = r.shape
            G = torch.zeros(n, dtype=torch.float64)
            weights = []
            for t in reversed(range(T)):
                G = r[:, t] + gamma * G
                weights.append(gamma ** t * (G - b[:, t]))
            w = torch.stack(weights[::-1], dim=1)
            s = torch.as_tensor(np.asarray(states, dtype=np.int64))
            a = torch.as_tensor(np.asarray(actions, dtype=np.int64))
            loss = (w * torch.log_softmax(th, dim=1)[s, a]).sum() / n
            (grad,) = torch.autograd.grad(loss, th)
            return grad.numpy()
        """),
]

# --- 6.4 gae --------------------------------------------------------------------------------

_GAE = """
    def gae(rewards, values, last_value, gamma, lam):
        r = np.asarray(rewards, dtype=float)
        v = np.asarray(values, dtype=float)
        T = len(r)
        nxt = {nxt}
        delta = r + gamma * nxt - v
        out = np.zeros(T)
        running = 0.0
        for t in {order}:
            running = delta[t] + {decay} * running
            out[t] = running
        return {ret}
"""


def _gae(nxt="np.append(v[1:], last_value)", decay="gamma * lam",
         order="reversed(range(T))", ret="out"):
    return _GAE.format(nxt=nxt, decay=decay, order=order, ret=ret)


GAE_MUTANTS = [
    Impl("lambda-without-gamma", "gae", _gae(decay="lam"),
         expect="lambda is applied without gamma"),
    Impl("lam-ignored", "gae", _gae(decay="gamma"), expect="lam is ignored"),
    Impl("last-value-ignored", "gae", _gae(nxt="np.append(v[1:], 0.0)"),
         expect="last_value is ignored"),
    Impl("last-value-repeats-V", "gae", _gae(nxt="np.append(v[1:], v[-1])"),
         expect="last_value is ignored"),
    Impl("V-next-off-by-one", "gae", _gae(nxt="v"), expect="V(s_(t+1)) is off by one"),
    Impl("V-shifted-backwards", "gae", _gae(nxt="np.append(last_value, v[:-1])"),
         expect="V(s_(t+1)) is off by one"),
    Impl("lambda-returns", "gae", _gae(ret="out + v"), expect="these are the lambda-returns"),
    Impl("forward-accumulation", "gae", _gae(order="range(T)"), expect="the sum runs forward"),
    Impl("delta-without-gamma", "gae", """
        def gae(rewards, values, last_value, gamma, lam):
            r = np.asarray(rewards, dtype=float)
            v = np.asarray(values, dtype=float)
            delta = r + np.append(v[1:], last_value) - v
            out = np.zeros(len(r))
            running = 0.0
            for t in reversed(range(len(r))):
                running = delta[t] + gamma * lam * running
                out[t] = running
            return out
        """, expect="the next value is not discounted"),
]

GAE_CORRECT = [
    Impl("backward-recursion", "gae", _gae()),
    Impl("double-sum", "gae", """
        def gae(rewards, values, last_value, gamma, lam):
            r = [float(x) for x in rewards]
            v = [float(x) for x in values] + [float(last_value)]
            T = len(r)
            delta = [r[t] + gamma * v[t + 1] - v[t] for t in range(T)]
            return np.array([sum((gamma * lam) ** (k - t) * delta[k] for k in range(t, T))
                             for t in range(T)], dtype=np.float64)
        """),
    Impl("lfilter", "gae", """
        from scipy.signal import lfilter

        def gae(rewards, values, last_value, gamma, lam):
            r = np.asarray(rewards, dtype=np.float64)
            v = np.asarray(values, dtype=np.float64)
            delta = r + gamma * np.concatenate([v[1:], [last_value]]) - v
            return lfilter([1.0], [1.0, -gamma * lam], delta[::-1])[::-1].copy()
        """),
]

# --- 6.5 normalize --------------------------------------------------------------------------

_NORM = """
    def normalize(x, eps=1e-8):
        x = np.asarray(x, dtype=float)
        return {expr}
"""


def _norm(expr):
    return _NORM.format(expr=expr)


NORM_MUTANTS = [
    Impl("ddof-1", "normalize", _norm("(x - x.mean()) / (x.std(ddof=1) + eps)"),
         expect="ddof=1"),
    Impl("eps-missing", "normalize", _norm("(x - x.mean()) / x.std()"),
         expect="add eps to the standard"),
    Impl("eps-in-sqrt", "normalize", _norm("(x - x.mean()) / np.sqrt(x.var() + eps)"),
         expect="eps is added to the variance"),
    Impl("not-centred", "normalize", _norm("x / (x.std() + eps)"),
         expect="the mean is not subtracted"),
    Impl("not-scaled", "normalize", _norm("x - x.mean()"),
         expect="not divided by the standard deviation"),
    Impl("divided-by-variance", "normalize", _norm("(x - x.mean()) / (x.var() + eps)"),
         expect="this divides by the variance"),
    Impl("naive-variance-formula", "normalize", _norm(
        "(x - x.mean()) / (np.sqrt(np.mean(x**2) - np.mean(x)**2) + eps)"),
         expect="cancels catastrophically"),
    Impl("eps-argument-ignored", "normalize", _norm("(x - x.mean()) / (x.std() + 1e-8)"),
         expect="eps was not added"),
    Impl("std-of-centred-and-scaled-twice", "normalize", _norm(
        "(x - x.mean()) / (x.std() + eps) / (x.std() + eps)")),
]

NORM_CORRECT = [
    Impl("np-std", "normalize", _norm("(x - np.mean(x)) / (np.std(x) + eps)")),
    Impl("manual-centred", "normalize", """
        def normalize(x, eps=1e-8):
            x = np.array(x, dtype=np.float64)
            centred = x - sum(x) / len(x)
            std = np.sqrt(np.sum(centred ** 2) / len(x))
            return centred / (std + eps)
        """),
    Impl("torch", "normalize", """
        def normalize(x, eps=1e-8):
            t = torch.as_tensor(np.asarray(x, dtype=np.float64))
            z = (t - t.mean()) / (t.std(unbiased=False) + eps)
            return z.numpy()
        """),
]

MUTANTS = RTG_MUTANTS + EST_MUTANTS + BASE_MUTANTS + GAE_MUTANTS + NORM_MUTANTS
CORRECT = RTG_CORRECT + EST_CORRECT + BASE_CORRECT + GAE_CORRECT + NORM_CORRECT
EXERCISES = ("reward_to_go", "reinforce_gradient_rtg", "reinforce_gradient_baseline", "gae",
             "normalize")


define_tests(globals(), mutants=MUTANTS, correct=CORRECT, exercises=EXERCISES, imports=IMPORTS)
