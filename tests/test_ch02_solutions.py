"""The chapter 2 reference solutions against independent computations.

Nothing here reuses the solutions' own formulas: the empirical Fisher is checked against an
explicit loop of outer products and ``np.cov``; the Gaussian Fisher against exact Gauss-Hermite
quadrature of torch autograd scores and Hessians of ``torch.distributions.Normal``; the
categorical Fisher against the exact expectation over the K categories of the outer products of
the score, the Jacobian of ``torch.softmax`` and the Hessian of ``torch.log_softmax``;
``hessian_fisher`` against closed-form Hessians of the grader's fixtures, per-sample
``torch.func.hessian`` and central differences of autograd gradients. The information equality
E[s s^T] = -E[Hessian] is checked by Monte Carlo with stated tolerances. All inputs come from
fixed seeds, so every run checks exactly the same numbers.
"""
from __future__ import annotations

import numpy as np
import pytest
import scipy.special
import scipy.stats
import torch

from autograder import fixtures
from log_prob_models import KNOWN_FIXTURES, THETA_PRESETS, assert_theta_left_alone, fixture_inputs, sigmoid
from solutions.ch02_score_identities import (
    categorical_fisher,
    empirical_fisher,
    gaussian_fisher,
    hessian_fisher,
)

SEEDS = range(8)


# --- 2.1 empirical_fisher -----------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(1, 1), (1, 4), (9, 1), (50, 3), (7, 12), (300, 2)])
@pytest.mark.parametrize("seed", SEEDS)
def test_empirical_fisher_is_the_mean_outer_product(seed, shape):
    rng = np.random.default_rng(seed)
    scores = rng.normal(rng.normal(), 2.0, shape)
    got = empirical_fisher(scores)
    n, d = shape
    assert isinstance(got, np.ndarray) and got.dtype == np.float64 and got.shape == (d, d)
    expected = np.zeros((d, d))
    for row in scores:
        expected += np.outer(row, row)
    expected /= n
    # Two float64 sums of the same n products in different orders: ~n ulps of the largest
    # partial sum apart, far inside rtol 1e-12 plus atol 1e-12 for this scale (|s| < ~15).
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got, got.T, rtol=0, atol=0)
    # A second moment is positive semi-definite (up to rounding).
    assert np.linalg.eigvalsh(got).min() > -1e-12 * np.abs(got).max()


@pytest.mark.parametrize("seed", SEEDS)
def test_empirical_fisher_is_covariance_plus_outer_product_of_the_mean(seed):
    """E[s s^T] = Cov(s) + m m^T with the biased (1/N) covariance: np.cov, independently."""
    rng = np.random.default_rng(100 + seed)
    scores = rng.normal(3.0, 1.0, (40, 3))
    m = scores.mean(axis=0)
    expected = np.cov(scores, rowvar=False, bias=True) + np.outer(m, m)
    np.testing.assert_allclose(empirical_fisher(scores), expected, rtol=1e-12, atol=1e-12)
    # ... and it is not the covariance np.cov returns: the mean is far from 0 here.
    assert not np.allclose(empirical_fisher(scores), np.cov(scores, rowvar=False), rtol=1e-3)


def test_empirical_fisher_accepts_array_likes():
    got = empirical_fisher([[1, 2], [3, 4], [5, 6]])
    # (1 + 9 + 25) / 3, (2 + 12 + 30) / 3, (4 + 16 + 36) / 3, exactly representable sums
    expected = np.array([[35.0, 44.0], [44.0, 56.0]]) / 3
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, expected, rtol=1e-15)
    np.testing.assert_array_equal(empirical_fisher([[2.0]]), [[4.0]])
    got32 = empirical_fisher(np.ones((4, 2), dtype=np.float32))
    assert got32.dtype == np.float64
    np.testing.assert_array_equal(got32, np.ones((2, 2)))


