"""Probes: trusted code that exercises what a student defined and returns plain data.

Some exercises produce objects that cannot cross the process boundary, such as a
``torch.nn.Module`` class. A case with ``op="probe:NAME"`` runs ``NAME(exercise, *args)``
from this module inside the sandbox, on the student's definition, and the same probe on
the reference in the grader; the judge compares the two plain-data answers. A probe must
return only what :mod:`autograder.wire` can carry: arrays, numbers, strings, lists, tuples.

Chapters add their probes here, registered in ``PROBES``.
"""
from __future__ import annotations

PROBES: dict = {}


def probe(fn):
    """Register a probe under its function name."""
    PROBES[fn.__name__] = fn
    return fn


def get(name: str):
    try:
        return PROBES[name]
    except KeyError:
        raise ValueError(f"unknown probe {name!r}") from None


@probe
def replay_rng(fn, *args):
    """For exercises whose last argument is a ``numpy.random.Generator``: call with it, with an
    identical copy of it, and with an independent generator. A correct exercise draws only
    from the generator it is given: the first two results are equal, the third differs."""
    import copy

    import numpy as np

    *rest, rng = args
    same = copy.deepcopy(rng)
    other = np.random.default_rng(copy.deepcopy(rng).integers(2**63))
    return (fn(*rest, rng), fn(*rest, same), fn(*rest, other))


@probe
def call_twice(fn, *args):
    """Call twice with the same inputs: for exercises whose result must not depend on hidden state."""
    return (fn(*args), fn(*args))


# --- chapter 5: CategoricalPolicy, a torch.nn.Module class ---------------------------------
# Each probe builds the student's class (or the reference) with torch's global random state
# seeded inside ``fork_rng``, so it is restored afterwards, and answers one question about
# the instance in plain data. ``hidden_sizes=None`` means "leave the default".

def _build_policy(cls, obs_dim, n_actions, hidden_sizes, seed):
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        if hidden_sizes is None:
            return cls(int(obs_dim), int(n_actions))
        return cls(int(obs_dim), int(n_actions), tuple(int(h) for h in hidden_sizes))


def _describe_object(value) -> str:
    import torch

    if isinstance(value, torch.Tensor):
        return f"a torch.Tensor of shape {tuple(value.shape)}"
    cls = type(value)
    return f"a {cls.__module__}.{cls.__qualname__}"


def _policy_distribution(policy, obs):
    import torch

    dist = policy(obs)
    if not isinstance(dist, torch.distributions.Categorical):
        raise TypeError(f"forward returned {_describe_object(dist)}, not a "
                        "torch.distributions.Categorical")
    return dist


def _as_numpy(tensor):
    return tensor.detach().to(dtype=__import__("torch").float64).cpu().numpy()


@probe
def policy_interface(cls, obs_dim, n_actions, hidden_sizes, seed, obs):
    """(is an nn.Module, what forward(obs) returned, it is a Categorical)."""
    import torch

    policy = _build_policy(cls, obs_dim, n_actions, hidden_sizes, seed)
    if not isinstance(policy, torch.nn.Module):
        return (False, _describe_object(policy), False)
    out = policy(obs)
    return (True, _describe_object(out), isinstance(out, torch.distributions.Categorical))


@probe
def policy_batch_shapes(cls, obs_dim, n_actions, hidden_sizes, seed, observations):
    """For each observation tensor: (obs shape, batch shape, probs shape, probs dtype,
    log_prob shape)."""
    policy = _build_policy(cls, obs_dim, n_actions, hidden_sizes, seed)
    out = []
    for obs in observations:
        dist = _policy_distribution(policy, obs)
        actions = dist.sample()
        out.append((tuple(obs.shape), tuple(dist.batch_shape), tuple(dist.probs.shape),
                    str(dist.probs.dtype).removeprefix("torch."),
                    tuple(dist.log_prob(actions).shape)))
    return out


@probe
def policy_probabilities(cls, obs_dim, n_actions, hidden_sizes, seed, obs):
    """(probs of the batch obs (B, K), probs of each obs[i] on its own (B, K)), float64."""
    import torch

    policy = _build_policy(cls, obs_dim, n_actions, hidden_sizes, seed)
    with torch.no_grad():
        batch = _as_numpy(_policy_distribution(policy, obs).probs)
        alone = [_as_numpy(_policy_distribution(policy, row).probs) for row in obs]
    return (batch, __import__("numpy").stack(alone))


