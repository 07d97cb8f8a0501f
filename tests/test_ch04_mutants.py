"""Mutation testing of the chapter 4 grader (the harness: tests/mutation.py).

Alternatives include loops instead of vectorised code, other orders of drawing the samples,
and other library calls.
"""
from __future__ import annotations

from mutation import Impl, define_tests

IMPORTS = "import numpy as np\nimport torch"


# --- 4.1 softmax_policy -------------------------------------------------------------------------

SOFTMAX_MUTANTS = [
    Impl("naive-overflows", "softmax_policy", """
        def softmax_policy(theta):
            e = np.exp(np.asarray(theta, dtype=float))
            return e / e.sum(axis=-1, keepdims=True)
        """, expect="the softmax overflowed"),
    Impl("global-max-underflows", "softmax_policy", """
        def softmax_policy(theta):
            theta = np.asarray(theta, dtype=float)
            e = np.exp(theta - theta.max())
            return e / e.sum(axis=-1, keepdims=True)
        """, expect="[FAIL] logits of magnitude 1e3"),
    Impl("normalised-over-states", "softmax_policy", """
        def softmax_policy(theta):
            theta = np.asarray(theta, dtype=float)
            e = np.exp(theta - theta.max(axis=0, keepdims=True))
            return e / e.sum(axis=0, keepdims=True)
        """, expect="normalised over the states"),
    Impl("log-softmax", "softmax_policy", """
        def softmax_policy(theta):
            theta = np.asarray(theta, dtype=float)
            z = theta - theta.max(axis=-1, keepdims=True)
            return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
        """, expect="log-probabilities"),
    Impl("not-normalised", "softmax_policy", """
        def softmax_policy(theta):
            theta = np.asarray(theta, dtype=float)
            return np.exp(theta - theta.max(axis=-1, keepdims=True))
        """, expect="the rows are not normalised"),
    Impl("transposed", "softmax_policy", """
        def softmax_policy(theta):
            theta = np.asarray(theta, dtype=float)
            e = np.exp(theta - theta.max(axis=-1, keepdims=True))
            return (e / e.sum(axis=-1, keepdims=True)).T
        """, expect="the result is transposed"),
    Impl("float32", "softmax_policy", """
        def softmax_policy(theta):
            theta = np.asarray(theta, dtype=np.float32)
            e = np.exp(theta - theta.max(axis=-1, keepdims=True))
            return e / e.sum(axis=-1, keepdims=True)
        """, expect="expected dtype float64"),
    Impl("scipy-softmax-without-axis", "softmax_policy", """
        import scipy.special

        def softmax_policy(theta):
            return scipy.special.softmax(np.asarray(theta, dtype=float))
        """),
]

SOFTMAX_CORRECT = [
    Impl("scipy-softmax-axis-1", "softmax_policy", """
        from scipy.special import softmax

        def softmax_policy(theta):
            return softmax(np.asarray(theta, dtype=np.float64), axis=1)
        """),
    Impl("logsumexp", "softmax_policy", """
        from scipy.special import logsumexp

        def softmax_policy(theta):
            theta = np.asarray(theta, dtype=float)
            return np.exp(theta - logsumexp(theta, axis=1, keepdims=True))
        """),
    Impl("torch-softmax", "softmax_policy", """
        def softmax_policy(theta):
            t = torch.as_tensor(np.asarray(theta, dtype=np.float64))
            return torch.softmax(t, dim=-1).numpy()
        """),
    Impl("row-loop", "softmax_policy", """
        def softmax_policy(theta):
            theta = np.asarray(theta, dtype=float)
            out = np.empty_like(theta)
            for s, row in enumerate(theta):
                e = np.exp(row - max(row))
                out[s] = e / e.sum()
            return out
        """),
]

# --- 4.2 sample_trajectories --------------------------------------------------------------------