def test_empirical_fisher_of_gaussian_scores_converges_to_the_fisher_information():
    """Scores of N(mu, sigma^2) in (mu, sigma), computed with scipy finite differences."""
    mu, sigma, n = -0.7, 1.6, 400_000
    rng = np.random.default_rng(2024)  # fixed seed: the verdict is the same on every run
    x = rng.normal(mu, sigma, n)
    h = 1e-5
    scores = np.stack([
        (scipy.stats.norm.logpdf(x, mu + h, sigma) - scipy.stats.norm.logpdf(x, mu - h, sigma)) / (2 * h),
        (scipy.stats.norm.logpdf(x, mu, sigma + h) - scipy.stats.norm.logpdf(x, mu, sigma - h)) / (2 * h),
    ], axis=-1)
    got = empirical_fisher(scores)
    truth = np.diag([1 / sigma**2, 2 / sigma**2])
    # Each entry is a mean of n iid products with finite variance: by the CLT it is within
    # z standard errors of the truth, the standard error estimated from the products. Three
    # distinct entries, Bonferroni: z = 5.3 gives a false-failure probability < 3.5e-7.
    z = 5.3
    assert 3 * 2 * scipy.stats.norm.sf(z) < 3.5e-7
    for j, k in [(0, 0), (0, 1), (1, 1)]:
        products = scores[:, j] * scores[:, k]
        se = products.std(ddof=1) / np.sqrt(n)
        assert abs(got[j, k] - truth[j, k]) <= z * se, (j, k, got[j, k], truth[j, k], se)


# --- 2.2 gaussian_fisher ------------------------------------------------------------------------

def _gauss_hermite(mu, sigma, n_nodes=40):
    """Nodes and weights for E[g(x)], x ~ N(mu, sigma^2): exact for polynomials of degree < 80."""
    nodes, weights = np.polynomial.hermite_e.hermegauss(n_nodes)
    return mu + sigma * nodes, weights / np.sqrt(2 * np.pi)


@pytest.mark.parametrize("mu, sigma", [(0.0, 1.0), (1.5, 0.3), (-2.0, 4.0), (0.25, 2.0), (10.0, 0.05)])
def test_gaussian_fisher_matches_quadrature_of_torch_scores_and_hessians(mu, sigma):
    x, w = _gauss_hermite(mu, sigma)
    x_t, w_t = torch.tensor(x), torch.tensor(w)

    def log_p(params):
        return torch.distributions.Normal(params[0], params[1]).log_prob(x_t)

    params = torch.tensor([mu, sigma], dtype=torch.float64)
    scores = torch.autograd.functional.jacobian(log_p, params)  # (nodes, 2)
    outer = torch.einsum("n,ni,nj->ij", w_t, scores, scores).numpy()
    hessian = torch.autograd.functional.hessian(lambda p: (w_t * log_p(p)).sum(), params).numpy()
    got = gaussian_fisher(mu, sigma)
    assert isinstance(got, np.ndarray) and got.dtype == np.float64 and got.shape == (2, 2)
    # The integrands are polynomials of degree <= 4 in x, integrated exactly by 40-node
    # Gauss-Hermite; only rounding remains (relative ~1e-14 of the entries ~1/sigma^2).
    scale = 1 / sigma**2
    np.testing.assert_allclose(got, outer, rtol=1e-12, atol=1e-12 * scale)
    np.testing.assert_allclose(got, -hessian, rtol=1e-12, atol=1e-12 * scale)


def test_gaussian_fisher_accepts_numbers_and_ignores_mu():
    np.testing.assert_array_equal(gaussian_fisher(0, 2), [[0.25, 0.0], [0.0, 0.5]])
    got = gaussian_fisher(np.float32(0.5), np.float32(1.5))
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, np.diag([1 / 2.25, 2 / 2.25]), rtol=1e-15)
    np.testing.assert_array_equal(gaussian_fisher(1e6, 0.7), gaussian_fisher(-3.0, 0.7))
    np.testing.assert_allclose(gaussian_fisher(0.0, 1e-3), np.diag([1e6, 2e6]), rtol=1e-14)
    np.testing.assert_allclose(gaussian_fisher(0.0, 1e3), np.diag([1e-6, 2e-6]), rtol=1e-14)


