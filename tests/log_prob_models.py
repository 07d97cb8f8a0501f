"""What the chapter 1 and chapter 2 solution tests share about the log-density fixtures of
``autograder/fixtures.py`` (the models exercises 1.3 and 2.4 differentiate): their inputs,
and the check that theta is left alone."""
from __future__ import annotations

import numpy as np
import torch

KNOWN_FIXTURES = ["gaussian_mu_log_sigma", "categorical_logits", "poisson_log_rate",
                  "linear_gaussian", "logistic_bernoulli"]


def sigmoid(t):
    return 1.0 / (1.0 + np.exp(-t))


def fixture_inputs(fixture, rng, n):
    """(theta, x, torch dtype of x): parameters and n data points for ``fixture``."""
    if fixture == "gaussian_mu_log_sigma":
        theta = np.array([rng.normal(), rng.uniform(-1, 1)])
        return theta, rng.normal(theta[0], np.exp(theta[1]), n), torch.float64
    if fixture == "categorical_logits":
        theta = rng.normal(0, 2, 5)
        return theta, rng.integers(0, 5, n), torch.int64
    if fixture == "poisson_log_rate":
        return np.array([rng.normal(0.5, 0.5)]), rng.poisson(2.0, n).astype(float), torch.float64
    d = 3
    features = rng.normal(size=(n, d))
    theta = rng.normal(size=d)
    if fixture == "linear_gaussian":
        target = features @ theta + rng.normal(size=n)
    else:
        target = (rng.uniform(size=n) < sigmoid(features @ theta)).astype(float)
    return theta, np.column_stack([features, target]), torch.float64


THETA_PRESETS = ["grad-None", "grad-preset", "no-requires-grad"]


def assert_theta_left_alone(fn, preset):
    """``fn(log_prob, theta, x)`` (exercises 1.3 and 2.4) leaves theta's values, .grad and
    requires_grad as they were, and returns a detached tensor."""
    from autograder import fixtures

    rng = np.random.default_rng(900)
    theta = torch.tensor([0.2, -0.1], dtype=torch.float64, requires_grad=preset != "no-requires-grad")
    if preset == "grad-preset":
        theta.grad = torch.tensor([0.5, -0.5], dtype=torch.float64)
    before = theta.detach().clone()
    got = fn(fixtures.gaussian_mu_log_sigma, theta, torch.tensor(rng.normal(size=6)))
    assert torch.equal(theta.detach(), before)
    assert theta.requires_grad == (preset != "no-requires-grad")
    if preset == "grad-preset":
        assert torch.equal(theta.grad, torch.tensor([0.5, -0.5], dtype=torch.float64))
    else:
        assert theta.grad is None
    assert not got.requires_grad and got.grad_fn is None
    assert theta.is_leaf