@probe
def policy_gradient_flow(cls, obs_dim, n_actions, hidden_sizes, seed, obs, actions):
    """(parameter tensors, trainable ones, ones a gradient of dist.log_prob(actions).sum()
    reaches, ones whose gradient is finite and not all zero, log_prob is differentiable)."""
    import torch

    policy = _build_policy(cls, obs_dim, n_actions, hidden_sizes, seed)
    params = list(policy.parameters())
    trainable = [p for p in params if p.requires_grad]
    total = _policy_distribution(policy, obs).log_prob(actions).sum()
    if not (isinstance(total, torch.Tensor) and total.requires_grad) or not trainable:
        return (len(params), len(trainable), 0, 0, False)
    grads = torch.autograd.grad(total, trainable, allow_unused=True)
    reached = [g for g in grads if g is not None]
    useful = [g for g in reached if bool(torch.isfinite(g).all()) and bool((g != 0).any())]
    return (len(params), len(trainable), len(reached), len(useful), True)


@probe
def policy_parameter_shapes(cls, obs_dim, n_actions, hidden_sizes, seed):
    """(sorted shapes of the parameters, total number of parameters)."""
    policy = _build_policy(cls, obs_dim, n_actions, hidden_sizes, seed)
    shapes = sorted(tuple(int(n) for n in p.shape) for p in policy.parameters())
    return (shapes, int(sum(p.numel() for p in policy.parameters())))


@probe
def policy_log_odds_curvature(cls, obs_dim, n_actions, hidden_sizes, seed, x, y):
    """How far the log-odds log p(0|obs) - log p(1|obs) are from affine in the observation:
    the largest |g((x + y) / 2) - (g(x) + g(y)) / 2| over the rows of x and y, relative to
    the size of g. A network without hidden layers (logits Wx + b) gives ~0; a hidden layer
    with any nonlinearity gives clearly more. The activation itself is not examined."""
    import torch

    policy = _build_policy(cls, obs_dim, n_actions, hidden_sizes, seed)
    with torch.no_grad():
        def log_odds(obs):
            logp = _policy_distribution(policy, obs).logits.to(torch.float64)
            return logp[..., 0] - logp[..., 1]

        gx, gy, gm = log_odds(x), log_odds(y), log_odds((x + y) / 2)
    gap = (gm - (gx + gy) / 2).abs().max()
    scale = torch.stack([gx.abs(), gy.abs(), gm.abs()]).max().clamp_min(1e-3)
    return float(gap / scale)


# --- chapter 8: gumbel_softmax_sample, a sample whose gradient is checked ----------------
# The sample depends on the noise, which different correct implementations draw differently,
# so its gradient cannot be compared with the reference's. The Jacobian of
# y = softmax((logits + g) / temperature) is (diag(y) - y y^T) / temperature whatever g was,
# so the grader checks the vector-Jacobian product at the returned y.

@probe
def gumbel_softmax_vjp(fn, logits, temperature, rng, weights):
    """(y detached, d sum(weights * y) / d logits or None) for a fresh leaf copy of logits."""
    import torch

    leaf = logits.detach().clone().requires_grad_(True)
    y = fn(leaf, temperature, rng)
    if type(y) is not torch.Tensor:
        raise TypeError(f"expected a torch.Tensor, got {_describe_object(y)}")
    if not y.requires_grad:
        return (y.detach(), None)
    w = torch.as_tensor(weights, dtype=y.dtype)
    (grad,) = torch.autograd.grad((y * w).sum(), leaf, allow_unused=True)
    return (y.detach(), None if grad is None else grad.detach())


# --- chapter 7: conjugate_gradient, given a matrix it may only multiply by -------------------
# The symmetric positive-definite A is built here, inside the sandbox, from a seed and its
# eigenvalues; the exercise receives only ``fvp(v) = A v``, which counts its calls.

def spd_matrix(seed, eigenvalues):
    """Q diag(eigenvalues) Q^T with Q a random orthogonal matrix drawn from ``seed``."""
    import numpy as np

    eigenvalues = np.asarray(eigenvalues, dtype=np.float64)
    d = eigenvalues.shape[0]
    q, r = np.linalg.qr(np.random.default_rng(int(seed)).normal(size=(d, d)))
    q = q * np.sign(np.diag(r))  # a Haar-distributed orthogonal matrix
    return (q * eigenvalues) @ q.T


@probe
def counted_fvp_solve(fn, seed, eigenvalues, g, iters=None, tol=None):
    """``(x, calls)``: x = fn(fvp, g, iters=iters, tol=tol) (a None leaves that argument to
    its default) with fvp(v) = A v for A = spd_matrix(seed, eigenvalues), and the number of
    times fn called fvp."""
    import numpy as np

    matrix = spd_matrix(seed, eigenvalues)
    calls = [0]

    def fvp(v):
        calls[0] += 1
        return matrix @ np.asarray(v, dtype=np.float64)

    kwargs = {k: v for k, v in (("iters", iters), ("tol", tol)) if v is not None}
    x = fn(fvp, g, **kwargs)
    return (x, calls[0])