@pytest.mark.parametrize("sigma", [0.4, 1.0, 3.0])
def test_gaussian_fisher_in_log_sigma_by_the_jacobian(sigma):
    """J^T F J with J = diag(1, sigma) is the Fisher information in (mu, log sigma), diag(1/sigma^2, 2),
    here computed independently by quadrature of autograd scores in (mu, log sigma)."""
    x, w = _gauss_hermite(0.3, sigma)
    x_t, w_t = torch.tensor(x), torch.tensor(w)
    eta = torch.tensor([0.3, np.log(sigma)], dtype=torch.float64)
    scores = torch.autograd.functional.jacobian(
        lambda e: torch.distributions.Normal(e[0], e[1].exp()).log_prob(x_t), eta)
    expected = torch.einsum("n,ni,nj->ij", w_t, scores, scores).numpy()
    jac = np.diag([1.0, sigma])
    np.testing.assert_allclose(jac.T @ gaussian_fisher(0.3, sigma) @ jac, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(expected, np.diag([1 / sigma**2, 2.0]), rtol=1e-12, atol=1e-12)


# --- 2.3 categorical_fisher ---------------------------------------------------------------------

@pytest.mark.parametrize("k", [1, 2, 3, 6, 17])
@pytest.mark.parametrize("seed", SEEDS)
def test_categorical_fisher_is_the_exact_second_moment_of_the_score(seed, k):
    rng = np.random.default_rng(200 + seed)
    logits = rng.normal(0.0, 2.0, k)
    p = scipy.special.softmax(logits)
    # E[s s^T] = sum over the K actions of p_a (e_a - p)(e_a - p)^T: the definition, summed.
    expected = sum(p[a] * np.outer(np.eye(k)[a] - p, np.eye(k)[a] - p) for a in range(k))
    got = categorical_fisher(logits)
    assert isinstance(got, np.ndarray) and got.dtype == np.float64 and got.shape == (k, k)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-15)


@pytest.mark.parametrize("seed", SEEDS)
def test_categorical_fisher_is_the_softmax_jacobian_and_minus_the_log_softmax_hessian(seed):
    rng = np.random.default_rng(300 + seed)
    logits = torch.tensor(rng.normal(0.0, 3.0, 5))
    jac = torch.autograd.functional.jacobian(lambda z: torch.softmax(z, dim=-1), logits).numpy()
    got = categorical_fisher(logits.numpy())
    np.testing.assert_allclose(got, jac, rtol=0, atol=1e-15)
    for a in range(5):  # the Hessian of log pi(a) is the same for every action a
        hess = torch.autograd.functional.hessian(lambda z: torch.log_softmax(z, dim=-1)[a], logits).numpy()
        np.testing.assert_allclose(got, -hess, rtol=0, atol=1e-14)


@pytest.mark.parametrize("seed", SEEDS)
def test_categorical_fisher_is_singular_along_ones_with_rank_k_minus_1(seed):
    rng = np.random.default_rng(400 + seed)
    k = 7
    logits = rng.normal(0.0, 1.0, k)
    got = categorical_fisher(logits)
    eigenvalues, vectors = np.linalg.eigh(got)
    # The smallest eigenvalue is 0 up to rounding (~1e-17). For v orthogonal to 1,
    # v^T F v = Var_{a ~ p}[v_a] >= min_k p_k |v|^2 / ... > 0; with standard-normal logits and
    # K = 7 the second eigenvalue is of order min_k p_k ~ 1e-2, far above 1e-6.
    assert abs(eigenvalues[0]) < 1e-15
    assert eigenvalues[1] > 1e-6
    np.testing.assert_allclose(np.abs(vectors[:, 0]), np.full(k, 1 / np.sqrt(k)), atol=1e-7)
    np.testing.assert_allclose(got @ np.ones(k), 0.0, atol=1e-15)
    assert np.linalg.matrix_rank(got) == k - 1
    np.testing.assert_allclose(categorical_fisher(logits - 50.0), got, atol=1e-15)


@pytest.mark.parametrize("seed", SEEDS)
def test_categorical_fisher_finite_and_exact_for_logits_of_magnitude_1e3(seed):
    rng = np.random.default_rng(500 + seed)
    logits = rng.choice([-1e3, -999.0, 0.0, 999.0, 1e3], size=6)
    got = categorical_fisher(logits)
    assert np.all(np.isfinite(got))
    p = scipy.special.softmax(logits)  # shift-stabilised: exact to rounding at any magnitude
    np.testing.assert_allclose(got, np.diag(p) - np.outer(p, p), rtol=0, atol=1e-15)
    np.testing.assert_array_equal(categorical_fisher([1e3, 0.0, -1e3]), np.zeros((3, 3)))
    np.testing.assert_allclose(categorical_fisher([-1e3] * 4), np.eye(4) / 4 - 1 / 16, atol=1e-16)


