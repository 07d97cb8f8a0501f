"""Callables that graders pass to exercises which take a function (e.g. ``log_prob``).

A function cannot cross the plain-data boundary, so a case names a fixture and the worker
looks it up here. Each is an ordinary differentiable log-density ``log_prob(theta, x)``
returning per-sample values of shape (N,), written with torch only.
"""
from __future__ import annotations

import math


def gaussian_mu_log_sigma(theta, x):
    """N(x; mu, sigma^2) with theta = (mu, log sigma); x of shape (N,)."""
    mu, log_sigma = theta[0], theta[1]
    z = (x - mu) / log_sigma.exp()
    return -0.5 * z**2 - log_sigma - 0.5 * math.log(2 * math.pi)


def categorical_logits(theta, x):
    """Categorical(softmax(theta)) of integer samples x (N,); theta (K,) are logits."""
    import torch

    return torch.log_softmax(theta, dim=-1)[x.long()]


def poisson_log_rate(theta, x):
    """Poisson(x; exp(theta[0])) for counts x (N,); theta of shape (1,)."""
    import torch

    log_rate = theta[0]
    return x * log_rate - log_rate.exp() - torch.lgamma(x + 1)


def linear_gaussian(theta, x):
    """Regression likelihood: x (N, d + 1) holds features x[:, :d] and a target x[:, d];
    y ~ N(features @ theta, 1)."""
    d = theta.shape[0]
    mean = x[:, :d] @ theta
    return -0.5 * (x[:, d] - mean) ** 2 - 0.5 * math.log(2 * math.pi)


def logistic_bernoulli(theta, x):
    """Bernoulli(y; sigmoid(features @ theta)); x (N, d + 1) with labels 0/1 in the last column."""
    import torch

    d = theta.shape[0]
    logits = x[:, :d] @ theta
    y = x[:, d]
    return y * torch.nn.functional.logsigmoid(logits) + (1 - y) * torch.nn.functional.logsigmoid(-logits)


def regression_data(rng, n: int, d: int):
    """x for :func:`linear_gaussian`: n rows of d features and a noisy linear target."""
    import numpy as np

    features = rng.normal(size=(n, d))
    target = features @ rng.normal(size=d) + rng.normal(size=n)
    return np.column_stack([features, target])


def classification_data(rng, n: int, d: int):
    """x for :func:`logistic_bernoulli`: n rows of d features and a 0/1 label."""
    import numpy as np

    features = rng.normal(size=(n, d))
    labels = (rng.uniform(size=n) < 0.5).astype(np.float64)
    return np.column_stack([features, labels])


def log_prob_case(fixture: str, theta, x, *, theta_dtype="float64", x_dtype="float64",
                  requires_grad=True, grad=None, note="", observe=False):
    """A grader's Case for exercises that take ``(log_prob, theta, x)``: the fixture by name,
    theta and x as tensors (theta optionally requiring grad, with a preset .grad)."""
    import numpy as np

    from autograder.spec import Case
    from autograder.wire import Fixture, Tensor

    theta = np.asarray(theta, dtype=np.float64)
    x = np.asarray(x)
    label = f"log_prob={fixture}, theta of shape {theta.shape} ({theta_dtype}), x of shape {x.shape}"
    if note:
        label += f", {note}"
    return Case((Fixture(fixture), Tensor(theta, theta_dtype, requires_grad, grad), Tensor(x, x_dtype)),
                label, observe_args=observe)


def untouched_theta_cases(rng):
    """Cases whose theta must come back unchanged (``observe=True``): a preset .grad, a None
    .grad, and a theta that does not require grad."""
    import numpy as np

    return [
        log_prob_case("gaussian_mu_log_sigma", [0.2, -0.1], rng.normal(size=6), grad=np.array([0.5, -0.5]),
                      note="theta.grad preset to [0.5, -0.5]", observe=True),
        log_prob_case("categorical_logits", rng.normal(size=3), rng.integers(0, 3, 4), x_dtype="int64",
                      note="theta.grad is None", observe=True),
        log_prob_case("poisson_log_rate", [0.2], rng.poisson(1.5, 5).astype(float), requires_grad=False,
                      note="theta does not require grad", observe=True),
    ]


FIXTURES = {
    f.__name__: f
    for f in (gaussian_mu_log_sigma, categorical_logits, poisson_log_rate, linear_gaussian, logistic_bernoulli)
}


def get(name: str):
    try:
        return FIXTURES[name]
    except KeyError:
        raise ValueError(f"unknown fixture {name!r}") from None