# The body every sampler mutant shares, vectorised over the n trajectories (so that grading
# them is fast), with one thing changed: {pi} computes the policy, {draw_s0}, {draw_a} and
# {draw_next} are statements, and {rand} is the source of uniform numbers.
_SAMPLER = """
    def sample_trajectories(theta, P, mu0, horizon, n, rng):
        theta = np.asarray(theta, dtype=float)
        P = np.asarray(P, dtype=float)
        mu0 = np.asarray(mu0, dtype=float)
        S, A = theta.shape
        {pi}

        def draw(p):
            c = np.cumsum(p, axis=1)
            return np.argmax({rand}((len(p), 1)) * c[:, -1:] < c, axis=1)

        states = np.zeros((n, horizon), dtype=int)
        actions = np.zeros((n, horizon), dtype=int)
        {draw_s0}
        for t in range(horizon):
            {draw_a}
            states[:, t] = s
            actions[:, t] = a
            {draw_next}
        return {ret}
"""
_PI = ("e = np.exp(theta - theta.max(axis=1, keepdims=True)); "
       "pi = e / e.sum(axis=1, keepdims=True)")


def _sampler(pi=_PI, draw_s0="s = draw(np.tile(mu0, (n, 1)))", draw_a="a = draw(pi[s])",
             draw_next="s = draw(P[s, a])", ret="states, actions", rand="rng.random"):
    return _SAMPLER.format(pi=pi, draw_s0=draw_s0, draw_a=draw_a, draw_next=draw_next, ret=ret,
                           rand=rand)


SAMPLER_MUTANTS = [
    Impl("P-wrong-axis", "sample_trajectories", _sampler(draw_next="s = draw(P[:, a, s].T)"),
         expect="they follow the column P[:, a, s] instead"),
    Impl("P-indexed-action-first", "sample_trajectories", _sampler(
        draw_next="s = draw(P[a, s])"), expect="[FAIL] next states follow P"),
    Impl("mu0-for-every-state", "sample_trajectories", _sampler(
        draw_next="s = draw(np.tile(mu0, (n, 1)))"), expect="look like draws from mu0"),
    Impl("actions-uniform", "sample_trajectories", _sampler(
        draw_a="a = rng.integers(A, size=n)"), expect="they look uniform"),
    Impl("actions-from-theta-without-softmax", "sample_trajectories", _sampler(
        pi="pi = np.abs(theta) / np.abs(theta).sum(axis=1, keepdims=True)"),
        expect="[FAIL] actions follow softmax"),
    Impl("greedy-actions", "sample_trajectories", _sampler(
        draw_a="a = np.argmax(theta[s], axis=1)"), expect="[FAIL] actions follow softmax"),
    Impl("naive-softmax-overflows", "sample_trajectories", _sampler(
        pi="pi = np.exp(theta) / np.exp(theta).sum(axis=1, keepdims=True)"),
        expect="[FAIL] a forced trajectory"),
    Impl("softmax-over-states", "sample_trajectories", _sampler(
        pi="e = np.exp(theta - theta.max(axis=0)); pi = e / e.sum(axis=0)"),
        expect="[FAIL] actions follow softmax"),
    Impl("global-np-random", "sample_trajectories", _sampler(rand="np.random.random"),
         expect="two calls with identical generators gave different trajectories"),
    Impl("fresh-generator", "sample_trajectories", _sampler(
        rand="np.random.default_rng().random"),
        expect="two calls with identical generators gave different trajectories"),
    Impl("fixed-seed-generator", "sample_trajectories", _sampler(
        pi=_PI + "; rng = np.random.default_rng(0)"),
        expect="calls with different generators gave the same trajectories"),
    Impl("uniform-initial-state", "sample_trajectories", _sampler(
        draw_s0="s = rng.integers(S, size=n)"), expect="initial states s_0 = states[:, 0]"),
    Impl("float-arrays", "sample_trajectories", _sampler(
        ret="states.astype(float), actions.astype(float)"), expect="expected an integer array"),
    Impl("transposed", "sample_trajectories", _sampler(ret="states.T, actions.T"),
         expect="the arrays are transposed"),
    Impl("swapped", "sample_trajectories", _sampler(ret="actions, states"),
         expect="states and actions are swapped"),
    # Off by one: the state recorded at t is the one reached after acting at t.
    Impl("states-recorded-after-transition", "sample_trajectories", _sampler(
        draw_a="a = draw(pi[s]); s = draw(P[s, a])", draw_next="pass"),
        expect="record s_t before drawing s_(t+1)"),
    # Off by one: a_t is drawn in s_(t+1), so s_(t+1) depends on a_(t-1), not on a_t.
    Impl("action-drawn-in-next-state", "sample_trajectories", """
        def sample_trajectories(theta, P, mu0, horizon, n, rng):
            theta, P, mu0 = (np.asarray(x, dtype=float) for x in (theta, P, mu0))
            e = np.exp(theta - theta.max(axis=1, keepdims=True))
            pi = e / e.sum(axis=1, keepdims=True)

            def draw(p):
                c = np.cumsum(p, axis=1)
                return np.argmax(rng.random((len(p), 1)) * c[:, -1:] < c, axis=1)

            states = np.zeros((n, horizon), dtype=int)
            actions = np.zeros((n, horizon), dtype=int)
            s = draw(np.tile(mu0, (n, 1)))
            a = draw(pi[s])
            for t in range(horizon):
                states[:, t] = s
                s = draw(P[s, a])
                a = draw(pi[s])
                actions[:, t] = a
            return states, actions
        """, expect="actions[:, t] must be drawn in state states[:, t]"),
]