def test_categorical_fisher_by_monte_carlo():
    rng = np.random.default_rng(600)
    k, n = 4, 300_000
    logits = rng.normal(0.0, 1.0, k)
    p = scipy.special.softmax(logits)
    a = rng.choice(k, size=n, p=p)
    s = np.eye(k)[a] - p
    products = s[:, :, None] * s[:, None, :]
    mean = products.mean(axis=0)
    se = products.std(axis=0, ddof=1) / np.sqrt(n)
    # 10 distinct entries, each a CLT mean: |error| < 5.3 se for all of them fails for a
    # correct formula with probability < 10 * 1.2e-7 (Bonferroni).
    assert np.all(np.abs(categorical_fisher(logits) - mean) <= 5.3 * se)


# --- 2.4 hessian_fisher -------------------------------------------------------------------------

def _closed_form_fisher(fixture, theta, x):
    """Minus the mean Hessian of each fixture's log-density, derived by hand."""
    theta = np.asarray(theta, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    if fixture == "gaussian_mu_log_sigma":
        mu, prec = theta[0], np.exp(-2 * theta[1])
        r = x - mu
        return np.array([[prec, 2 * prec * r.mean()], [2 * prec * r.mean(), 2 * prec * (r**2).mean()]])
    if fixture == "categorical_logits":
        p = scipy.special.softmax(theta)
        return np.diag(p) - np.outer(p, p)
    if fixture == "poisson_log_rate":
        return np.array([[np.exp(theta[0])]])
    d = theta.size
    features = x[:, :d]
    if fixture == "linear_gaussian":
        return features.T @ features / len(x)
    if fixture == "logistic_bernoulli":
        p = sigmoid(features @ theta)
        return (features * (p * (1 - p))[:, None]).T @ features / len(x)
    raise ValueError(fixture)


@pytest.mark.parametrize("n", [1, 2, 25])
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("fixture", KNOWN_FIXTURES)
def test_hessian_fisher_matches_closed_forms(fixture, seed, n):
    rng = np.random.default_rng(700 + seed)
    theta_np, x_np, x_dtype = fixture_inputs(fixture, rng, n)
    theta = torch.tensor(theta_np, dtype=torch.float64, requires_grad=True)
    got = hessian_fisher(fixtures.get(fixture), theta, torch.tensor(x_np, dtype=x_dtype))
    d = theta_np.size
    assert isinstance(got, torch.Tensor) and got.dtype == torch.float64 and got.shape == (d, d)
    # float64 autograd vs a float64 closed form: identical up to rounding.
    np.testing.assert_allclose(got.numpy(), _closed_form_fisher(fixture, theta_np, x_np), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("fixture", KNOWN_FIXTURES)
def test_hessian_fisher_is_the_mean_of_per_sample_hessians_and_central_differences(fixture):
    rng = np.random.default_rng(800)
    theta_np, x_np, x_dtype = fixture_inputs(fixture, rng, 12)
    log_prob = fixtures.get(fixture)
    theta = torch.tensor(theta_np)
    x = torch.tensor(x_np, dtype=x_dtype)
    got = hessian_fisher(log_prob, theta, x).numpy()

    # Route 1: one torch.func.hessian per sample, averaged.
    per_sample = [torch.func.hessian(lambda t, i=i: log_prob(t, x)[i])(theta) for i in range(len(x_np))]
    np.testing.assert_allclose(got, -torch.stack(per_sample).mean(0).numpy(), rtol=1e-10, atol=1e-12)

    # Route 2: central differences of the autograd gradient of the mean log-density. Each
    # column is (g(theta + h e_k) - g(theta - h e_k)) / 2h, error O(h^2 |g'''|) ~ 1e-10 with
    # h = 1e-5 and third derivatives of order 1 here, plus rounding eps |g| / h ~ 1e-10.
    def grad(t):
        t = torch.tensor(t).requires_grad_(True)
        (g,) = torch.autograd.grad(log_prob(t, x).mean(), t)
        return g.numpy()

    h = 1e-5
    d = theta_np.size
    fd = np.column_stack([(grad(theta_np + h * e) - grad(theta_np - h * e)) / (2 * h) for e in np.eye(d)])
    np.testing.assert_allclose(got, -fd, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("preset", THETA_PRESETS)
def test_hessian_fisher_leaves_theta_alone_and_detaches(preset):
    assert_theta_left_alone(hessian_fisher, preset)


def test_hessian_fisher_keeps_float32():
    rng = np.random.default_rng(901)
    theta_np = np.array([0.1, 0.3])
    x_np = rng.normal(size=7)
    theta = torch.tensor(theta_np, dtype=torch.float32, requires_grad=True)
    got = hessian_fisher(fixtures.gaussian_mu_log_sigma, theta, torch.tensor(x_np, dtype=torch.float32))
    assert got.dtype == torch.float32 and got.shape == (2, 2)
    # float32 arithmetic: ~1e-7 relative rounding per operation, a handful of operations.
    expected = _closed_form_fisher("gaussian_mu_log_sigma", theta_np, x_np)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5, atol=1e-6)


# --- the information equality, by Monte Carlo ---------------------------------------------------

def _per_sample_scores(log_prob, theta, x):
    """(N, d) per-sample gradients by torch.func.vmap of torch.func.grad (first derivatives only)."""
    def one(t, xi):
        return log_prob(t, xi.unsqueeze(0))[0]

    return torch.func.vmap(torch.func.grad(one), in_dims=(None, 0))(theta.detach(), x).numpy()


def test_information_equality_gaussian_mu_log_sigma():
    """-E[Hessian] (exercise 2.4) and E[s s^T] (exercise 2.1) both estimate diag(1/sigma^2, 2)."""
    rng = np.random.default_rng(1000)
    mu, sigma, n = 0.4, 1.3, 20_000
    x = rng.normal(mu, sigma, n)
    theta = torch.tensor([mu, np.log(sigma)])
    truth = np.diag([1 / sigma**2, 2.0])
    by_hessian = hessian_fisher(fixtures.gaussian_mu_log_sigma, theta, torch.tensor(x)).numpy()
    by_scores = empirical_fisher(_per_sample_scores(fixtures.gaussian_mu_log_sigma, theta, torch.tensor(x)))
    z = (x - mu) / sigma
    # Exact per-sample standard deviations of the entries (moments of z ~ N(0, 1)):
    # Hessian route (1/sigma^2 constant, 2z/sigma, 2z^2): 0, 2/sigma, sqrt(8);
    # score route (z^2/sigma^2, z(z^2-1)/sigma, (z^2-1)^2): sqrt(2)/sigma^2, sqrt(10)/sigma, sqrt(56).
    sd_h = np.array([[0.0, 2 / sigma], [2 / sigma, np.sqrt(8)]])
    sd_s = np.array([[np.sqrt(2) / sigma**2, np.sqrt(10) / sigma], [np.sqrt(10) / sigma, np.sqrt(56)]])
    # 5 random entries, |Z| < 5.3 each: false failure < 5 * 1.2e-7 under the CLT. The constant
    # entry must be exact.
    assert abs(by_hessian[0, 0] - truth[0, 0]) < 1e-12
    assert np.all(np.abs(by_hessian - truth) <= 5.3 * sd_h / np.sqrt(n) + 1e-12)
    assert np.all(np.abs(by_scores - truth) <= 5.3 * sd_s / np.sqrt(n))
    # The Hessian route is the less noisy one in the log-sigma entry: 2 z^2 has variance 8,
    # (z^2 - 1)^2 has 56. The sample ratio estimates 7 with a standard error near 0.8 at this N.
    assert np.var((z**2 - 1) ** 2) / np.var(2 * z**2) > 3


def test_information_equality_logistic_regression():
    """With labels drawn from the model, the empirical Fisher converges to -E[Hessian], which for
    logistic regression does not depend on the labels: X^T diag(p (1 - p)) X / N."""
    rng = np.random.default_rng(1001)
    n, d = 20_000, 3
    features = rng.normal(size=(n, d))
    theta_np = np.array([0.5, -1.0, 0.3])
    p = sigmoid(features @ theta_np)
    labels = (rng.uniform(size=n) < p).astype(float)
    x = torch.tensor(np.column_stack([features, labels]))
    theta = torch.tensor(theta_np)
    by_hessian = hessian_fisher(fixtures.logistic_bernoulli, theta, x).numpy()
    np.testing.assert_allclose(by_hessian, _closed_form_fisher("logistic_bernoulli", theta_np, x.numpy()),
                               rtol=1e-10)
    scores = _per_sample_scores(fixtures.logistic_bernoulli, theta, x)
    products = scores[:, :, None] * scores[:, None, :]
    se = products.std(axis=0, ddof=1) / np.sqrt(n)
    # Conditionally on the features, E[(y - p)^2] = p (1 - p): the score route is unbiased for
    # the Hessian route. 6 distinct entries, 5.3 standard errors: false failure < 1e-6.
    assert np.all(np.abs(empirical_fisher(scores) - by_hessian) <= 5.3 * se)