SAMPLER_CORRECT = [
    Impl("step-by-step-loops", "sample_trajectories", """
        def sample_trajectories(theta, P, mu0, horizon, n, rng):
            theta, P, mu0 = (np.asarray(x, dtype=float) for x in (theta, P, mu0))
            S, A = theta.shape
            e = np.exp(theta - theta.max(axis=1, keepdims=True))
            pi = e / e.sum(axis=1, keepdims=True)
            states = np.zeros((n, horizon), dtype=int)
            actions = np.zeros((n, horizon), dtype=int)
            for i in range(n):
                s = rng.choice(S, p=mu0)
                for t in range(horizon):
                    a = rng.choice(A, p=pi[s])
                    states[i, t], actions[i, t] = s, a
                    s = rng.choice(S, p=P[s, a])
            return states, actions
        """),
    Impl("vectorised-inverse-cdf", "sample_trajectories", _sampler()),
    Impl("all-initial-states-first", "sample_trajectories", """
        def sample_trajectories(theta, P, mu0, horizon, n, rng):
            theta, P, mu0 = (np.asarray(x, dtype=float) for x in (theta, P, mu0))
            S, A = theta.shape
            e = np.exp(theta - theta.max(axis=1, keepdims=True))
            pi = e / e.sum(axis=1, keepdims=True)
            states = np.zeros((n, horizon), dtype=np.int32)
            actions = np.zeros((n, horizon), dtype=np.int32)
            states[:, 0] = rng.choice(S, size=n, p=mu0)
            for t in range(horizon):
                for i in range(n):
                    actions[i, t] = rng.choice(A, p=pi[states[i, t]])
                if t + 1 < horizon:
                    for i in range(n):
                        states[i, t + 1] = rng.choice(S, p=P[states[i, t], actions[i, t]])
            return states, actions
        """),
    Impl("gumbel-max-vectorised", "sample_trajectories", """
        def sample_trajectories(theta, P, mu0, horizon, n, rng):
            theta, P, mu0 = (np.asarray(x, dtype=float) for x in (theta, P, mu0))
            log_pi = theta - theta.max(axis=1, keepdims=True)
            log_pi = log_pi - np.log(np.exp(log_pi).sum(axis=1, keepdims=True))
            with np.errstate(divide="ignore"):
                log_p, log_mu0 = np.log(P), np.log(mu0)

            def gumbel_max(logits):
                return np.argmax(logits + rng.gumbel(size=logits.shape), axis=-1)

            states, actions = [], []
            s = gumbel_max(np.broadcast_to(log_mu0, (n, mu0.size)))
            for t in range(horizon):
                a = gumbel_max(log_pi[s])
                states.append(s)
                actions.append(a)
                s = gumbel_max(log_p[s, a])
            return np.stack(states, axis=1), np.stack(actions, axis=1)
        """),
    Impl("one-trajectory-at-a-time-cdf", "sample_trajectories", """
        def sample_trajectories(theta, P, mu0, horizon, n, rng):
            theta, P, mu0 = (np.asarray(x, dtype=float) for x in (theta, P, mu0))
            e = np.exp(theta - theta.max(axis=1, keepdims=True))
            pi = e / e.sum(axis=1, keepdims=True)

            def draw(p):
                return min(int(np.searchsorted(np.cumsum(p), rng.random() * p.sum(),
                                               side="right")), len(p) - 1)

            rows = []
            for _ in range(n):
                s, traj_s, traj_a = draw(mu0), [], []
                for t in range(horizon):
                    a = draw(pi[s])
                    traj_s.append(s)
                    traj_a.append(a)
                    s = draw(P[s, a])
                rows.append((traj_s, traj_a))
            states = np.array([r[0] for r in rows], dtype=np.int64)
            actions = np.array([r[1] for r in rows], dtype=np.int64)
            return states, actions
        """),
]

# --- 4.3 trajectory_score -----------------------------------------------------------------------

_SCORE = """
    def trajectory_score(theta, states, actions):
        theta = np.asarray(theta, dtype=float)
        {pi}
        out = np.zeros(theta.shape)
        for s, a in zip(states, actions):
            {step}
        return {ret}
"""


def _score(step="out[s] += np.eye(theta.shape[1])[a] - pi[s]", ret="out", pi=_PI):
    return _SCORE.format(pi=pi, step=step, ret=ret)


SCORE_MUTANTS = [
    Impl("sign-flipped", "trajectory_score", _score(step="out[s] += pi[s] - np.eye(theta.shape[1])[a]"),
         expect="the sign is flipped"),
    Impl("one-hot-only", "trajectory_score", _score(step="out[s, a] += 1.0"),
         expect="the probability term is missing"),
    Impl("probabilities-only", "trajectory_score", _score(step="out[s] -= pi[s]"),
         expect="the one-hot term is missing"),
    Impl("pi-once-per-visited-state", "trajectory_score", """
        def trajectory_score(theta, states, actions):
            theta = np.asarray(theta, dtype=float)
            e = np.exp(theta - theta.max(axis=1, keepdims=True))
            pi = e / e.sum(axis=1, keepdims=True)
            out = np.zeros(theta.shape)
            np.add.at(out, (np.asarray(states), np.asarray(actions)), 1.0)
            for s in set(np.asarray(states).tolist()):
                out[s] -= pi[s]
            return out
        """, expect="subtracted once per visited state"),
    Impl("log-probabilities", "trajectory_score", _score(
        step="out[s] += np.eye(theta.shape[1])[a] - np.log(pi[s])"), expect="log-probabilities"),
    Impl("mean-over-steps", "trajectory_score", _score(ret="out / len(states)"),
         expect="a sum over t, not a mean"),
    Impl("shape-from-visited-states", "trajectory_score", """
        def trajectory_score(theta, states, actions):
            theta = np.asarray(theta, dtype=float)
            states, actions = np.asarray(states), np.asarray(actions)
            e = np.exp(theta - theta.max(axis=1, keepdims=True))
            pi = e / e.sum(axis=1, keepdims=True)
            out = np.zeros((states.max() + 1, theta.shape[1]))
            for s, a in zip(states, actions):
                out[s] += np.eye(theta.shape[1])[a] - pi[s]
            return out
        """, expect="the shape comes from theta"),
    Impl("naive-softmax-overflows", "trajectory_score", _score(
        pi="pi = np.exp(theta) / np.exp(theta).sum(axis=1, keepdims=True)"),
        expect="the softmax overflowed"),
    Impl("last-step-only", "trajectory_score", _score(
        step="out = np.zeros(theta.shape); out[s] += np.eye(theta.shape[1])[a] - pi[s]")),
]

SCORE_CORRECT = [
    Impl("loop-over-steps", "trajectory_score", _score()),
    Impl("bincount", "trajectory_score", """
        def trajectory_score(theta, states, actions):
            theta = np.asarray(theta, dtype=np.float64)
            S, A = theta.shape
            flat = np.asarray(states) * A + np.asarray(actions)
            counts = np.bincount(flat, minlength=S * A).reshape(S, A).astype(float)
            e = np.exp(theta - theta.max(axis=1, keepdims=True))
            return counts - counts.sum(axis=1, keepdims=True) * e / e.sum(axis=1, keepdims=True)
        """),
    Impl("torch-autograd", "trajectory_score", """
        def trajectory_score(theta, states, actions):
            t = torch.tensor(np.asarray(theta, dtype=np.float64), requires_grad=True)
            s = torch.as_tensor(np.asarray(states, dtype=np.int64))
            a = torch.as_tensor(np.asarray(actions, dtype=np.int64))
            torch.log_softmax(t, dim=1)[s, a].sum().backward()
            return t.grad.numpy()
        """),
]

# --- 4.4 expected_return ------------------------------------------------------------------------

_RETURN = """
    def expected_return(theta, P, R, mu0, gamma, horizon):
        pi = {pi}
        P, R, d = P.to(theta.dtype), R.to(theta.dtype), mu0.to(theta.dtype)
        J = torch.zeros((), dtype=theta.dtype)
        for t in range({steps}):
            {body}
        return {ret}
"""
_ACCUMULATE = "J = J + {disc} * (d @ (pi * R).sum(-1))"
_PROPAGATE = "d = torch.einsum('s,sa,sak->k', d, pi, P)"


def _ret(pi="torch.softmax(theta, dim=-1)", steps="horizon", disc="gamma**t",
         body=None, ret="J"):
    body = body or (_ACCUMULATE.format(disc=disc) + "\n            " + _PROPAGATE)
    return _RETURN.format(pi=pi, steps=steps, body=body, ret=ret)


RETURN_MUTANTS = [
    Impl("no-discount", "expected_return", _ret(disc="1.0"), expect="the rewards are not discounted"),
    Impl("discount-off-by-one", "expected_return", _ret(disc="gamma**(t + 1)"),
         expect="the discount is off by one"),
    Impl("one-step-too-many", "expected_return", _ret(steps="horizon + 1"),
         expect="one step too many"),
    Impl("propagate-before-reward", "expected_return", _ret(
        body=_PROPAGATE + "\n            " + _ACCUMULATE.format(disc="gamma**t")),
         expect="updated before its reward is counted"),
    Impl("P-wrong-axis", "expected_return", _ret(
        body=_ACCUMULATE.format(disc="gamma**t")
        + "\n            d = torch.einsum('s,sa,kas->k', d, pi, P)"),
         expect="P is indexed the wrong way round"),
    Impl("detached", "expected_return", _ret(ret="J.detach()"), expect="no gradient reaches input 1"),
    Impl("numpy-inside", "expected_return", """
        def expected_return(theta, P, R, mu0, gamma, horizon):
            th = theta.detach().numpy()
            e = np.exp(th - th.max(axis=1, keepdims=True))
            pi = e / e.sum(axis=1, keepdims=True)
            d, J = mu0.numpy(), 0.0
            for t in range(horizon):
                J += gamma**t * d @ (pi * R.numpy()).sum(-1)
                d = np.einsum('s,sa,sak->k', d, pi, P.numpy())
            return torch.tensor(J, dtype=theta.dtype)
        """, expect="no gradient reaches input 1"),
    Impl("item", "expected_return", _ret(ret="J.item()"), expect="expected a torch.Tensor"),
    Impl("naive-softmax-overflows", "expected_return", _ret(
        pi="torch.exp(theta) / torch.exp(theta).sum(-1, keepdim=True)"),
         expect="use torch.softmax(theta, dim=-1)"),
    Impl("always-float64", "expected_return", """
        def expected_return(theta, P, R, mu0, gamma, horizon):
            pi = torch.softmax(theta.double(), dim=-1)
            d, J = mu0.double(), 0.0
            for t in range(horizon):
                J = J + gamma**t * (d @ (pi * R.double()).sum(-1))
                d = torch.einsum('s,sa,sak->k', d, pi, P.double())
            return J
        """, expect="expected dtype torch.float32"),
    Impl("shape-1-tensor", "expected_return", _ret(ret="J.reshape(1)"),
         expect="expected shape ()"),
]

RETURN_CORRECT = [
    Impl("backward-values", "expected_return", """
        def expected_return(theta, P, R, mu0, gamma, horizon):
            pi = torch.softmax(theta, dim=1)
            P, R, mu0 = P.to(theta.dtype), R.to(theta.dtype), mu0.to(theta.dtype)
            V = torch.zeros(P.shape[0], dtype=theta.dtype)
            for _ in range(horizon):
                Q = R + gamma * P @ V
                V = (pi * Q).sum(dim=1)
            return mu0 @ V
        """),
    Impl("matrix-powers-log-softmax", "expected_return", """
        def expected_return(theta, P, R, mu0, gamma, horizon):
            pi = torch.log_softmax(theta, dim=-1).exp()
            P_pi = (pi[:, :, None] * P.to(theta.dtype)).sum(dim=1)   # (S, S)
            r_pi = (pi * R.to(theta.dtype)).sum(dim=1)               # (S,)
            total = torch.tensor(0.0, dtype=theta.dtype)
            d = mu0.to(theta.dtype)
            for t in range(horizon):
                total = total + (gamma ** t) * torch.dot(d, r_pi)
                d = d @ P_pi
            return total
        """),
    Impl("stacked-distributions", "expected_return", """
        def expected_return(theta, P, R, mu0, gamma, horizon):
            pi = torch.softmax(theta, dim=-1)
            P_pi = torch.einsum('sa,sak->sk', pi, P.to(theta.dtype))
            ds = [mu0.to(theta.dtype)]
            for _ in range(horizon - 1):
                ds.append(ds[-1] @ P_pi)
            d = torch.stack(ds)                                       # (T, S)
            discounts = torch.tensor([gamma ** t for t in range(horizon)], dtype=theta.dtype)
            return discounts @ (d @ (pi * R.to(theta.dtype)).sum(-1))
        """),
]

# --- 4.5 reinforce_gradient ---------------------------------------------------------------------

_REINFORCE = """
    def reinforce_gradient(theta, states, actions, rewards, gamma):
        theta = np.asarray(theta, dtype=float)
        states, actions = np.asarray(states), np.asarray(actions)
        rewards = np.asarray(rewards, dtype=float)
        n, T = states.shape
        {pi}
        grad = np.zeros(theta.shape)
        for i in range(n):
            G = {G}
            for t in range(T):
                s, a = states[i, t], actions[i, t]
                grad[s] += {weight} * (np.eye(theta.shape[1])[a] - pi[s])
        return {ret}
"""


def _reinforce(G="sum(gamma**t * rewards[i, t] for t in range(T))", weight="G", ret="grad / n",
               pi=_PI):
    return _REINFORCE.format(G=G, weight=weight, ret=ret, pi=pi)


REINFORCE_MUTANTS = [
    Impl("sum-over-trajectories", "reinforce_gradient", _reinforce(ret="grad"),
         expect="sum over trajectories"),
    Impl("sign-flipped", "reinforce_gradient", _reinforce(ret="-grad / n"),
         expect="the sign is flipped"),
    Impl("no-discount", "reinforce_gradient", _reinforce(G="rewards[i].sum()"),
         expect="the rewards are not discounted"),
    Impl("discount-off-by-one", "reinforce_gradient", _reinforce(
        G="sum(gamma**(t + 1) * rewards[i, t] for t in range(T))"),
         expect="the discount is off by one"),
    Impl("reward-to-go", "reinforce_gradient", _reinforce(
        weight="sum(gamma**(k - t) * rewards[i, k] for k in range(t, T))"),
         expect="reward-to-go"),
    Impl("discounted-reward-to-go", "reinforce_gradient", _reinforce(
        weight="gamma**t * sum(gamma**(k - t) * rewards[i, k] for k in range(t, T))"),
         expect="reward-to-go"),
    Impl("per-step-reward", "reinforce_gradient", _reinforce(weight="gamma**t * rewards[i, t]"),
         expect="weighted by its own reward"),
    Impl("no-return", "reinforce_gradient", _reinforce(weight="1.0"),
         expect="the returns are missing"),
    Impl("naive-softmax-overflows", "reinforce_gradient", _reinforce(
        pi="pi = np.exp(theta) / np.exp(theta).sum(axis=1, keepdims=True)"),
         expect="the softmax overflowed"),
    Impl("shape-from-visited-states", "reinforce_gradient", """
        def reinforce_gradient(theta, states, actions, rewards, gamma):
            theta = np.asarray(theta, dtype=float)
            states, actions = np.asarray(states), np.asarray(actions)
            rewards = np.asarray(rewards, dtype=float)
            n, T = states.shape
            S, A = states.max() + 1, theta.shape[1]
            e = np.exp(theta[:S] - theta[:S].max(axis=1, keepdims=True))
            pi = e / e.sum(axis=1, keepdims=True)
            G = rewards @ gamma ** np.arange(T)
            grad = np.zeros((S, A))
            for i in range(n):
                for t in range(T):
                    grad[states[i, t]] += G[i] * (np.eye(A)[actions[i, t]] - pi[states[i, t]])
            return grad / n
        """, expect="the shape comes from theta"),
]

REINFORCE_CORRECT = [
    Impl("double-loop", "reinforce_gradient", _reinforce()),
    Impl("einsum-one-hot", "reinforce_gradient", """
        def reinforce_gradient(theta, states, actions, rewards, gamma):
            theta = np.asarray(theta, dtype=np.float64)
            S, A = theta.shape
            states, actions = np.asarray(states), np.asarray(actions)
            rewards = np.asarray(rewards, dtype=np.float64)
            n, T = states.shape
            e = np.exp(theta - theta.max(axis=1, keepdims=True))
            pi = e / e.sum(axis=1, keepdims=True)
            one_s = np.eye(S)[states]                                 # (n, T, S)
            one_a = np.eye(A)[actions]                                # (n, T, A)
            scores = one_s[..., None] * (one_a[:, :, None, :] - pi)   # (n, T, S, A)
            G = (rewards * gamma ** np.arange(T)).sum(axis=1)
            return np.einsum("i,itsa->sa", G, scores) / n
        """),
    Impl("torch-surrogate", "reinforce_gradient", """
        def reinforce_gradient(theta, states, actions, rewards, gamma):
            t = torch.tensor(np.asarray(theta, dtype=np.float64), requires_grad=True)
            s = torch.as_tensor(np.asarray(states, dtype=np.int64))
            a = torch.as_tensor(np.asarray(actions, dtype=np.int64))
            r = torch.as_tensor(np.asarray(rewards, dtype=np.float64))
            G = r @ gamma ** torch.arange(r.shape[1], dtype=torch.float64)
            log_p = torch.log_softmax(t, dim=1)[s, a].sum(dim=1)
            (G * log_p).mean().backward()
            return t.grad.numpy()
        """),
]

MUTANTS = SOFTMAX_MUTANTS + SAMPLER_MUTANTS + SCORE_MUTANTS + RETURN_MUTANTS + REINFORCE_MUTANTS
CORRECT = SOFTMAX_CORRECT + SAMPLER_CORRECT + SCORE_CORRECT + RETURN_CORRECT + REINFORCE_CORRECT
EXERCISES = ("softmax_policy", "sample_trajectories", "trajectory_score", "expected_return",
             "reinforce_gradient")


define_tests(globals(), mutants=MUTANTS, correct=CORRECT, exercises=EXERCISES, imports=IMPORTS,
             slow_first="expected_return")
